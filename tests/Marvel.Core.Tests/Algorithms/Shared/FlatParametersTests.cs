using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Shared;

/// <summary>
/// Flat parameter buffers (issue 21 item 3): Adam, zero_grad and Polyak over one buffer per network must give the same bits as the
/// per-tensor code on fixed weights and gradients, and saved optimizer states keep their format in both directions.
/// </summary>
public class FlatParametersTests
{
    // Odd widths on purpose: slices of 24, 20, 12, 2 and 1 elements, where a per-tensor kernel runs scalar tails that the flat one vectorizes.
    private static QEnsemble Network(ulong seed)
    {
        using var g = new Generator(seed);
        return new QEnsemble(5, 2, [24, 20], 2, g);
    }

    private static float[] Values(nn.Module module) =>
        module.parameters().SelectMany(p => { using var c = p.detach().contiguous(); return c.data<float>().ToArray(); }).ToArray();

    private static Tensor[] Gradients(nn.Module module, int step)
    {
        using var g = new Generator(100 + (ulong)step);
        // Gradients with zeros, tiny and large magnitudes, so rounding differences in the moments would show.
        return module.parameters().Select(p => randn(p.shape, generator: g).mul(Math.Pow(10, step % 5 - 2)).DetachFromDisposeScope()).ToArray();
    }

    private static void SetGradients(nn.Module module, Tensor[] gradients)
    {
        using var noGrad = no_grad();
        foreach (var (p, g) in module.parameters().Zip(gradients))
        {
            using var grad = p.grad;
            if (grad is null) p.grad = g.clone();
            else grad.copy_(g);
        }
    }

    [TestCase(0.0)]
    [TestCase(0.01)]
    public void FlatAdam_OnFixedWeightsAndGradients_MatchesPerTensorAdamBitForBit(double weightDecay)
    {
        using var perTensor = Network(3);
        using var flat = Network(3);
        using var buffers = FlatParameters.Flatten(flat);
        Values(flat).Should().Equal(Values(perTensor), "flattening keeps the values");
        using var reference = (Marvel.Core.Algorithms.Shared.Optimizers.Adam)KeptScalarOptimizer.Adam(perTensor.parameters(), 3e-3, weightDecay);
        using var fused = (Marvel.Core.Algorithms.Shared.Optimizers.Adam)KeptScalarOptimizer.Adam(flat.parameters(), 3e-3, weightDecay);
        reference.IsFlat.Should().BeFalse();
        fused.IsFlat.Should().BeTrue();
        for (int step = 0; step < 12; step++)
        {
            var gradients = Gradients(perTensor, step);
            reference.zero_grad();
            fused.zero_grad();
            SetGradients(perTensor, gradients);
            SetGradients(flat, gradients);
            reference.step();
            fused.step();
            foreach (var g in gradients) g.Dispose();
            Values(flat).Should().Equal(Values(perTensor), $"step {step}: same parameters bit for bit");
        }
        ModuleState.SaveOptimizer(fused).Should().Equal(ModuleState.SaveOptimizer(reference), "the moments and step counts are the same, in the same format");
        buffers.IsIntact.Should().BeTrue();
    }

    [Test]
    public void FlatAdam_ZeroGrad_ZeroesEveryGradientAndTheyStayViews()
    {
        using var net = Network(4);
        using var buffers = FlatParameters.Flatten(net);
        using var adam = KeptScalarOptimizer.Adam(net.parameters(), 1e-3);
        using var x = randn(7, 5);
        using var a = randn(7, 2);
        using (var loss = net.forward(x, a).square().sum()) loss.backward();
        buffers.Gradients!.abs().sum().item<float>().Should().BeGreaterThan(0, "backward accumulates into the flat gradient buffer");
        buffers.IsIntact.Should().BeTrue();
        adam.zero_grad();
        buffers.Gradients.abs().sum().item<float>().Should().Be(0);
        foreach (var p in net.parameters())
        {
            using var g = p.grad!;
            g.abs().sum().item<float>().Should().Be(0);
        }
    }

    [Test]
    public void OptimizerState_RoundTripsBetweenFlatAndPerTensorAdam_AndTheContinuationsAgree()
    {
        using var perTensor = Network(5);
        using var flat = Network(5);
        using var buffers = FlatParameters.Flatten(flat);
        using var reference = KeptScalarOptimizer.Adam(perTensor.parameters(), 1e-3);
        using var fused = KeptScalarOptimizer.Adam(flat.parameters(), 1e-3);
        for (int step = 0; step < 3; step++)
        {
            var gradients = Gradients(perTensor, step);
            reference.zero_grad(); fused.zero_grad();
            SetGradients(perTensor, gradients); SetGradients(flat, gradients);
            reference.step(); fused.step();
            foreach (var g in gradients) g.Dispose();
        }
        // Cross-load: the per-tensor state into a fresh flat Adam and the flat state into a fresh per-tensor Adam.
        using var flat2 = Network(9);
        using var buffers2 = FlatParameters.Flatten(flat2);
        using var perTensor2 = Network(9);
        ModuleState.Load(flat2, ModuleState.ToStateDict(perTensor), "test");
        ModuleState.Load(perTensor2, ModuleState.ToStateDict(flat), "test");
        using var fused2 = KeptScalarOptimizer.AdamFrom(flat2.parameters(), 1e-3, ModuleState.SaveOptimizer(reference), "test");
        using var reference2 = KeptScalarOptimizer.AdamFrom(perTensor2.parameters(), 1e-3, ModuleState.SaveOptimizer(fused), "test");
        ((Marvel.Core.Algorithms.Shared.Optimizers.Adam)fused2).IsFlat.Should().BeTrue();
        ModuleState.SaveOptimizer(fused2).Should().Equal(ModuleState.SaveOptimizer(reference));
        for (int step = 3; step < 6; step++)
        {
            var gradients = Gradients(perTensor, step);
            foreach (var (opt, net) in new (optim.Optimizer, nn.Module)[] { (reference, perTensor), (fused2, flat2), (reference2, perTensor2) })
            {
                opt.zero_grad();
                SetGradients(net, gradients);
                opt.step();
            }
            foreach (var g in gradients) g.Dispose();
        }
        Values(flat2).Should().Equal(Values(perTensor));
        Values(perTensor2).Should().Equal(Values(perTensor));
        ModuleState.SaveOptimizer(fused2).Should().Equal(ModuleState.SaveOptimizer(reference));
    }

    [TestCase(0.005)]
    [TestCase(1.0)]
    public void FlatPolyak_MatchesPerTensorPolyakBitForBit(double tau)
    {
        using var source = Network(6);
        using var target = Network(7);
        using var flatSource = Network(6);
        using var flatTarget = Network(7);
        using var a = FlatParameters.Flatten(flatSource);
        using var b = FlatParameters.Flatten(flatTarget, gradients: false);
        for (int i = 0; i < 5; i++)
        {
            Polyak.Update(tau, source, target);
            Polyak.Update(tau, flatSource, flatTarget);
        }
        Values(flatTarget).Should().Equal(Values(target));
    }

    [Test]
    public void Flatten_AlignsEverySliceTo64Bytes_AndKeepsForwardOutputsBitIdentical()
    {
        using var plain = Network(8);
        using var flat = Network(8);
        using var buffers = FlatParameters.Flatten(flat);
        buffers.Offsets.Should().OnlyContain(o => o % FlatParameters.AlignmentElements == 0);
        using var x = randn(33, 5);
        using var act = randn(33, 2);
        using var y0 = plain.forward(x, act);
        using var y1 = flat.forward(x, act);
        y1.data<float>().ToArray().Should().Equal(y0.data<float>().ToArray());
    }
}

using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Shared;

/// <summary>
/// The opt-in joined μ and log σ heads (issue 21 item 4, <see cref="SquashedGaussianActor"/>.FuseHeads): one linear product over
/// [W_μ; W_σ] instead of two. The product may round differently from the two separate ones, so it is compared with the plain actor within
/// 1e-5 relative to the largest magnitude: distribution, samples and log-densities, weight and observation gradients, and weights after
/// Adam steps (worst seen on the development machine: 3e-7, the log-density at [256, 256]).
/// </summary>
public class FusedActorHeadsTests
{
    private const double Tolerance = 1e-5;

    private static SquashedGaussianActor Make(int[] hidden, int actions = 3, ulong seed = 5)
    {
        using var g = new Generator(seed);
        return new SquashedGaussianActor(7, actions, hidden, g);
    }

    private static float[] Flat(IEnumerable<Tensor> tensors) =>
        tensors.SelectMany(t => { using var c = t.detach().contiguous(); return c.data<float>().ToArray(); }).ToArray();

    private static void ShouldBeClose(float[] actual, float[] expected, string what)
    {
        actual.Length.Should().Be(expected.Length);
        double scale = Math.Max(1e-3, expected.Max(x => Math.Abs((double)x)));
        double worst = actual.Zip(expected, (a, e) => Math.Abs((double)a - e)).Max();
        TestContext.Out.WriteLine($"{what}: worst difference {worst / scale:E2} of the largest magnitude");
        worst.Should().BeLessThanOrEqualTo(Tolerance * scale, $"{what}: max |fused − separate| relative to max |separate| = {scale}");
    }

    [TestCase(new[] { 32, 24 }, 3)]
    [TestCase(new[] { 64, 64 }, 2)]
    [TestCase(new[] { 256, 256 }, 2)]
    public void FusedHeads_OnFixedWeightsAndObservations_MatchTheSeparateHeads_ValuesAndGradients(int[] hidden, int actions)
    {
        using var plain = Make(hidden, actions);
        using var fused = Make(hidden, actions);
        using var buffers = fused.FuseHeads();
        fused.HeadsFused.Should().BeTrue();
        using var g = new Generator(9);
        using var s = randn(new long[] { 41, 7 }, generator: g).requires_grad_(true);
        using var s2 = s.detach().clone().requires_grad_(true);

        var (m0, l0) = plain.Distribution(s);
        var (m1, l1) = fused.Distribution(s2);
        ShouldBeClose(Flat([m1]), Flat([m0]), "μ");
        ShouldBeClose(Flat([l1]), Flat([l0]), "log σ");

        // Samples with the same noise, their log-densities, and a loss reaching every parameter and the observations.
        using var g0 = new Generator(17);
        using var g1 = new Generator(17);
        var (a0, lp0) = plain.Sample(s, g0);
        var (a1, lp1) = fused.Sample(s2, g1);
        ShouldBeClose(Flat([a1]), Flat([a0]), "sampled actions");
        ShouldBeClose(Flat([lp1]), Flat([lp0]), "log π");
        using (var loss0 = a0.square().sum().add(lp0.mean()).add(plain.LogProb(s, a0.detach()).mean())) loss0.backward();
        using (var loss1 = a1.square().sum().add(lp1.mean()).add(fused.LogProb(s2, a1.detach()).mean())) loss1.backward();
        ShouldBeClose(Flat(fused.parameters().Select(p => p.grad!)), Flat(plain.parameters().Select(p => p.grad!)), "weight gradients");
        ShouldBeClose(Flat([s2.grad!]), Flat([s.grad!]), "observation gradients");
        buffers.Gradients!.abs().sum().item<float>().Should().BeGreaterThan(0, "the gradients land in the flat buffer, where Adam reads them");
        foreach (var t in new[] { m0, l0, m1, l1, a0, lp0, a1, lp1 }) t.Dispose();

        // The deterministic action reads μ alone and is unchanged.
        using var d0 = plain.Deterministic(s);
        using var d1 = fused.Deterministic(s2);
        ShouldBeClose(Flat([d1]), Flat([d0]), "deterministic action");
    }

    [Test]
    public void FusedHeads_KeepNamesShapesAndStateDicts_AndTrainLikeTheSeparateHeadsUnderAdam()
    {
        using var plain = Make([32, 32]);
        using var fused = Make([32, 32]);
        using var plainBuffers = FlatParameters.Flatten(plain);
        using var buffers = fused.FuseHeads();
        fused.state_dict().Keys.Should().Equal(plain.state_dict().Keys);
        fused.parameters().Select(p => p.shape).Should().BeEquivalentTo(plain.parameters().Select(p => p.shape), o => o.WithStrictOrdering());
        ModuleState.ToStateDict(fused).ContentEquals(ModuleState.ToStateDict(plain)).Should().BeTrue("fusing moves the weights, it does not change them");
        using var optPlain = KeptScalarOptimizer.Adam(plain.parameters(), 1e-3);
        using var optFused = KeptScalarOptimizer.Adam(fused.parameters(), 1e-3);
        ((Marvel.Core.Algorithms.Shared.Optimizers.Adam)optFused).IsFlat.Should().BeTrue();
        using var g = new Generator(4);
        using var n0 = new Generator(21);
        using var n1 = new Generator(21);
        for (int i = 0; i < 5; i++)
        {
            using var scope = NewDisposeScope();
            var s = randn(new long[] { 64, 7 }, generator: g);
            var (a0, lp0) = plain.Sample(s, n0);
            var (a1, lp1) = fused.Sample(s, n1);
            GradientStep.Apply(optPlain, a0.sum().add(lp0.mean()));
            GradientStep.Apply(optFused, a1.sum().add(lp1.mean()));
        }
        ShouldBeClose(Flat(fused.parameters()), Flat(plain.parameters()), "weights after 5 Adam steps");
        buffers.IsIntact.Should().BeTrue();
        // A state dict and Adam state of the fused actor load into a plain one.
        using var back = Make([32, 32], seed: 8);
        ModuleState.Load(back, ModuleState.ToStateDict(fused), "test");
        ModuleState.ToStateDict(back).ContentEquals(ModuleState.ToStateDict(fused)).Should().BeTrue();
        ModuleState.LoadOptimizer(KeptScalarOptimizer.Adam(back.parameters(), 1e-3), ModuleState.SaveOptimizer(optFused), "test");
    }

    [Test]
    public void FusedHeads_Frozen_GiveObservationGradientsButLeaveWeightGradientsAlone_AndResetLogStdReachesThem()
    {
        using var fused = Make([16, 16]);
        using var buffers = fused.FuseHeads();
        var freeze = new ParameterFreeze(fused);
        using var s = randn(8, 7).requires_grad_(true);
        using (freeze.Freeze())
        {
            var (m, l) = fused.Distribution(s);
            using var loss = m.sum().add(l.sum());
            loss.backward();
            m.Dispose();
            l.Dispose();
        }
        s.grad!.abs().sum().item<float>().Should().BeGreaterThan(0);
        buffers.Gradients!.abs().sum().item<float>().Should().Be(0, "frozen heads get no weight gradients");
        var (m2, l2) = fused.Distribution(s);
        using (var loss = m2.sum().add(l2.sum())) loss.backward();
        buffers.Gradients.abs().sum().item<float>().Should().BeGreaterThan(0, "unfrozen again, they do");
        m2.Dispose();
        l2.Dispose();

        // ResetLogStd writes the head's own parameters in place; the joined product sees it.
        fused.ResetLogStd(-1.5);
        var (_, logStd) = fused.Distribution(s);
        Flat([logStd]).Should().AllSatisfy(x => x.Should().Be(-1.5f));
        logStd.Dispose();
    }

    [Test]
    public void FusedTargetActors_TakePolyakUpdatesLikePlainFlatOnes()
    {
        using var source = Make([16, 16], seed: 1);
        using var target = Make([16, 16], seed: 2);
        using var fusedSource = Make([16, 16], seed: 1);
        using var fusedTarget = Make([16, 16], seed: 2);
        using var b0 = FlatParameters.Flatten(source);
        using var b1 = FlatParameters.Flatten(target, gradients: false);
        using var b2 = fusedSource.FuseHeads();
        using var b3 = fusedTarget.FuseHeads(gradients: false);
        for (int i = 0; i < 3; i++)
        {
            Polyak.Update(0.1, source, target);
            Polyak.Update(0.1, fusedSource, fusedTarget);
        }
        Flat(fusedTarget.parameters()).Should().Equal(Flat(target.parameters()), "Polyak is elementwise: bit for bit");
    }

    [Test]
    public void FuseHeads_OnAnActorFlattenedWithTheDefaultLayout_Throws()
    {
        using var actor = Make([16]);
        using var flat = FlatParameters.Flatten(actor);
        actor.Invoking(a => a.FuseHeads()).Should().Throw<InvalidOperationException>().WithMessage("*already flattened*");
    }
}

using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Shared;

/// <summary>
/// The opt-in fused ensemble (issue 21 item 2, <see cref="QEnsemble"/>.Fuse): one baddbmm per layer for all members instead of one
/// product per member. It sums in another order, so it is compared with the unfused ensemble within a tolerance: values, gradients and
/// the weights after Adam steps agree to 1e-5 relative to their scale (float32 rounding of sums over ≤ 256 terms is ≈ 1e-6).
/// </summary>
public class FusedQEnsembleTests
{
    private const double Tolerance = 1e-5;

    private static QEnsemble Make(int members, int[] hidden, ulong seed = 3)
    {
        using var g = new Generator(seed);
        return new QEnsemble(6, 2, hidden, members, g);
    }

    private static float[] Flat(IEnumerable<Tensor> tensors) =>
        tensors.SelectMany(t => { using var c = t.detach().contiguous(); return c.data<float>().ToArray(); }).ToArray();

    private static void ShouldBeClose(float[] actual, float[] expected, string what)
    {
        actual.Length.Should().Be(expected.Length);
        double scale = Math.Max(1e-3, expected.Max(x => Math.Abs((double)x)));
        double worst = actual.Zip(expected, (a, e) => Math.Abs((double)a - e)).Max();
        worst.Should().BeLessThanOrEqualTo(Tolerance * scale, $"{what}: max |fused − unfused| relative to max |unfused| = {scale}");
    }

    [TestCase(2, new[] { 32, 24 })]
    [TestCase(5, new[] { 64, 64, 16 })]
    public void Fused_OnFixedWeightsAndBatches_MatchesTheMembersRunOneByOne(int members, int[] hidden)
    {
        using var plain = Make(members, hidden);
        using var fused = Make(members, hidden);
        using var buffers = fused.Fuse();
        fused.IsFused.Should().BeTrue();
        using var g = new Generator(9);
        using var s = randn(new long[] { 37, 6 }, generator: g);
        using var a = randn(new long[] { 37, 2 }, generator: g).requires_grad_(true);
        using var a2 = a.detach().clone().requires_grad_(true);
        using var target = randn(new long[] { 37 }, generator: g);

        using var q0 = plain.forward(s, a);
        using var q1 = fused.forward(s, a2);
        q1.shape.Should().Equal(q0.shape);
        ShouldBeClose(Flat([q1]), Flat([q0]), "values");

        // Gradients of a loss that reaches both the weights and the actions (as the critic and actor steps do).
        using (var loss0 = plain.Loss(s, a, target).add(plain.Min(s, a).mean())) loss0.backward();
        using (var loss1 = fused.Loss(s, a2, target).add(fused.Min(s, a2).mean())) loss1.backward();
        ShouldBeClose(Flat(fused.parameters().Select(p => p.grad!)), Flat(plain.parameters().Select(p => p.grad!)), "weight gradients");
        ShouldBeClose(Flat([a2.grad!]), Flat([a.grad!]), "action gradients");
    }

    [Test]
    public void Fused_KeepsNamesShapesAndStateDicts_AndTrainsLikeTheUnfusedEnsembleUnderAdam()
    {
        using var plain = Make(2, [32, 32]);
        using var fused = Make(2, [32, 32]);
        using var buffers = fused.Fuse();
        fused.state_dict().Keys.Should().Equal(plain.state_dict().Keys);
        ModuleState.ToStateDict(fused).ContentEquals(ModuleState.ToStateDict(plain)).Should().BeTrue("fusing moves the weights, it does not change them");
        using var optPlain = KeptScalarOptimizer.Adam(plain.parameters(), 1e-3);
        using var optFused = KeptScalarOptimizer.Adam(fused.parameters(), 1e-3);
        ((Marvel.Core.Algorithms.Shared.Optimizers.Adam)optFused).IsFlat.Should().BeTrue();
        using var g = new Generator(4);
        for (int i = 0; i < 5; i++)
        {
            using var scope = NewDisposeScope();
            var s = randn(new long[] { 64, 6 }, generator: g);
            var a = randn(new long[] { 64, 2 }, generator: g);
            var y = randn(new long[] { 64 }, generator: g);
            GradientStep.Apply(optPlain, plain.Loss(s, a, y));
            GradientStep.Apply(optFused, fused.Loss(s, a, y));
        }
        ShouldBeClose(Flat(fused.parameters()), Flat(plain.parameters()), "weights after 5 Adam steps");
        // Saved Adam states have the same layout; a state dict of the fused ensemble loads into an unfused one and back.
        using var back = Make(2, [32, 32], seed: 8);
        ModuleState.Load(back, ModuleState.ToStateDict(fused), "test");
        ModuleState.ToStateDict(back).ContentEquals(ModuleState.ToStateDict(fused)).Should().BeTrue();
        ModuleState.LoadOptimizer(KeptScalarOptimizer.Adam(back.parameters(), 1e-3), ModuleState.SaveOptimizer(optFused), "test");
    }

    [Test]
    public void Fused_Frozen_GivesActionGradientsButLeavesWeightGradientsAlone()
    {
        using var fused = Make(2, [16, 16]);
        using var buffers = fused.Fuse();
        var freeze = new ParameterFreeze(fused);
        using var s = randn(8, 6);
        using var a = randn(8, 2).requires_grad_(true);
        using (freeze.Freeze())
        using (var loss = fused.Min(s, a).sum()) loss.backward();
        a.grad!.abs().sum().item<float>().Should().BeGreaterThan(0);
        buffers.Gradients!.abs().sum().item<float>().Should().Be(0, "frozen members get no weight gradients");
        using (var loss = fused.Min(s, a).sum()) loss.backward();
        buffers.Gradients.abs().sum().item<float>().Should().BeGreaterThan(0, "unfrozen again, they do");
    }

    [Test]
    public void FusedTargets_TakePolyakUpdatesLikeUnfusedOnes()
    {
        using var source = Make(2, [16, 16], seed: 1);
        using var target = Make(2, [16, 16], seed: 2);
        using var fusedSource = Make(2, [16, 16], seed: 1);
        using var fusedTarget = Make(2, [16, 16], seed: 2);
        using var b1 = fusedSource.Fuse();
        using var b2 = fusedTarget.Fuse(gradients: false);
        for (int i = 0; i < 3; i++)
        {
            Polyak.Update(0.1, source, target);
            Polyak.Update(0.1, fusedSource, fusedTarget);
        }
        Flat(fusedTarget.parameters()).Should().Equal(Flat(target.parameters()), "Polyak is elementwise: bit for bit");
    }
}

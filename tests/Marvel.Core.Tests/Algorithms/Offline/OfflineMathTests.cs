using Marvel.Core.Lagrange;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Offline;

/// <summary>Hand-computed checks of the pieces the offline learners share: VAE loss, MMD, per-batch PID, double-Q mix.</summary>
public class OfflineMathTests
{
    [Test]
    public void VaeKl_MatchesHandComputedValue()
    {
        // μ = (1, 0), log σ = (0, ln 2). Per element −½(1 + 2 log σ − μ² − σ²):
        //   (1, 0):    −½(1 + 0 − 1 − 1)          = 0.5
        //   (0, ln 2): −½(1 + 2 ln 2 − 0 − 4)     = 0.806853
        // mean = 0.653426.
        using var scope = NewDisposeScope();
        var mean = tensor(new float[] { 1, 0 }).view(1, 2);
        var logStd = tensor(new float[] { 0, (float)Math.Log(2) }).view(1, 2);
        ConditionalVae.KlDivergence(mean, logStd).item<float>().Should().BeApproximately(0.653426f, 1e-5f);
        ConditionalVae.KlPerSample(mean, logStd).data<float>().ToArray().Should().HaveCount(1).And.Subject.Single().Should().BeApproximately(0.653426f, 1e-5f);
    }

    [Test]
    public void VaeLoss_IsReconstructionPlusWeightedKl()
    {
        using var scope = NewDisposeScope();
        using var vae = new ConditionalVae(3, 2, 8, 4, 1.0, new Generator(1));
        var obs = rand(5, 3, generator: new Generator(2));
        var act = rand(5, 2, generator: new Generator(3)) * 2 - 1;
        var (total, recon, kl) = vae.Loss(obs, act, 0.5, new Generator(4));
        total.item<float>().Should().BeApproximately(recon.item<float>() + 0.5f * kl.item<float>(), 1e-5f);
        var (squashed, raw) = vae.DecodeMultiple(obs, 7, new Generator(5));
        raw.shape.Should().Equal(5, 7, 2);
        squashed.abs().max().item<float>().Should().BeLessThanOrEqualTo(1f);
    }

    [Test]
    public void Mmd_Gaussian_MatchesHandComputedValue()
    {
        // X = {0, 1}, Y = {2}, σ = 0.5 so k(x, y) = exp(−(x − y)²):
        // mean k(X, X) = (1 + e⁻¹ + e⁻¹ + 1)/4 = 0.683940; k(Y, Y) = 1; mean k(X, Y) = (e⁻⁴ + e⁻¹)/2 = 0.193098.
        // MMD = sqrt(0.683940 + 1 − 2·0.193098 + 1e-6) = 1.139186.
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 0, 1 }).view(1, 2, 1);
        var y = tensor(new float[] { 2 }).view(1, 1, 1);
        Mmd.Compute(x, y, MmdKernel.Gaussian, 0.5).item<float>().Should().BeApproximately(1.139186f, 1e-5f);
    }

    [Test]
    public void Mmd_Laplacian_MatchesHandComputedValue()
    {
        // Same points, k(x, y) = exp(−|x − y|): mean k(X, X) = 0.683940; mean k(X, Y) = (e⁻² + e⁻¹)/2 = 0.251607.
        // MMD = sqrt(0.683940 + 1 − 2·0.251607 + 1e-6) = 1.086612.
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 0, 1 }).view(1, 2, 1);
        var y = tensor(new float[] { 2 }).view(1, 1, 1);
        Mmd.Compute(x, y, MmdKernel.Laplacian, 0.5).item<float>().Should().BeApproximately(1.086612f, 1e-5f);
    }

    [Test]
    public void Mmd_IdenticalSets_IsTheEpsilonFloor()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 0, 1, 3, 3 }).view(2, 2, 1);
        Mmd.Compute(x, x, MmdKernel.Gaussian, 1).data<float>().ToArray().Should().AllSatisfy(v => v.Should().BeApproximately(1e-3f, 1e-5f));
    }

    [Test]
    public void BatchPid_FollowsTheSpecTrace()
    {
        // Spec §9.3: threshold 4.330102, gains (0.1, 0.003, 0.001), mean Q_c = 6, 5, 3 → λ = 0.173669, 0.074009, 0.003029.
        using var pid = new BatchPidLagrangian(0.1, 0.003, 0.001, 4.330102, CPU);
        var expected = new[] { 0.173669f, 0.074009f, 0.003029f };
        var inputs = new[] { 6f, 5f, 3f };
        for (int i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            pid.Control(tensor(new[] { inputs[i] - 1, inputs[i] + 1 })).item<float>().Should().BeApproximately(expected[i], 2e-6f);
        }
        var state = pid.GetState();
        state.Scalar("integral").Should().BeApproximately(1.009695, 1e-5);
        state.Scalar("previous_error").Should().BeApproximately(-1.330102, 1e-5);
    }

    [Test]
    public void SoftClippedDoubleQ_MixesTheGroupMinima()
    {
        // Groups {1, 3} and {2, 5}: q1 = 1, q2 = 2; λ = 0.75 → 0.75·1 + 0.25·2 = 1.25.
        using var scope = NewDisposeScope();
        var all = tensor(new float[] { 1, 3, 2, 5 }).view(4, 1);
        EnsembleOps.SoftClippedDoubleQ(all, 0.75).item<float>().Should().BeApproximately(1.25f, 1e-6f);
        // Two samples per state, columns grouped by state: state values max(1.25, 0.75·0 + 0.25·4 = 1) = 1.25.
        var two = tensor(new float[] { 1, 0, 3, 0, 2, 4, 5, 9 }).view(4, 2);
        EnsembleOps.MaxOverSamples(two, 2, 0.75).item<float>().Should().BeApproximately(1.25f, 1e-6f);
    }

    [Test]
    public void SoftClippedDoubleQ_PessimisticHigh_MixesTheGroupMaxima()
    {
        // Groups {1, 3} and {2, 5}: q1 = max 3, q2 = max 5; λ = 0.75 → 0.75·5 + 0.25·3 = 4.5.
        using var scope = NewDisposeScope();
        var all = tensor(new float[] { 1, 3, 2, 5 }).view(4, 1);
        EnsembleOps.SoftClippedDoubleQ(all, 0.75, pessimisticHigh: true).item<float>().Should().BeApproximately(4.5f, 1e-6f);
    }

    [Test]
    public void CostValue_DefaultIsTheMemberMaximum_ReferenceTheMinimum()
    {
        // Members 1, 3, 2, 5 at one (s, a): pessimistic Q_c = 5, OSRL's optimistic Q_c = 1.
        using var scope = NewDisposeScope();
        var all = tensor(new float[] { 1, 4, 3, 0, 2, 6, 5, 2 }).view(4, 2);
        var pessimistic = EnsembleOps.CostValue(all, referenceOptimistic: false).data<float>().ToArray();
        var optimistic = EnsembleOps.CostValue(all, referenceOptimistic: true).data<float>().ToArray();
        pessimistic.Should().Equal(5f, 6f);       // column 0: {1, 3, 2, 5}; column 1: {4, 0, 6, 2}
        optimistic.Should().Equal(1f, 0f);
    }

    [Test]
    public void CostMaxOverSamples_DefaultPutsLambdaOnTheMax_ReferenceOnTheMin()
    {
        // One state, two sampled next actions (columns), groups {rows 0, 1} and {rows 2, 3}, λ = 0.75.
        // Sample 0: members 1, 3 | 2, 5.  Sample 1: members 0, 0 | 4, 9.
        // Default (group maxima): sample 0 → 0.75·max(3, 5) + 0.25·min(3, 5) = 4.5;
        //                         sample 1 → 0.75·max(0, 9) + 0.25·min(0, 9) = 6.75; max over samples 6.75.
        // Reference (group minima): sample 0 → 0.75·min(1, 2) + 0.25·max(1, 2) = 1.25;
        //                           sample 1 → 0.75·min(0, 4) + 0.25·max(0, 4) = 1;     max over samples 1.25.
        using var scope = NewDisposeScope();
        var two = tensor(new float[] { 1, 0, 3, 0, 2, 4, 5, 9 }).view(4, 2);
        EnsembleOps.CostMaxOverSamples(two, 2, 0.75, referenceOptimistic: false).item<float>().Should().BeApproximately(6.75f, 1e-6f);
        EnsembleOps.CostMaxOverSamples(two, 2, 0.75, referenceOptimistic: true).item<float>().Should().BeApproximately(1.25f, 1e-6f);
        // The reward backup is unchanged: λ on the lower group minimum.
        EnsembleOps.MaxOverSamples(two, 2, 0.75).item<float>().Should().BeApproximately(1.25f, 1e-6f);
    }

    [Test]
    public void CostValue_OnAnEnsembleOfConstantMembers_IsTheLargestConstant()
    {
        // Four members whose weights are zero and whose output bias is 2, 7, −1, 4: Q_k(s, a) = that constant everywhere.
        using var scope = NewDisposeScope();
        using var ensemble = new QEnsemble(3, 2, [8], 4);
        float[] constants = [2, 7, -1, 4];
        using (no_grad())
        {
            foreach (var (name, parameter) in ensemble.named_parameters())
            {
                parameter.zero_();
                if (parameter.shape.Length == 1 && parameter.shape[0] == 1)   // the output layer's bias of member k
                    parameter.fill_(constants[int.Parse(name.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)]);
            }
        }
        var s = randn(5, 3);
        var a = randn(5, 2);
        var all = ensemble.forward(s, a);
        EnsembleOps.CostValue(all, referenceOptimistic: false).data<float>().ToArray().Should().OnlyContain(v => v == 7f);
        EnsembleOps.CostValue(all, referenceOptimistic: true).data<float>().ToArray().Should().OnlyContain(v => v == -1f);
        ensemble.Min(s, a).data<float>().ToArray().Should().OnlyContain(v => v == -1f);
        // Soft clipped double Q over groups {2, 7} and {−1, 4}: default 0.75·max(7, 4) + 0.25·min(7, 4) = 6.25;
        // reference 0.75·min(2, −1) + 0.25·max(2, −1) = −0.25.
        EnsembleOps.CostMaxOverSamples(all, 5, 0.75, referenceOptimistic: false).item<float>().Should().BeApproximately(6.25f, 1e-6f);
        EnsembleOps.CostMaxOverSamples(all, 5, 0.75, referenceOptimistic: true).item<float>().Should().BeApproximately(-0.25f, 1e-6f);
    }
}

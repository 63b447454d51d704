using Marvel.Core.Abstractions.Learning;

namespace Marvel.Core.Tests.Algorithms.Shared;

/// <summary>
/// Comparisons of a learner run with the opt-in fused products (issue 21: <c>FusedCriticEnsembles</c>, <c>FusedActorHeads</c>) against the
/// same learner without them. The fused products sum in another order, so numbers agree within float32 rounding, not bit for bit.
/// Scalars (losses, values, α) must agree within <see cref="ScalarTolerance"/> of their magnitude (at least 1e-3), weights within
/// <see cref="WeightTolerance"/> of the largest weight of their network. Worst seen on the development machine (AVX2, libtorch 2.10's MKL):
/// 1.3e-6 for a scalar (a SAC-Lag loss after four updates) and 9.4e-8 for a weight. Each comparison writes its worst relative difference
/// to the test output.
/// </summary>
internal static class FusedComparison
{
    public const double ScalarTolerance = 1e-5;
    public const double WeightTolerance = 1e-5;

    /// <summary>Every scalar of <paramref name="expected"/> is in <paramref name="actual"/> and close to it.</summary>
    public static void ScalarsShouldBeClose(IReadOnlyDictionary<string, double> actual, IReadOnlyDictionary<string, double> expected, string at)
    {
        actual.Keys.Should().BeEquivalentTo(expected.Keys);
        double worst = 0;
        foreach (var (name, e) in expected)
        {
            double scale = Math.Max(1e-3, Math.Abs(e));
            double difference = Math.Abs(actual[name] - e);
            worst = Math.Max(worst, difference / scale);
            difference.Should().BeLessThanOrEqualTo(ScalarTolerance * scale, $"{at}: '{name}' fused {actual[name]} against plain {e}");
        }
        TestContext.Out.WriteLine($"{at}: worst scalar difference {worst:E2} of its scale");
    }

    /// <summary>The values are close relative to the largest magnitude of <paramref name="expected"/>.</summary>
    public static void WeightsShouldBeClose(float[] actual, float[] expected, string what)
    {
        actual.Length.Should().Be(expected.Length, what);
        double scale = Math.Max(1e-3, expected.Max(x => Math.Abs((double)x)));
        double worst = actual.Zip(expected, (a, e) => Math.Abs((double)a - e)).Max();
        TestContext.Out.WriteLine($"{what}: worst weight difference {worst / scale:E2} of the largest weight");
        worst.Should().BeLessThanOrEqualTo(WeightTolerance * scale, $"{what}: max |fused − plain| relative to max |plain| = {scale}");
    }

    /// <summary>Every parameter of a state dict, in order.</summary>
    public static float[] Values(StateDict state) => state.Entries.SelectMany(e => e.Values).ToArray();

    /// <summary>Every parameter of a module, in order.</summary>
    public static float[] Values(TorchSharp.torch.nn.Module module) =>
        module.parameters().SelectMany(p => { using var c = p.detach().contiguous(); return c.data<float>().ToArray(); }).ToArray();

    /// <summary>The networks of a handover artifact close to those of another, role by role.</summary>
    public static void NetworksShouldBeClose(HandoverArtifact actual, HandoverArtifact expected, string at)
    {
        foreach (var role in expected.Manifest.Networks.Keys)
        {
            actual.GetNetwork(role).Entries.Select(e => e.Name).Should().Equal(expected.GetNetwork(role).Entries.Select(e => e.Name));
            WeightsShouldBeClose(Values(actual.GetNetwork(role)), Values(expected.GetNetwork(role)), $"{at}: {role}");
        }
    }
}

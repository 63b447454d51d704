using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Environments;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Online;

internal static class OnlineTestData
{
    public static readonly string[] Tasks = ["BallCircle", "BallRun", "CarCircle", "CarRun"];

    public static LearnerContext Context(string task, ulong seed)
    {
        using var env = EnvironmentRegistry.Default.Make(task);
        return new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(seed), env.Spec.MaxEpisodeSteps, task);
    }

    public static LearnerContext Context(int observationSize, int actionSize, ulong seed) =>
        new(BoxSpace.Uniform(observationSize, -10, 10), BoxSpace.Uniform(actionSize, -1, 1), new SeedStreams(seed), 100, "test");

    /// <summary>A fixed random batch (actions inside (−1, 1), binary costs, no terminals).</summary>
    public static TransitionBatch Batch(int size, int observationSize, int actionSize, ulong seed = 1)
    {
        using var g = new Generator(seed);
        return new TransitionBatch(
            randn(new long[] { size, observationSize }, generator: g),
            rand(new long[] { size, actionSize }, generator: g).mul(1.8).sub(0.9),
            randn(new long[] { size }, generator: g).mul(0.1),
            rand(new long[] { size }, generator: g).round(),
            randn(new long[] { size, observationSize }, generator: g),
            zeros(size),
            zeros(size));
    }

    public static void ShouldAllBeFinite(IReadOnlyDictionary<string, double> metrics)
    {
        foreach (var (name, value) in metrics)
            double.IsFinite(value).Should().BeTrue($"metric '{name}' should be finite but is {value}");
    }
}

using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Policies;
using Marvel.Core.Environments.Tasks;

namespace Marvel.Core.Tests.Data;

public class DatasetCollectorTests
{
    [TestCase("BallCircle")]
    [TestCase("BallRun")]
    [TestCase("CarCircle")]
    [TestCase("CarRun")]
    public void GenerateBuiltIn_SpansLowToHighEpisodeCost(string task)
    {
        var data = DatasetCollector.GenerateBuiltIn(task, episodes: 100, seed: 1, environments: 4);
        var eps = data.Episodes;
        TestContext.Out.WriteLine($"{task}: {eps.Count} episodes, cost {eps.Min(e => e.Cost)}..{eps.Max(e => e.Cost)}, return {eps.Min(e => e.Return):F1}..{eps.Max(e => e.Return):F1}");
        foreach (var g in eps.Select((e, i) => (e, i)).GroupBy(x => x.i / 9))
            TestContext.Out.WriteLine($"  level {g.Key}: cost {g.Average(x => x.e.Cost):F1} return {g.Average(x => x.e.Return):F1}");
        eps.Should().HaveCount(100);
        eps.Should().OnlyContain(e => e.Length == EnvironmentRegistry.Default.Make(task).Spec.MaxEpisodeSteps && !e.EndedByTermination);
        eps.Min(e => e.Cost).Should().BeLessThanOrEqualTo(5, "the cautious end of the sweep is (nearly) safe");
        eps.Max(e => e.Cost).Should().BeGreaterThanOrEqualTo(40, "the aggressive end of the sweep violates a limit of 40");
    }

    [TestCase("DroneCircle")]
    [TestCase("OfflineDroneRun-v0")]
    public void GenerateBuiltIn_Drone_SpansLowToHighEpisodeCost(string task)
    {
        var data = DatasetCollector.GenerateBuiltIn(task, episodes: 20, seed: 1, environments: 4);
        var eps = data.Episodes;
        TestContext.Out.WriteLine($"{task}: {eps.Count} episodes, cost {eps.Min(e => e.Cost)}..{eps.Max(e => e.Cost)}, return {eps.Min(e => e.Return):F1}..{eps.Max(e => e.Return):F1}");
        eps.Should().HaveCount(20);
        data.ObservationSize.Should().Be(task == "DroneCircle" ? 18 : 17);
        data.ActionSize.Should().Be(4);
        // A random-action episode may flip the drone (terminated); the scripted levels fly the whole horizon.
        eps.Should().OnlyContain(e => e.Length <= EnvironmentRegistry.Default.Make(task).Spec.MaxEpisodeSteps);
        eps.Min(e => e.Cost).Should().BeLessThanOrEqualTo(5, "the cautious end of the sweep is (nearly) safe");
        eps.Max(e => e.Cost).Should().BeGreaterThanOrEqualTo(40, "the aggressive end of the sweep violates a limit of 40");
    }

    [Test]
    public void LevelEpisodeCounts_SkewTowardCostlyLevels_LargestRemainders()
    {
        // Hand-computed: 90 spare episodes over weights 2, 3, 6, 11, 18, 27, 38, 51, 66, 83 (sum 305) give
        // 0.590, 0.885, 1.770, 3.246, 5.311, 7.967, 11.213, 15.049, 19.475, 24.492; floors + 1 sum to 95 and the five
        // largest remainders (levels 5, 1, 2, 0, 9) take one more each.
        DatasetCollector.LevelEpisodeCounts(100, 10).Should().Equal(2, 2, 3, 4, 6, 9, 12, 16, 20, 26);
        DatasetCollector.LevelEpisodeCounts(10, 10).Should().OnlyContain(c => c == 1);
        DatasetCollector.LevelEpisodeCounts(305, 10).Sum().Should().Be(305);
    }

    [Test]
    public void Collect_SameSeed_SameData_AndNextObservationsChain()
    {
        OfflineDataset Make()
        {
            using var env = new VectorEnvironment(() => new BallRun(maxEpisodeSteps: 20), 3);
            var plan = new[] { new CollectionStage(new NoisyPolicy(ScriptedTaskPolicy.Run("BallRun", 2.0), 0.2, 5), 7) };
            return DatasetCollector.Collect(env, plan, seed: 42);
        }
        var a = Make();
        var b = Make();
        a.Fingerprint().Should().Be(b.Fingerprint());
        a.Episodes.Should().HaveCount(7);
        a.Count.Should().Be(140);
        // Inside an episode, s'_t = s_{t+1}.
        for (int t = 0; t < 19; t++)
            a.NextObservations.Slice(t * 7, 7).ToArray().Should().Equal(a.Observations.Slice((t + 1) * 7, 7).ToArray());
        a.Timeouts[19].Should().BeTrue();
        a.Timeouts[18].Should().BeFalse();
    }

    [Test]
    public void Collect_PolicyOfWrongSize_Throws()
    {
        using var env = new VectorEnvironment(() => new BallCircle(), 1);
        var plan = new[] { new CollectionStage(ScriptedTaskPolicy.Run("BallRun", 1), 1) };
        FluentActions.Invoking(() => DatasetCollector.Collect(env, plan, 0)).Should().Throw<ArgumentException>().WithMessage("*BallCircle*8*");
    }

    [Test]
    public void Evaluate_ReportsMeansAndDsrlNormalizedScores()
    {
        using var env = new VectorEnvironment(() => new BallRun(), 3);
        var policy = ScriptedTaskPolicy.Run("BallRun", 4.0);
        var result = PolicyEvaluator.Evaluate(policy, env, episodes: 5, costLimit: 20, seed: 3);
        result.Episodes.Should().HaveCount(5);
        result.MeanReturn.Should().BeApproximately(result.Episodes.Average(e => e.Return), 1e-9);
        result.MeanLength.Should().Be(100);
        // DSRL: (R − 26.3398) / (1327.4456 − 26.3398) and C / κ.
        result.NormalizedReward.Should().BeApproximately((result.MeanReturn - 26.339754104614258) / (1327.445556640625 - 26.339754104614258), 1e-12);
        result.NormalizedCost.Should().BeApproximately(result.MeanCost / 20, 1e-12);
        result.MeanCost.Should().BeGreaterThan(20, "4 m/s exceeds the 2.5 m/s limit");
        result.IsSafe.Should().BeFalse();
    }

    [Test]
    public void GenerateBuiltIn_TaskWithRegisteredSweep_UsesItsControllersPerLevel_AndIsSeeded()
    {
        // A task the collector does not know by name, with its own controllers: the ball's run controller at a speed set by the level.
        var levels = new List<double>();
        var registry = new EnvironmentRegistry();
        registry.Register("MyRun", () => new BallRun());
        registry.RegisterScriptedSweep("BallRun", new ScriptedSweep(f =>
        {
            levels.Add(f);
            return ScriptedTaskPolicy.Run("BallRun", targetSpeed: 0.5 + 3.5 * f);
        }, NoiseStandardDeviation: 0.1));

        var data = DatasetCollector.GenerateBuiltIn("MyRun", episodes: 20, seed: 3, environments: 2, registry: registry);
        var again = DatasetCollector.GenerateBuiltIn("MyRun", episodes: 20, seed: 3, environments: 2, registry: registry);

        levels.Should().HaveCount(20, "ten levels per call, looked up under the task's own id (BallRun)");
        levels.Take(10).Should().Equal(Enumerable.Range(0, 10).Select(l => l / 9.0));
        data.Episodes.Should().HaveCount(20);
        data.Fingerprint().Should().Be(again.Fingerprint(), "one seed drives the whole dataset");
        data.Episodes.Min(e => e.Cost).Should().BeLessThan(data.Episodes.Max(e => e.Cost));
    }

    [Test]
    public void GenerateBuiltIn_UnknownTaskWithoutSweep_ThrowsNamingTheExtensionPoint()
    {
        var renamed = new EnvironmentRegistry();
        renamed.Register("Elsewhere", () => new RenamedTask());
        FluentActions.Invoking(() => DatasetCollector.GenerateBuiltIn("Elsewhere", episodes: 10, registry: renamed))
            .Should().Throw<ArgumentException>().WithMessage("*RegisterScriptedSweep*Elsewhere*");
    }

    [Test]
    public void RegisterScriptedSweep_Twice_ThrowsUnlessReplace_AndRejectsBadNoise()
    {
        var registry = new EnvironmentRegistry();
        var sweep = new ScriptedSweep(_ => new RandomPolicy(5, Marvel.Core.Abstractions.Spaces.BoxSpace.Uniform(2, -1f, 1f), 0));
        registry.RegisterScriptedSweep("X", sweep);
        registry.Invoking(r => r.RegisterScriptedSweep("X", sweep)).Should().Throw<ArgumentException>().WithMessage("*already registered*");
        registry.Invoking(r => r.RegisterScriptedSweep("X", sweep, replace: true)).Should().NotThrow();
        registry.Invoking(r => r.RegisterScriptedSweep("Y", sweep with { NoiseStandardDeviation = double.NaN })).Should().Throw<ArgumentException>().WithMessage("*noise*");
        registry.TryGetScriptedSweep("X", out var found).Should().BeTrue();
        found.Should().BeSameAs(sweep);
        registry.TryGetScriptedSweep("Z", out _).Should().BeFalse();
    }

    /// <summary>A ball task under an id the collector has no controllers for.</summary>
    private sealed class RenamedTask : IEnvironment
    {
        private readonly BallRun _inner = new();
        public EnvironmentSpec Spec { get; } = new("ElsewhereRun", 200, 0.05);
        public Marvel.Core.Abstractions.Spaces.BoxSpace ObservationSpace => _inner.ObservationSpace;
        public Marvel.Core.Abstractions.Spaces.BoxSpace ActionSpace => _inner.ActionSpace;
        public void Reset(ulong seed, Span<float> observation) => _inner.Reset(seed, observation);
        public void Reset(Span<float> observation) => _inner.Reset(observation);
        public StepResult Step(ReadOnlySpan<float> action, Span<float> observation) => _inner.Step(action, observation);
        public void Dispose() => _inner.Dispose();
    }
}

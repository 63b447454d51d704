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
}

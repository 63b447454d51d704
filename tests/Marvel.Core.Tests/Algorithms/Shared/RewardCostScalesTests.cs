using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Online.Loop;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Environments;
using Marvel.Core.Tests.Algorithms.Online;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Shared;

/// <summary>The one scaling point: what it multiplies, that it is the float32 product, and that the off-policy loop stores raw values and
/// hands its agent scaled batches.</summary>
public class RewardCostScalesTests
{
    private static TransitionBatch Batch(float[] rewards, float[] costs)
    {
        int n = rewards.Length;
        return new TransitionBatch(zeros(n, 2), zeros(n, 1), tensor(rewards), tensor(costs), zeros(n, 2), zeros(n), zeros(n));
    }

    [Test]
    public void Apply_MultipliesRewardsAndCosts_AndKeepsEverythingElse()
    {
        using var raw = Batch([1f, -2f, 0.5f], [0f, 1f, 3f]);
        using var scope = NewDisposeScope();

        var scaled = new RewardCostScales(0.1, 2).Apply(raw);

        scaled.Rewards.data<float>().ToArray().Should().Equal(0.1f, -0.2f, 0.05f);
        scaled.Costs.data<float>().ToArray().Should().Equal(0f, 2f, 6f);
        raw.Rewards.data<float>().ToArray().Should().Equal([1f, -2f, 0.5f], "the raw batch is not touched");
        raw.Costs.data<float>().ToArray().Should().Equal([0f, 1f, 3f]);
        scaled.Observations.Should().BeSameAs(raw.Observations);
        scaled.Actions.Should().BeSameAs(raw.Actions);
        scaled.NextObservations.Should().BeSameAs(raw.NextObservations);
        scaled.Terminated.Should().BeSameAs(raw.Terminated);
        scaled.Truncated.Should().BeSameAs(raw.Truncated);
    }

    [Test]
    public void Apply_IsTheFloat32Product_TheSameNumbersAsScalingAtStorage()
    {
        var values = Enumerable.Range(0, 1000).Select(i => (float)Math.Sin(i * 0.37) * 7.3f).ToArray();
        using var raw = Batch(values, values);
        using var scope = NewDisposeScope();

        var scaled = new RewardCostScales(0.1, 1.7).Apply(raw);

        scaled.Rewards.data<float>().ToArray().Should().Equal(values.Select(v => v * (float)0.1));
        scaled.Costs.data<float>().ToArray().Should().Equal(values.Select(v => v * (float)1.7));
    }

    [Test]
    public void StepValues_AndTheStoredRange_AreScaled()
    {
        var scales = new RewardCostScales(0.5, 3);
        scales.Reward(4.0).Should().Be(2f);
        scales.Cost(1.5).Should().Be(4.5f);

        var range = scales.Apply(default(StoredRange).Include(-2f, 1f).Include(4f, 0f));

        (range.RewardMin, range.RewardMax, range.CostMin, range.CostMax).Should().Be((-1f, 2f, 0f, 3f));
        scales.Apply(default(StoredRange)).Any.Should().BeFalse("nothing stored stays nothing");
    }

    /// <summary>Records the costs of every batch the loop hands it.</summary>
    private sealed class RecordingAgent : IOffPolicyAgent
    {
        public List<float[]> Costs { get; } = new();
        public List<float[]> Rewards { get; } = new();
        public string Stage => "test/scales";
        public bool HasFallback => false;
        public void Act(float[] observations, int count, float[] actions) => Array.Fill(actions, 0.5f, 0, count);
        public Tensor FallbackActions(Tensor observations) => throw new NotSupportedException();
        public Tensor RewardValue(Tensor observations, Tensor actions) => throw new NotSupportedException();
        public CostGuard? CostGuardFor(Marvel.Core.Abstractions.CostBudget budget) => null;
        public bool HoldsLambda => false;
        public Tensor CostValue(Tensor observations, Tensor actions) => throw new NotSupportedException();
        public long UpdateCount => Costs.Count;
        public (long FirstActorUpdate, double Cap)? CostNeutralLambdaPlan => null;
        public double CostNeutralLambda(TransitionBatch batch) => throw new NotSupportedException();

        public IReadOnlyDictionary<string, double> Update(TransitionBatch batch, double lambda)
        {
            Rewards.Add(batch.Rewards.data<float>().ToArray());
            Costs.Add(batch.Costs.data<float>().ToArray());
            return new Dictionary<string, double> { ["loss"] = 0 };
        }
    }

    [Test]
    public void OffPolicyLoop_StoresRawValues_AndScalesEverySampledBatch()
    {
        const int horizon = 10;   // CounterEnvironment: reward 1 every step, cost 1 on odd steps
        using var loop = new OffPolicyLoop("Test", new OffPolicyLoopSettings(1, 0, ReplayCapacity: 100, WarmupSteps: horizon, UpdatesPerIteration: 2,
            BatchSize: 8, MiniBatches: 2, OfflineDataFraction: 0, RewardScale: 0.1, CostScale: 3), observationSize: 1, actionSize: 1, CPU,
            new SeedStreams(1).CreateRandom("replay"), environmentSeed: 2);
        using var env = new VectorEnvironment([new CounterEnvironment(horizon)]);
        var agent = new RecordingAgent();

        loop.RunIteration(agent, env, new FixedLambdaController(0), CancellationToken.None);

        var storedCosts = Enumerable.Range(0, loop.Replay!.Count).Select(i => loop.Replay.CostAt(i)).ToArray();
        storedCosts.Should().OnlyContain(c => c == 0f || c == 1f, "the replay holds the task's costs, unscaled").And.Contain(1f);
        agent.Costs.Should().HaveCount(4);
        agent.Costs.SelectMany(c => c).Should().OnlyContain(c => c == 0f || c == 3f, "the update sees c · CostScale").And.Contain(3f);
        agent.Rewards.SelectMany(r => r).Should().OnlyContain(r => r == 0.1f, "the update sees r · RewardScale");
        loop.StoredRange.CostMax.Should().Be(1f);
        loop.ScaledRange.CostMax.Should().Be(3f);
    }
}

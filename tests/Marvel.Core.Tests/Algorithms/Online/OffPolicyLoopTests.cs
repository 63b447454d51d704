using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Online.Loop;
using Marvel.Core.Environments;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Online;

/// <summary>The shared off-policy loop driven by a scripted agent (no networks): what it collects, when it updates, what the controller sees.</summary>
public class OffPolicyLoopTests
{
    private const int Horizon = 10; // CounterEnvironment: cost 1 on odd steps, so every episode costs 5

    /// <summary>Acts with 0.5 in [−1, 1] (7.5 on the counter's [0, 10] box); its fallback acts with −0.5 (2.5 on the box).</summary>
    private sealed class ScriptedAgent(bool hasFallback, bool preferFallback, double? guard = null, bool fallbackCostsMore = false, double charge = 0) : IOffPolicyAgent
    {
        public bool HoldsLambda { get; set; }

        public List<(long Rows, double Lambda)> Updates { get; } = new();

        public string Stage => "test/loop";

        public bool HasFallback => hasFallback;

        public void Act(float[] observations, int count, float[] actions) => Array.Fill(actions, 0.5f, 0, count);

        public Tensor FallbackActions(Tensor observations) => full(observations.shape[0], 1, -0.5f);

        // Q_r = −100·a (or +100·a): with Q_c below, the fallback's −0.5 scores 50 − 5λ against the online 0.5's −50 − 15λ (or the reverse
        // wins for λ < 10), so the preferred action wins for every λ the tests use.
        public Tensor RewardValue(Tensor observations, Tensor actions) =>
            (preferFallback ? actions.select(1, 0).neg() : actions.select(1, 0)).mul(100);

        public CostGuard? CostGuardFor(Marvel.Core.Abstractions.CostBudget budget) => guard is double t ? new CostGuard(t, charge) : null;

        // Q_c = 10·(1 + a): the online 0.5 is rated 15, the fallback's −0.5 is rated 5 (or the reverse, 10·(1 − a)).
        public Tensor CostValue(Tensor observations, Tensor actions) =>
            (fallbackCostsMore ? actions.select(1, 0).neg() : actions.select(1, 0)).add(1).mul(10);

        public long UpdateCount => Updates.Count;

        public (long FirstActorUpdate, double Cap)? CostNeutralLambdaPlan { get; set; }

        /// <summary>What <see cref="CostNeutralLambda"/> returns; the rows of each batch it was asked about.</summary>
        public double NeutralLambda { get; set; }

        public List<long> NeutralLambdaRows { get; } = new();

        public double CostNeutralLambda(TransitionBatch batch)
        {
            NeutralLambdaRows.Add(batch.Observations.shape[0]);
            return NeutralLambda;
        }

        public IReadOnlyDictionary<string, double> Update(TransitionBatch batch, double lambda)
        {
            Updates.Add((batch.Observations.shape[0], lambda));
            return new Dictionary<string, double> { ["loss"] = 1.0 };
        }
    }

    private static OffPolicyLoop Loop(int? episodes = 1, int steps = 0, int warmup = 0, int updates = 2, int batch = 8, int miniBatches = 2) =>
        new("Test", new OffPolicyLoopSettings(episodes, steps, ReplayCapacity: 1000, warmup, updates, batch, miniBatches, OfflineDataFraction: 0,
            RewardScale: 1, CostScale: 1), observationSize: 1, actionSize: 1, CPU, new SeedStreams(1).CreateRandom("replay"), environmentSeed: 2);

    private static (VectorEnvironment Vector, CounterEnvironment[] Environments) Counters(int count)
    {
        var environments = Enumerable.Range(0, count).Select(_ => new CounterEnvironment(Horizon)).ToArray();
        return (new VectorEnvironment(environments), environments);
    }

    [Test]
    public void RunIteration_BeforeWarmup_CollectsWithoutUpdating()
    {
        using var loop = Loop(episodes: 1, warmup: 3 * Horizon);
        var (env, _) = Counters(1);
        using var _e = env;
        var agent = new ScriptedAgent(false, false);
        var controller = new FixedLambdaController(0.25);

        var first = loop.RunIteration(agent, env, controller, CancellationToken.None);
        loop.RunIteration(agent, env, controller, CancellationToken.None);
        var third = loop.RunIteration(agent, env, controller, CancellationToken.None);

        first.Metrics["gradient_steps"].Should().Be(0);
        loop.Replay!.Count.Should().Be(3 * Horizon);
        third.Metrics["gradient_steps"].Should().Be(4, "2 batches of 2 mini-batches once the replay holds the warm-up");
        agent.Updates.Should().HaveCount(4).And.AllSatisfy(u => u.Should().Be((4L, 0.25)));
        third.Metrics["loss"].Should().Be(1.0);
    }

    [Test]
    public void RunIteration_FeedsTheControllerOnceWithTheMeanEpisodeCost()
    {
        using var loop = Loop(episodes: 2);
        var (env, _) = Counters(2);
        using var _e = env;
        var controller = new FixedLambdaController(0.5, costLimit: 3);

        var result = loop.RunIteration(new ScriptedAgent(false, false), env, controller, CancellationToken.None);

        controller.Inputs.Should().Equal(5.0);
        result.Episodes.Should().HaveCount(2);
        result.Metrics["mean_episode_cost"].Should().Be(5.0);
        result.Metrics["controller/input"].Should().Be(5.0);
        result.Lambda.Should().Be(0.5);
        result.EnvironmentSteps.Should().Be(2 * Horizon);
    }

    [Test]
    public void RunIteration_StepSchedule_CollectsWholeVectorStepsUntilTheCount()
    {
        using var loop = Loop(episodes: null, steps: 25);
        var (env, _) = Counters(2);
        using var _e = env;

        var result = loop.RunIteration(new ScriptedAgent(false, false), env, new FixedLambdaController(0), CancellationToken.None);

        result.EnvironmentSteps.Should().Be(26);
        result.Episodes.Should().HaveCount(2);
        result.Metrics.Should().NotContainKey("fallback_share");
    }

    [TestCase(true, 2.5f, 1.0)]
    [TestCase(false, 7.5f, 0.0)]
    public void RunIteration_PolicySet_ActsWithTheHigherScoringAction(bool preferFallback, float expectedAction, double expectedShare)
    {
        using var loop = Loop(episodes: 1);
        var (env, counters) = Counters(1);
        using var _e = env;

        var result = loop.RunIteration(new ScriptedAgent(true, preferFallback), env, new FixedLambdaController(0.1), CancellationToken.None);

        counters[0].ActionsSeen.Should().HaveCount(Horizon).And.AllSatisfy(a => a.Should().BeApproximately(expectedAction, 1e-5f));
        result.Metrics["fallback_share"].Should().Be(expectedShare);
    }

    // The score prefers the online action (as it does while λ = 0 and the reward critic likes it); Q_c(online) = 15, Q_c(fallback) = 5.
    [TestCase(12.0, false, 2.5f, 1.0, TestName = "CostGuard_OnlineRatedAboveTheThresholdAndTheFallback_GivesWayToTheFallback")]
    [TestCase(20.0, false, 7.5f, 0.0, TestName = "CostGuard_OnlineRatedBelowTheThreshold_Acts")]
    [TestCase(3.0, true, 7.5f, 0.0, TestName = "CostGuard_FallbackRatedCostlier_LeavesTheOnlineAction")]
    public void RunIteration_CostGuard(double threshold, bool fallbackCostsMore, float expectedAction, double expectedGuardShare)
    {
        using var loop = Loop(episodes: 1);
        var (env, counters) = Counters(1);
        using var _e = env;

        var result = loop.RunIteration(new ScriptedAgent(true, preferFallback: false, threshold, fallbackCostsMore), env, new FixedLambdaController(0),
            CancellationToken.None);

        counters[0].ActionsSeen.Should().HaveCount(Horizon).And.AllSatisfy(a => a.Should().BeApproximately(expectedAction, 1e-5f));
        result.Metrics["cost_guard_share"].Should().Be(expectedGuardShare);
        result.Metrics["fallback_share"].Should().Be(expectedGuardShare, "the guard's choices are fallback actions");
    }

    [TestCase(0.0, 5.0, TestName = "CostGuard_WithoutCharge_FeedsTheControllerTheExecutedCost")]
    [TestCase(0.1, 15.0, TestName = "CostGuard_Charge_AddsTheCriticsExtraCostOfTheGuardedActions")]
    public void RunIteration_CostGuardCharge(double chargePerValue, double expectedInput)
    {
        using var loop = Loop(episodes: 1);
        var (env, _) = Counters(1);
        using var _e = env;
        var controller = new FixedLambdaController(0);

        // Every one of the 10 steps is guarded: Q_c 15 against 5, so each charges 0.1 · 10 = 1 (hand-computed: 5 executed + 10 charged).
        var result = loop.RunIteration(new ScriptedAgent(true, preferFallback: false, 12.0, charge: chargePerValue), env, controller, CancellationToken.None);

        controller.Inputs.Should().ContainSingle().Which.Should().BeApproximately(expectedInput, 1e-9);
        result.Metrics["mean_episode_cost"].Should().Be(5.0, "the reported episode cost is the executed one");
        result.Episodes.Should().ContainSingle().Which.Cost.Should().Be(5.0);
    }

    [Test]
    public void CostGuardCharge_WithoutAFinishedEpisode_CarriesOver_AndACheckpointKeepsIt()
    {
        using var loop = Loop(episodes: null, steps: 6);
        var (env, _) = Counters(1);
        using var _e = env;
        var agent = new ScriptedAgent(true, preferFallback: false, 12.0, charge: 0.1);
        var controller = new FixedLambdaController(0);

        loop.RunIteration(agent, env, controller, CancellationToken.None);   // 6 guarded steps, no episode finished: 6 carried
        controller.Inputs.Should().BeEmpty();
        string dir = Directory.CreateTempSubdirectory("marvel-guard-").FullName;
        try { loop.Save(dir).GuardCharge.Should().BeApproximately(6.0, 1e-9); }
        finally { Directory.Delete(dir, recursive: true); }
        loop.RunIteration(agent, env, controller, CancellationToken.None);   // steps 7–12: the episode ends at 10, 12 charged in all

        controller.Inputs.Should().ContainSingle().Which.Should().BeApproximately(5.0 + 12.0, 1e-9);
        loop.GuardCharge.Should().Be(0, "the charge was fed");
    }

    [Test]
    public void RunIteration_WhileTheAgentHoldsLambda_ReportsTheEpisodesButLeavesTheControllerAlone()
    {
        using var loop = Loop(episodes: 1);
        var (env, _) = Counters(1);
        using var _e = env;
        var controller = new FixedLambdaController(0.3);
        var agent = new ScriptedAgent(false, false) { HoldsLambda = true };

        var held = loop.RunIteration(agent, env, controller, CancellationToken.None);
        agent.HoldsLambda = false;
        var fed = loop.RunIteration(agent, env, controller, CancellationToken.None);

        held.Metrics["mean_episode_cost"].Should().Be(5.0);
        held.Metrics["controller/held"].Should().Be(1);
        controller.Inputs.Should().Equal([5.0], "only the second iteration's episode reaches the controller; the held one is dropped, not carried");
        fed.Metrics.Should().NotContainKey("controller/held");
    }

    [Test]
    public void RunIteration_CostNeutralPlan_RaisesLambdaOnceBeforeTheIterationOfTheActorsFirstUpdate()
    {
        // 2 batches × 2 mini-batches = 4 steps per iteration: steps 0–3, 4–7, 8–11; the actor's first update is step 6.
        using var loop = Loop(episodes: 1);
        var (env, _) = Counters(1);
        using var _e = env;
        var controller = new WarmStartableController(0.3);
        var agent = new ScriptedAgent(false, false) { CostNeutralLambdaPlan = (6, 10.0), NeutralLambda = 2.5 };

        var before = loop.RunIteration(agent, env, controller, CancellationToken.None);
        var raised = loop.RunIteration(agent, env, controller, CancellationToken.None);
        var after = loop.RunIteration(agent, env, controller, CancellationToken.None);

        before.Metrics.Should().NotContainKey("controller/cost_neutral_lambda");
        raised.Metrics["controller/cost_neutral_lambda"].Should().Be(2.5);
        after.Metrics.Should().NotContainKey("controller/cost_neutral_lambda", "it is set once");
        controller.WarmStarts.Should().Equal(2.5);
        agent.NeutralLambdaRows.Should().Equal([8L], "one whole batch, drawn as the updates draw theirs");
        agent.Updates.Select(u => u.Lambda).Should().Equal([0.3, 0.3, 0.3, 0.3, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5]);
        raised.Lambda.Should().Be(2.5);
    }

    [Test]
    public void RunIteration_CostNeutralLambdaAboveTheCap_IsCapped_AndOneBelowLambdaLeavesIt()
    {
        using var loop = Loop(episodes: 1);
        var (env, _) = Counters(1);
        using var _e = env;
        var capped = new WarmStartableController(0.3);
        var agent = new ScriptedAgent(false, false) { CostNeutralLambdaPlan = (0, 4.0), NeutralLambda = 50 };
        loop.RunIteration(agent, env, capped, CancellationToken.None).Metrics["controller/cost_neutral_lambda"].Should().Be(50, "reported uncapped");
        capped.WarmStarts.Should().Equal(4.0);

        using var loop2 = Loop(episodes: 1);
        var (env2, _) = Counters(1);
        using var _e2 = env2;
        var kept = new WarmStartableController(0.3);
        var low = new ScriptedAgent(false, false) { CostNeutralLambdaPlan = (0, 4.0), NeutralLambda = 0.1 };
        loop2.RunIteration(low, env2, kept, CancellationToken.None);
        kept.WarmStarts.Should().BeEmpty("λ is only ever raised");
        low.Updates.Should().AllSatisfy(u => u.Lambda.Should().Be(0.3));
    }

    [Test]
    public void RunIteration_CostNeutralPlanWithAControllerThatCannotWarmStart_SaysWhichOptionAndWhatToUse()
    {
        using var loop = Loop(episodes: 1);
        var (env, _) = Counters(1);
        using var _e = env;
        var agent = new ScriptedAgent(false, false) { CostNeutralLambdaPlan = (0, 4.0), NeutralLambda = 1 };

        var act = () => loop.RunIteration(agent, env, new FixedLambdaController(0.3), CancellationToken.None);

        act.Should().Throw<InvalidOperationException>().WithMessage("*CostNeutralFirstLambda*FixedLambdaController*ILagrangeWarmStart*");
    }

    [Test]
    public void RunIteration_PolicySetWithoutGuard_ReportsNoGuardShare()
    {
        using var loop = Loop(episodes: 1);
        var (env, _) = Counters(1);
        using var _e = env;

        var result = loop.RunIteration(new ScriptedAgent(true, false), env, new FixedLambdaController(0), CancellationToken.None);

        result.Metrics.Should().NotContainKey("cost_guard_share");
    }

    [Test]
    public void SaveAndLoad_ContinueFromThePendingObservationsWithoutAReset()
    {
        using var loop = Loop(episodes: null, steps: 6);
        var (env, _) = Counters(1);
        using var _e = env;
        var agent = new ScriptedAgent(false, false);
        loop.RunIteration(agent, env, new FixedLambdaController(0), CancellationToken.None);
        string dir = Path.Combine(Path.GetTempPath(), "marvel-loop-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var state = loop.Save(dir);
            state.PendingObservations.Should().Equal(6f);
            using var restored = Loop(episodes: null, steps: 6);
            restored.Load("Test", dir, state, dir);

            var result = restored.RunIteration(agent, env, new FixedLambdaController(0), CancellationToken.None);

            result.EnvironmentSteps.Should().Be(12);
            restored.Replay!.Count.Should().Be(12);
            result.Episodes.Should().ContainSingle("the episode was continued from step 6, not reset").Which.Length.Should().Be(Horizon);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Algorithms.Online.Loop;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;
using Marvel.Core.Tests.Algorithms.Offline;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Online;

/// <summary>The finetuning mechanisms of SAC-Lag: critic warm-up and offline-data mixing.</summary>
public class SacLagFinetuningTests
{
    internal static SacLagOptions Tiny(Action<SacLagOptions>? configure = null)
    {
        var o = new SacLagOptions
        {
            ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], CostCriticHiddenSizes = [16, 16], BatchSize = 32, MiniBatches = 2,
            ActorLearningRate = 1e-3, CriticLearningRate = 1e-3, CostCriticLearningRate = 1e-3,
        };
        configure?.Invoke(o);
        return o;
    }

    internal static float[] DeterministicActions(SacLagLearner learner, float[] observations, int rows)
    {
        var actions = new float[rows * 2];
        learner.Policy.Act(observations, actions, deterministic: true);
        return actions;
    }

    [Test]
    public void CriticWarmup_KeepsTheActorForItsSteps_ThenTrainsIt()
    {
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => { o.CriticWarmupSteps = 3; o.AutoTuneAlpha = true; }));
        using var batch = OnlineTestData.Batch(32, 8, 2);
        var observations = batch.Observations.data<float>().ToArray();
        var before = DeterministicActions(learner, observations, 32);
        double alphaBefore = learner.Alpha;

        for (int i = 0; i < 3; i++) learner.Update(batch, 0.5);

        DeterministicActions(learner, observations, 32).Should().Equal(before, "the first 3 gradient steps update the critics only");
        learner.Alpha.Should().Be(alphaBefore, "α waits with the actor");
        learner.Update(batch, 0.5);
        DeterministicActions(learner, observations, 32).Should().NotEqual(before, "step 4 is past the warm-up");
        learner.Alpha.Should().NotBe(alphaBefore);
    }

    [Test]
    public void ActorLearningRateRamp_RisesLinearlyAfterTheCriticWarmup_ThenStays()
    {
        // Warm-up 2, ramp 4, lr 1e-3: steps 0-1 leave the actor; steps 2, 3, 4, 5 use 1/4, 2/4, 3/4, 4/4 of 1e-3; step 6 stays at 1e-3.
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => { o.CriticWarmupSteps = 2; o.ActorLearningRateRampSteps = 4; }));
        using var batch = OnlineTestData.Batch(32, 8, 2);
        var seen = new List<double>();
        for (int i = 0; i < 7; i++)
        {
            learner.Update(batch, 0);
            seen.Add(learner.ActorLearningRateInUse);
        }
        seen.Should().Equal(new[] { 1e-3, 1e-3, 0.25e-3, 0.5e-3, 0.75e-3, 1e-3, 1e-3 }, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Test]
    public void ActorLearningRateRamp_SmallerFirstSteps_MoveTheActorLessThanWithout()
    {
        using var ramped = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.ActorLearningRateRampSteps = 100));
        using var plain = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny());
        using var batch = OnlineTestData.Batch(32, 8, 2);
        var observations = batch.Observations.data<float>().ToArray();
        var start = DeterministicActions(plain, observations, 32);
        DeterministicActions(ramped, observations, 32).Should().Equal(start, "same seed, same initial actor");
        for (int i = 0; i < 5; i++)
        {
            ramped.Update(batch, 0);
            plain.Update(batch, 0);
        }
        double Moved(SacLagLearner l) => DeterministicActions(l, observations, 32).Zip(start, (a, b) => Math.Abs(a - b)).Sum();
        Moved(ramped).Should().BeLessThan(0.5 * Moved(plain), "the first 5 ramp steps use 1-5 % of the learning rate");
    }

    [Test]
    public void Options_NegativeActorLearningRateRamp_IsRejected()
    {
        var act = () => new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.ActorLearningRateRampSteps = -1));
        act.Should().Throw<OptionsValidationException>().WithMessage("*ActorLearningRateRampSteps*");
    }

    [Test]
    public void CriticWarmup_StillTrainsTheCritics()
    {
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.CriticWarmupSteps = 10));
        using var batch = OnlineTestData.Batch(32, 8, 2);
        var critic = learner.ExportHandover().GetNetwork(HandoverRoles.CostCritic);

        learner.Update(batch, 0);

        learner.ExportHandover().GetNetwork(HandoverRoles.CostCritic).ContentEquals(critic).Should().BeFalse();
    }

    [Test]
    public void BoxToSquashed_InvertsSquashedToBox_AndClipsOutside()
    {
        var box = new BoxSpace([-2f, 0f], [2f, 4f]);
        var squashed = new float[6];

        // [−2, 2]: 1 → 2·3/4 − 1 = 0.5, −2 → −1, 3 → 1.25 clipped to 1. [0, 4]: 1 → −0.5, 4 → 1, −1 → −1.5 clipped to −1.
        ActionMapping.BoxToSquashed([1f, 1f, -2f, 4f, 3f, -1f], box, squashed);

        squashed.Should().Equal(0.5f, -0.5f, -1f, 1f, 1f, -1f);
        var back = new float[2];
        ActionMapping.SquashedToBox([0.5f, -0.5f], box, back);
        back.Should().Equal(1f, 1f);
    }

    [Test]
    public void AttachOfflineData_StoresRawRewardsAndCosts_AndMixesThemIntoBatches()
    {
        var dataset = TinyDatasets.WithCosts(TinyDatasets.BallCircle(episodes: 2), _ => 1f, "tiny BallCircle, cost 1 per step");
        using var learner = new SacLagLearner(TinyDatasets.Context(), Tiny(o =>
        {
            o.RewardScale = 0.1; o.CostScale = 2; o.OfflineDataFraction = 0.5; o.EpisodesPerIteration = 1; o.UpdatesPerIteration = 1;
        }));

        learner.AttachOfflineData(dataset);

        learner.OfflineDataCount.Should().Be(dataset.Count);
        using (var stored = learner.OfflineData!.Sample(64, new Marvel.Core.Abstractions.Seeding.RandomSource(3)))
        {
            stored.Costs.data<float>().ToArray().Should().AllBeEquivalentTo(1f, "cost 1 per step, stored raw (batches are scaled when sampled)");
            stored.Actions.abs().max().item<float>().Should().BeLessThanOrEqualTo(1f);
        }
        learner.OfflineData!.Count.Should().Be(dataset.Count);
        using var env = Marvel.Core.Environments.EnvironmentRegistry.Default.MakeVector("BallCircle", 1);
        var controller = new Marvel.Core.Lagrange.PidLagrangeController(new Marvel.Core.Lagrange.PidLagrangeOptions { CostLimit = 20 });
        var result = learner.RunIteration(env, controller);
        result.Metrics["gradient_steps"].Should().Be(2);
        OnlineTestData.ShouldAllBeFinite(result.Metrics);
    }

    [Test]
    public void AttachOfflineData_WrongSizes_FailsNamingTheReceiver()
    {
        var dataset = TinyDatasets.BallCircle(episodes: 1);
        using var learner = new SacLagLearner(OnlineTestData.Context(3, 2, 1), Tiny());

        learner.Invoking(l => l.AttachOfflineData(dataset)).Should().Throw<InvalidDataException>().WithMessage("*offline-data mixing*");
    }

    [TestCase(-0.1)]
    [TestCase(1.0)]
    [TestCase(double.NaN)]
    public void Options_OfflineDataFractionOutsideZeroOne_IsRejected(double fraction)
    {
        var act = () => new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.OfflineDataFraction = fraction));
        act.Should().Throw<OptionsValidationException>().WithMessage("*OfflineDataFraction*");
    }

    [Test]
    public void Options_NegativeCriticWarmup_IsRejected()
    {
        var act = () => new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.CriticWarmupSteps = -1));
        act.Should().Throw<OptionsValidationException>().WithMessage("*CriticWarmupSteps*");
    }
}

public class SacLagPolicySetTests
{
    private static SacLagOptions Tiny(SafeExploration mode) => new()
    {
        ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], CostCriticHiddenSizes = [16, 16], BatchSize = 32, MiniBatches = 2,
        EpisodesPerIteration = 1, UpdatesPerIteration = 2, SafeExploration = mode,
    };

    private static (OnlineIterationResult First, OnlineIterationResult Second, HandoverArtifact Export) Run(SafeExploration mode, ulong seed)
    {
        using var source = new SacLagLearner(TinyDatasets.Context(3), Tiny(SafeExploration.None));
        using var learner = new SacLagLearner(TinyDatasets.Context(seed), Tiny(mode));
        learner.InitializeFrom(source.ExportHandover());
        using var env = Marvel.Core.Environments.EnvironmentRegistry.Default.MakeVector("BallCircle", 2);
        var controller = new Marvel.Core.Lagrange.PidLagrangeController(new Marvel.Core.Lagrange.PidLagrangeOptions { CostLimit = 20, InitialLambda = 0.5 });
        var first = learner.RunIteration(env, controller);
        var second = learner.RunIteration(env, controller);
        return (first, second, learner.ExportHandover());
    }

    [Test]
    public void PolicySet_ReportsTheShareOfFallbackActions_AndIsDeterministic()
    {
        var a = Run(SafeExploration.PolicySet, 5);
        var b = Run(SafeExploration.PolicySet, 5);

        a.First.Metrics.Should().ContainKey("fallback_share");
        a.First.Metrics["fallback_share"].Should().BeInRange(0, 1);
        // Untrained critics score the two proposals at random: both kinds of action get chosen somewhere in 2 × 200 steps.
        a.First.Metrics["fallback_share"].Should().BeGreaterThan(0).And.BeLessThan(1);
        b.Second.Metrics["mean_episode_return"].Should().Be(a.Second.Metrics["mean_episode_return"]);
        b.Export.GetNetwork(HandoverRoles.Actor).ContentEquals(a.Export.GetNetwork(HandoverRoles.Actor)).Should().BeTrue();
    }

    [Test]
    public void PolicySet_ChangesWhatIsCollected_ComparedWithTheOnlineActorAlone()
    {
        var none = Run(SafeExploration.None, 5);
        var set = Run(SafeExploration.PolicySet, 5);

        none.First.Metrics.Should().NotContainKey("fallback_share");
        set.First.Metrics["mean_episode_return"].Should().NotBe(none.First.Metrics["mean_episode_return"]);
    }

    [Test]
    public void CostGuardedPolicySet_ReportsItsGuardShare_IsDeterministic_AndGuardsAtTheBudgetsCriticThreshold()
    {
        var a = Run(SafeExploration.CostGuardedPolicySet, 5);
        var b = Run(SafeExploration.CostGuardedPolicySet, 5);

        a.First.Metrics["cost_guard_share"].Should().BeInRange(0, 1);
        a.First.Metrics["fallback_share"].Should().BeGreaterThanOrEqualTo(a.First.Metrics["cost_guard_share"]);
        b.Second.Metrics["mean_episode_return"].Should().Be(a.Second.Metrics["mean_episode_return"]);
        b.Export.GetNetwork(HandoverRoles.Actor).ContentEquals(a.Export.GetNetwork(HandoverRoles.Actor)).Should().BeTrue();

        using var learner = new SacLagLearner(TinyDatasets.Context(5), Tiny(SafeExploration.CostGuardedPolicySet) with { Gamma = 0.99, CostScale = 2 });
        var agent = (IOffPolicyAgent)learner;
        // κ = 20 over T = 200 at γ = 0.99: 0.1 per step, 0.1 / 0.01 = 10 forever; ×2 for the cost scale.
        var guard = agent.CostGuardFor(new Marvel.Core.Abstractions.CostBudget(20, 200))!.Value;
        guard.Threshold.Should().BeApproximately(20.0, 1e-9);
        guard.ChargePerValue.Should().BeApproximately(0.01 / 2, 1e-12, "(1 − γ) / CostScale turns a value difference into per-step cost");
        using var uncharged = new SacLagLearner(TinyDatasets.Context(5),
            Tiny(SafeExploration.CostGuardedPolicySet) with { CostGuardChargesController = false });
        ((IOffPolicyAgent)uncharged).CostGuardFor(new Marvel.Core.Abstractions.CostBudget(20, 200))!.Value.ChargePerValue.Should().Be(0);
        using var plain = new SacLagLearner(TinyDatasets.Context(5), Tiny(SafeExploration.PolicySet));
        ((IOffPolicyAgent)plain).CostGuardFor(new Marvel.Core.Abstractions.CostBudget(20, 200)).Should().BeNull();
    }

    [Test]
    public void HoldLambdaWhileActorFrozen_HoldsUntilTheFirstActorUpdate_AndTheControllerThenSeesTheEpisodes()
    {
        using var learner = new SacLagLearner(TinyDatasets.Context(5),
            Tiny(SafeExploration.None) with { HoldLambdaWhileActorFrozen = true, CriticWarmupSteps = 4, WarmupSteps = 0 });
        using var plain = new SacLagLearner(TinyDatasets.Context(5), Tiny(SafeExploration.None) with { CriticWarmupSteps = 4, WarmupSteps = 0 });
        using var env = Marvel.Core.Environments.EnvironmentRegistry.Default.MakeVector("BallCircle", 1);
        var controller = new FixedLambdaController(0.5, costLimit: 20);

        ((IOffPolicyAgent)plain).HoldsLambda.Should().BeFalse("the option is off by default");
        ((IOffPolicyAgent)learner).HoldsLambda.Should().BeTrue();
        var first = learner.RunIteration(env, controller);    // held; then 2 batches × 2 mini-batches = updates 0-3, all critic-only
        var second = learner.RunIteration(env, controller);   // still held: 4 updates, the actor's first is update 4
        ((IOffPolicyAgent)learner).HoldsLambda.Should().BeFalse("update 4 trained the actor");
        learner.RunIteration(env, controller);

        first.Metrics["controller/held"].Should().Be(1);
        second.Metrics["controller/held"].Should().Be(1);
        controller.Inputs.Should().ContainSingle("only the third iteration's episode reaches the controller");
    }

    [Test]
    public void PolicySet_CheckpointRoundTrip_KeepsTheFallbackActor()
    {
        using var source = new SacLagLearner(TinyDatasets.Context(3), Tiny(SafeExploration.None));
        var artifact = source.ExportHandover();
        using var learner = new SacLagLearner(TinyDatasets.Context(5), Tiny(SafeExploration.PolicySet));
        learner.InitializeFrom(artifact);
        var dir = Path.Combine(Path.GetTempPath(), "marvel-policyset-" + Guid.NewGuid().ToString("N"));
        try
        {
            learner.SaveCheckpoint(dir);
            File.Exists(Path.Combine(dir, "networks", "fallback_actor.bin")).Should().BeTrue();
            using var restored = new SacLagLearner(TinyDatasets.Context(5), Tiny(SafeExploration.PolicySet));
            restored.InitializeFrom(artifact);
            restored.Invoking(r => r.LoadCheckpoint(dir)).Should().NotThrow();
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}

public class SacLagBoundedTargetsTests
{
    [Test]
    public void StoredRange_IncludesZero_AndScalesByTheHorizon()
    {
        var range = default(StoredRange).Include(0.5f, 1f).Include(-0.2f, 0f);

        range.Any.Should().BeTrue();
        (range.RewardMin, range.RewardMax, range.CostMin, range.CostMax).Should().Be((-0.2f, 0.5f, 0f, 1f));
        var (rl, rh, cl, ch) = range.Bounds(100, TorchSharp.torch.CPU);
        rl.item<float>().Should().BeApproximately(-20f, 1e-4f);
        rh.item<float>().Should().BeApproximately(50f, 1e-4f);
        cl.item<float>().Should().Be(0f);
        ch.item<float>().Should().BeApproximately(100f, 1e-4f);
        // A first value above 0 still keeps 0 inside: [0, 0.3].
        default(StoredRange).Include(0.3f, 2f).RewardMin.Should().Be(0f);
    }

    [Test]
    public void AttachOfflineData_FoldsTheScaledDatasetIntoTheRange_AndACheckpointKeepsIt()
    {
        var dataset = TinyDatasets.WithCosts(TinyDatasets.BallCircle(episodes: 2), i => i % 2, "tiny BallCircle, costs 0/1");
        var options = new SacLagOptions
        {
            ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], CostCriticHiddenSizes = [16, 16], BatchSize = 32, MiniBatches = 2,
            CostScale = 3, BoundedTargets = true,
        };
        using var learner = new SacLagLearner(TinyDatasets.Context(), options);

        learner.AttachOfflineData(dataset);

        learner.StoredValueRange.CostMax.Should().Be(3f, "cost 1 × CostScale 3");
        learner.StoredValueRange.CostMin.Should().Be(0f);
        var dir = Path.Combine(Path.GetTempPath(), "marvel-range-" + Guid.NewGuid().ToString("N"));
        try
        {
            learner.SaveCheckpoint(dir);
            using var restored = new SacLagLearner(TinyDatasets.Context(), options);
            restored.LoadCheckpoint(dir);
            restored.StoredValueRange.Should().Be(learner.StoredValueRange);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void LoadCheckpoint_OfFormat1_IsRefused_SayingItsReplayWasScaled()
    {
        var options = new SacLagOptions { ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], CostCriticHiddenSizes = [16, 16], BatchSize = 32 };
        using var learner = new SacLagLearner(TinyDatasets.Context(), options);
        var dir = Path.Combine(Path.GetTempPath(), "marvel-format-" + Guid.NewGuid().ToString("N"));
        try
        {
            learner.SaveCheckpoint(dir);
            var statePath = Path.Combine(dir, LearnerCheckpoint.StateFile);
            var state = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(statePath))!.AsObject();
            var formatKey = state.Select(p => p.Key).Single(k => string.Equals(k, "Format", StringComparison.OrdinalIgnoreCase));
            state[formatKey] = 1;   // as written before the replay held raw values
            File.WriteAllText(statePath, state.ToJsonString());

            using var restored = new SacLagLearner(TinyDatasets.Context(), options);
            restored.Invoking(r => r.LoadCheckpoint(dir)).Should().Throw<InvalidDataException>()
                .WithMessage("*format 1*reads format 2*Format 1 stored the replay buffer multiplied by RewardScale and CostScale*");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static SacLagOptions Checked(bool reset) => new()
    {
        ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], CostCriticHiddenSizes = [16, 16], BatchSize = 32, MiniBatches = 2,
        ResetImplausibleCritics = reset,
    };

    /// <summary>An artifact whose reward and cost critics output about <paramref name="rewardShift"/> and <paramref name="costShift"/> more than fresh ones.</summary>
    private static HandoverArtifact ShiftedArtifact(float rewardShift, float costShift)
    {
        using var source = new SacLagLearner(TinyDatasets.Context(), Checked(false));
        var (reward, cost) = source.CriticsForTests;
        using (TorchSharp.torch.no_grad())
        {
            // Each member's output bias is its one-element parameter: shifting all of them moves every member's value (and min/mean) by the shift.
            Shift(reward, rewardShift);
            Shift(cost, costShift);
        }
        return source.ExportHandover();

        static void Shift(TorchSharp.torch.nn.Module critic, float shift)
        {
            using var s = TorchSharp.ScalarExtensionMethods.ToScalar(shift);
            foreach (var p in critic.parameters().Where(p => p.numel() == 1)) p.add_(s);
        }
    }

    [Test]
    public void HandoverCheck_RunawayRewardCritic_IsReinitialized_CostCriticKept()
    {
        var dataset = TinyDatasets.BallCircle(episodes: 2);
        var artifact = ShiftedArtifact(rewardShift: 1e5f, costShift: 0);
        using var learner = new SacLagLearner(TinyDatasets.Context(), Checked(true));
        learner.InitializeFrom(artifact);

        learner.AttachOfflineData(dataset);

        var check = learner.HandoverCheck!;
        check.RewardReset.Should().BeTrue();
        check.RewardOutsideShare.Should().Be(1);
        check.RewardMean.Should().BeGreaterThan(9e4);
        check.CostReset.Should().BeFalse("a fresh cost critic's values are near 0, inside [0, max c]/(1 − γ)");
        check.Rows.Should().Be(Math.Min(SacLagLearner.HandoverCheckRows, dataset.Count));
        var exported = learner.ExportHandover();
        exported.GetNetwork(HandoverRoles.RewardCritic).ContentEquals(artifact.GetNetwork(HandoverRoles.RewardCritic)).Should().BeFalse();
        exported.GetNetwork(HandoverRoles.CostCritic).ContentEquals(artifact.GetNetwork(HandoverRoles.CostCritic)).Should().BeTrue();
    }

    [Test]
    public void HandoverCheck_RunawayCostCritic_IsReinitialized_Deterministically()
    {
        var dataset = TinyDatasets.WithCosts(TinyDatasets.BallCircle(episodes: 2), i => i % 2, "tiny BallCircle, costs 0/1");
        var artifact = ShiftedArtifact(rewardShift: 0, costShift: -500f);
        using var a = new SacLagLearner(TinyDatasets.Context(), Checked(true));
        using var b = new SacLagLearner(TinyDatasets.Context(), Checked(true));
        a.InitializeFrom(artifact);
        b.InitializeFrom(artifact);

        a.AttachOfflineData(dataset);
        b.AttachOfflineData(dataset);

        a.HandoverCheck!.CostReset.Should().BeTrue("cost values of −500 lie below 0 − margin");
        a.HandoverCheck.RewardReset.Should().BeFalse();
        a.ExportHandover().GetNetwork(HandoverRoles.CostCritic).ContentEquals(b.ExportHandover().GetNetwork(HandoverRoles.CostCritic)).Should().BeTrue();
    }

    [Test]
    public void HandoverCheck_Reset_DropsThePolicySetFallback_AndACheckpointAgrees()
    {
        var dataset = TinyDatasets.BallCircle(episodes: 2);
        var artifact = ShiftedArtifact(rewardShift: 1e5f, costShift: 0);
        var options = Checked(true);
        options.SafeExploration = SafeExploration.PolicySet;
        using var reset = new SacLagLearner(TinyDatasets.Context(), options);
        reset.InitializeFrom(artifact);
        using var kept = new SacLagLearner(TinyDatasets.Context(), options);
        kept.InitializeFrom(ShiftedArtifact(0, 0));

        reset.AttachOfflineData(dataset);
        kept.AttachOfflineData(dataset);

        var dir = Path.Combine(Path.GetTempPath(), "marvel-reset-" + Guid.NewGuid().ToString("N"));
        var keptDir = dir + "-kept";
        try
        {
            reset.SaveCheckpoint(dir);
            kept.SaveCheckpoint(keptDir);
            Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Should().NotContain(f => f.Contains("fallback_actor"),
                "a reset leaves no fallback actor to collect with");
            Directory.EnumerateFiles(keptDir, "*", SearchOption.AllDirectories).Should().Contain(f => f.Contains("fallback_actor"));
        }
        finally
        {
            foreach (var d in new[] { dir, keptDir }) if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
        }
    }

    [Test]
    public void HandoverCheck_PlausibleCritics_AreKept()
    {
        var artifact = ShiftedArtifact(0, 0);
        using var learner = new SacLagLearner(TinyDatasets.Context(), Checked(true));
        learner.InitializeFrom(artifact);

        learner.AttachOfflineData(TinyDatasets.BallCircle(episodes: 2));

        learner.HandoverCheck!.AnyReset.Should().BeFalse();
        learner.ExportHandover().GetNetwork(HandoverRoles.RewardCritic).ContentEquals(artifact.GetNetwork(HandoverRoles.RewardCritic)).Should().BeTrue();
    }

    [Test]
    public void HandoverCheck_OptionOff_LeavesRunawayCriticsAndReportsNothing()
    {
        var artifact = ShiftedArtifact(rewardShift: 1e5f, costShift: 0);
        using var learner = new SacLagLearner(TinyDatasets.Context(), Checked(false));
        learner.InitializeFrom(artifact);

        learner.AttachOfflineData(TinyDatasets.BallCircle(episodes: 2));

        learner.HandoverCheck.Should().BeNull();
        learner.ExportHandover().GetNetwork(HandoverRoles.RewardCritic).ContentEquals(artifact.GetNetwork(HandoverRoles.RewardCritic)).Should().BeTrue();
    }

    [Test]
    public void HandoverCheck_CriticsNotHandedOver_DoesNotRun()
    {
        using var learner = new SacLagLearner(TinyDatasets.Context(), Checked(true));
        learner.InitializeFrom(ShiftedArtifact(rewardShift: 1e5f, costShift: 0), new HandoverLoadOptions { LoadCritics = false });

        learner.AttachOfflineData(TinyDatasets.BallCircle(episodes: 2));

        learner.HandoverCheck.Should().BeNull("only handed-over critics are checked");
    }
}

public class SacLagActorExplorationTests
{
    private static SacLagOptions Tiny(bool reset, double? targetEntropy = null) => new()
    {
        ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], CostCriticHiddenSizes = [16, 16], BatchSize = 32, MiniBatches = 2,
        ResetActorExploration = reset, TargetEntropy = targetEntropy,
    };

    private static float[] Entry(HandoverArtifact artifact, string name)
    {
        artifact.GetNetwork(HandoverRoles.Actor).TryGet(name, out var entry).Should().BeTrue($"the actor has '{name}'");
        return entry.Values;
    }

    private static float[] DeterministicActions(SacLagLearner learner)
    {
        // Four BallCircle-sized observations (8 values each), fixed by hand.
        float[] observations = [.. Enumerable.Range(0, 32).Select(i => (i % 7 - 3) * 0.25f)];
        var actions = new float[8];
        learner.Policy.Act(observations, actions, deterministic: true);
        return actions;
    }

    [Test]
    public void LogStdForEntropy_IsTheGaussianLogStdOfThatEntropyPerDimension()
    {
        // H = |A|·(½·ln(2πe) + log σ) ⇒ log σ = H/|A| − ½·ln(2π) − ½; ½·ln(2π) = 0.9189385.
        SquashedGaussianActor.LogStdForEntropy(-2, 2).Should().BeApproximately(-2.4189385, 1e-6);
        SquashedGaussianActor.LogStdForEntropy(0, 4).Should().BeApproximately(-1.4189385, 1e-6);
        SquashedGaussianActor.LogStdForEntropy(3, 1).Should().BeApproximately(1.5810615, 1e-6);
    }

    [Test]
    public void LogStdForEntropy_NoActionDimensions_IsRejected() =>
        FluentActions.Invoking(() => SquashedGaussianActor.LogStdForEntropy(-2, 0)).Should().Throw<ArgumentOutOfRangeException>();

    [Test]
    public void LogStdForEntropy_NonFiniteEntropy_IsRejected() =>
        FluentActions.Invoking(() => SquashedGaussianActor.LogStdForEntropy(double.NaN, 2)).Should().Throw<ArgumentOutOfRangeException>();

    [Test]
    public void ResetLogStd_NonFinite_IsRejected()
    {
        using var actor = new SquashedGaussianActor(8, 2, [16]);
        actor.Invoking(a => a.ResetLogStd(double.PositiveInfinity)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("logStd");
    }

    [Test]
    public void ResetActorExploration_MakesLogStdTheTargetEntropysEverywhere_AndKeepsTheDeterministicAction()
    {
        using var source = new SacLagLearner(TinyDatasets.Context(3), Tiny(false));
        var artifact = source.ExportHandover();
        using var kept = new SacLagLearner(TinyDatasets.Context(5), Tiny(false));
        using var reset = new SacLagLearner(TinyDatasets.Context(5), Tiny(true));

        kept.InitializeFrom(artifact);
        reset.InitializeFrom(artifact);

        var exported = reset.ExportHandover();
        Entry(exported, "log_std.weight").Should().OnlyContain(w => w == 0f);
        // Target entropy −|A| = −2 over 2 dimensions: log σ = −1 − 0.9189385 − 0.5.
        Entry(exported, "log_std.bias").Should().OnlyContain(b => Math.Abs(b - (-2.4189385f)) < 1e-6f);
        Entry(exported, "mu.weight").Should().Equal(Entry(artifact, "mu.weight"));
        DeterministicActions(reset).Should().Equal(DeterministicActions(kept));
    }

    [Test]
    public void ResetActorExploration_Off_KeepsTheLoadedLogStdHead()
    {
        using var source = new SacLagLearner(TinyDatasets.Context(3), Tiny(false));
        var artifact = source.ExportHandover();
        using var learner = new SacLagLearner(TinyDatasets.Context(5), Tiny(false));

        learner.InitializeFrom(artifact);

        Entry(learner.ExportHandover(), "log_std.bias").Should().Equal(Entry(artifact, "log_std.bias"));
        Entry(learner.ExportHandover(), "log_std.weight").Should().Equal(Entry(artifact, "log_std.weight"));
    }

    [Test]
    public void ResetActorExploration_ALargeTargetEntropy_IsClampedToTheActorsLogStdMaximum()
    {
        using var source = new SacLagLearner(TinyDatasets.Context(3), Tiny(false));
        using var learner = new SacLagLearner(TinyDatasets.Context(5), Tiny(true, targetEntropy: 10));

        learner.InitializeFrom(source.ExportHandover());

        // 10/2 − 1.4189385 = 3.58 > LogStdMax = 2.
        Entry(learner.ExportHandover(), "log_std.bias").Should().OnlyContain(b => b == 2f);
    }
}

/// <summary>SacLagOptions.CostNeutralFirstLambda: the λ at which the actor's gradient step leaves the cost critic flat to first order.</summary>
public class SacLagCostNeutralLambdaTests
{
    private static SacLagOptions Tiny(Action<SacLagOptions>? configure = null) => SacLagFinetuningTests.Tiny(configure);

    private static float[] DeterministicActions(SacLagLearner learner, float[] observations, int rows) =>
        SacLagFinetuningTests.DeterministicActions(learner, observations, rows);

    [Test]
    public void CostNeutralLambda_OfGradientLists_IsTheClippedProjectionRatio()
    {
        // ⟨g_r, g_c⟩ = 3·1 + 4·0 + 1·2 = 5 and ‖g_c‖² = 1 + 0 + 4 = 5: λ* = 1.
        SacLagLearner.CostNeutralLambda([tensor(new[] { 3f, 4f }), tensor(new[] { 1f })], [tensor(new[] { 1f, 0f }), tensor(new[] { 2f })])
            .Should().BeApproximately(1.0, 1e-12);
        // ⟨g_r, g_c⟩ = 0.5·2 = 1, ‖g_c‖² = 4: 0.25.
        SacLagLearner.CostNeutralLambda([tensor(new[] { 0.5f, 7f })], [tensor(new[] { 2f, 0f })]).Should().BeApproximately(0.25, 1e-12);
        SacLagLearner.CostNeutralLambda([tensor(new[] { -1f })], [tensor(new[] { 2f })]).Should().Be(0, "a reward gradient that lowers cost needs no λ");
        SacLagLearner.CostNeutralLambda([tensor(new[] { 1f })], [tensor(new[] { 0f })]).Should().Be(0, "a flat cost critic gives no ratio");
        var mismatch = () => SacLagLearner.CostNeutralLambda([tensor(new[] { 1f })], []);
        mismatch.Should().Throw<ArgumentException>().WithMessage("*1 reward gradients against 0 cost gradients*");
    }

    [Test]
    public void CostNeutralLambda_APlainStepOnTheLagrangianAtIt_LeavesTheCostCriticFlatToFirstOrder()
    {
        // Independent check of the sign and the formula: one plain gradient step on −Q_r + λ·Q_c (one backward of the combined loss, not
        // the two the learner takes) moves mean Q_c(s, μ(s)) by O(η²) at λ*, and by η⟨g_r, g_c⟩ > 0 at λ = 0.
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny());
        using var batch = OnlineTestData.Batch(64, 8, 2);
        for (int i = 0; i < 30; i++) learner.Update(batch, 0);
        var s = batch.Observations;
        double neutral = learner.CostNeutralLambda(s);
        neutral.Should().BeGreaterThan(0, "the test needs critics whose gradients conflict");

        var actor = learner.ActorForTests;
        var reward = (QEnsemble)learner.CriticsForTests.Reward;
        var cost = (QEnsemble)learner.CriticsForTests.Cost;
        double CostValue()
        {
            using var _ = no_grad();
            return cost.Mean(s, actor.Deterministic(s)).mean().item<float>();
        }
        double CostChangeAfterStep(double lambda, double eta)
        {
            var saved = actor.parameters().Select(p => p.detach().clone()).ToArray();
            double before = CostValue();
            foreach (var p in actor.parameters()) p.grad?.zero_();
            var a = actor.Deterministic(s);
            var loss = cost.Mean(s, a).mean().mul(lambda).sub(reward.Min(s, a).mean());
            loss.backward();
            using (no_grad())
            {
                foreach (var p in actor.parameters()) p.sub_(p.grad!.mul(eta));
            }
            double change = CostValue() - before;
            using (no_grad())
            {
                foreach (var (p, v) in actor.parameters().Zip(saved)) p.copy_(v);
            }
            foreach (var p in actor.parameters()) p.grad?.zero_();
            return change;
        }

        double free = CostChangeAfterStep(0, 1e-3);
        double neutralStep = CostChangeAfterStep(neutral, 1e-3);
        free.Should().BeGreaterThan(0, "without λ the step raises the cost critic's value");
        Math.Abs(neutralStep).Should().BeLessThan(0.1 * free, "at λ* the first-order change vanishes");
        CostChangeAfterStep(2 * neutral, 1e-3).Should().BeLessThan(0, "above λ* the step lowers it");
    }

    [Test]
    public void CostNeutralLambda_LeavesTheActorAndItsGradientsAsTheyWere()
    {
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny());
        using var batch = OnlineTestData.Batch(32, 8, 2);
        var observations = batch.Observations.data<float>().ToArray();
        var before = DeterministicActions(learner, observations, 32);

        learner.CostNeutralLambda(batch.Observations);

        DeterministicActions(learner, observations, 32).Should().Equal(before);
        learner.ActorForTests.parameters().Should().AllSatisfy(p => (p.grad is null || p.grad.abs().sum().item<float>() == 0).Should().BeTrue());
        foreach (var p in learner.CriticsForTests.Reward.parameters().Concat(learner.CriticsForTests.Cost.parameters()))
            p.requires_grad.Should().BeTrue("the critics are unfrozen again");
    }

    [Test]
    public void CostNeutralFirstLambda_InARun_RaisesTheControllersLambdaAtTheActorsFirstUpdate()
    {
        // Warm-up 0, critic warm-up 4, 2 batches × 2 mini-batches per iteration: the actor's first update is in the second iteration.
        using var learner = new SacLagLearner(TinyDatasets.Context(5),
            Tiny(o => { o.CostNeutralFirstLambda = true; o.CostNeutralLambdaCap = 1e6; o.CriticWarmupSteps = 4; o.WarmupSteps = 0; o.EpisodesPerIteration = 1; o.UpdatesPerIteration = 2; }));
        using var env = Marvel.Core.Environments.EnvironmentRegistry.Default.MakeVector("BallCircle", 1);
        var controller = new WarmStartableController(0, costLimit: 20);

        var first = learner.RunIteration(env, controller);
        var second = learner.RunIteration(env, controller);

        first.Metrics.Should().NotContainKey("controller/cost_neutral_lambda");
        double neutral = second.Metrics["controller/cost_neutral_lambda"];
        if (neutral > 0) controller.WarmStarts.Should().Equal(neutral);
        else controller.WarmStarts.Should().BeEmpty();
        second.Lambda.Should().Be(Math.Max(0, neutral));
    }

    [Test]
    public void CostNeutralLambdaCap_NotPositive_IsRefusedByName()
    {
        foreach (double cap in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
        {
            var act = () => new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.CostNeutralLambdaCap = cap));
            act.Should().Throw<OptionsValidationException>().WithMessage("*CostNeutralLambdaCap*");
        }
    }
}

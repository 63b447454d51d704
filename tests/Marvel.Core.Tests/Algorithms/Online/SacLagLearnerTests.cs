using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Environments;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Online;

public class SacLagLearnerTests
{
    private static SacLagOptions Tiny(Action<SacLagOptions>? configure = null)
    {
        var o = new SacLagOptions
        {
            ActorHiddenSizes = [16, 16],
            CriticHiddenSizes = [16, 16],
            CostCriticHiddenSizes = [16, 16],
            BatchSize = 32,
            MiniBatches = 2,
            EpisodesPerIteration = 1,
            UpdatesPerIteration = 2,
            ActorLearningRate = 1e-3,
            CriticLearningRate = 1e-3,
            CostCriticLearningRate = 1e-3,
            ReplayCapacity = 5000,
        };
        configure?.Invoke(o);
        return o;
    }

    [TestCaseSource(typeof(OnlineTestData), nameof(OnlineTestData.Tasks))]
    public void RunIteration_OnBuiltInTask_CollectsAnEpisodeAndReturnsFiniteMetrics(string task)
    {
        using var env = EnvironmentRegistry.Default.MakeVector(task, 1);
        using var learner = new SacLagLearner(OnlineTestData.Context(task, 3), Tiny());
        var controller = new SimpleDualAscentController(0.01, costLimit: 5);

        var result = learner.RunIteration(env, controller);

        result.Episodes.Should().HaveCount(1);
        result.Episodes[0].Length.Should().Be(env.Spec.MaxEpisodeSteps);
        result.EnvironmentSteps.Should().Be(env.Spec.MaxEpisodeSteps);
        result.Metrics["gradient_steps"].Should().Be(4);
        result.Lambda.Should().Be(controller.Lambda);
        OnlineTestData.ShouldAllBeFinite(result.Metrics);
        learner.ReplayCount.Should().Be(env.Spec.MaxEpisodeSteps);
    }

    [Test]
    public void RunIteration_StepBased_UpdatesAfterWarmupAndFeedsFinishedEpisodesToController()
    {
        using var env = EnvironmentRegistry.Default.MakeVector("BallRun", 2);
        using var learner = new SacLagLearner(OnlineTestData.Context("BallRun", 5),
            Tiny(o => { o.Schedule = SacLagSchedule.StepBased; o.UpdateEveryNSteps = 100; o.WarmupSteps = 150; o.UpdatesPerIteration = 1; }));
        var controller = new FixedLambdaController(0.5);

        var first = learner.RunIteration(env, controller);   // 50 vector steps, 100 transitions: still warming up
        var second = learner.RunIteration(env, controller);  // 200 transitions: updates start; both 100-step episodes end
        var third = learner.RunIteration(env, controller);   // no episode ends: λ unchanged, controller not fed

        first.Metrics["gradient_steps"].Should().Be(0);
        first.Episodes.Should().BeEmpty();
        second.Metrics["gradient_steps"].Should().Be(2);
        second.Episodes.Should().HaveCount(2);
        third.Episodes.Should().BeEmpty();
        third.Lambda.Should().Be(0.5);
        controller.Inputs.Should().HaveCount(1, "only the iteration in which episodes finished updates the controller");
        learner.EnvironmentSteps.Should().Be(300);
        OnlineTestData.ShouldAllBeFinite(third.Metrics);
    }

    [Test]
    public void RunIteration_TruncatedTransition_StoresFinalObservationAndRawRewards()
    {
        // Counter task: observations 0, 1, 2, 3 and truncation at step 3; the auto-reset row is 0 again.
        using var env = new VectorEnvironment(() => new CounterEnvironment(horizon: 3), 1);
        var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, new Marvel.Core.Abstractions.Seeding.SeedStreams(1), 3, "Counter");
        using var learner = new SacLagLearner(context, Tiny(o => { o.EpisodesPerIteration = 2; o.UpdatesPerIteration = 0; }));
        var controller = new FixedLambdaController(0);

        var result = learner.RunIteration(env, controller);

        result.Episodes.Should().Equal(new EpisodeSummary(3, 2, 3), new EpisodeSummary(3, 2, 3));
        controller.Inputs.Should().Equal(2.0);
        using var batch = learner.Replay!.Sample(64, new Marvel.Core.Abstractions.Seeding.RandomSource(3));
        var obs = batch.Observations.data<float>().ToArray();
        var next = batch.NextObservations.data<float>().ToArray();
        var truncated = batch.Truncated.data<float>().ToArray();
        var rewards = batch.Rewards.data<float>().ToArray();
        var actions = batch.Actions.data<float>().ToArray();
        for (int i = 0; i < 64; i++)
        {
            next[i].Should().Be(obs[i] + 1, "the next observation of every stored transition, truncated ones included, is the step's own successor");
            truncated[i].Should().Be(obs[i] == 2 ? 1f : 0f);
            rewards[i].Should().Be(1f, "rewards are stored raw; RewardScale 0.1 applies to sampled batches (RewardCostScales)");
            actions[i].Should().BeInRange(-1f, 1f, "the buffer keeps actions in tanh space");
        }
        var envActions = ((CounterEnvironment)env.Environments[0]).ActionsSeen;
        envActions.Should().OnlyContain(a => a >= 0 && a <= 10, "squashed actions are mapped onto the [0, 10] box");
    }

    [Test]
    public void RunIteration_SameSeed_GivesSameNumbers()
    {
        (IReadOnlyDictionary<string, double> Metrics, StateDict Actor) Run(ulong seed)
        {
            using var env = EnvironmentRegistry.Default.MakeVector("BallRun", 1);
            using var learner = new SacLagLearner(OnlineTestData.Context("BallRun", seed), Tiny());
            var controller = new SimpleDualAscentController(0.01, 5);
            learner.RunIteration(env, controller);
            var last = learner.RunIteration(env, controller);
            return (last.Metrics, learner.ExportHandover().GetNetwork(HandoverRoles.Actor));
        }

        var a = Run(11);
        var b = Run(11);
        var c = Run(12);

        a.Metrics.Should().Equal(b.Metrics);
        a.Actor.ContentEquals(b.Actor).Should().BeTrue();
        a.Actor.ContentEquals(c.Actor).Should().BeFalse();
    }

    private static IEnumerable<TestCaseData> BadOptions()
    {
        TestCaseData Row(string field, Action<SacLagOptions> breakIt) => new TestCaseData(field, breakIt).SetName($"Constructor_Bad{field}_Throws({field})");
        yield return Row(nameof(SacLagOptions.ActorHiddenSizes), o => o.ActorHiddenSizes = []);
        yield return Row(nameof(SacLagOptions.CriticHiddenSizes), o => o.CriticHiddenSizes = [16, 0]);
        yield return Row(nameof(SacLagOptions.CostCriticHiddenSizes), o => o.CostCriticHiddenSizes = null!);
        yield return Row(nameof(SacLagOptions.RewardCriticCount), o => o.RewardCriticCount = 0);
        yield return Row(nameof(SacLagOptions.CostCriticCount), o => o.CostCriticCount = -1);
        yield return Row(nameof(SacLagOptions.Gamma), o => o.Gamma = 1.0);
        yield return Row(nameof(SacLagOptions.Tau), o => o.Tau = 0);
        yield return Row(nameof(SacLagOptions.BatchSize), o => o.BatchSize = 0);
        yield return Row(nameof(SacLagOptions.MiniBatches), o => o.MiniBatches = 3);
        yield return Row(nameof(SacLagOptions.ActorLearningRate), o => o.ActorLearningRate = -1e-4);
        yield return Row(nameof(SacLagOptions.CriticLearningRate), o => o.CriticLearningRate = double.NaN);
        yield return Row(nameof(SacLagOptions.CostCriticLearningRate), o => o.CostCriticLearningRate = 0);
        yield return Row(nameof(SacLagOptions.Alpha), o => o.Alpha = -0.1);
        yield return Row(nameof(SacLagOptions.AlphaLearningRate), o => o.AlphaLearningRate = double.PositiveInfinity);
        yield return Row(nameof(SacLagOptions.TargetEntropy), o => o.TargetEntropy = double.NaN);
        yield return Row(nameof(SacLagOptions.RewardScale), o => o.RewardScale = 0);
        yield return Row(nameof(SacLagOptions.CostScale), o => o.CostScale = -1);
        yield return Row(nameof(SacLagOptions.Schedule), o => o.Schedule = (SacLagSchedule)42);
        yield return Row(nameof(SacLagOptions.EpisodesPerIteration), o => o.EpisodesPerIteration = 0);
        yield return Row(nameof(SacLagOptions.UpdatesPerIteration), o => o.UpdatesPerIteration = -1);
        yield return Row(nameof(SacLagOptions.UpdateEveryNSteps), o => o.UpdateEveryNSteps = 0);
        yield return Row(nameof(SacLagOptions.WarmupSteps), o => o.WarmupSteps = -5);
        yield return Row(nameof(SacLagOptions.ReplayCapacity), o => o.ReplayCapacity = 0);
        yield return Row(nameof(SacLagOptions.MaxGradNorm), o => o.MaxGradNorm = 0);
        yield return Row(nameof(SacLagOptions.Device), o => o.Device = "gpu0");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Constructor_BadOption_ThrowsNamingTheField(string field, Action<SacLagOptions> breakIt)
    {
        var options = Tiny(breakIt);
        var act = () => new SacLagLearner(OnlineTestData.Context(8, 2, 1), options);
        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
    }

    [Test]
    public void Constructor_SeveralBadOptions_ListsEveryOne()
    {
        var options = Tiny(o => { o.Tau = 2; o.BatchSize = 0; o.ActorLearningRate = -1; });
        var act = () => new SacLagLearner(OnlineTestData.Context(8, 2, 1), options);
        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().HaveCount(3);
    }

    [Test]
    public void Constructor_CopiesOptions_LaterEditsHaveNoEffect()
    {
        var options = Tiny();
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), options);
        options.Tau = 0.7;
        options.ActorHiddenSizes[0] = 99;
        learner.Options.Tau.Should().Be(0.005);
        learner.Options.ActorHiddenSizes.Should().Equal(16, 16);
    }

    [Test]
    public void Update_FixedBatch_LossesFiniteAndCriticLossFalls()
    {
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny());
        using var batch = OnlineTestData.Batch(64, 8, 2);
        var first = learner.Update(batch, lambda: 0.3);
        SacLagUpdateMetrics last = first;
        for (int i = 0; i < 150; i++) last = learner.Update(batch, 0.3);

        OnlineTestData.ShouldAllBeFinite(last.ToDictionary());
        last.Step.Should().Be(150);
        last.Lambda.Should().Be(0.3);
        last.CostCriticLoss.Should().BeLessThan(first.CostCriticLoss);
    }

    [Test]
    public void Update_EntropyBelowTarget_RaisesAlpha()
    {
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => { o.AutoTuneAlpha = true; o.Alpha = 0.1; o.AlphaLearningRate = 1e-2; o.TargetEntropy = 50; }));
        using var batch = OnlineTestData.Batch(64, 8, 2);
        for (int i = 0; i < 20; i++) learner.Update(batch, 0);
        learner.Alpha.Should().BeGreaterThan(0.1);
    }

    [Test]
    public void Update_EntropyAboveTarget_LowersAlpha()
    {
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => { o.AutoTuneAlpha = true; o.Alpha = 0.1; o.AlphaLearningRate = 1e-2; o.TargetEntropy = -50; }));
        using var batch = OnlineTestData.Batch(64, 8, 2);
        var first = learner.Update(batch, 0);
        for (int i = 0; i < 20; i++) learner.Update(batch, 0);
        first.AlphaLoss.Should().BeLessThan(0, "L_α = −log α · (log π + H̄) with −log α > 0 and log π + H̄ < 0");
        learner.Alpha.Should().BeLessThan(0.1);
    }

    [Test]
    public void Update_TruncationAsTerminal_ChangesOnlyTruncatedTargets()
    {
        // With every row truncated, the reference flag (no bootstrap) and the correct one (bootstrap) must differ;
        // with no truncated row they must agree exactly.
        double CriticLoss(bool reference, bool truncated)
        {
            using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.TreatTruncationAsTerminal = reference));
            using var b = OnlineTestData.Batch(32, 8, 2);
            using var flags = truncated ? ones(32) : zeros(32);
            using var batch = b with { Truncated = flags };
            return learner.Update(batch, 0).RewardCriticLoss;
        }

        CriticLoss(true, truncated: false).Should().Be(CriticLoss(false, truncated: false));
        CriticLoss(true, truncated: true).Should().NotBe(CriticLoss(false, truncated: true));
    }

    [Test]
    public void Update_NonFiniteReward_ThrowsTrainingDivergedNamingLossAndStep()
    {
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny());
        using var good = OnlineTestData.Batch(32, 8, 2);
        learner.Update(good, 0);
        using var rewards = full(32, float.NaN);
        using var bad = good with { Rewards = rewards };
        var act = () => learner.Update(bad, 0);
        act.Should().Throw<TrainingDivergedException>().Where(e => e.Quantity == "reward_critic_loss" && e.Step == 1)
            .WithMessage("*reward_critic_loss*step 1*");
    }

    [Test]
    public void Handover_ExportThenInitializeFrom_GivesIdenticalDeterministicActions()
    {
        using var source = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny());
        using var batch = OnlineTestData.Batch(64, 8, 2);
        for (int i = 0; i < 10; i++) source.Update(batch, 0.1);
        var dir = Path.Combine(Path.GetTempPath(), "marvel-saclag-" + Guid.NewGuid().ToString("N"));
        try
        {
            source.ExportHandover().Save(dir);
            var artifact = HandoverArtifact.Load(dir);
            using var target = new SacLagLearner(OnlineTestData.Context(8, 2, 99), Tiny());
            target.InitializeFrom(artifact, new HandoverLoadOptions { LoadCriticOptimizerStates = true });

            var observations = batch.Observations.data<float>().ToArray();
            var expected = new float[64 * 2];
            var actual = new float[64 * 2];
            source.Policy.Act(observations, expected, deterministic: true);
            target.Policy.Act(observations, actual, deterministic: true);
            actual.Should().Equal(expected);
            var exported = target.ExportHandover();
            exported.GetNetwork(HandoverRoles.RewardCritic).ContentEquals(artifact.GetNetwork(HandoverRoles.RewardCritic)).Should().BeTrue();
            exported.GetNetwork(HandoverRoles.CostCritic).ContentEquals(artifact.GetNetwork(HandoverRoles.CostCritic)).Should().BeTrue();
            // Training continues from the loaded state.
            OnlineTestData.ShouldAllBeFinite(target.Update(batch, 0.1).ToDictionary());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Handover_ActorOptimizerStateLoaded_LearningRateComesFromOnlineOptions()
    {
        using var source = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.ActorLearningRate = 1e-3));
        using var batch = OnlineTestData.Batch(32, 8, 2);
        source.Update(batch, 0);
        using var target = new SacLagLearner(OnlineTestData.Context(8, 2, 2), Tiny(o => o.ActorLearningRate = 5e-5));

        target.InitializeFrom(source.ExportHandover(), new HandoverLoadOptions { LoadActorOptimizerState = true });

        target.ActorLearningRateInUse.Should().Be(5e-5);
    }

    [Test]
    public void Handover_MismatchedHiddenSizes_ThrowsInvalidDataAndChangesNothing()
    {
        using var source = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.ActorHiddenSizes = [32, 32]));
        using var target = new SacLagLearner(OnlineTestData.Context(8, 2, 2), Tiny());
        var before = target.ExportHandover().GetNetwork(HandoverRoles.Actor);

        var act = () => target.InitializeFrom(source.ExportHandover());

        act.Should().Throw<InvalidDataException>().WithMessage("*ActorHiddenSizes*");
        target.ExportHandover().GetNetwork(HandoverRoles.Actor).ContentEquals(before).Should().BeTrue();
    }

    [Test]
    public void Handover_LyingDescriptor_StrictLoadThrowsInvalidData()
    {
        using var source = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.CostCriticHiddenSizes = [8, 8]));
        using var target = new SacLagLearner(OnlineTestData.Context(8, 2, 2), Tiny());
        var artifact = source.ExportHandover();
        var manifest = artifact.Manifest with { Networks = new(artifact.Manifest.Networks) { [HandoverRoles.CostCritic] = new("QEnsemble", [16, 16]) } };
        var act = () => target.InitializeFrom(artifact.With(manifest));
        act.Should().Throw<InvalidDataException>().WithMessage("*cost_critic*shape*");
    }

    [Test]
    public void Handover_OtherRewardScale_RefusesCriticsUnlessSkipped()
    {
        using var source = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.RewardScale = 1.0));
        using var target = new SacLagLearner(OnlineTestData.Context(8, 2, 2), Tiny());
        var artifact = source.ExportHandover();
        ((Action)(() => target.InitializeFrom(artifact))).Should().Throw<InvalidDataException>().WithMessage("*RewardScale*");
        ((Action)(() => target.InitializeFrom(artifact, new HandoverLoadOptions { LoadCritics = false }))).Should().NotThrow();
    }

    [Test]
    public void Handover_CostCriticAlone_TakesOverTheCostCritic_KeepsTheFreshRewardCritic()
    {
        using var source = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny());
        using var batch = OnlineTestData.Batch(32, 8, 2);
        source.Update(batch, 0);
        var artifact = source.ExportHandover();
        using var target = new SacLagLearner(OnlineTestData.Context(8, 2, 2), Tiny());
        var freshReward = target.ExportHandover().GetNetwork(HandoverRoles.RewardCritic);

        target.InitializeFrom(artifact, new HandoverLoadOptions { LoadRewardCritic = false });

        var after = target.ExportHandover();
        after.GetNetwork(HandoverRoles.CostCritic).ContentEquals(artifact.GetNetwork(HandoverRoles.CostCritic)).Should().BeTrue();
        after.GetNetwork(HandoverRoles.RewardCritic).ContentEquals(freshReward).Should().BeTrue("the reward critic was not asked for");
        after.GetNetwork(HandoverRoles.RewardCritic).ContentEquals(artifact.GetNetwork(HandoverRoles.RewardCritic)).Should().BeFalse();
    }

    [Test]
    public void Handover_RewardCriticAlone_TakesOverTheRewardCritic_KeepsTheFreshCostCritic()
    {
        using var source = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny());
        using var batch = OnlineTestData.Batch(32, 8, 2);
        source.Update(batch, 0);
        var artifact = source.ExportHandover();
        using var target = new SacLagLearner(OnlineTestData.Context(8, 2, 2), Tiny());
        var freshCost = target.ExportHandover().GetNetwork(HandoverRoles.CostCritic);

        target.InitializeFrom(artifact, new HandoverLoadOptions { LoadCostCritic = false });

        var after = target.ExportHandover();
        after.GetNetwork(HandoverRoles.RewardCritic).ContentEquals(artifact.GetNetwork(HandoverRoles.RewardCritic)).Should().BeTrue();
        after.GetNetwork(HandoverRoles.CostCritic).ContentEquals(freshCost).Should().BeTrue("the cost critic was not asked for");
    }

    [Test]
    public void Handover_OnlyAlignedCritics_FromAnOfflineLearnersArtifact_KeepsFreshCritics()
    {
        using var source = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny());
        using var batch = OnlineTestData.Batch(32, 8, 2);
        source.Update(batch, 0);
        var artifact = source.ExportHandover();   // AlignedBy is null: no aligner rewrote it
        using var target = new SacLagLearner(OnlineTestData.Context(8, 2, 2), Tiny());
        var fresh = target.ExportHandover();

        target.InitializeFrom(artifact, new HandoverLoadOptions { OnlyAlignedCritics = true });

        var after = target.ExportHandover();
        after.GetNetwork(HandoverRoles.CostCritic).ContentEquals(fresh.GetNetwork(HandoverRoles.CostCritic)).Should().BeTrue();
        after.GetNetwork(HandoverRoles.RewardCritic).ContentEquals(fresh.GetNetwork(HandoverRoles.RewardCritic)).Should().BeTrue();
        after.GetNetwork(HandoverRoles.Actor).ContentEquals(artifact.GetNetwork(HandoverRoles.Actor)).Should().BeTrue("the actor is always taken over");
    }

    [Test]
    public void Handover_OnlyAlignedCritics_FromAnAlignedArtifact_TakesTheAskedCriticsOver()
    {
        using var source = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny());
        using var batch = OnlineTestData.Batch(32, 8, 2);
        source.Update(batch, 0);
        var exported = source.ExportHandover();
        var aligned = exported.With(exported.Manifest with { AlignedBy = "VPA" });
        using var target = new SacLagLearner(OnlineTestData.Context(8, 2, 2), Tiny());
        var freshReward = target.ExportHandover().GetNetwork(HandoverRoles.RewardCritic);

        target.InitializeFrom(aligned, new HandoverLoadOptions { OnlyAlignedCritics = true, LoadRewardCritic = false });

        var after = target.ExportHandover();
        after.GetNetwork(HandoverRoles.CostCritic).ContentEquals(aligned.GetNetwork(HandoverRoles.CostCritic)).Should().BeTrue();
        after.GetNetwork(HandoverRoles.RewardCritic).ContentEquals(freshReward).Should().BeTrue();
    }

    [Test]
    public void Handover_CostCriticAlone_ChecksOnlyTheCostScale()
    {
        using var source = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.RewardScale = 1.0));
        using var target = new SacLagLearner(OnlineTestData.Context(8, 2, 2), Tiny());
        var artifact = source.ExportHandover();
        ((Action)(() => target.InitializeFrom(artifact, new HandoverLoadOptions { LoadRewardCritic = false }))).Should().NotThrow(
            "the reward critic, whose scale differs, is not taken over");
        ((Action)(() => target.InitializeFrom(artifact, new HandoverLoadOptions { LoadCostCritic = false }))).Should().Throw<InvalidDataException>()
            .WithMessage("*RewardScale*");
    }

    [Test]
    public void Update_PublishesScalarsOnTheMarvelMeter()
    {
        var seen = new List<string>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Marvel.Core.Abstractions.Telemetry.MarvelTelemetry.MeterName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "metric") lock (seen) seen.Add((string)tag.Value!);
        });
        listener.Start();
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny());
        using var batch = OnlineTestData.Batch(32, 8, 2);
        learner.Update(batch, 0.25);
        lock (seen) seen.Should().Contain(["actor_loss", "reward_critic_loss", "cost_critic_loss", "alpha", "lambda", "entropy", "reward_q", "cost_q"]);
    }

    [Test]
    public void Update_ManyUpdates_LiveTensorCountStaysFlat()
    {
        using var learner = new SacLagLearner(OnlineTestData.Context(8, 2, 1), Tiny(o => o.AutoTuneAlpha = true));
        using var batch = OnlineTestData.Batch(32, 8, 2);
        var stats = TorchSharp.DisposeScopeManager.Statistics;
        for (int i = 0; i < 50; i++) learner.Update(batch, 0.2);
        long afterWarmup = stats.ThreadTotalLiveCount;
        for (int i = 0; i < 300; i++) learner.Update(batch, 0.2);
        stats.ThreadTotalLiveCount.Should().Be(afterWarmup);
    }
}

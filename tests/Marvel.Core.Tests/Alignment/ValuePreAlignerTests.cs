using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Alignment;
using Marvel.Core.Data;
using Marvel.Core.Networks;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Alignment;

public class ValuePreAlignerTests
{
    [Test]
    public void ValueRange_WidensWithBatches_AndClampsTargetsToRangeOverOneMinusGamma()
    {
        using var scope = NewDisposeScope();
        using var range = new ValuePreAligner.ValueRange();
        var raw = tensor(new float[] { -50f, 0f, 50f });
        range.Clamp(raw, 0.9).data<float>().ToArray().Should().Equal(-50f, 0f, 50f);   // nothing seen yet
        range.Include(tensor(new float[] { 0.5f, 2f }));       // [0, 2] (0 included)
        range.Clamp(raw, 0.9).data<float>().ToArray().Should().Equal(0f, 0f, 20f);
        range.Include(tensor(new float[] { -1f, 3f }));        // [−1, 3]
        var clamped = range.Clamp(raw, 0.9).data<float>().ToArray();
        clamped[0].Should().BeApproximately(-10f, 1e-4f);
        clamped[1].Should().Be(0f);
        clamped[2].Should().BeApproximately(30f, 1e-4f);
    }

    private static ValuePreAlignmentOptions OneStep(Action<ValuePreAlignmentOptions>? change = null)
    {
        var o = new ValuePreAlignmentOptions { Steps = 1, BatchSize = 1, MiniBatches = 1, Gamma = 0.5 };
        change?.Invoke(o);
        return o;
    }

    private static HandoverArtifact ConstantCritics(float reward1, float reward2, float cost1, float cost2)
    {
        var a = AlignmentTestData.Artifact();
        return a.With(networks: new Dictionary<string, StateDict>
        {
            [HandoverRoles.RewardCritic] = AlignmentTestData.ConstantCritic(a.GetNetwork(HandoverRoles.RewardCritic), reward1, reward2),
            [HandoverRoles.CostCritic] = AlignmentTestData.ConstantCritic(a.GetNetwork(HandoverRoles.CostCritic), cost1, cost2),
        });
    }

    // One transition r = 2, c = 3; reward members output 1 and 4, cost members 5 and 7; γ = 0.5, reward scale 0.1, cost scale 1.
    //   bootstrapped: y_r = 0.1·2 + 0.5·min(1, 4) = 0.7;  y_c = 3 + 0.5·mean(5, 7) = 6;  with Min reduction y_c = 3 + 0.5·5 = 5.5
    //   terminal:     y_r = 0.2;                          y_c = 3
    //   bounded (default): the only reward seen is 0.2 and cost 3, so values lie in [0, 0.2/0.5] = [0, 0.4] and [0, 6]: y_r = min(0.7, 0.4) = 0.4.
    [TestCase(false, false, false, true, 0.7, 6.0)]
    [TestCase(true, false, false, true, 0.2, 3.0)]
    [TestCase(false, true, false, true, 0.7, 6.0)]    // truncation bootstraps by default
    [TestCase(false, true, true, true, 0.2, 3.0)]     // ... unless TreatTruncationAsTerminal
    [TestCase(false, false, false, false, 0.4, 6.0)]  // default bound
    [TestCase(true, false, false, false, 0.2, 3.0)]
    public void Align_OneTransition_TargetsAreHandComputed(bool terminated, bool truncated, bool truncationIsTerminal, bool unbounded, double rewardTarget, double costTarget)
    {
        var artifact = ConstantCritics(1, 4, 5, 7);
        var data = AlignmentTestData.Dataset(1, _ => 2f, _ => 3f, _ => terminated, _ => truncated);
        var options = OneStep(o =>
        {
            o.TreatTruncationAsTerminal = truncationIsTerminal;
            o.ReferenceUnboundedTargets = unbounded;
        });
        var result = new ValuePreAligner(options).Align(artifact, data, AlignmentTestData.Context());
        result.Steps.Should().Be(1);
        result.FinalMetrics["reward_target"].Should().BeApproximately(rewardTarget, 1e-6);
        result.FinalMetrics["cost_target"].Should().BeApproximately(costTarget, 1e-6);
    }

    [Test]
    public void Align_MinCostReduction_UsesTheSmallerMember()
    {
        var artifact = ConstantCritics(1, 4, 5, 7);
        var data = AlignmentTestData.Dataset(1, _ => 2f, _ => 3f, _ => false);
        var result = new ValuePreAligner(OneStep(o => o.CostEnsembleReduction = EnsembleReduction.Min)).Align(artifact, data, AlignmentTestData.Context());
        result.FinalMetrics["cost_target"].Should().BeApproximately(5.5, 1e-6);
    }

    [Test]
    public void Align_GammaOverride_ReplacesTheManifestsDiscount()
    {
        // γ = 0 ⇒ y_r = 0.1·2 = 0.2 and y_c = 3, whatever the critics say; the aligned artifact records γ = 0.
        var artifact = ConstantCritics(1, 4, 5, 7);
        var data = AlignmentTestData.Dataset(1, _ => 2f, _ => 3f, _ => false);
        var result = new ValuePreAligner(OneStep(o => o.Gamma = 0)).Align(artifact, data, AlignmentTestData.Context());
        result.FinalMetrics["reward_target"].Should().BeApproximately(0.2, 1e-6);
        result.FinalMetrics["cost_target"].Should().BeApproximately(3.0, 1e-6);
        result.Artifact.Manifest.Gamma.Should().Be(0);
    }

    [Test]
    public void Align_UnscaledSource_UsesRewardsAsStored()
    {
        var artifact = ConstantCritics(1, 4, 5, 7);
        var data = AlignmentTestData.Dataset(1, _ => 2f, _ => 3f, _ => true);
        var result = new ValuePreAligner(OneStep(o => o.ApplyArtifactScales = false)).Align(artifact, data, AlignmentTestData.Context());
        result.FinalMetrics["reward_target"].Should().BeApproximately(2.0, 1e-6);
    }

    [Test]
    public void Align_SoftMode_SubtractsEntropyFromTheRewardTargetOnly()
    {
        // With a huge α the reward target moves by −γ·α·log π (non-zero), the cost target does not.
        var artifact = ConstantCritics(1, 4, 5, 7);
        var data = AlignmentTestData.Dataset(1, _ => 2f, _ => 3f, _ => false);
        var soft = new ValuePreAligner(OneStep(o => { o.Mode = ValuePreAlignmentMode.Soft; o.Alpha = 10; })).Align(artifact, data, AlignmentTestData.Context());
        soft.FinalMetrics["reward_target"].Should().NotBeApproximately(0.7, 1e-3);
        soft.FinalMetrics["cost_target"].Should().BeApproximately(6.0, 1e-6);
    }

    [Test]
    public void Align_ReferenceEntropyMode_AddsTheSameBonusToBothTargets()
    {
        var artifact = ConstantCritics(1, 4, 5, 7);
        var data = AlignmentTestData.Dataset(1, _ => 2f, _ => 3f, _ => false);
        var r = new ValuePreAligner(OneStep(o => o.Mode = ValuePreAlignmentMode.ReferenceEntropy)).Align(artifact, data, AlignmentTestData.Context());
        double rewardBonus = r.FinalMetrics["reward_target"] - 0.7, costBonus = r.FinalMetrics["cost_target"] - 6.0;
        rewardBonus.Should().NotBeApproximately(0, 1e-4);
        costBonus.Should().BeApproximately(rewardBonus, 1e-5);
    }

    [Test]
    public void Align_GammaZero_CriticsRegressToScaledRewardsAndCosts()
    {
        // γ = 0: Q_r(s_i, a_i) → 0.1·r_i and Q_c(s_i, a_i) → c_i on 6 distinct transitions.
        var artifact = AlignmentTestData.Artifact();
        float[] rewards = [4, -2, 7, 0, 1, -5];
        float[] costs = [0, 1, 0, 2, 1, 0];
        var data = AlignmentTestData.Dataset(6, i => rewards[i], i => costs[i]);
        var options = new ValuePreAlignmentOptions { Steps = 600, BatchSize = 32, MiniBatches = 2, Gamma = 0, RewardCriticLearningRate = 1e-2, CostCriticLearningRate = 1e-2, Tau = 1 };
        var result = new ValuePreAligner(options).Align(artifact, data, AlignmentTestData.Context());

        using var scope = NewDisposeScope();
        using var reward = new QEnsemble(3, 2, [16, 16], 2);
        using var cost = new QEnsemble(3, 2, [16, 16], 2);
        ModuleState.Load(reward, result.Artifact.GetNetwork(HandoverRoles.RewardCritic), "reward");
        ModuleState.Load(cost, result.Artifact.GetNetwork(HandoverRoles.CostCritic), "cost");
        var s = tensor(data.Observations.ToArray(), [6, 3]);
        var a = tensor(data.Actions.ToArray(), [6, 2]);
        var qr = reward.forward(s, a).data<float>().ToArray();   // [2 members × 6]
        var qc = cost.forward(s, a).data<float>().ToArray();
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < 6; i++)
            {
                qr[k * 6 + i].Should().BeApproximately(0.1f * rewards[i], 0.05f, $"reward member {k}, row {i}");
                qc[k * 6 + i].Should().BeApproximately(costs[i], 0.05f, $"cost member {k}, row {i}");
            }
    }

    [Test]
    public void Align_LeavesTheInputArtifactUnchanged_AndReplacesOnlyTheCritics()
    {
        var artifact = AlignmentTestData.Artifact();
        var before = artifact.Networks.ToDictionary(kv => kv.Key, kv => new StateDict(kv.Value.Entries.Select(e => e with { Values = e.Values.ToArray() }).ToList()));
        var optimizers = artifact.OptimizerStates.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        var data = AlignmentTestData.Dataset(20, i => i, i => i % 2);
        var result = new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 5 }).Align(artifact, data, AlignmentTestData.Context());

        foreach (var (role, sd) in before) artifact.Networks[role].ContentEquals(sd).Should().BeTrue(role);
        foreach (var (role, bytes) in optimizers) artifact.OptimizerStates[role].Should().Equal(bytes, role);
        result.Artifact.GetNetwork(HandoverRoles.Actor).ContentEquals(before[HandoverRoles.Actor]).Should().BeTrue();
        result.Artifact.OptimizerStates[HandoverRoles.Actor].Should().Equal(optimizers[HandoverRoles.Actor]);
        result.Artifact.GetNetwork(HandoverRoles.RewardCritic).ContentEquals(before[HandoverRoles.RewardCritic]).Should().BeFalse();
        result.Artifact.GetNetwork(HandoverRoles.CostCritic).ContentEquals(before[HandoverRoles.CostCritic]).Should().BeFalse();
        result.Artifact.OptimizerStates[HandoverRoles.RewardCritic].Should().NotEqual(optimizers[HandoverRoles.RewardCritic]);
        result.Steps.Should().Be(5 * 4);
    }

    [Test]
    public void Align_SameSeed_SameCritics()
    {
        var data = AlignmentTestData.Dataset(20, i => i, i => i % 2);
        var options = new ValuePreAlignmentOptions { Steps = 5 };
        var a = new ValuePreAligner(options).Align(AlignmentTestData.Artifact(), data, AlignmentTestData.Context(3));
        var b = new ValuePreAligner(options).Align(AlignmentTestData.Artifact(), data, AlignmentTestData.Context(3));
        a.Artifact.GetNetwork(HandoverRoles.CostCritic).ContentEquals(b.Artifact.GetNetwork(HandoverRoles.CostCritic)).Should().BeTrue();
    }

    [Test]
    public void AlignedArtifact_LoadsIntoSacLag_WithCriticMoments()
    {
        var data = AlignmentTestData.Dataset(20, i => i, i => i % 2);
        var aligned = new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 3 }).Align(AlignmentTestData.Artifact(), data, AlignmentTestData.Context()).Artifact;
        using var sac = new SacLagLearner(AlignmentTestData.Context(), new SacLagOptions
        {
            ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], CostCriticHiddenSizes = [16, 16], RewardCriticCount = 2, CostCriticCount = 2,
            RewardScale = 0.1, CostScale = 1,
        });
        sac.InitializeFrom(aligned, new HandoverLoadOptions { LoadCriticOptimizerStates = true });
        var exported = sac.ExportHandover();
        exported.GetNetwork(HandoverRoles.RewardCritic).ContentEquals(aligned.GetNetwork(HandoverRoles.RewardCritic)).Should().BeTrue();
        exported.GetNetwork(HandoverRoles.CostCritic).ContentEquals(aligned.GetNetwork(HandoverRoles.CostCritic)).Should().BeTrue();
    }

    private static SacLagOptions MatchingSacLag(double criticLearningRate) => new()
    {
        ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], CostCriticHiddenSizes = [16, 16], RewardCriticCount = 2, CostCriticCount = 2,
        RewardScale = 0.1, CostScale = 1, CriticLearningRate = criticLearningRate, CostCriticLearningRate = criticLearningRate,
    };

    [Test]
    public void AlignedArtifact_DefaultHandoverLoad_KeepsTheAlignersCriticMoments()
    {
        // Regression: one flag covered the offline learner's moments and the aligner's; its default (false) dropped the aligner's,
        // although the reference keeps them through finetuning (marvel.md §2.2).
        var data = AlignmentTestData.Dataset(20, i => i, i => i % 2);
        var alignment = new ValuePreAlignmentOptions { Steps = 3, RewardCriticLearningRate = 1e-3, CostCriticLearningRate = 1e-3 };
        var aligned = new ValuePreAligner(alignment).Align(AlignmentTestData.Artifact(), data, AlignmentTestData.Context()).Artifact;
        aligned.Manifest.AlignedBy.Should().Be(ValuePreAligner.AlignerName);
        using var sac = new SacLagLearner(AlignmentTestData.Context(), MatchingSacLag(1e-3));

        sac.InitializeFrom(aligned);

        var exported = sac.ExportHandover();
        exported.OptimizerStates[HandoverRoles.RewardCritic].Should().Equal(aligned.OptimizerStates[HandoverRoles.RewardCritic]);
        exported.OptimizerStates[HandoverRoles.CostCritic].Should().Equal(aligned.OptimizerStates[HandoverRoles.CostCritic]);
    }

    [Test]
    public void AlignedArtifact_AlignedMomentsSwitchedOff_StartsFreshCriticMoments()
    {
        var data = AlignmentTestData.Dataset(20, i => i, i => i % 2);
        var alignment = new ValuePreAlignmentOptions { Steps = 3, RewardCriticLearningRate = 1e-3, CostCriticLearningRate = 1e-3 };
        var aligned = new ValuePreAligner(alignment).Align(AlignmentTestData.Artifact(), data, AlignmentTestData.Context()).Artifact;
        using var sac = new SacLagLearner(AlignmentTestData.Context(), MatchingSacLag(1e-3));

        sac.InitializeFrom(aligned, new HandoverLoadOptions { LoadAlignedCriticOptimizerStates = false });

        sac.ExportHandover().OptimizerStates[HandoverRoles.CostCritic].Should().NotEqual(aligned.OptimizerStates[HandoverRoles.CostCritic]);
    }

    [Test]
    public void OfflineArtifact_DefaultHandoverLoad_DoesNotLoadTheOfflineLearnersCriticMoments()
    {
        // Critics with non-trivial moments whose manifest names no aligner: what an offline learner hands over.
        var data = AlignmentTestData.Dataset(20, i => i, i => i % 2);
        var alignment = new ValuePreAlignmentOptions { Steps = 3, RewardCriticLearningRate = 1e-3, CostCriticLearningRate = 1e-3 };
        var trained = new ValuePreAligner(alignment).Align(AlignmentTestData.Artifact(), data, AlignmentTestData.Context()).Artifact;
        var offline = trained.With(trained.Manifest with { AlignedBy = null });
        using var sac = new SacLagLearner(AlignmentTestData.Context(), MatchingSacLag(1e-3));

        sac.InitializeFrom(offline);

        sac.ExportHandover().OptimizerStates[HandoverRoles.CostCritic].Should().NotEqual(offline.OptimizerStates[HandoverRoles.CostCritic]);
        using var loading = new SacLagLearner(AlignmentTestData.Context(), MatchingSacLag(1e-3));
        loading.InitializeFrom(offline, new HandoverLoadOptions { LoadCriticOptimizerStates = true });
        loading.ExportHandover().OptimizerStates[HandoverRoles.CostCritic].Should().Equal(offline.OptimizerStates[HandoverRoles.CostCritic]);
    }

    [Test]
    public void Align_WorksOnAReplayBuffer()
    {
        var buffer = new ReplayBuffer(50, 3, 2);
        for (int i = 0; i < 10; i++) buffer.Add([i, 0, 1], [0.1f, -0.1f], 0.5f, 0, [i + 1, 0, 1], false, i == 9);
        var result = new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 2, ApplyArtifactScales = false }).Align(AlignmentTestData.Artifact(), buffer, AlignmentTestData.Context());
        result.Steps.Should().Be(8);
        result.FinalMetrics.Should().ContainKeys("reward_critic_loss", "cost_critic_loss", "reward_target", "cost_target");
    }

    [Test]
    public void Align_ReportsProgressAsAlignmentStage()
    {
        var reports = new List<TrainingProgress>();
        var data = AlignmentTestData.Dataset(20, i => i, i => i % 2);
        new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 5, ReportEvery = 2 }).Align(AlignmentTestData.Artifact(), data, AlignmentTestData.Context(),
            new SynchronousProgress(reports.Add));
        reports.Select(r => r.Step).Should().Equal(2, 4, 5);
        reports.Should().OnlyContain(r => r.Stage == "alignment" && r.TotalSteps == 5 && r.Metrics.ContainsKey("cost_critic_loss"));
    }

    [Test]
    public void Align_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var data = AlignmentTestData.Dataset(20, i => i, i => i % 2);
        var act = () => new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 5 }).Align(AlignmentTestData.Artifact(), data, AlignmentTestData.Context(), null, cts.Token);
        act.Should().Throw<OperationCanceledException>();
    }

    [Test]
    public void Align_HugeRewards_ThrowsTrainingDivergedNamingTheLoss()
    {
        var data = AlignmentTestData.Dataset(4, _ => 3e38f, _ => 0f);
        var act = () => new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 3, ApplyArtifactScales = false }).Align(AlignmentTestData.Artifact(), data, AlignmentTestData.Context());
        act.Should().Throw<TrainingDivergedException>().Where(e => e.Quantity == "reward_critic_loss" && e.Step == 0 && e.Stage == "alignment");
    }

    [TestCase("actor", "GaussianActor")]
    [TestCase("reward_critic", "VCritic")]
    [TestCase("cost_critic", "TransformerCritic")]
    public void Align_UnsupportedNetworkKind_ThrowsNamingRoleAndKind(string role, string kind)
    {
        var artifact = AlignmentTestData.Artifact();
        var networks = new Dictionary<string, NetworkDescriptor>(artifact.Manifest.Networks) { [role] = artifact.Manifest.Networks[role] with { Kind = kind } };
        var broken = artifact.With(artifact.Manifest with { Networks = networks });
        var data = AlignmentTestData.Dataset(4, _ => 1f, _ => 0f);
        var act = () => new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 1 }).Align(broken, data, AlignmentTestData.Context());
        act.Should().Throw<InvalidDataException>().WithMessage($"*'{role}'*'{kind}'*");
    }

    [Test]
    public void Align_DataOfAnotherTask_Throws()
    {
        var buffer = new ReplayBuffer(4, 5, 2);
        var act = () => new ValuePreAligner().Align(AlignmentTestData.Artifact(), buffer, AlignmentTestData.Context());
        act.Should().Throw<ArgumentException>().WithMessage("*observation size 5*");
    }

    [TestCase(nameof(ValuePreAlignmentOptions.Steps))]
    [TestCase(nameof(ValuePreAlignmentOptions.BatchSize))]
    [TestCase(nameof(ValuePreAlignmentOptions.MiniBatches))]
    [TestCase(nameof(ValuePreAlignmentOptions.Tau))]
    [TestCase(nameof(ValuePreAlignmentOptions.RewardCriticLearningRate))]
    [TestCase(nameof(ValuePreAlignmentOptions.CostCriticLearningRate))]
    [TestCase(nameof(ValuePreAlignmentOptions.Gamma))]
    [TestCase(nameof(ValuePreAlignmentOptions.Mode))]
    [TestCase(nameof(ValuePreAlignmentOptions.Alpha))]
    [TestCase(nameof(ValuePreAlignmentOptions.DeterministicTarget))]
    [TestCase(nameof(ValuePreAlignmentOptions.CostEnsembleReduction))]
    [TestCase(nameof(ValuePreAlignmentOptions.ReportEvery))]
    public void Constructor_BadOption_ThrowsNamingIt(string field)
    {
        var o = new ValuePreAlignmentOptions();
        switch (field)
        {
            case nameof(o.Steps): o.Steps = -1; break;
            case nameof(o.BatchSize): o.BatchSize = 0; o.MiniBatches = 1; break;
            case nameof(o.MiniBatches): o.MiniBatches = 3; break;                 // 256 is not divisible by 3
            case nameof(o.Tau): o.Tau = 0; break;
            case nameof(o.RewardCriticLearningRate): o.RewardCriticLearningRate = double.NaN; break;
            case nameof(o.CostCriticLearningRate): o.CostCriticLearningRate = -1e-3; break;
            case nameof(o.Gamma): o.Gamma = 1; break;
            case nameof(o.Mode): o.Mode = (ValuePreAlignmentMode)7; break;
            case nameof(o.Alpha): o.Alpha = -0.1; break;
            case nameof(o.DeterministicTarget): o.DeterministicTarget = true; o.Mode = ValuePreAlignmentMode.Soft; break;
            case nameof(o.CostEnsembleReduction): o.CostEnsembleReduction = (EnsembleReduction)9; break;
            case nameof(o.ReportEvery): o.ReportEvery = 0; break;
        }
        var act = () => new ValuePreAligner(o);
        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle().Which.Should().Contain(field);
    }

    [Test]
    public void Constructor_SeveralBadOptions_ListsThemAll()
    {
        var act = () => new ValuePreAligner(new ValuePreAlignmentOptions { Steps = -1, Tau = 2, Alpha = double.PositiveInfinity });
        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().HaveCount(3);
    }

    [Test]
    public void NoAlignment_ReturnsTheSameArtifact()
    {
        var artifact = AlignmentTestData.Artifact();
        var data = AlignmentTestData.Dataset(4, _ => 1f, _ => 0f);
        var result = new NoAlignment().Align(artifact, data, AlignmentTestData.Context());
        result.Artifact.Should().BeSameAs(artifact);
        result.Steps.Should().Be(0);
        result.FinalMetrics.Should().BeEmpty();
    }

    [Test]
    public void Align_Repeated_LeavesNoLiveTensors()
    {
        var data = AlignmentTestData.Dataset(20, i => i, i => i % 2);
        var artifact = AlignmentTestData.Artifact();
        var aligner = new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 20 });
        var stats = TorchSharp.DisposeScopeManager.Statistics;
        aligner.Align(artifact, data, AlignmentTestData.Context());
        long afterWarmup = stats.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++) aligner.Align(artifact, data, AlignmentTestData.Context());
        stats.ThreadTotalLiveCount.Should().Be(afterWarmup);
    }

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}

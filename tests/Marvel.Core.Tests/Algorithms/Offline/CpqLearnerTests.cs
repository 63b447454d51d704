using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Offline;

public class CpqLearnerTests
{
    internal static CpqOptions Tiny() => new()
    {
        BatchSize = 32,
        ActorHiddenSizes = [16, 16],
        CriticHiddenSizes = [16, 16],
        VaeHiddenSize = 16,
        SampleActionCount = 4,
    };

    [Test]
    public void Thresholds_ComeFromCostBudget()
    {
        // κ = 10, γ = 0.99, T = 200, critics bootstrapping through truncation: 10 / (200 · 0.01) = 5; OOD threshold 1.5× = 7.5.
        using var learner = new CpqLearner(TinyDatasets.Context(), Tiny() with { CostLimit = 10, EpisodeLength = 200 });
        learner.QThreshold.Should().BeApproximately(5.0, 1e-9);
        learner.OodThreshold.Should().BeApproximately(7.5, 1e-9);
        // Timeouts terminal (the reference): 10 · (1 − 0.99^200) / (0.01 · 200) = 4.330102 (spec §0.6 table); OOD 6.495152.
        using var reference = new CpqLearner(TinyDatasets.Context(), Tiny() with { CostLimit = 10, EpisodeLength = 200, TreatTimeoutAsTerminal = true });
        reference.QThreshold.Should().BeApproximately(4.330102, 1e-6);
        reference.OodThreshold.Should().BeApproximately(6.495152, 1e-6);
        // Regression: CostScale 2 (critics learn 2c) doubles the threshold: 10.
        using var scaled = new CpqLearner(TinyDatasets.Context(), Tiny() with { CostLimit = 10, EpisodeLength = 200, CostScale = 2 });
        scaled.QThreshold.Should().BeApproximately(10.0, 1e-9);
    }

    [Test]
    public void Thresholds_EpisodeLengthFromContextWhenUnset()
    {
        // T = 40 from the context: 10 / (40 · 0.01) = 25.
        using var learner = new CpqLearner(TinyDatasets.Context(), Tiny());
        learner.EpisodeLength.Should().Be(TinyDatasets.EpisodeLength);
        learner.QThreshold.Should().BeApproximately(25.0, 1e-9);
    }

    [Test]
    public void RewardTarget_DropsNextValueWhenNextCostIsAboveThresholdOrDone()
    {
        // r = 1, γ = 0.9, Q′ = 10: safe and continuing → 1 + 0.9·10 = 10; unsafe (Q_c′ = 5 > 4.33) → 1; done → 1.
        using var scope = NewDisposeScope();
        var y = CpqLearner.RewardTarget(tensor(new float[] { 1, 1, 1 }), tensor(new float[] { 1, 1, 0 }),
            tensor(new float[] { 10, 10, 10 }), tensor(new float[] { 1, 5, 1 }), threshold: 4.33, gamma: 0.9);
        y.data<float>().ToArray().Should().BeEquivalentTo(new[] { 10f, 1f, 1f }, o => o.WithStrictOrdering().Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-5f)).WhenTypeIs<float>());
    }

    [Test]
    public void ActorLoss_UsesOnlySafeActions()
    {
        // Q = [2, 4], Q_c = [1, 10], threshold 5: only the first is safe → −(2 + 0) / 2 = −1.
        using var scope = NewDisposeScope();
        var loss = CpqLearner.ActorLoss(tensor(new float[] { 2, 4 }), tensor(new float[] { 1, 10 }), 5);
        loss.item<float>().Should().BeApproximately(-1f, 1e-6f);
    }

    [Test]
    public void RewardTarget_NextCostExactlyAtThreshold_KeepsTheNextValue()
    {
        // The mask is 1[Q_c′ ≤ q_thres]: at Q_c′ = q_thres = 4.5 (exact in float32) the next value counts, just above it does not.
        // r = 1, γ = 0.5, Q′ = 10, continuing: at the threshold 1 + 0.5·10 = 6; at 4.5 + 2⁻¹⁶ (above) 1; below (4) 6.
        using var scope = NewDisposeScope();
        var y = CpqLearner.RewardTarget(tensor(new float[] { 1, 1, 1 }), tensor(new float[] { 1, 1, 1 }),
            tensor(new float[] { 10, 10, 10 }), tensor(new float[] { 4.5f, 4.5f + 1f / 65536, 4f }), threshold: 4.5, gamma: 0.5);
        y.data<float>().ToArray().Should().Equal(6f, 1f, 6f);
    }

    [Test]
    public void ActorLoss_CostValueExactlyAtThreshold_CountsAsSafe()
    {
        // Q = [2, 4, 8], Q_c = [5, 5 + 2⁻¹⁶, 1], threshold 5: rows 1 (at the threshold) and 3 are safe → −(2 + 0 + 8)/3 = −10/3;
        // ∂L/∂Q = −1[safe]/3 = [−1/3, 0, −1/3].
        using var scope = NewDisposeScope();
        var q = tensor(new float[] { 2, 4, 8 }, requires_grad: true);
        var loss = CpqLearner.ActorLoss(q, tensor(new float[] { 5, 5 + 1f / 65536, 1 }), 5);
        loss.item<float>().Should().BeApproximately(-10f / 3, 1e-6f);
        loss.backward();
        q.grad!.data<float>().ToArray().Should().BeEquivalentTo(new[] { -1f / 3, 0f, -1f / 3 },
            o => o.WithStrictOrdering().Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-7f)).WhenTypeIs<float>());
    }

    [Test]
    public void ActorLoss_UnsafeCostDescent_AtThreshold_AddsNoCostTerm()
    {
        // Q = [2], Q_c = [5] at threshold 5 is safe, so the unsafe-descent term w·mean(1[Q_c > 5]·Q_c) adds 0: loss = −2.
        using var scope = NewDisposeScope();
        CpqLearner.ActorLoss(tensor(new float[] { 2 }), tensor(new float[] { 5 }), 5, unsafeCostDescentWeight: 0.5).item<float>().Should().Be(-2f);
    }

    [Test]
    public void ActorLoss_UnsafeCostDescent_AddsTheWeightedCostOfUnsafeStates_WithGradientOnlyThere()
    {
        // Q = [2, 4], Q_c = [1, 10], threshold 5, w = 0.5: −(2 + 0)/2 + 0.5·(0 + 10)/2 = −1 + 2.5 = 1.5;
        // ∂L/∂Q_c = w·1[unsafe]/n = [0, 0.25]; ∂L/∂Q = −1[safe]/n = [−0.5, 0].
        using var scope = NewDisposeScope();
        var q = tensor(new float[] { 2, 4 }, requires_grad: true);
        var qc = tensor(new float[] { 1, 10 }, requires_grad: true);
        var loss = CpqLearner.ActorLoss(q, qc, 5, unsafeCostDescentWeight: 0.5);
        loss.item<float>().Should().BeApproximately(1.5f, 1e-6f);
        loss.backward();
        qc.grad!.data<float>().ToArray().Should().Equal(0f, 0.25f);
        q.grad!.data<float>().ToArray().Should().Equal(-0.5f, 0f);
    }

    [Test]
    public void UnsafeCostDescentWeight_NegativeIsRejected()
    {
        var result = new CpqOptionsValidator().Validate(null, new CpqOptions { UnsafeCostDescentWeight = -1 });
        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("UnsafeCostDescentWeight");
    }

    [Test]
    public void NextLogAlpha_ProjectedAscentOnAlpha_OrReferenceMultiplicativeStep()
    {
        using var scope = NewDisposeScope();
        // α = 1, gap = 13 − 4 = 9, η = 0.1: projected ascent α = 1 + 0.9 = 1.9; reference log α = 0 + 0.1·1·9 = 0.9.
        CpqLearner.NextLogAlpha(tensor(0.0f), tensor(4.0f), 13, 0.1, multiplicative: false).item<float>().Should().BeApproximately((float)Math.Log(1.9), 1e-6f);
        CpqLearner.NextLogAlpha(tensor(0.0f), tensor(4.0f), 13, 0.1, multiplicative: true).item<float>().Should().BeApproximately(0.9f, 1e-6f);
        // OOD values above the threshold shrink α: 1 + 0.1·(13 − 20) = 0.3.
        CpqLearner.NextLogAlpha(tensor(0.0f), tensor(20.0f), 13, 0.1, multiplicative: false).item<float>().Should().BeApproximately((float)Math.Log(0.3), 1e-6f);
        // Both clamp log α to [−5, 5].
        CpqLearner.NextLogAlpha(tensor(4.9f), tensor(0.0f), 200, 1, multiplicative: false).item<float>().Should().BeApproximately(5f, 1e-5f);
        CpqLearner.NextLogAlpha(tensor(4.9f), tensor(0.0f), 200, 1, multiplicative: true).item<float>().Should().BeApproximately(5f, 1e-5f);
        CpqLearner.NextLogAlpha(tensor(0.0f), tensor(100.0f), 13, 1, multiplicative: false).item<float>().Should().BeApproximately(-5f, 1e-5f);
    }

    [Test]
    public void CostValueBounds_AreCostRangeOverOneMinusGamma()
    {
        // Costs in [0, 1], scale 2, γ = 0.9: [0, 1·2/0.1] = [0, 20]. Negative costs extend the lower end: −0.5·1/0.5 = −1.
        var (lo, hi) = OfflineLearning.CostValueBounds([0f, 1f, 0.5f], 2.0, 0.9);
        lo.Should().Be(0.0);
        hi.Should().BeApproximately(20.0, 1e-9);
        var (min, max) = OfflineLearning.CostValueBounds([-0.5f, 0.25f], 1.0, 0.5);
        min.Should().BeApproximately(-1.0, 1e-12);
        max.Should().BeApproximately(0.5, 1e-12);
    }

    [Test]
    public void GatedOodValue_KeepsActionsAtOrAboveTheKlQuantile()
    {
        // KL over N = 2 samples × 2 states: [[0, 1], [2, 3]]; the 0.75 quantile of {0, 1, 2, 3} (linear) is 2.25,
        // so only KL = 3 (sample 2, state 2) counts: per-state values [0, 40 / 2] = [0, 20].
        using var scope = NewDisposeScope();
        var kl = tensor(new float[] { 0, 1, 2, 3 }).view(2, 2);
        var qc = tensor(new float[] { 10, 20, 30, 40 }).view(2, 2);
        CpqLearner.GatedOodValue(kl, qc, 0.75).data<float>().ToArray().Should().Equal(0f, 20f);
    }

    [Test]
    public void GatedOodValue_AveragesOverTheGatedActionsByDefault_AndOverAllSamplesInReferenceMode()
    {
        // KL [[0, 1], [2, 3]] (sample × state); the 0.5 quantile of {0, 1, 2, 3} is 1.5, so KL 2 (state 1, Q_c 30) and
        // KL 3 (state 2, Q_c 40) are OOD. OSRL divides by N = 2: per state [30/2, 40/2], mean 17.5 (a quarter of the pairs gated
        // would make it a quarter of the OOD mean). Over the gated pairs: mean (30 + 40)/2 = 35, per state [30, 40].
        using var scope = NewDisposeScope();
        var kl = tensor(new float[] { 0, 1, 2, 3 }).view(2, 2);
        var qc = tensor(new float[] { 10, 20, 30, 40 }).view(2, 2);
        var reference = CpqLearner.GatedOodValue(kl, qc, 0.5, overAllSamples: true);
        reference.data<float>().ToArray().Should().Equal(15f, 20f);
        var conditional = CpqLearner.GatedOodValue(kl, qc, 0.5, overAllSamples: false);
        conditional.data<float>().ToArray().Should().Equal(30f, 40f);
        conditional.mean().item<float>().Should().Be(35f);
    }

    [Test]
    public void ReferenceOptions_AverageTheOodValueOverAllSamples()
    {
        new CpqOptions().ReferenceOodMeanOverAllSamples.Should().BeFalse();
        CpqOptions.Reference().ReferenceOodMeanOverAllSamples.Should().BeTrue();
    }

    [Test]
    public void Smoke_TrainsWithFiniteLossesAndExports()
    {
        var data = TinyDatasets.BallCircle();
        using var learner = new CpqLearner(TinyDatasets.Context(), Tiny());
        learner.Attach(data);
        var last = learner.Train(60);
        learner.Steps.Should().Be(60);
        last.Values.Should().OnlyContain(v => double.IsFinite(v));
        last.Keys.Should().Contain(new[] { "reward_critic_loss", "cost_critic_loss", "actor_loss", "alpha" });

        var artifact = learner.ExportHandover();
        artifact.Manifest.Algorithm.Should().Be("CPQ");
        artifact.Manifest.RewardScale.Should().Be(0.1);
        artifact.Manifest.CostLimit.Should().Be(10);
        artifact.Manifest.DatasetFingerprint.Should().Be(data.Fingerprint());
        artifact.Manifest.Networks[HandoverRoles.Actor].Kind.Should().Be("SquashedGaussianActor");
        artifact.Manifest.Networks[HandoverRoles.CostCritic].Kind.Should().Be("QEnsemble");
        artifact.OptimizerStates.Keys.Should().BeEquivalentTo(HandoverRoles.Actor, HandoverRoles.RewardCritic, HandoverRoles.CostCritic);
        artifact.Manifest.Lagrange!.Scalars.Should().ContainKey("alpha");

        var obs = data.ObservationAt(0).ToArray();
        var action = new float[2];
        learner.Policy.Act(obs, action, deterministic: true);
        action.Should().OnlyContain(a => a >= -1 && a <= 1);
    }

    [Test]
    public void ReferenceMode_TrainsWithFiniteLosses()
    {
        using var learner = new CpqLearner(TinyDatasets.Context(), CpqOptions.Reference() with
        {
            BatchSize = 32, ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], VaeHiddenSize = 16, SampleActionCount = 4,
        });
        learner.Attach(TinyDatasets.BallCircle());
        learner.Train(30).Values.Should().OnlyContain(v => double.IsFinite(v));
    }

    [Test]
    public void SameSeed_SameNumbers()
    {
        var data = TinyDatasets.BallCircle();
        IReadOnlyDictionary<string, double> Run()
        {
            using var learner = new CpqLearner(TinyDatasets.Context(seed: 11), Tiny());
            learner.Attach(data);
            return learner.Train(10);
        }
        Run().Should().Equal(Run());
    }

    [Test]
    public void Update_NaNReward_ThrowsNamingLossAndStep()
    {
        var data = TinyDatasets.BallCircle(episodes: 2);
        using var learner = new CpqLearner(TinyDatasets.Context(), Tiny());
        using var batch = TinyDatasets.BatchWithNaNReward(data);
        var act = () => learner.Update(batch);
        act.Should().Throw<TrainingDivergedException>().Where(e => e.Quantity == "reward_critic_loss" && e.Step == 0)
            .WithMessage("*reward_critic_loss*step 0*");
    }

    [Test]
    public void Attach_MismatchedDataset_NamesTheKey()
    {
        using var learner = new CpqLearner(TinyDatasets.ContextWithObservationSize(5), Tiny());
        var act = () => learner.Attach(TinyDatasets.BallCircle(episodes: 1));
        act.Should().Throw<InvalidDataException>().WithMessage("*'observations'*");
    }

    [Test]
    public void TrainStep_WithoutDataset_Throws()
    {
        using var learner = new CpqLearner(TinyDatasets.Context(), Tiny());
        learner.Invoking(l => l.TrainStep()).Should().Throw<InvalidOperationException>().WithMessage("*Attach*");
    }

    [Test]
    public void Artifact_SavesLoadsAndRejectsOtherShapes()
    {
        using var learner = new CpqLearner(TinyDatasets.Context(), Tiny());
        var dir = Path.Combine(Path.GetTempPath(), "marvel-cpq-" + Guid.NewGuid().ToString("N"));
        try
        {
            learner.ExportHandover().Save(dir);
            var loaded = HandoverArtifact.Load(dir);
            loaded.GetNetwork(HandoverRoles.Actor).ContentEquals(learner.ExportHandover().GetNetwork(HandoverRoles.Actor)).Should().BeTrue();
            using var wider = new CpqLearner(TinyDatasets.Context(), Tiny() with { ActorHiddenSizes = [32, 16] });
            wider.Invoking(w => w.LoadNetworks(loaded)).Should().Throw<InvalidDataException>().WithMessage("*actor*shape*");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Handover_LoadedActorActsLikeTheOfflinePolicy()
    {
        // Marvel spec §8 D2: a receiver that builds a SquashedGaussianActor from the descriptor and loads the weights strictly
        // must produce the same deterministic actions as the offline policy on a fixed batch.
        var data = TinyDatasets.BallCircle(episodes: 2);
        using var learner = new CpqLearner(TinyDatasets.Context(), Tiny());
        learner.Attach(data);
        learner.Train(5);
        var artifact = learner.ExportHandover();
        var descriptor = artifact.Manifest.Networks[HandoverRoles.Actor];
        using var receiver = new Marvel.Core.Networks.SquashedGaussianActor(artifact.Manifest.ObservationSize, artifact.Manifest.ActionSize, descriptor.HiddenSizes);
        Marvel.Core.Networks.ModuleState.Load(receiver, artifact.GetNetwork(HandoverRoles.Actor), HandoverRoles.Actor);

        int rows = 16, obsSize = data.ObservationSize;
        var observations = data.Observations[..(rows * obsSize)].ToArray();
        var expected = new float[rows * 2];
        learner.Policy.Act(observations, expected, deterministic: true);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var actual = receiver.Deterministic(tensor(observations, new long[] { rows, obsSize })).data<float>().ToArray();
        actual.Should().Equal(expected);
    }

    [Test]
    public void NativeTensors_DoNotLeakAcrossUpdates()
    {
        using var learner = new CpqLearner(TinyDatasets.Context(), Tiny() with { BatchSize = 8 });
        learner.Attach(TinyDatasets.BallCircle(episodes: 2));
        learner.Train(10);
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        learner.Train(150);
        TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before);
    }

    [TestCase(nameof(CpqOptions.CostLimit), -1.0)]
    [TestCase(nameof(CpqOptions.CostLimit), double.NaN)]
    [TestCase(nameof(CpqOptions.EpisodeLength), 0)]
    [TestCase(nameof(CpqOptions.Gamma), 1.0)]
    [TestCase(nameof(CpqOptions.Tau), 0.0)]
    [TestCase(nameof(CpqOptions.RewardScale), 0.0)]
    [TestCase(nameof(CpqOptions.CostScale), -1.0)]
    [TestCase(nameof(CpqOptions.BatchSize), 0)]
    [TestCase(nameof(CpqOptions.ActorHiddenSizes), null)]
    [TestCase(nameof(CpqOptions.CriticHiddenSizes), null)]
    [TestCase(nameof(CpqOptions.VaeHiddenSize), 0)]
    [TestCase(nameof(CpqOptions.RewardEnsembleSize), 0)]
    [TestCase(nameof(CpqOptions.CostEnsembleSize), 0)]
    [TestCase(nameof(CpqOptions.CostEnsembleReduction), 99)]
    [TestCase(nameof(CpqOptions.ActorLearningRate), 0.0)]
    [TestCase(nameof(CpqOptions.CriticLearningRate), double.PositiveInfinity)]
    [TestCase(nameof(CpqOptions.AlphaLearningRate), -1e-3)]
    [TestCase(nameof(CpqOptions.VaeLearningRate), 0.0)]
    [TestCase(nameof(CpqOptions.VaeKlWeight), -0.5)]
    [TestCase(nameof(CpqOptions.SampleActionCount), 0)]
    [TestCase(nameof(CpqOptions.OodThresholdScale), 0.0)]
    [TestCase(nameof(CpqOptions.OodKlQuantile), 1.0)]
    public void Constructor_InvalidOption_NamesTheField(string field, object? value)
    {
        var options = OptionSetter.With(Tiny(), field, value);
        var act = () => new CpqLearner(TinyDatasets.Context(), options);
        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
    }

    [Test]
    public void Validator_ListsEveryBadField()
    {
        var options = Tiny() with { Gamma = 2, Tau = 0, BatchSize = -1 };
        var act = () => new CpqLearner(TinyDatasets.Context(), options);
        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().HaveCount(3);
    }
}

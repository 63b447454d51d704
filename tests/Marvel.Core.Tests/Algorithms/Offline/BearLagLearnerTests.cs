using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Tests.Algorithms.Offline;

public class BearLagLearnerTests
{
    private static BearLagOptions Tiny() => new()
    {
        BatchSize = 32,
        ActorHiddenSizes = [16, 16],
        CriticHiddenSizes = [16, 16],
        VaeHiddenSize = 16,
        SampleActionCount = 4,
        MmdSampleCount = 4,
        RewardCriticsPerGroup = 1,
        CostCriticsPerGroup = 1,
    };

    [Test]
    public void Threshold_IsInTheCriticsScaledUnits()
    {
        // Regression: the threshold ignored CostScale while the critic learns c·CostScale. κ = 20, T = 100, CostScale 3: 3 · 20 = 60.
        using var learner = new BearLagLearner(TinyDatasets.Context(), Tiny() with { CostLimit = 20, EpisodeLength = 100, CostScale = 3 });
        learner.QCostThreshold.Should().BeApproximately(60.0, 1e-9);
    }

    [Test]
    public void Threshold_ComesFromCostBudget()
    {
        // κ = 20, γ = 0.99, T = 100, critics bootstrapping through truncation: 20 / (100 · 0.01) = 20.
        using var learner = new BearLagLearner(TinyDatasets.Context(), Tiny() with { CostLimit = 20, EpisodeLength = 100 });
        learner.QCostThreshold.Should().BeApproximately(20.0, 1e-9);
        // Reference (timeouts terminal): OSRL's 20 · 0.633968 = 12.6794 (spec §0.6 table).
        using var reference = new BearLagLearner(TinyDatasets.Context(), Tiny() with { CostLimit = 20, EpisodeLength = 100, TreatTimeoutAsTerminal = true });
        reference.QCostThreshold.Should().BeApproximately(12.6794, 1e-4);
    }

    [Test]
    public void Smoke_TrainsWithFiniteLossesAndExports()
    {
        using var learner = new BearLagLearner(TinyDatasets.Context(), Tiny());
        learner.Attach(TinyDatasets.BallCircle());
        var last = learner.Train(60);
        last.Values.Should().OnlyContain(v => double.IsFinite(v));
        last["lambda"].Should().BeGreaterThanOrEqualTo(0);
        var artifact = learner.ExportHandover();
        artifact.Manifest.Algorithm.Should().Be("BEAR-Lag");
        artifact.Manifest.Networks[HandoverRoles.RewardCritic].EnsembleSize.Should().Be(2);
        artifact.Manifest.Networks[HandoverRoles.Actor].Kind.Should().Be("SquashedGaussianActor");
        artifact.Manifest.Lagrange!.Kind.Should().Be("OsrlBatchPid");
        artifact.Manifest.Lagrange.Scalars.Should().ContainKeys("integral", "mmd_log_alpha");
        artifact.OptimizerStates.Should().HaveCount(3);
    }

    [Test]
    public void ReferenceModeWithLaplacianKernelAndDelayedPolicy_TrainsWithFiniteLosses()
    {
        var options = BearLagOptions.Reference() with
        {
            BatchSize = 16, ActorHiddenSizes = [16], CriticHiddenSizes = [16], VaeHiddenSize = 16, SampleActionCount = 3, MmdSampleCount = 3,
            MmdKernel = Marvel.Core.Algorithms.Shared.MmdKernel.Laplacian, StartUpdatePolicyStep = 10,
        };
        using var learner = new BearLagLearner(TinyDatasets.Context(), options);
        learner.Attach(TinyDatasets.BallCircle(episodes: 3));
        learner.Train(20).Values.Should().OnlyContain(v => double.IsFinite(v));
    }

    [Test]
    public void SameSeed_SameNumbers()
    {
        var data = TinyDatasets.BallCircle(episodes: 3);
        IReadOnlyDictionary<string, double> Run()
        {
            using var learner = new BearLagLearner(TinyDatasets.Context(seed: 3), Tiny());
            learner.Attach(data);
            return learner.Train(8);
        }
        Run().Should().Equal(Run());
    }

    [Test]
    public void CostEnsemble_PessimisticByDefault_ReferenceSwitchReproducesOsrl()
    {
        new BearLagOptions().ReferenceOptimisticCostEnsemble.Should().BeFalse();
        BearLagOptions.Reference().ReferenceOptimisticCostEnsemble.Should().BeTrue();
        BearLagOptions.MarvelReference().ReferenceOptimisticCostEnsemble.Should().BeTrue();
        // Same seed, one update: the logged Q_c (the PID's input) is the maximum over the four cost members by default and the
        // minimum with the switch; one small gradient step cannot close the spread of the randomly initialised members.
        var data = TinyDatasets.BallCircle(episodes: 3);
        double CostValue(bool optimistic)
        {
            using var learner = new BearLagLearner(TinyDatasets.Context(seed: 5), Tiny() with { CostCriticsPerGroup = 2, ReferenceOptimisticCostEnsemble = optimistic });
            learner.Options.ReferenceOptimisticCostEnsemble.Should().Be(optimistic);
            learner.Attach(data);
            return learner.Train(1)["cost_value"];
        }
        CostValue(optimistic: false).Should().BeGreaterThan(CostValue(optimistic: true));
    }

    [Test]
    public void PidMeasurement_IsTheBatchMeanByDefault_AndTheStartStateCostValueOnRequest()
    {
        new BearLagOptions().ConstraintStates.Should().Be(CostConstraintStates.Batch);
        BearLagOptions.Reference().ConstraintStates.Should().Be(CostConstraintStates.Batch);
        var data = TinyDatasets.BallCircle(episodes: 3);
        IReadOnlyDictionary<string, double> OneUpdate(bool batchStates)
        {
            using var learner = new BearLagLearner(TinyDatasets.Context(seed: 5), Tiny() with { ConstraintStates = batchStates ? CostConstraintStates.Batch : CostConstraintStates.EpisodeStarts });
            learner.Attach(data);
            return learner.Train(1);
        }
        var reference = OneUpdate(batchStates: true);
        reference["constraint_cost_value"].Should().Be(reference["cost_value"]);
        var fixedForm = OneUpdate(batchStates: false);
        fixedForm["cost_value"].Should().Be(reference["cost_value"]);   // same seed and batch: the actor's own Q_c is unchanged
        fixedForm["constraint_cost_value"].Should().NotBe(fixedForm["cost_value"]);
    }

    [Test]
    public void CostValueBounds_ComeFromTheAttachedCosts_AndTheReferenceLeavesTheTargetUnbounded()
    {
        new BearLagOptions().ReferenceUnboundedCostTarget.Should().BeFalse();
        BearLagOptions.Reference().ReferenceUnboundedCostTarget.Should().BeTrue();
        // Costs 0 and 1.5 alternating, scale 2, γ = 0.98: [min c, max c] · scale/(1 − γ) = [0, 1.5 · 2 · 50] = [0, 150].
        var data = TinyDatasets.WithCosts(TinyDatasets.BallCircle(episodes: 3), i => i % 2 == 0 ? 0f : 1.5f, "tiny BallCircle, costs 0 and 1.5");
        using var learner = new BearLagLearner(TinyDatasets.Context(), Tiny() with { CostScale = 2, Gamma = 0.98 });
        learner.CostValueBounds.Should().BeNull();
        learner.Attach(data);
        learner.CostValueBounds!.Value.Min.Should().Be(0);
        learner.CostValueBounds!.Value.Max.Should().BeApproximately(150, 1e-9);
    }

    [Test]
    public void Update_NaNReward_ThrowsNamingLossAndStep()
    {
        var data = TinyDatasets.BallCircle(episodes: 2);
        using var learner = new BearLagLearner(TinyDatasets.Context(), Tiny());
        using var batch = TinyDatasets.BatchWithNaNReward(data);
        learner.Invoking(l => l.Update(batch)).Should().Throw<TrainingDivergedException>()
            .Where(e => e.Quantity == "reward_critic_loss" && e.Step == 0 && e.Stage == "offline/BEAR-Lag");
    }

    [Test]
    public void Attach_MismatchedDataset_NamesTheKey()
    {
        using var learner = new BearLagLearner(TinyDatasets.ContextWithObservationSize(4), Tiny());
        learner.Invoking(l => l.Attach(TinyDatasets.BallCircle(episodes: 1))).Should().Throw<InvalidDataException>().WithMessage("*'observations'*");
    }

    [Test]
    public void NativeTensors_DoNotLeakAcrossUpdates()
    {
        using var learner = new BearLagLearner(TinyDatasets.Context(), Tiny() with { BatchSize = 8 });
        learner.Attach(TinyDatasets.BallCircle(episodes: 2));
        learner.Train(5);
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        learner.Train(60);
        TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before);
    }

    [TestCase(nameof(BearLagOptions.CostLimit), -1.0)]
    [TestCase(nameof(BearLagOptions.EpisodeLength), 0)]
    [TestCase(nameof(BearLagOptions.Gamma), 0.0)]
    [TestCase(nameof(BearLagOptions.Tau), 1.5)]
    [TestCase(nameof(BearLagOptions.RewardScale), 0.0)]
    [TestCase(nameof(BearLagOptions.CostScale), double.NaN)]
    [TestCase(nameof(BearLagOptions.BatchSize), 0)]
    [TestCase(nameof(BearLagOptions.ActorHiddenSizes), null)]
    [TestCase(nameof(BearLagOptions.CriticHiddenSizes), null)]
    [TestCase(nameof(BearLagOptions.VaeHiddenSize), 0)]
    [TestCase(nameof(BearLagOptions.RewardCriticsPerGroup), 0)]
    [TestCase(nameof(BearLagOptions.CostCriticsPerGroup), 0)]
    [TestCase(nameof(BearLagOptions.ActorLearningRate), 0.0)]
    [TestCase(nameof(BearLagOptions.CriticLearningRate), 0.0)]
    [TestCase(nameof(BearLagOptions.VaeLearningRate), 0.0)]
    [TestCase(nameof(BearLagOptions.AlphaLearningRate), 0.0)]
    [TestCase(nameof(BearLagOptions.VaeKlWeight), -1.0)]
    [TestCase(nameof(BearLagOptions.SampleActionCount), 0)]
    [TestCase(nameof(BearLagOptions.DoubleQMix), 1.5)]
    [TestCase(nameof(BearLagOptions.MmdKernel), 7)]
    [TestCase(nameof(BearLagOptions.MmdSigma), 0.0)]
    [TestCase(nameof(BearLagOptions.MmdThreshold), -0.1)]
    [TestCase(nameof(BearLagOptions.MmdSampleCount), 0)]
    [TestCase(nameof(BearLagOptions.StartUpdatePolicyStep), -1L)]
    [TestCase(nameof(BearLagOptions.PidKp), -0.1)]
    [TestCase(nameof(BearLagOptions.PidKi), -0.1)]
    [TestCase(nameof(BearLagOptions.PidKd), double.NaN)]
    [TestCase(nameof(BearLagOptions.ConstraintStates), 99)]
    public void Constructor_InvalidOption_NamesTheField(string field, object? value)
    {
        var act = () => new BearLagLearner(TinyDatasets.Context(), OptionSetter.With(Tiny(), field, value));
        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
    }
}

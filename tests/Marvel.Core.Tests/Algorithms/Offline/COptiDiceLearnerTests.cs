using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.COptiDice;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Offline;

public class COptiDiceLearnerTests
{
    private static COptiDiceOptions Tiny() => new() { BatchSize = 32, ActorHiddenSizes = [16, 16], ValueHiddenSizes = [16, 16] };

    [Test]
    public void SoftChiSquare_MatchesHandComputedValues()
    {
        // f(0.5) = 0.5 (ln 0.5 − 1) + 1 = 0.153426; f(3) = ½ (3 − 1)² = 2.
        // (f′)⁻¹(−1) = e⁻¹ = 0.367879; (f′)⁻¹(2) = 3.
        using var scope = NewDisposeScope();
        COptiDiceLearner.F(tensor(new float[] { 0.5f, 3f }), FDivergence.SoftChiSquare).data<float>().ToArray()
            .Should().SatisfyRespectively(v => v.Should().BeApproximately(0.153426f, 1e-5f), v => v.Should().BeApproximately(2f, 1e-6f));
        COptiDiceLearner.FInverseDerivative(tensor(new float[] { -1f, 2f }), FDivergence.SoftChiSquare).data<float>().ToArray()
            .Should().SatisfyRespectively(v => v.Should().BeApproximately(0.367879f, 1e-5f), v => v.Should().BeApproximately(3f, 1e-6f));
    }

    [Test]
    public void SoftChiSquare_AtZero_IsOne()
    {
        // f(0) = 0·(ln(0 + 1e-10) − 1) + 1 = 1 (the 1e-10 keeps the log finite, so 0·log stays 0).
        using var scope = NewDisposeScope();
        COptiDiceLearner.F(tensor(new float[] { 0f }), FDivergence.SoftChiSquare).item<float>().Should().Be(1f);
    }

    [Test]
    public void ChiSquareAndKl_MatchHandComputedValues()
    {
        // χ²: f(x) = ½(x − 1)²: f(3) = 2, f(0) = 0.5; (f′)⁻¹(y) = y + 1: 2 → 3.
        // KL: f(x) = x·ln(x + 1e-10): f(e) = e·1 = 2.718282, f(0) = 0; (f′)⁻¹(y) = e^(y − 1): 1 → 1, 2 → e.
        using var scope = NewDisposeScope();
        COptiDiceLearner.F(tensor(new float[] { 3f, 0f }), FDivergence.ChiSquare).data<float>().ToArray().Should().Equal(2f, 0.5f);
        COptiDiceLearner.FInverseDerivative(tensor(new float[] { 2f }), FDivergence.ChiSquare).item<float>().Should().Be(3f);
        COptiDiceLearner.F(tensor(new float[] { (float)Math.E, 0f }), FDivergence.KullbackLeibler).data<float>().ToArray()
            .Should().SatisfyRespectively(v => v.Should().BeApproximately(2.718282f, 1e-5f), v => v.Should().Be(0f));
        COptiDiceLearner.FInverseDerivative(tensor(new float[] { 1f, 2f }), FDivergence.KullbackLeibler).data<float>().ToArray()
            .Should().SatisfyRespectively(v => v.Should().BeApproximately(1f, 1e-6f), v => v.Should().BeApproximately(2.718282f, 1e-5f));
    }

    [Test]
    public void InitialFlags_StartTheDatasetAndFollowEveryEpisodeEnd()
    {
        // Rows 0..5, terminal at 1, timeout at 3: initial rows are 0, 2 and 4.
        var flags = COptiDiceLearner.InitialFlags(new[] { false, true, false, false, false, false }, new[] { false, false, false, true, false, false });
        flags.Should().Equal(true, false, true, false, true, false);
    }

    [Test]
    public void Threshold_ComesFromCostBudget()
    {
        // κ = 10, γ = 0.99, T = 200: 10 / (200 · 0.01) = 5 (infinite horizon, the default), 4.330102 with timeouts terminal (OSRL's form).
        using var learner = new COptiDiceLearner(TinyDatasets.Context(), Tiny() with { EpisodeLength = 200 });
        learner.QCostThreshold.Should().BeApproximately(5.0, 1e-9);
        using var reference = new COptiDiceLearner(TinyDatasets.Context(), Tiny() with { EpisodeLength = 200, TreatTimeoutAsTerminal = true });
        reference.QCostThreshold.Should().BeApproximately(4.330102, 1e-6);
        // CostScale 4 on the default: 4 · 5 = 20.
        using var scaled = new COptiDiceLearner(TinyDatasets.Context(), Tiny() with { EpisodeLength = 200, CostScale = 4 });
        scaled.QCostThreshold.Should().BeApproximately(20.0, 1e-9);
        // ĉ is per step, so the bound is (1 − γ)·q_thres: 0.01 · 5 = 0.05 = κ/T by default; 10·(1 − 0.99^200)/200 = 0.04330102 with
        // timeouts terminal.
        learner.CostThreshold.Should().BeApproximately(0.05, 1e-9);
        reference.CostThreshold.Should().BeApproximately(0.04330102, 1e-8);
    }

    [Test]
    public void Threshold_ReferenceComparesThePerStepEstimateWithTheDiscountedSum()
    {
        // OSRL's bound is q_thres itself, here in its reference (timeouts terminal) form: 4.330102.
        using var learner = new COptiDiceLearner(TinyDatasets.Context(), Tiny() with { EpisodeLength = 200, ReferenceDiscountedSumThreshold = true, TreatTimeoutAsTerminal = true });
        learner.CostThreshold.Should().BeApproximately(4.330102, 1e-6);
        COptiDiceOptions.Reference().ReferenceDiscountedSumThreshold.Should().BeTrue();
    }

    [Test]
    public void Lambda_RisesWhenTheDataIsCostlierThanTheBound()
    {
        // Every transition costs 1, far above the per-step bound 0.0433 (κ = 10, T = 200), so with that bound λ must grow; OSRL's
        // discounted-sum bound (4.33 per step) is above any per-step cost here, so with it λ must fall. λ starts at softplus(1) = 1.3133.
        var costly = TinyDatasets.WithCosts(TinyDatasets.BallCircle(), _ => 1f, "tiny BallCircle, cost 1 per step");
        double Lambda(bool reference)
        {
            using var learner = new COptiDiceLearner(TinyDatasets.Context(),
                Tiny() with { EpisodeLength = 200, ScalarLearningRate = 1e-2, ReferenceDiscountedSumThreshold = reference });
            learner.Attach(costly);
            return learner.Train(30)["lambda"];
        }
        Lambda(reference: false).Should().BeGreaterThan(1.3133);
        Lambda(reference: true).Should().BeLessThan(1.3133);
    }

    [TestCase(false, 0.01)]
    [TestCase(true, 0.01)]
    [TestCase(false, 0.0)]
    public void Smoke_TrainsWithFiniteLossesAndExports(bool reference, double epsilon)
    {
        var options = (reference ? COptiDiceOptions.Reference() : new COptiDiceOptions()) with
        {
            BatchSize = 32, ActorHiddenSizes = [16, 16], ValueHiddenSizes = [16, 16], CostUpperBoundEpsilon = epsilon,
        };
        using var learner = new COptiDiceLearner(TinyDatasets.Context(), options);
        learner.Attach(TinyDatasets.BallCircle());
        learner.InitialStateProportion.Should().BeApproximately(1.0 / TinyDatasets.EpisodeLength, 1e-12);
        var last = learner.Train(60);
        last.Values.Should().OnlyContain(v => double.IsFinite(v));
        last["lambda"].Should().BeGreaterThan(0);
        var artifact = learner.ExportHandover();
        artifact.Manifest.Networks[HandoverRoles.Actor].Kind.Should().Be("SquashedGaussianActor");
        artifact.Manifest.Lagrange!.Kind.Should().Be("COptiDiceDual");
    }

    [Test]
    public void SameSeed_SameNumbers()
    {
        var data = TinyDatasets.BallCircle(episodes: 3);
        IReadOnlyDictionary<string, double> Run()
        {
            using var learner = new COptiDiceLearner(TinyDatasets.Context(seed: 9), Tiny());
            learner.Attach(data);
            return learner.Train(10);
        }
        Run().Should().Equal(Run());
    }

    [Test]
    public void Update_NaNReward_ThrowsNamingLossAndStep()
    {
        var data = TinyDatasets.BallCircle(episodes: 2);
        using var learner = new COptiDiceLearner(TinyDatasets.Context(), Tiny());
        learner.Attach(data);
        using var batch = TinyDatasets.BatchWithNaNReward(data);
        using var isInitial = zeros(batch.Size);
        learner.Invoking(l => l.Update(batch, isInitial)).Should().Throw<TrainingDivergedException>()
            .Where(e => e.Quantity == "nu_loss" && e.Step == 0);
    }

    [Test]
    public void NativeTensors_DoNotLeakAcrossUpdates()
    {
        using var learner = new COptiDiceLearner(TinyDatasets.Context(), Tiny() with { BatchSize = 8 });
        learner.Attach(TinyDatasets.BallCircle(episodes: 2));
        learner.Train(5);
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        learner.Train(60);
        TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before);
    }

    [Test]
    public void Attach_MismatchedDataset_NamesTheKey()
    {
        using var learner = new COptiDiceLearner(TinyDatasets.ContextWithObservationSize(4), Tiny());
        learner.Invoking(l => l.Attach(TinyDatasets.BallCircle(episodes: 1))).Should().Throw<InvalidDataException>().WithMessage("*'observations'*");
    }

    [TestCase(nameof(COptiDiceOptions.CostLimit), -1.0)]
    [TestCase(nameof(COptiDiceOptions.EpisodeLength), 0)]
    [TestCase(nameof(COptiDiceOptions.Gamma), 0.0)]
    [TestCase(nameof(COptiDiceOptions.RewardScale), 0.0)]
    [TestCase(nameof(COptiDiceOptions.CostScale), 0.0)]
    [TestCase(nameof(COptiDiceOptions.BatchSize), 0)]
    [TestCase(nameof(COptiDiceOptions.ActorHiddenSizes), null)]
    [TestCase(nameof(COptiDiceOptions.ValueHiddenSizes), null)]
    [TestCase(nameof(COptiDiceOptions.NuEnsembleSize), 0)]
    [TestCase(nameof(COptiDiceOptions.ChiEnsembleSize), 0)]
    [TestCase(nameof(COptiDiceOptions.ActorLearningRate), 0.0)]
    [TestCase(nameof(COptiDiceOptions.CriticLearningRate), 0.0)]
    [TestCase(nameof(COptiDiceOptions.ScalarLearningRate), 0.0)]
    [TestCase(nameof(COptiDiceOptions.Alpha), 0.0)]
    [TestCase(nameof(COptiDiceOptions.Divergence), 9)]
    [TestCase(nameof(COptiDiceOptions.CostUpperBoundEpsilon), -0.01)]
    [TestCase(nameof(COptiDiceOptions.ExtractionNoiseScale), double.NaN)]
    public void Constructor_InvalidOption_NamesTheField(string field, object? value)
    {
        var act = () => new COptiDiceLearner(TinyDatasets.Context(), OptionSetter.With(Tiny(), field, value));
        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
    }
}

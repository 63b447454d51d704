using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.Cdt;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Offline;

public class CdtLearnerTests
{
    private static CdtOptions Tiny() => new()
    {
        BatchSize = 16, SequenceLength = 4, EmbeddingSize = 16, Layers = 1, Heads = 2, WarmupSteps = 5, LearningRate = 1e-3,
    };

    // A window of L = 4 steps with 3-dimensional observations and 2-dimensional actions, tokens (R̂, Ĉ, s, a) per step; eval mode.
    private static CdtModel TinyModel()
    {
        var model = new CdtModel(3, 2, maxTimestep: 16, embeddingSize: 16, layers: 2, heads: 2, dropout: 0, costTokenOffset: 10,
            clampLogStd: true, new Generator(1), dropoutGenerator: null);
        model.eval();
        return model;
    }

    private static (Tensor S, Tensor A, Tensor R, Tensor C, Tensor T) RandomWindow()
    {
        var g = new Generator(2);
        return (randn(1, 4, 3, generator: g), randn(1, 4, 2, generator: g), randn(1, 4, generator: g), randn(1, 4, generator: g),
            arange(0L, 4L, 1L, ScalarType.Int64).unsqueeze(0));
    }

    private static float MaxAbsDiff(Tensor x, Tensor y) => (x - y).abs().max().item<float>();

    [Test]
    public void Model_IsCausal_AnActionSeesNeitherItselfNorLaterSteps()
    {
        // The action at step t is read from the state token of step t, which precedes the action token of step t: changing a_2
        // and s_3 must leave the action heads of steps 0–2 exactly as they were and change step 3's. The cost head reads the
        // action token, so a_2 changes it at step 2 but not at steps 0–1.
        using var scope = NewDisposeScope();
        using var model = TinyModel();
        var (s, a, r, c, t) = RandomWindow();
        var mask = ones(1, 4);
        var (mean, _, cost) = model.Predict(s, a, r, c, t, mask);
        var a2 = a.clone(); a2[0, 2] = a2[0, 2] + 5;
        var s2 = s.clone(); s2[0, 3] = s2[0, 3] + 5;
        var (mean2, _, cost2) = model.Predict(s2, a2, r, c, t, mask);
        MaxAbsDiff(mean2.narrow(1, 0, 3), mean.narrow(1, 0, 3)).Should().BeLessThan(1e-6f);
        MaxAbsDiff(mean2.narrow(1, 3, 1), mean.narrow(1, 3, 1)).Should().BeGreaterThan(1e-4f);
        MaxAbsDiff(cost2.narrow(1, 0, 2), cost.narrow(1, 0, 2)).Should().BeLessThan(1e-6f);
        MaxAbsDiff(cost2.narrow(1, 2, 1), cost.narrow(1, 2, 1)).Should().BeGreaterThan(1e-6f);
    }

    [Test]
    public void Model_PaddedStepsDoNotReachRealOnes()
    {
        // Mask [1, 1, 0, 0] (the learner pads after an episode's end): whatever the padded steps hold, the real steps' outputs are
        // unchanged. Without the padding mask, causality alone would already protect steps 0–1 here, so also pad in front:
        // mask [0, 0, 1, 1] with garbage in steps 0–1 must leave steps 2–3 unchanged.
        using var scope = NewDisposeScope();
        using var model = TinyModel();
        var (s, a, r, c, t) = RandomWindow();
        var front = tensor(new[] { 0f, 0f, 1f, 1f }).unsqueeze(0);
        var (mean, _, cost) = model.Predict(s, a, r, c, t, front);
        var sG = s.clone(); sG.narrow(1, 0, 2).add_(7);
        var aG = a.clone(); aG.narrow(1, 0, 2).add_(-9);
        var rG = r.clone(); rG.narrow(1, 0, 2).add_(3);
        var cG = c.clone(); cG.narrow(1, 0, 2).add_(4);
        var (meanG, _, costG) = model.Predict(sG, aG, rG, cG, t, front);
        MaxAbsDiff(meanG.narrow(1, 2, 2), mean.narrow(1, 2, 2)).Should().BeLessThan(1e-6f);
        MaxAbsDiff(costG.narrow(1, 2, 2), cost.narrow(1, 2, 2)).Should().BeLessThan(1e-6f);
        // The same garbage without the mask does reach steps 2–3 (so the assertion above is the mask's doing).
        var all = ones(1, 4);
        var (meanU, _, _) = model.Predict(s, a, r, c, t, all);
        var (meanUG, _, _) = model.Predict(sG, aG, rG, cG, t, all);
        MaxAbsDiff(meanUG.narrow(1, 2, 2), meanU.narrow(1, 2, 2)).Should().BeGreaterThan(1e-4f);
    }

    [Test]
    public void NativeTensors_DoNotLeakAcrossUpdates()
    {
        using var learner = new CdtLearner(TinyDatasets.Context(), Tiny());
        learner.Attach(TinyDatasets.BallCircle(episodes: 3));
        learner.Train(5);
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        learner.Train(40);
        TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before);
    }

    [Test]
    public void SamplingWeights_AreProportionalToOffsetMinusEpisodeCost()
    {
        // Costs 10, 40, 80 with offset 70: weights 60, 30, 0 → cumulative 2/3, 1, 1.
        var cumulative = CdtLearner.SamplingWeights(new[] { 10.0, 40.0, 80.0 }, costWeighted: true, offset: 70);
        cumulative.Should().Equal(new[] { 2.0 / 3, 1.0, 1.0 }, (a, b) => Math.Abs(a - b) < 1e-12);
        // All weights zero → uniform.
        CdtLearner.SamplingWeights(new[] { 90.0, 100.0 }, true, 70).Should().Equal(0.5, 1.0);
    }

    [Test]
    public void Smoke_TrainsWithFiniteLossesActsAndExports()
    {
        var data = TinyDatasets.BallCircle();
        using var learner = new CdtLearner(TinyDatasets.Context(), Tiny());
        learner.Attach(data);
        var first = learner.TrainStep()["action_loss"];
        var last = learner.Train(60);
        last.Values.Should().OnlyContain(v => double.IsFinite(v));
        last["action_loss"].Should().BeLessThan(first);

        var policy = (CdtPolicy)learner.Policy;
        policy.OnEpisodeStart(0);
        var action = new float[2];
        for (int t = 0; t < 6; t++)   // longer than the window: the history is cut to the last L steps
        {
            learner.Policy.Act(data.ObservationAt(t), action, deterministic: true);
            action.Should().OnlyContain(a => a >= -1 && a <= 1 && float.IsFinite(a));
            policy.Record(0, reward: 1.0, cost: 0.0);
        }
        var artifact = learner.ExportHandover();
        artifact.Manifest.Algorithm.Should().Be("CDT");
        artifact.Manifest.Networks[HandoverRoles.Actor].Kind.Should().Be("CdtModel");
    }

    [Test]
    public void SameSeed_SameNumbers()
    {
        var data = TinyDatasets.BallCircle(episodes: 3);
        IReadOnlyDictionary<string, double> Run()
        {
            using var learner = new CdtLearner(TinyDatasets.Context(seed: 4), Tiny());
            learner.Attach(data);
            return learner.Train(5);
        }
        Run().Should().Equal(Run());
    }

    [Test]
    public void SameSeed_SameSampledActions_OverManyCalls()
    {
        // Two learners built alike act stochastically on the same observations: the actions must agree bit for bit on every call,
        // whatever the addresses of the per-call buffers (the fault class of the InferencePolicy and TensorPolicy fixes).
        var data = TinyDatasets.BallCircle(episodes: 3);
        float[] Actions()
        {
            using var learner = new CdtLearner(TinyDatasets.Context(seed: 9), Tiny());
            learner.Attach(data);
            learner.Train(3);
            var policy = (CdtPolicy)learner.Policy;
            var all = new List<float>();
            var action = new float[2];
            for (int episode = 0; episode < 20; episode++)
            {
                policy.OnEpisodeStart(0);
                for (int t = 0; t < 8; t++)
                {
                    _ = new byte[37 * (t + 1 + episode)];   // move the managed heap between calls
                    policy.Act(data.ObservationAt(t), action, deterministic: false);
                    all.AddRange(action);
                    policy.Record(0, reward: 0.5, cost: t % 3 == 0 ? 1.0 : 0.0);
                }
            }
            return all.ToArray();
        }
        var first = Actions();
        for (int repeat = 0; repeat < 3; repeat++)
            Actions().Should().Equal(first, "same seed, same sampled actions (repeat {0})", repeat);
    }

    [Test]
    public void Attach_EpisodeLongerThanHorizon_Throws()
    {
        using var learner = new CdtLearner(TinyDatasets.Context(), Tiny() with { EpisodeLength = 10 });
        learner.Invoking(l => l.Attach(TinyDatasets.BallCircle(episodes: 1))).Should().Throw<InvalidDataException>().WithMessage("*40 steps*EpisodeLength*");
    }

    [Test]
    public void Update_NaNReturnToGo_ThrowsNamingLossAndStep()
    {
        using var learner = new CdtLearner(TinyDatasets.Context(), Tiny());
        using var scope = NewDisposeScope();
        var rtg = zeros(2, 4);
        rtg[0, 0] = tensor(float.NaN);
        var windows = new CdtWindows(zeros(2, 4, 8), zeros(2, 4, 2), rtg, zeros(2, 4), zeros(2, 4, dtype: ScalarType.Int64),
            zeros(2, 4, dtype: ScalarType.Int64), ones(2, 4));
        learner.Invoking(l => l.Update(windows)).Should().Throw<TrainingDivergedException>().Where(e => e.Quantity == "action_loss" && e.Step == 0);
    }

    [TestCase(nameof(CdtOptions.CostLimit), -1.0)]
    [TestCase(nameof(CdtOptions.TargetReturn), double.NaN)]
    [TestCase(nameof(CdtOptions.EpisodeLength), 0)]
    [TestCase(nameof(CdtOptions.SequenceLength), 0)]
    [TestCase(nameof(CdtOptions.EmbeddingSize), 0)]
    [TestCase(nameof(CdtOptions.Layers), 0)]
    [TestCase(nameof(CdtOptions.Heads), 3)]
    [TestCase(nameof(CdtOptions.Dropout), 1.0)]
    [TestCase(nameof(CdtOptions.LearningRate), 0.0)]
    [TestCase(nameof(CdtOptions.WeightDecay), -1.0)]
    [TestCase(nameof(CdtOptions.MaxGradNorm), 0.0)]
    [TestCase(nameof(CdtOptions.WarmupSteps), 0)]
    [TestCase(nameof(CdtOptions.BatchSize), 0)]
    [TestCase(nameof(CdtOptions.RewardScale), 0.0)]
    [TestCase(nameof(CdtOptions.CostScale), 0.0)]
    [TestCase(nameof(CdtOptions.CostLossWeight), -1.0)]
    [TestCase(nameof(CdtOptions.InitialTemperature), 0.0)]
    [TestCase(nameof(CdtOptions.TemperatureLearningRate), 0.0)]
    [TestCase(nameof(CdtOptions.CostTokenOffset), double.PositiveInfinity)]
    [TestCase(nameof(CdtOptions.CostSamplingOffset), 0.0)]
    [TestCase(nameof(CdtOptions.AugmentationFraction), -0.1)]
    [TestCase(nameof(CdtOptions.AugmentationFraction), 1.5)]
    [TestCase(nameof(CdtOptions.AugmentationCostBins), 0)]
    [TestCase(nameof(CdtOptions.AugmentationReturnBins), 0)]
    [TestCase(nameof(CdtOptions.AugmentationMaxPerBin), 0)]
    [TestCase(nameof(CdtOptions.AugmentationMinPerBin), 0)]
    [TestCase(nameof(CdtOptions.AugmentationMinPerBin), 11)]
    [TestCase(nameof(CdtOptions.AugmentationPolynomialDegree), -1)]
    [TestCase(nameof(CdtOptions.AugmentationMaxReturn), double.NaN)]
    [TestCase(nameof(CdtOptions.AugmentationMinReturnAboveFrontier), -1.0)]
    [TestCase(nameof(CdtOptions.AugmentationMaxReturnDecrease), -1.0)]
    [TestCase(nameof(CdtOptions.AugmentationResampleBeta), 0.0)]
    public void Constructor_InvalidOption_NamesTheField(string field, object? value)
    {
        var act = () => new CdtLearner(TinyDatasets.Context(), OptionSetter.With(Tiny(), field, value));
        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
    }
}

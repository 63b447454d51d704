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
    public void Constructor_InvalidOption_NamesTheField(string field, object? value)
    {
        var act = () => new CdtLearner(TinyDatasets.Context(), OptionSetter.With(Tiny(), field, value));
        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
    }
}

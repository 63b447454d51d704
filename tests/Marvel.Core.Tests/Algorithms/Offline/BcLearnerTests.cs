using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Tests.Algorithms.Offline;

public class BcLearnerTests
{
    private static BcOptions Tiny(BcMode mode = BcMode.All) => new() { Mode = mode, BatchSize = 32, HiddenSizes = [16, 16], CostLimit = 10 };

    private static LearnerContext OneDimensional() => new(Marvel.Core.Abstractions.Spaces.BoxSpace.Uniform(1, -10, 10),
        Marvel.Core.Abstractions.Spaces.BoxSpace.Uniform(1, -1, 1), new SeedStreams(1), 10, "hand-made");

    [TestCase(BcMode.Safe, 10.0, true)]     // C = κ is safe (≤)
    [TestCase(BcMode.Safe, 10.5, false)]
    [TestCase(BcMode.Risky, 20.0, true)]    // C ≥ 2κ
    [TestCase(BcMode.Risky, 19.9, false)]
    [TestCase(BcMode.Boundary, 5.0, false)] // 0.5κ < C is strict
    [TestCase(BcMode.Boundary, 15.0, true)] // C ≤ 1.5κ
    [TestCase(BcMode.All, 1e9, true)]
    public void Keeps_AppliesTheEpisodeCostRule(BcMode mode, double episodeCost, bool kept) =>
        BcLearner.Keeps(mode, episodeCost, costLimit: 10).Should().Be(kept);

    [Test]
    public void Attach_Safe_KeepsOnlyEpisodesWithinTheLimit()
    {
        // Episodes of 4 steps with costs 0, 1 and 3 per step → episode costs 0, 4 and 12; κ = 10 keeps the first two (8 transitions).
        var data = TinyDatasets.Episodes((4, 0f), (4, 1f), (4, 3f));
        using var learner = new BcLearner(OneDimensional(), Tiny(BcMode.Safe));
        learner.Attach(data);
        learner.TrainingTransitions.Should().Be(8);
        learner.Algorithm.Should().Be("BC-Safe");
    }

    [Test]
    public void Attach_All_KeepsEverything()
    {
        var data = TinyDatasets.Episodes((4, 0f), (4, 1f), (4, 3f));
        using var learner = new BcLearner(OneDimensional(), Tiny(BcMode.All));
        learner.Attach(data);
        learner.TrainingTransitions.Should().Be(12);
    }

    [Test]
    public void Attach_SafeWithTinyLimit_ThrowsClearly()
    {
        var data = TinyDatasets.Episodes((4, 1f), (4, 3f));
        using var learner = new BcLearner(OneDimensional(), Tiny(BcMode.Safe) with { CostLimit = 0.5 });
        learner.Invoking(l => l.Attach(data)).Should().Throw<InvalidDataException>()
            .WithMessage("*no episode*CostLimit = 0.5*episode costs from 4 to 12*");
    }

    [Test]
    public void Smoke_LossIsFiniteAndFalls()
    {
        var data = TinyDatasets.BallCircle();
        using var learner = new BcLearner(TinyDatasets.Context(), Tiny() with { LearningRate = 3e-3 });
        learner.Attach(data);
        var first = learner.TrainStep()["actor_loss"];
        var last = learner.Train(150)["actor_loss"];
        double.IsFinite(last).Should().BeTrue();
        last.Should().BeLessThan(first);
        var artifact = learner.ExportHandover();
        artifact.Manifest.Algorithm.Should().Be("BC-All");
        artifact.Manifest.Networks[HandoverRoles.Actor].Kind.Should().Be("DeterministicActor");
        artifact.OptimizerStates.Should().ContainKey(HandoverRoles.Actor);
    }

    [Test]
    public void SameSeed_SameNumbers()
    {
        var data = TinyDatasets.BallCircle(episodes: 3);
        IReadOnlyDictionary<string, double> Run()
        {
            using var learner = new BcLearner(TinyDatasets.Context(seed: 5), Tiny(BcMode.Safe) with { CostLimit = 100 });
            learner.Attach(data);
            return learner.Train(20);
        }
        Run().Should().Equal(Run());
    }

    [Test]
    public void Update_NaNObservation_ThrowsNamingLossAndStep()
    {
        var data = TinyDatasets.BallCircle(episodes: 1);
        using var learner = new BcLearner(TinyDatasets.Context(), Tiny());
        using var batch = data.Sample(4, new RandomSource(1));
        using var observations = batch.Observations.clone();
        observations[0, 0] = TorchSharp.torch.tensor(float.NaN);
        var act = () => learner.Update(batch with { Observations = observations });
        act.Should().Throw<TrainingDivergedException>().Where(e => e.Quantity == "actor_loss" && e.Step == 0);
    }

    [Test]
    public void Attach_MismatchedDataset_NamesTheKey()
    {
        using var learner = new BcLearner(TinyDatasets.ContextWithObservationSize(3), Tiny());
        learner.Invoking(l => l.Attach(TinyDatasets.BallCircle(episodes: 1))).Should().Throw<InvalidDataException>().WithMessage("*'observations'*");
    }

    [TestCase(nameof(BcOptions.Mode), 42)]
    [TestCase(nameof(BcOptions.CostLimit), -1.0)]
    [TestCase(nameof(BcOptions.HiddenSizes), null)]
    [TestCase(nameof(BcOptions.LearningRate), 0.0)]
    [TestCase(nameof(BcOptions.BatchSize), 0)]
    public void Constructor_InvalidOption_NamesTheField(string field, object? value)
    {
        var act = () => new BcLearner(TinyDatasets.Context(), OptionSetter.With(Tiny(), field, value));
        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
    }
}

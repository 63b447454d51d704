using Marvel.Core.Pipeline.Datasets;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Tests.Pipeline.Datasets;

[TestFixture]
public sealed class FrontierDatasetOptionsValidatorTests
{
    private static ValidateOptionsResult Validate(FrontierDatasetOptions options) => new FrontierDatasetOptionsValidator().Validate(null, options);

    [Test]
    public void Defaults_AreValid() => Validate(new FrontierDatasetOptions()).Succeeded.Should().BeTrue();

    [TestCase("BallCircle")]
    [TestCase("OfflineCarRun-v0")]
    [TestCase("SomethingElse")]
    public void ForTask_IsValid(string task) => Validate(FrontierDatasetOptions.ForTask(task)).Succeeded.Should().BeTrue();

    [Test]
    public void ForTask_SetsDsrlSizes()
    {
        // spec §3.1: BallCircle 177 k transitions, cost max 80; training 3 × 177 000 = 531 000.
        var o = FrontierDatasetOptions.ForTask("BallCircle");
        (o.TargetTransitions, o.MaxEpisodeCost, o.TrainingSteps).Should().Be((177_000, 80.0, 531_000));
        FrontierDatasetOptions.ForTask("OfflineCarCircle-v0").TargetTransitions.Should().Be(435_000);
    }

    [TestCase("DroneRun", 398_000, 140.0)]             // 1 990 trajectories × 200 steps
    [TestCase("OfflineDroneCircle-v0", 576_900, 100.0)] // 1 923 × 300
    [TestCase("AntRun", 363_200, 150.0)]               // 1 816 × 200
    [TestCase("AntCircle", 2_864_000, 200.0)]          // 5 728 × 500
    public void ForTask_DroneAndAnt_SetDsrlSizes(string task, int transitions, double costMax)
    {
        var o = FrontierDatasetOptions.ForTask(task);
        (o.TargetTransitions, o.MaxEpisodeCost, o.TrainingSteps).Should().Be((transitions, costMax, 3 * transitions));
        Validate(o).Succeeded.Should().BeTrue();
    }

    private static readonly (string Field, Action<FrontierDatasetOptions> Break)[] BadFields =
    [
        (nameof(FrontierDatasetOptions.TrainingSteps), o => o.TrainingSteps = 0),
        (nameof(FrontierDatasetOptions.Environments), o => o.Environments = 0),
        (nameof(FrontierDatasetOptions.CostLimitStart), o => o.CostLimitStart = -1),
        (nameof(FrontierDatasetOptions.CostLimitEnd), o => o.CostLimitEnd = double.NaN),
        (nameof(FrontierDatasetOptions.Schedule), o => o.Schedule = (CostLimitScheduleKind)7),
        (nameof(FrontierDatasetOptions.ScheduleCycles), o => o.ScheduleCycles = 0),
        (nameof(FrontierDatasetOptions.SweepStartFraction), o => o.SweepStartFraction = 1),
        (nameof(FrontierDatasetOptions.SweepEndFraction), o => o.SweepEndFraction = 0),
        (nameof(FrontierDatasetOptions.LambdaLearningRate), o => o.LambdaLearningRate = 0),
        (nameof(FrontierDatasetOptions.InitialLambda), o => o.InitialLambda = -0.5),
        (nameof(FrontierDatasetOptions.CheckpointEvery), o => o.CheckpointEvery = 0),
        (nameof(FrontierDatasetOptions.DeterministicEpisodes), o => o.DeterministicEpisodes = -1),
        (nameof(FrontierDatasetOptions.NoiseStandardDeviations), o => o.NoiseStandardDeviations = [0.1, -0.2]),
        (nameof(FrontierDatasetOptions.NoisyEpisodes), o => o.NoisyEpisodes = -1),
        (nameof(FrontierDatasetOptions.CostBins), o => o.CostBins = 0),
        (nameof(FrontierDatasetOptions.ReturnBins), o => o.ReturnBins = 0),
        (nameof(FrontierDatasetOptions.MaxEpisodesPerBin), o => o.MaxEpisodesPerBin = 0),
        (nameof(FrontierDatasetOptions.MaxEpisodeCost), o => o.MaxEpisodeCost = 0),
        (nameof(FrontierDatasetOptions.TargetTransitions), o => o.TargetTransitions = 0),
        (nameof(FrontierDatasetOptions.Learner), o => o.Learner = null!),
        ("Learner.ActorLearningRate", o => o.Learner.ActorLearningRate = -1),
        (nameof(FrontierDatasetOptions.LearnerKind), o => o.LearnerKind = (FrontierLearner)5),
        ("PpoLearner.StepsPerIteration", o => o.PpoLearner = FrontierDatasetOptions.DefaultPpoLearner() with { StepsPerIteration = 0 }),
    ];

    private static IEnumerable<TestCaseData> BadFieldCases() => BadFields.Select(b => new TestCaseData(b.Field).SetName($"Validate_Bad{b.Field}_IsReportedByName"));

    [TestCaseSource(nameof(BadFieldCases))]
    public void Validate_BadField_IsReportedByName(string field)
    {
        var options = new FrontierDatasetOptions();
        BadFields.Single(b => b.Field == field).Break(options);

        var result = Validate(options);

        result.Failed.Should().BeTrue();
        result.Failures.Should().ContainSingle().Which.Should().StartWith($"Property {field}:");
    }

    [Test]
    public void Validate_SweepEndNotAfterStart_IsReported()
    {
        var result = Validate(new FrontierDatasetOptions { SweepStartFraction = 0.6, SweepEndFraction = 0.4 });

        result.Failures.Should().ContainSingle().Which.Should().Contain("SweepEndFraction").And.Contain("greater than SweepStartFraction");
    }

    [Test]
    public void Validate_NullNoiseList_IsReported()
    {
        Validate(new FrontierDatasetOptions { NoiseStandardDeviations = null! }).Failures.Should().ContainSingle().Which.Should().Contain("NoiseStandardDeviations");
    }

    [Test]
    public void Validate_SeveralBadFields_ListsEveryOne()
    {
        var options = new FrontierDatasetOptions { TrainingSteps = 0, CostBins = 0, TargetTransitions = -3 };

        Validate(options).Failures.Should().HaveCount(3);
    }

    [Test]
    public void Generate_BadOptions_ThrowsBeforeAnyWork_NamingTheFields()
    {
        Action act = () => FrontierDataset.Generate("BallCircle", new FrontierDatasetOptions { TrainingSteps = 0, ReturnBins = 0 }, seed: 0);

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().HaveCount(2)
            .And.Contain(f => f.Contains("TrainingSteps")).And.Contain(f => f.Contains("ReturnBins"));
    }
}

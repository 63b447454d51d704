using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Offline.COptiDice;
using Marvel.Core.Algorithms.Offline.Cdt;
using Marvel.Core.Algorithms.Offline.Cpq;

namespace Marvel.Core.Tests.Algorithms.Offline;

/// <summary>
/// <see cref="ICheckpointableOfflineLearner"/> on every offline learner (issue 22 §3): a learner restored from a checkpoint mid-way and
/// trained to the end holds exactly the state of one trained straight through.
/// </summary>
public class OfflineCheckpointTests
{
    private readonly TempFolders _folders = new("marvel-offline-checkpoint");

    [TearDown]
    public void DeleteFolders() => _folders.DeleteAll();

    private string NewFolder() => _folders.New();

    public static IEnumerable<TestCaseData> Learners()
    {
        yield return new TestCaseData((Func<LearnerContext, ICheckpointableOfflineLearner>)(c => new CpqLearner(c, CpqLearnerTests.Tiny()))).SetArgDisplayNames("CPQ");
        yield return new TestCaseData((Func<LearnerContext, ICheckpointableOfflineLearner>)(c => new BearLagLearner(c, new BearLagOptions
        {
            BatchSize = 32, ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], VaeHiddenSize = 16, SampleActionCount = 4, MmdSampleCount = 4,
            RewardCriticsPerGroup = 1, CostCriticsPerGroup = 1, CostLimit = 0,   // κ = 0 keeps the PID's error positive, so its state matters
        }))).SetArgDisplayNames("BEAR-Lag");
        yield return new TestCaseData((Func<LearnerContext, ICheckpointableOfflineLearner>)(c => new BcqLagLearner(c, new BcqLagOptions
        {
            BatchSize = 32, ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], VaeHiddenSize = 16, SampleActionCount = 4,
            RewardCriticsPerGroup = 1, CostCriticsPerGroup = 1, CostLimit = 0,
        }))).SetArgDisplayNames("BCQ-Lag");
        // The opt-in fused products (issue 21) keep the checkpoint exact.
        yield return new TestCaseData((Func<LearnerContext, ICheckpointableOfflineLearner>)(c => new CpqLearner(c, FusedOptionsTests.Cpq(true, true)))).SetArgDisplayNames("CPQ, fused");
        yield return new TestCaseData((Func<LearnerContext, ICheckpointableOfflineLearner>)(c => new BearLagLearner(c, FusedOptionsTests.BearLag(true, true)))).SetArgDisplayNames("BEAR-Lag, fused");
        yield return new TestCaseData((Func<LearnerContext, ICheckpointableOfflineLearner>)(c => new BcqLagLearner(c, FusedOptionsTests.BcqLag(true)))).SetArgDisplayNames("BCQ-Lag, fused");
        yield return new TestCaseData((Func<LearnerContext, ICheckpointableOfflineLearner>)(c => new BcLearner(c, new BcOptions
        {
            Mode = BcMode.All, BatchSize = 32, HiddenSizes = [16, 16], CostLimit = 10,
        }))).SetArgDisplayNames("BC");
        yield return new TestCaseData((Func<LearnerContext, ICheckpointableOfflineLearner>)(c => new COptiDiceLearner(c, new COptiDiceOptions
        {
            BatchSize = 32, ActorHiddenSizes = [16, 16], ValueHiddenSizes = [16, 16],
        }))).SetArgDisplayNames("COptiDICE");
        yield return new TestCaseData((Func<LearnerContext, ICheckpointableOfflineLearner>)(c => new CdtLearner(c, new CdtOptions
        {
            BatchSize = 16, SequenceLength = 4, EmbeddingSize = 16, Layers = 1, Heads = 2, WarmupSteps = 5, LearningRate = 1e-3,
        }))).SetArgDisplayNames("CDT");
    }

    /// <summary>Every file of a checkpoint folder by relative path.</summary>
    private static Dictionary<string, byte[]> Files(string folder) => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
        .ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    [TestCaseSource(nameof(Learners))]
    public void LoadCheckpoint_MidWay_ThenTraining_EndsBitIdenticalToTrainingStraightThrough(Func<LearnerContext, ICheckpointableOfflineLearner> create)
    {
        var data = TinyDatasets.BallCircle();
        using var straight = create(TinyDatasets.Context());
        straight.Attach(data);
        for (int i = 0; i < 6; i++) straight.TrainStep();

        var middle = NewFolder();
        using (var first = create(TinyDatasets.Context()))
        {
            first.Attach(data);
            for (int i = 0; i < 3; i++) first.TrainStep();
            first.SaveCheckpoint(middle);
        }
        using var resumed = create(TinyDatasets.Context());
        resumed.LoadCheckpoint(middle);   // before Attach: the dataset-derived state does not depend on the order
        resumed.Attach(data);
        resumed.Steps.Should().Be(3);
        for (int i = 0; i < 3; i++) resumed.TrainStep();

        // The complete training state (networks, targets, optimizers, multipliers, generators, sampler, counters) is byte-identical.
        var a = NewFolder();
        var b = NewFolder();
        straight.SaveCheckpoint(a);
        resumed.SaveCheckpoint(b);
        var expected = Files(a);
        var actual = Files(b);
        actual.Keys.Should().BeEquivalentTo(expected.Keys);
        expected.Keys.Should().Contain(["tensors.bin", "learner.json"]).And.Contain(k => k.StartsWith("optimizers", StringComparison.Ordinal));
        foreach (var (file, bytes) in expected)
            actual[file].AsSpan().SequenceEqual(bytes).Should().BeTrue($"{file} should be byte-identical after resuming");
        // And the next update draws the same batch and noise.
        resumed.TrainStep().Should().Equal(straight.TrainStep());
    }

    [Test]
    public void LoadCheckpoint_WrittenWithOtherOptions_FailsNamingTheOption()
    {
        var folder = NewFolder();
        using (var learner = new CpqLearner(TinyDatasets.Context(), CpqLearnerTests.Tiny()))
            learner.SaveCheckpoint(folder);
        using var other = new CpqLearner(TinyDatasets.Context(), CpqLearnerTests.Tiny() with { Tau = 0.01 });

        other.Invoking(l => l.LoadCheckpoint(folder)).Should().Throw<InvalidDataException>().WithMessage("*CpqOptions.Tau*");
    }

    [Test]
    public void LoadCheckpoint_WithoutItsTensorFile_FailsNamingTheMissingFile()
    {
        var folder = NewFolder();
        using (var learner = new BearLagLearner(TinyDatasets.Context(), new BearLagOptions { ActorHiddenSizes = [16], CriticHiddenSizes = [16], VaeHiddenSize = 16 }))
            learner.SaveCheckpoint(folder);
        File.Delete(Path.Combine(folder, "tensors.bin"));
        using var again = new BearLagLearner(TinyDatasets.Context(), new BearLagOptions { ActorHiddenSizes = [16], CriticHiddenSizes = [16], VaeHiddenSize = 16 });

        again.Invoking(l => l.LoadCheckpoint(folder)).Should().Throw<InvalidDataException>().WithMessage("*tensors.bin*incomplete*");
    }
}

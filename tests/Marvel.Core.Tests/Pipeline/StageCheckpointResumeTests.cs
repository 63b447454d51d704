using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Alignment;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;

namespace Marvel.Core.Tests.Pipeline;

/// <summary>
/// Checkpoints of the offline stage and of the value alignment (issue 22 §3): a run cancelled in either stage and resumed ends with
/// exactly the weights, metrics and results of an uninterrupted run with the same seed, and the resume starts from the checkpoint rather
/// than from the stage's beginning.
/// </summary>
public class StageCheckpointResumeTests
{
    private readonly RunDirectories _directories = new();

    [TearDown]
    public void DeleteRunDirectories() => _directories.DeleteAll();

    private MarvelPipelineOptions Options()
    {
        var dir = _directories.New();
        return new MarvelPipelineOptions
        {
            TaskId = PipelineTestData.Task, CostLimit = 20, Seed = 11, OfflineSteps = 30, OnlineIterations = 2, EvalEvery = 1,
            EvalEpisodes = 2, EnvironmentCount = 2, RunDirectory = dir, CheckpointEvery = 1, OfflineCheckpointEvery = 10, AlignmentCheckpointEvery = 2,
            OfflineReportEvery = 1,
        };
    }

    private MarvelPipelineOptions Another(MarvelPipelineOptions o)
    {
        var b = o with { RunDirectory = PipelineTestData.TempRunDirectory() };
        _directories.Track(b.RunDirectory);
        return b;
    }

    /// <summary>Tiny CPQ → VPA (6 calls of 2 mini-batches, the Plain mode's value ranges included) → SAC-Lag.</summary>
    private static MarvelPipeline Pipeline(MarvelPipelineOptions o, Microsoft.Extensions.Logging.ILogger? logger = null) => new(o,
        context => new CpqLearner(context, PipelineTestData.TinyCpq()),
        new ValuePreAligner(new ValuePreAlignmentOptions
        {
            Steps = 6, BatchSize = 64, MiniBatches = 2, ReportEvery = 1, RewardCriticLearningRate = 1e-3, CostCriticLearningRate = 1e-3,
            Mode = ValuePreAlignmentMode.Plain,
        }),
        new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = 20, Kp = 1e-2, Ki = 1e-2, Kd = 1e-2 }),
        SacLagHandover.Factory(new SacLagOptions
        {
            EpisodesPerIteration = 2, UpdateEveryNSteps = 70, UpdatesPerIteration = 2, BatchSize = 64, MiniBatches = 2, ActorLearningRate = 1e-3,
        })) { Logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance };

    /// <summary>Every file under <paramref name="folder"/> by relative path (manifests hold no clock, so they are compared too).</summary>
    private static Dictionary<string, byte[]> Files(string folder) => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
        .ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    private static void ShouldMatch(MarvelPipelineOptions a, MarvelPipelineOptions b)
    {
        foreach (var folder in new[] { "handover", "aligned", Path.Combine("checkpoints", "iteration-000002", "learner") })
        {
            var expected = Files(Path.Combine(a.RunDirectory, folder));
            var actual = Files(Path.Combine(b.RunDirectory, folder));
            actual.Keys.Should().BeEquivalentTo(expected.Keys, folder);
            foreach (var (file, bytes) in expected)
                actual[file].AsSpan().SequenceEqual(bytes).Should().BeTrue($"{Path.Combine(folder, file)} should be byte-identical after resuming");
        }
        foreach (var file in new[] { Path.Combine("metrics", "online.csv"), Path.Combine("metrics", "eval.csv"), "alignment.json" })
            File.ReadAllText(Path.Combine(b.RunDirectory, file)).Should().Be(File.ReadAllText(Path.Combine(a.RunDirectory, file)), file);
    }

    [Test]
    public async Task ResumeAsync_CancelledDuringOfflineTraining_ContinuesFromTheOfflineCheckpoint_AndEndsBitIdentical()
    {
        var a = Options();
        var resultA = Pipeline(a).Run(PipelineTestData.Dataset);
        var b = Another(a);

        using (var cts = new CancellationTokenSource())
        {
            var cancelAt15 = new SyncProgress(p => { if (p.Stage == MarvelPipelineStages.Offline && p.Step == 15) cts.Cancel(); });
            await FluentActions.Awaiting(() => Pipeline(b).RunAsync(PipelineTestData.Dataset, cancelAt15, cts.Token)).Should().ThrowAsync<OperationCanceledException>();
        }
        var status = RunDirectory.ReadStatus(b.RunDirectory);
        status.Should().Match<RunDirectoryStatus>(s => s.State == RunState.Resumable && s.Stage == MarvelPipelineStages.Offline && !s.HandoverComplete
            && s.OfflineCheckpointStep == 15 && s.LatestCheckpoint == null, "the checkpoint of step 10 is replaced by the one written on cancellation");
        Directory.GetDirectories(Path.Combine(b.RunDirectory, "checkpoints", "offline")).Select(Path.GetFileName).Should().Equal("step-0000000015");

        var offlineSteps = new List<long>();
        var log = new CapturingLoggerProvider();
        var resultB = await Pipeline(b, log.CreateLogger("test")).ResumeAsync(PipelineTestData.Dataset,
            new SyncProgress(p => { if (p.Stage == MarvelPipelineStages.Offline) offlineSteps.Add(p.Step); }));

        offlineSteps.Should().Equal(Enumerable.Range(16, 15).Select(i => (long)i), "training continues after step 15, not from step 1");
        log.Entries.Select(e => e.Message).Should().Contain("Offline stage of CPQ resumes from its checkpoint after 15 gradient steps.");
        ShouldMatch(a, b);
        resultB.CumulativeViolation.Should().Be(resultA.CumulativeViolation);
        resultB.FinalLambda.Should().Be(resultA.FinalLambda);
        resultB.RewardAuc.Should().Be(resultA.RewardAuc);
        Directory.Exists(Path.Combine(b.RunDirectory, "checkpoints", "offline")).Should().BeFalse("handover/ supersedes the offline checkpoints");
        RunDirectory.ReadStatus(b.RunDirectory).State.Should().Be(RunState.Completed);
    }

    [Test]
    public void Resume_CancelledDuringAlignment_ContinuesFromTheAlignmentCheckpoint_AndEndsBitIdentical()
    {
        var a = Options();
        var resultA = Pipeline(a).Run(PipelineTestData.Dataset);
        var b = Another(a);

        using (var cts = new CancellationTokenSource())
        {
            var cancelAt3 = new SyncProgress(p => { if (p.Stage == MarvelPipelineStages.Alignment && p.Step == 3) cts.Cancel(); });
            FluentActions.Invoking(() => Pipeline(b).Run(PipelineTestData.Dataset, cancelAt3, cts.Token)).Should().Throw<OperationCanceledException>();
        }
        RunDirectory.ReadStatus(b.RunDirectory).Should().Match<RunDirectoryStatus>(s => s.State == RunState.Resumable && s.Stage == MarvelPipelineStages.Alignment
            && s.HandoverComplete && !s.AlignmentComplete && s.AlignmentCheckpointStep == 3 && s.OfflineCheckpointStep == null);
        Directory.Exists(Path.Combine(b.RunDirectory, "checkpoints", "offline")).Should().BeFalse();

        var calls = new List<long>();
        var log = new CapturingLoggerProvider();
        var resultB = Pipeline(b, log.CreateLogger("test")).Resume(PipelineTestData.Dataset,
            new SyncProgress(p => { if (p.Stage == MarvelPipelineStages.Alignment || p.Stage == MarvelPipelineStages.Offline) calls.Add(p.Step); }));

        calls.Should().Equal([4L, 5L, 6L], "the offline stage is skipped and the alignment continues after call 3");
        log.Entries.Select(e => e.Message).Should().Contain("Alignment resumes from its checkpoint after 3 calls.")
            .And.ContainMatch("Stage offline skipped: its output '*handover' is on disk.");
        ShouldMatch(a, b);
        resultB.AlignmentSteps.Should().Be(resultA.AlignmentSteps).And.Be(12, "6 calls of 2 mini-batches");
        resultB.FinalLambda.Should().Be(resultA.FinalLambda);
        Directory.Exists(Path.Combine(b.RunDirectory, "checkpoints", "alignment")).Should().BeFalse("aligned/ supersedes the alignment checkpoints");
    }

    [Test]
    public void Run_OfflineCheckpointEvery_KeepsOnlyTheNewestOfflineCheckpointWhileTraining()
    {
        var o = Options() with { OnlineIterations = 1 };
        var seen = new List<string[]>();
        var folder = Path.Combine(o.RunDirectory, "checkpoints", "offline");
        Pipeline(o).Run(PipelineTestData.Dataset, new SyncProgress(p =>
        {
            if (p.Stage == MarvelPipelineStages.Offline && p.Step is 11 or 21)
                seen.Add(Directory.GetDirectories(folder).Select(d => Path.GetFileName(d)!).ToArray());
        }));

        seen.Should().HaveCount(2);
        seen[0].Should().Equal("step-0000000010");
        seen[1].Should().Equal("step-0000000020");
    }

    [Test]
    public void Constructor_NegativeStageCheckpointCadences_FailNamingBoth()
    {
        var o = Options() with { OfflineCheckpointEvery = -1, AlignmentCheckpointEvery = -2 };
        FluentActions.Invoking(() => Pipeline(o)).Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>()
            .WithMessage("*OfflineCheckpointEvery*").WithMessage("*AlignmentCheckpointEvery*");
    }

    [Test]
    public void Run_OfflineCheckpointsOn_WithALearnerThatCannotSaveItsState_FailsNamingTheOption()
    {
        var o = Options();
        var pipeline = new MarvelPipeline(o, context => new NonCheckpointableOfflineLearner(new CpqLearner(context, PipelineTestData.TinyCpq())), new NoAlignment(),
            new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }), (context, _) => new CheckpointableFakeLearner(context));

        pipeline.Invoking(p => p.Run(PipelineTestData.Dataset)).Should().Throw<NotSupportedException>()
            .WithMessage("*OfflineCheckpointEvery*ICheckpointableOfflineLearner*");
    }

    [TestCase(3L, null, null, false, false, "offline", "*online iteration 3*checkpoints/*")]
    [TestCase(null, 4L, null, true, false, "alignment", "*alignment after 4 calls*checkpoints/alignment/*")]
    [TestCase(null, null, 120L, false, false, "offline", "*offline stage after 120 gradient steps*checkpoints/offline/*")]
    [TestCase(null, null, null, true, false, "alignment", "*'alignment' has no checkpoint (handover/ is complete)*runs 'alignment' again from its start*")]
    [TestCase(null, null, null, false, false, null, "*'setup' has no checkpoint (no stage is complete)*")]
    public void DescribeResumePoint_NamesTheStageAndWhatAResumeStartsFrom(long? iteration, long? alignmentCalls, long? offlineSteps, bool handover, bool aligned,
        string? stage, string expected)
    {
        var status = new RunDirectoryStatus("/runs/x", RunState.Resumable, stage, "cancelled", handover, aligned, iteration is null ? null : "/runs/x/checkpoints/iteration-3",
            iteration, null) { AlignmentCheckpointStep = alignmentCalls, OfflineCheckpointStep = offlineSteps };

        MarvelPipeline.DescribeResumePoint(status).Should().Match(expected);
    }

    /// <summary>An offline learner that hides the checkpoint capability of the one it wraps.</summary>
    private sealed class NonCheckpointableOfflineLearner(IOfflineSafeLearner inner) : IOfflineSafeLearner
    {
        public string Algorithm => inner.Algorithm;
        public Marvel.Core.Abstractions.IPolicy Policy => inner.Policy;
        public long Steps => inner.Steps;
        public void Attach(OfflineDataset dataset) => inner.Attach(dataset);
        public IReadOnlyDictionary<string, double> TrainStep() => inner.TrainStep();
        public HandoverArtifact ExportHandover() => inner.ExportHandover();
        public void Dispose() => inner.Dispose();
    }
}

using System.Globalization;
using System.Text.Json;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Alignment;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;

namespace Marvel.Core.Tests.Pipeline;

/// <summary>Checkpoints and resume of <see cref="MarvelPipeline"/> (issue 8 §2): bit-identical continuation, atomic saves, divergence.</summary>
public class MarvelPipelineResumeTests
{
    private readonly RunDirectories _directories = new();

    [TearDown]
    public void DeleteRunDirectories() => _directories.DeleteAll();

    private MarvelPipelineOptions Options(int iterations, int evalEvery, int checkpointEvery)
    {
        var dir = _directories.New();
        return new MarvelPipelineOptions
        {
            TaskId = PipelineTestData.Task, CostLimit = 20, Seed = 11, OfflineSteps = 30, OnlineIterations = iterations, EvalEvery = evalEvery,
            EvalEpisodes = 2, EnvironmentCount = 2, RunDirectory = dir, CheckpointEvery = checkpointEvery,
        };
    }

    /// <summary>Tiny CPQ → VPA → SAC-Lag (tuned α, so the temperature's optimizer is part of the state).</summary>
    private static MarvelPipeline SacLagPipeline(MarvelPipelineOptions o, SacLagSchedule schedule) => new(o,
        context => new CpqLearner(context, PipelineTestData.TinyCpq()),
        new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 2, BatchSize = 64, RewardCriticLearningRate = 1e-3, CostCriticLearningRate = 1e-3 }),
        new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = 20, Kp = 1e-2, Ki = 1e-2, Kd = 1e-2 }),
        SacLagHandover.Factory(new SacLagOptions
        {
            Schedule = schedule, EpisodesPerIteration = 2, UpdateEveryNSteps = 70, UpdatesPerIteration = 2, BatchSize = 64, MiniBatches = 2,
            ActorLearningRate = 1e-3, AutoTuneAlpha = true, Alpha = 0.05,
        }));

    private static SyncProgress CancelAt(CancellationTokenSource cts, long iteration) =>
        new(p => { if (p.Stage == MarvelPipelineStages.Online && p.Step == iteration) cts.Cancel(); });

    /// <summary>Every file of a checkpoint folder, by relative path, as bytes (learner networks, optimizers, generators, replay, environment, controller).</summary>
    private static Dictionary<string, byte[]> CheckpointFiles(string folder) => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
        .Where(f => Path.GetFileName(f) != "state.json" && Path.GetFileName(f) != "manifest.json")
        .ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    [TestCase(SacLagSchedule.EpisodesThenUpdates, 0)]
    [TestCase(SacLagSchedule.StepBased, 0)]
    [TestCase(SacLagSchedule.EpisodesThenUpdates, 2)]
    public void Resume_AfterTwoCancellations_EndsBitIdenticalToAnUninterruptedRun(SacLagSchedule schedule, int alignmentRollouts)
    {
        // Run A: straight through.
        var a = Options(iterations: 6, evalEvery: 2, checkpointEvery: 2) with { AlignmentRolloutEpisodes = alignmentRollouts };
        var resultA = SacLagPipeline(a, schedule).Run(PipelineTestData.Dataset);

        // Run B: cancelled after iteration 3 (between iterations: checkpoint 3 is written on cancellation), resumed by a fresh pipeline and
        // cancelled after iteration 4 (during evaluation 4, so the resumed run must run that evaluation first), then resumed to the end.
        var b = a with { RunDirectory = PipelineTestData.TempRunDirectory() };
        _directories.Track(b.RunDirectory);
        using (var cts = new CancellationTokenSource())
            FluentActions.Invoking(() => SacLagPipeline(b, schedule).Run(PipelineTestData.Dataset, CancelAt(cts, 3), cts.Token))
                .Should().Throw<OperationCanceledException>();
        RunDirectory.ReadStatus(b.RunDirectory).Should().Match<RunDirectoryStatus>(s =>
            s.State == RunState.Resumable && s.LatestCheckpointIteration == 3 && s.AlignmentComplete && s.HandoverComplete);
        using (var cts = new CancellationTokenSource())
            FluentActions.Invoking(() => SacLagPipeline(b, schedule).Resume(PipelineTestData.Dataset, CancelAt(cts, 4), cts.Token))
                .Should().Throw<OperationCanceledException>();
        RunDirectory.ReadStatus(b.RunDirectory).LatestCheckpointIteration.Should().Be(4);
        File.ReadAllLines(Path.Combine(b.RunDirectory, "metrics", "eval.csv")).Should().HaveCount(3, "header, evaluations 0 and 2; evaluation 4 was cancelled");
        var resultB = SacLagPipeline(b, schedule).Resume(PipelineTestData.Dataset);

        foreach (var csv in new[] { "online.csv", "eval.csv" })
            File.ReadAllText(Path.Combine(b.RunDirectory, "metrics", csv)).Should().Be(File.ReadAllText(Path.Combine(a.RunDirectory, "metrics", csv)), csv);
        var finalA = CheckpointFiles(Path.Combine(a.RunDirectory, "checkpoints", "iteration-000006"));
        var finalB = CheckpointFiles(Path.Combine(b.RunDirectory, "checkpoints", "iteration-000006"));
        finalB.Keys.Should().BeEquivalentTo(finalA.Keys);
        finalA.Keys.Should().Contain([Path.Combine("learner", "networks", "actor.bin"), Path.Combine("learner", "optimizers", "alpha.bin"), Path.Combine("learner", "replay.bin"), "environment.bin"]);
        foreach (var (file, bytes) in finalA)
            finalB[file].AsSpan().SequenceEqual(bytes).Should().BeTrue($"{file} should be byte-identical after resuming");
        // The returned policy (best within the limit, chosen from candidates that the resumes pruned and saved again) is the same one.
        resultB.FinalEvaluation.Iteration.Should().Be(resultA.FinalEvaluation.Iteration);
        File.ReadAllBytes(Path.Combine(b.RunDirectory, "final", "networks", "actor.bin"))
            .Should().Equal(File.ReadAllBytes(Path.Combine(a.RunDirectory, "final", "networks", "actor.bin")));
        resultB.FinalEvaluation.Result.MeanReturn.Should().Be(resultA.FinalEvaluation.Result.MeanReturn);
        Directory.Exists(Path.Combine(b.RunDirectory, "returned-candidates")).Should().BeFalse("the candidates are removed when the run completes");
        resultB.CumulativeViolation.Should().Be(resultA.CumulativeViolation);
        resultB.FinalLambda.Should().Be(resultA.FinalLambda);
        resultB.RewardAuc.Should().Be(resultA.RewardAuc);
        resultB.OnlineEnvironmentSteps.Should().Be(resultA.OnlineEnvironmentSteps);
        resultB.AlignmentSteps.Should().Be(resultA.AlignmentSteps);
        resultB.OnlineEpisodes.Should().Be(resultA.OnlineEpisodes);
        if (schedule == SacLagSchedule.EpisodesThenUpdates) // 2 whole episodes per iteration; the step-based schedule ends episodes anywhere
            resultA.OnlineEpisodes.Should().Be(6 * 2 + alignmentRollouts, "the alignment's rollout episodes count once, also after two resumes");
        RunDirectory.ReadStatus(b.RunDirectory).State.Should().Be(RunState.Completed);
    }

    [Test]
    public async Task ResumeAsync_CancelledDuringOfflineTraining_RerunsTheStagesAndMatchesAnUninterruptedRun()
    {
        var a = Options(iterations: 2, evalEvery: 1, checkpointEvery: 1);
        SacLagPipeline(a, SacLagSchedule.EpisodesThenUpdates).Run(PipelineTestData.Dataset);
        var b = a with { RunDirectory = PipelineTestData.TempRunDirectory() };
        _directories.Track(b.RunDirectory);
        using (var cts = new CancellationTokenSource())
        {
            var progress = new SyncProgress(p => { if (p.Stage == MarvelPipelineStages.Offline && p.Step >= 10) cts.Cancel(); });
            await FluentActions.Awaiting(() => SacLagPipeline(b with { OfflineReportEvery = 5 }, SacLagSchedule.EpisodesThenUpdates).RunAsync(PipelineTestData.Dataset, progress, cts.Token))
                .Should().ThrowAsync<OperationCanceledException>();
        }
        RunDirectory.ReadStatus(b.RunDirectory).Should().Match<RunDirectoryStatus>(s => s.State == RunState.Resumable && !s.HandoverComplete && s.LatestCheckpoint == null);

        await SacLagPipeline(b, SacLagSchedule.EpisodesThenUpdates).ResumeAsync(PipelineTestData.Dataset);

        File.ReadAllText(Path.Combine(b.RunDirectory, "metrics", "online.csv")).Should().Be(File.ReadAllText(Path.Combine(a.RunDirectory, "metrics", "online.csv")));
        File.ReadAllText(Path.Combine(b.RunDirectory, "metrics", "eval.csv")).Should().Be(File.ReadAllText(Path.Combine(a.RunDirectory, "metrics", "eval.csv")));
    }

    [Test]
    public void Checkpoint_SaveInterruptedMidWay_KeepsThePreviousCheckpointAndTheRunResumes()
    {
        var o = Options(iterations: 4, evalEvery: 10, checkpointEvery: 1);
        int saves = 0;
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => new CheckpointableFakeLearner(context))
        {
            CheckpointFault = temp =>
            {
                if (++saves == 3) throw new IOException("disk full (simulated) while writing " + temp);
            },
        };

        pipeline.Invoking(p => p.Run(PipelineTestData.Dataset)).Should().Throw<IOException>().WithMessage("*simulated*");

        var checkpoints = Path.Combine(o.RunDirectory, "checkpoints");
        File.ReadAllText(Path.Combine(checkpoints, "latest")).Should().Be("iteration-000002");
        Directory.Exists(Path.Combine(checkpoints, "iteration-000003")).Should().BeFalse("the interrupted save never reaches its final name");
        Directory.GetDirectories(checkpoints).Select(Path.GetFileName).Should().BeEquivalentTo(["iteration-000001", "iteration-000002"],
            "the temporary folder of the interrupted save is removed");
        // A crash (rather than an exception) leaves the temporary folder behind; it must be ignored and cleaned up.
        var leftover = Path.Combine(checkpoints, ".iteration-000003.0123456789abcdef.tmp");
        Directory.CreateDirectory(Path.Combine(leftover, "learner"));
        File.WriteAllText(Path.Combine(leftover, "state.json"), "{ not json");
        var status = RunDirectory.ReadStatus(o.RunDirectory);
        status.State.Should().Be(RunState.Resumable);
        status.LatestCheckpointIteration.Should().Be(2);

        pipeline.CheckpointFault = null;
        var result = pipeline.Resume(PipelineTestData.Dataset);

        result.OnlineIterations.Should().Be(4);
        result.CumulativeViolation.Should().Be(80, "violation 20 per iteration of the fake learner, 4 iterations, none counted twice");
        var online = File.ReadAllLines(Path.Combine(o.RunDirectory, "metrics", "online.csv")).Skip(1)
            .Select(l => long.Parse(l.Split(',')[0], CultureInfo.InvariantCulture));
        online.Should().Equal(1, 2, 3, 4);
        Directory.Exists(leftover).Should().BeFalse();
        RunDirectory.ReadStatus(o.RunDirectory).Should().Match<RunDirectoryStatus>(s => s.State == RunState.Completed && s.LatestCheckpointIteration == 4);
    }

    [Test]
    public void Run_DivergesAtIteration3_StopsNamingStageQuantityAndStep_AndKeepsTheLastGoodCheckpoint()
    {
        var o = Options(iterations: 5, evalEvery: 10, checkpointEvery: 1);
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => new CheckpointableFakeLearner(context) { ExplodeRewardQAtIteration = 3 });

        var thrown = pipeline.Invoking(p => p.Run(PipelineTestData.Dataset)).Should().Throw<TrainingDivergedException>().Which;

        thrown.Stage.Should().Be(MarvelPipelineStages.Online);
        thrown.Message.Should().Contain("reward_q").And.Contain("3").And.Contain("iteration-000002");
        var status = RunDirectory.ReadStatus(o.RunDirectory);
        status.State.Should().Be(RunState.Diverged);
        status.LatestCheckpointIteration.Should().Be(2, "iteration 3 diverged, so no checkpoint holds it");
        status.Message.Should().Contain("reward_q");
        Directory.Exists(Path.Combine(o.RunDirectory, "checkpoints", "iteration-000003")).Should().BeFalse();
        File.Exists(Path.Combine(o.RunDirectory, "checkpoints", "iteration-000002", "state.json")).Should().BeTrue();
    }

    [Test]
    public void KeepCheckpoints_Two_DeletesOlderOnesAfterEachNewOne_AndTheRunStillResumes()
    {
        var o = Options(iterations: 5, evalEvery: 10, checkpointEvery: 1) with { KeepCheckpoints = 2 };
        using (var cts = new CancellationTokenSource())
            FluentActions.Invoking(() => FakePipeline(o).Run(PipelineTestData.Dataset, CancelAt(cts, 4), cts.Token)).Should().Throw<OperationCanceledException>();
        var checkpoints = Path.Combine(o.RunDirectory, "checkpoints");
        Directory.GetDirectories(checkpoints).Select(Path.GetFileName).Should().BeEquivalentTo(["iteration-000003", "iteration-000004"]);

        FakePipeline(o).Resume(PipelineTestData.Dataset).CumulativeViolation.Should().Be(100);
        Directory.GetDirectories(checkpoints).Select(Path.GetFileName).Should().BeEquivalentTo(["iteration-000004", "iteration-000005"]);
    }

    [Test]
    public void Constructor_NegativeKeepCheckpoints_FailsNamingIt()
    {
        var o = Options(iterations: 1, evalEvery: 1, checkpointEvery: 1) with { KeepCheckpoints = -1 };
        FluentActions.Invoking(() => FakePipeline(o)).Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage("*KeepCheckpoints*");
    }

    [Test]
    public void ReadStatus_OfAMissingFolder_IsEmpty_AndResumeThereExplainsWhy()
    {
        var o = Options(iterations: 2, evalEvery: 10, checkpointEvery: 1);
        RunDirectory.ReadStatus(o.RunDirectory).State.Should().Be(RunState.Empty);
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => new CheckpointableFakeLearner(context));

        pipeline.Invoking(p => p.Resume(PipelineTestData.Dataset)).Should().Throw<InvalidOperationException>().WithMessage("*nothing to resume*options.json*");
        pipeline.Run(PipelineTestData.Dataset);
        pipeline.Invoking(p => p.Resume(PipelineTestData.Dataset)).Should().Throw<InvalidOperationException>().WithMessage("*already completed*");
    }

    [TestCase(nameof(MarvelPipelineOptions.Seed))]
    [TestCase(nameof(MarvelPipelineOptions.EvalEpisodes))]
    [TestCase(nameof(MarvelPipelineOptions.CostLimit))]
    public void Resume_WithOtherOptions_FailsNamingTheField(string field)
    {
        var o = Options(iterations: 4, evalEvery: 10, checkpointEvery: 1);
        using (var cts = new CancellationTokenSource())
            FluentActions.Invoking(() => FakePipeline(o).Run(PipelineTestData.Dataset, CancelAt(cts, 2), cts.Token)).Should().Throw<OperationCanceledException>();
        var changed = field switch
        {
            nameof(MarvelPipelineOptions.Seed) => o with { Seed = 12 },
            nameof(MarvelPipelineOptions.EvalEpisodes) => o with { EvalEpisodes = 3 },
            _ => o with { CostLimit = 25 },
        };

        FluentActions.Invoking(() => FakePipeline(changed).Resume(PipelineTestData.Dataset))
            .Should().Throw<InvalidOperationException>().WithMessage($"*MarvelPipelineOptions.{field}*");
    }

    [Test]
    public void Resume_AfterACrashBetweenTheReturnedPolicyAndResultJson_ReturnsTheSamePolicy()
    {
        // Regression: the candidates were deleted before result.json was written, so a resume after a crash in between could not find
        // the chosen policy. They now go only once the run is complete.
        var a = Options(iterations: 2, evalEvery: 1, checkpointEvery: 1);
        var resultA = SacLagPipeline(a, SacLagSchedule.EpisodesThenUpdates).Run(PipelineTestData.Dataset);
        var b = a with { RunDirectory = PipelineTestData.TempRunDirectory() };
        _directories.Track(b.RunDirectory);
        var crashing = SacLagPipeline(b, SacLagSchedule.EpisodesThenUpdates);
        crashing.ResultFault = () => throw new IOException("simulated crash before result.json");
        FluentActions.Invoking(() => crashing.Run(PipelineTestData.Dataset)).Should().Throw<IOException>();
        File.Exists(Path.Combine(b.RunDirectory, "result.json")).Should().BeFalse();

        var resultB = SacLagPipeline(b, SacLagSchedule.EpisodesThenUpdates).Resume(PipelineTestData.Dataset);

        resultB.FinalEvaluation.Iteration.Should().Be(resultA.FinalEvaluation.Iteration);
        resultB.FinalEvaluation.Result.MeanReturn.Should().Be(resultA.FinalEvaluation.Result.MeanReturn);
        Directory.Exists(Path.Combine(b.RunDirectory, "returned-candidates")).Should().BeFalse();
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Resume_RecordsEveryProcessRuntime_AndWarnsWhenTheKernelCapabilityDiffers(bool otherCapability)
    {
        var o = Options(iterations: 3, evalEvery: 10, checkpointEvery: 1);
        using (var cts = new CancellationTokenSource())
            FluentActions.Invoking(() => FakePipeline(o).Run(PipelineTestData.Dataset, CancelAt(cts, 2), cts.Token)).Should().Throw<OperationCanceledException>();
        var runtimePath = Path.Combine(o.RunDirectory, "runtime.json");
        var first = JsonSerializer.Deserialize<List<Dictionary<string, string>>>(File.ReadAllText(runtimePath))!;
        first.Should().ContainSingle().Which.Should().ContainKeys("cpuKernelCapability", "mklCbwr", "torchThreads", "libtorch", "marvelCore");
        if (otherCapability)
        {
            // As if the first part had run on another CPU kind.
            first[0]["cpuKernelCapability"] = "avx2-elsewhere";
            File.WriteAllText(runtimePath, JsonSerializer.Serialize(first));
        }

        FakePipeline(o).Resume(PipelineTestData.Dataset);

        JsonSerializer.Deserialize<List<Dictionary<string, string>>>(File.ReadAllText(runtimePath))!.Should().HaveCount(2);
        using var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(o.RunDirectory, "result.json")));
        if (otherCapability)
            result.RootElement.GetProperty("runtime_warning").GetString().Should().Contain("cpuKernelCapability avx2-elsewhere →").And.Contain("not bit-identical");
        else
            result.RootElement.TryGetProperty("runtime_warning", out _).Should().BeFalse("both parts ran under the same runtime");
    }

    [Test]
    public void Resume_WithAnotherDataset_FailsNamingTheDataset_AndWithMoreIterations_ExtendsTheRun()
    {
        var o = Options(iterations: 3, evalEvery: 10, checkpointEvery: 1);
        using (var cts = new CancellationTokenSource())
            FluentActions.Invoking(() => FakePipeline(o).Run(PipelineTestData.Dataset, CancelAt(cts, 2), cts.Token)).Should().Throw<OperationCanceledException>();
        int kept = 0;
        var other = PipelineTestData.Dataset.SelectEpisodes(_ => kept++ < 2);

        FluentActions.Invoking(() => FakePipeline(o).Resume(other)).Should().Throw<InvalidOperationException>().WithMessage("*dataset*fingerprint*");
        var result = FakePipeline(o with { OnlineIterations = 5 }).Resume(PipelineTestData.Dataset);
        result.OnlineIterations.Should().Be(5);
        result.CumulativeViolation.Should().Be(100);
    }

    private static MarvelPipeline FakePipeline(MarvelPipelineOptions o) =>
        new(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = o.CostLimit }),
            (context, _) => new CheckpointableFakeLearner(context));
}

/// <summary>The fake online learner of the pipeline tests with a checkpoint: its iteration counter.</summary>
internal sealed class CheckpointableFakeLearner(LearnerContext context) : ICheckpointableOnlineLearner
{
    private readonly FakeOnlineLearnerCore _core = new();

    public int ExplodeRewardQAtIteration { get => _core.ExplodeRewardQAtIteration; init => _core.ExplodeRewardQAtIteration = value; }
    public string Algorithm => "FakeCheckpointable";
    public IPolicy Policy { get; } = new ConstantPolicy(context.ObservationSpace.Dimension, context.ActionSpace.Dimension);
    public void InitializeFrom(HandoverArtifact artifact, HandoverLoadOptions? options = null) { }
    public OnlineIterationResult RunIteration(IVectorEnvironment environment, ILagrangeController controller, CancellationToken cancellationToken = default) =>
        _core.RunIteration(controller);
    public HandoverArtifact ExportHandover() => PipelineTestData.Artifact();
    public void SaveCheckpoint(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "iterations.txt"), _core.Iterations.ToString(CultureInfo.InvariantCulture));
    }
    public void LoadCheckpoint(string directory) =>
        _core.Iterations = long.Parse(File.ReadAllText(Path.Combine(directory, "iterations.txt")), CultureInfo.InvariantCulture);
    public void Dispose() { }

    private sealed class FakeOnlineLearnerCore
    {
        public long Iterations { get; set; }
        public int ExplodeRewardQAtIteration { get; set; } = -1;

        public OnlineIterationResult RunIteration(ILagrangeController controller)
        {
            long it = ++Iterations;
            var update = controller.Update(25);
            var metrics = new Dictionary<string, double> { ["reward_q"] = it == ExplodeRewardQAtIteration ? 1e9 : 1.0, ["cost_q"] = 0.5 };
            return new OnlineIterationResult(it - 1, it * 400, [new EpisodeSummary(5, 40, 200), new EpisodeSummary(7, 10, 200)], update.Lambda, metrics);
        }
    }
}

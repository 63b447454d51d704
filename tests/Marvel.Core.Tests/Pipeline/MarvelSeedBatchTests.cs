using System.Globalization;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Alignment;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;

namespace Marvel.Core.Tests.Pipeline;

/// <summary>
/// Several seeds' pipelines in one process with their SAC-Lag online stages in lockstep (<see cref="MarvelSeedBatch"/>, issue 21 item 5):
/// every run folder as its single run writes it — bit for bit with the seed batch's sequential products, within float32 rounding with its
/// batched products — and cancellation, resume, seeds resumed at different iterations and a seed that diverges inside a batched iteration.
/// </summary>
public class MarvelSeedBatchTests
{
    /// <summary>Batched products sum in another order than one seed's, and training carries the rounding on. Over these short runs (4
    /// iterations of 6 updates per seed) every learner and controller number of online.csv (losses, Q, α, entropy, λ) stays within this
    /// share of its scale (max(|single|, 1e-3)) of the single run's (worst seen 1.2e-5, a reward-critic loss).</summary>
    internal const double Tolerance = 1e-4;

    /// <summary>Episode outcomes (training episodes' return and cost, every evaluation number): an action that differs in the last bits can
    /// change an episode's path, so these are held to 1e-3 of their scale (worst seen 2.6e-4, one training episode's return; evaluations
    /// 3.8e-5).</summary>
    internal const double EpisodeTolerance = 1e-3;

    private static readonly ulong[] Seeds = [11, 12, 13];
    private readonly RunDirectories _directories = new();

    [TearDown]
    public void DeleteRunDirectories() => _directories.DeleteAll();

    private MarvelPipelineOptions Options(ulong seed, int iterations = 4, int checkpointEvery = 2) => new()
    {
        TaskId = PipelineTestData.Task, CostLimit = 20, Seed = seed, OfflineSteps = 20, OnlineIterations = iterations, EvalEvery = 2,
        EvalEpisodes = 2, EnvironmentCount = 2, RunDirectory = _directories.New(), CheckpointEvery = checkpointEvery,
    };

    /// <summary>Tiny CPQ → VPA → SAC-Lag (tuned α), as the resume tests build it.</summary>
    private static MarvelPipeline Pipeline(MarvelPipelineOptions o, ILagrangeController? controller = null) => new(o,
        context => new CpqLearner(context, PipelineTestData.TinyCpq()),
        new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 2, BatchSize = 64, RewardCriticLearningRate = 1e-3, CostCriticLearningRate = 1e-3 }),
        controller ?? Controller(),
        SacLagHandover.Factory(new SacLagOptions
        {
            EpisodesPerIteration = 2, UpdatesPerIteration = 3, BatchSize = 64, MiniBatches = 2, ActorLearningRate = 1e-3, AutoTuneAlpha = true, Alpha = 0.05,
        }));

    private static AdaptivePidLagrangeController Controller() => new(new AdaptivePidLagrangeOptions { CostLimit = 20, Kp = 1e-2, Ki = 1e-2, Kd = 1e-2 });

    private static MarvelSeedBatchMember Member(MarvelPipelineOptions o, ILagrangeController? controller = null, bool resume = false,
        IProgress<TrainingProgress>? progress = null) =>
        new(Pipeline(o, controller), PipelineTestData.Dataset) { Resume = resume, Progress = progress };

    /// <summary>Each seed's single run, the reference.</summary>
    private MarvelPipelineOptions[] SingleRuns(int iterations = 4)
    {
        var options = Seeds.Select(s => Options(s, iterations)).ToArray();
        foreach (var o in options) Pipeline(o).Run(PipelineTestData.Dataset);
        return options;
    }

    private static string Metrics(MarvelPipelineOptions o, string csv) => File.ReadAllText(Path.Combine(o.RunDirectory, "metrics", csv));

    private static byte[] FinalActor(MarvelPipelineOptions o) => File.ReadAllBytes(Path.Combine(o.RunDirectory, "final", "networks", "actor.bin"));

    /// <summary>The files a run writes that do not hold times: both metrics CSVs and the returned actor.</summary>
    private static void ShouldBeBitIdentical(MarvelPipelineOptions actual, MarvelPipelineOptions expected, string what)
    {
        foreach (var csv in new[] { "online.csv", "eval.csv" }) Metrics(actual, csv).Should().Be(Metrics(expected, csv), $"{what}: {csv}");
        FinalActor(actual).Should().Equal(FinalActor(expected), $"{what}: final/ actor");
        RunDirectory.ReadStatus(actual.RunDirectory).State.Should().Be(RunState.Completed, what);
    }

    /// <summary>Per column, the largest |batched − single| / max(|single|, 1e-3) over the rows of two CSVs (same rows and columns required;
    /// NaN only where NaN), merged into <paramref name="worst"/>.</summary>
    internal static void CollectRelativeDifferences(string actualCsv, string expectedCsv, string what, Dictionary<string, double> worst)
    {
        var a = actualCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var e = expectedCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        a.Length.Should().Be(e.Length, $"{what}: rows");
        a[0].Should().Be(e[0], $"{what}: columns");
        var columns = e[0].Split(',');
        for (int row = 1; row < e.Length; row++)
        {
            var x = a[row].Split(',');
            var y = e[row].Split(',');
            x.Length.Should().Be(y.Length, $"{what}: row {row}");
            for (int c = 0; c < y.Length; c++)
            {
                if (!double.TryParse(y[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var expected)) { x[c].Should().Be(y[c]); continue; }
                double actual = double.Parse(x[c], NumberStyles.Float, CultureInfo.InvariantCulture);
                if (double.IsNaN(expected)) { double.IsNaN(actual).Should().BeTrue($"{what}: row {row} column {columns[c]}"); continue; }
                double d = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-3);
                worst[columns[c]] = Math.Max(worst.GetValueOrDefault(columns[c]), d);
            }
        }
    }

    /// <summary>The columns that are outcomes of episodes (an action that differs in the last bits can change an episode's path, most where
    /// the task's dynamics or cost are discontinuous); every other column is a learner or controller number of the updates themselves.</summary>
    internal static bool IsEpisodeOutcome(string file, string column) =>
        file == "eval.csv" || column is "mean_episode_return" or "mean_episode_cost" or "cumulative_violation";

    [Test]
    public void Batch_WithSequentialProducts_WritesEveryRunBitIdenticalToItsSingleRun()
    {
        var single = SingleRuns();
        var batched = Seeds.Select(s => Options(s)).ToArray();
        var outcomes = MarvelSeedBatch.Run(batched.Select(o => Member(o)).ToArray(), SacLagSeedBatch.Products.Sequential, CancellationToken.None);

        outcomes.Should().OnlyContain(o => o.Result != null && o.Error == null && o.RanAlone == null);
        for (int k = 0; k < Seeds.Length; k++) ShouldBeBitIdentical(batched[k], single[k], $"seed {Seeds[k]}");
        Metrics(batched[0], "online.csv").Should().NotBe(Metrics(batched[1], "online.csv"), "the seeds are different runs");
    }

    [Test]
    public void Batch_WithBatchedProducts_AgreesWithEverySingleRun_WithinTolerance()
    {
        var single = SingleRuns();
        var batched = Seeds.Select(s => Options(s)).ToArray();
        var outcomes = MarvelSeedBatch.Run(batched.Select(o => Member(o)).ToArray());

        outcomes.Should().OnlyContain(o => o.Result != null && o.RanAlone == null);
        var worst = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int k = 0; k < Seeds.Length; k++)
            foreach (var csv in new[] { "online.csv", "eval.csv" })
            {
                var columns = new Dictionary<string, double>(StringComparer.Ordinal);
                CollectRelativeDifferences(Metrics(batched[k], csv), Metrics(single[k], csv), $"seed {Seeds[k]} {csv}", columns);
                foreach (var (column, d) in columns) worst[$"{csv}:{column}"] = Math.Max(worst.GetValueOrDefault($"{csv}:{column}"), d);
            }
        foreach (var (column, d) in worst.OrderByDescending(x => x.Value)) TestContext.Out.WriteLine($"{column}: {d:E2}");
        foreach (var (key, d) in worst)
        {
            var (file, column) = (key[..key.IndexOf(':', StringComparison.Ordinal)], key[(key.IndexOf(':', StringComparison.Ordinal) + 1)..]);
            d.Should().BeLessThanOrEqualTo(IsEpisodeOutcome(file, column) ? EpisodeTolerance : Tolerance, key);
        }
        // Stages before the online one are each seed's own, bit for bit.
        for (int k = 0; k < Seeds.Length; k++)
            File.ReadAllBytes(Path.Combine(batched[k].RunDirectory, "aligned", "networks", "actor.bin"))
                .Should().Equal(File.ReadAllBytes(Path.Combine(single[k].RunDirectory, "aligned", "networks", "actor.bin")));
    }

    [Test]
    public void Batch_CancelledAfterACheckpoint_ResumesAsABatch_BitIdenticalToAnUninterruptedBatch()
    {
        var uninterrupted = Seeds.Select(s => Options(s, iterations: 5)).ToArray();
        MarvelSeedBatch.Run(uninterrupted.Select(o => Member(o)).ToArray());

        var interrupted = Seeds.Select(s => Options(s, iterations: 5)).ToArray();
        using (var cts = new CancellationTokenSource())
        {
            // Cancelled when the last seed reports iteration 3: every seed's resume point is written at iteration 3 (the checkpoints are at 2).
            var cancel = new SyncProgress(p => { if (p.Stage == MarvelPipelineStages.Online && p.Step == 3) cts.Cancel(); });
            var members = interrupted.Select((o, k) => Member(o, progress: k == Seeds.Length - 1 ? cancel : null)).ToArray();
            FluentActions.Invoking(() => MarvelSeedBatch.Run(members, cts.Token)).Should().Throw<OperationCanceledException>();
        }
        foreach (var o in interrupted)
            RunDirectory.ReadStatus(o.RunDirectory).Should().Match<RunDirectoryStatus>(s =>
                s.State == RunState.Resumable && s.StatusText == "cancelled" && s.LatestCheckpointIteration == 3);

        var outcomes = MarvelSeedBatch.Run(interrupted.Select(o => Member(o, resume: true)).ToArray());
        outcomes.Should().OnlyContain(o => o.Result != null && o.RanAlone == null);
        for (int k = 0; k < Seeds.Length; k++) ShouldBeBitIdentical(interrupted[k], uninterrupted[k], $"seed {Seeds[k]}");
    }

    [Test]
    public void Batch_ResumingSeedsAtDifferentIterations_CatchesUpAlone_ThenRunsTogether_MatchingTheSingleRuns()
    {
        var single = SingleRuns(iterations: 5);
        var resumed = Seeds.Select(s => Options(s, iterations: 5)).ToArray();
        // Seeds 11 and 13 stopped alone after iteration 4, seed 12 after iteration 1 (each writes its resume point where it stopped).
        for (int k = 0; k < Seeds.Length; k++)
        {
            using var cts = new CancellationTokenSource();
            long stop = k == 1 ? 1 : 4;
            var cancel = new SyncProgress(p => { if (p.Stage == MarvelPipelineStages.Online && p.Step == stop) cts.Cancel(); });
            FluentActions.Invoking(() => Pipeline(resumed[k] with { CheckpointEvery = 4 }).Run(PipelineTestData.Dataset, cancel, cts.Token))
                .Should().Throw<OperationCanceledException>();
        }
        var outcomes = MarvelSeedBatch.Run(resumed.Select(o => Member(o with { CheckpointEvery = 4 }, resume: true)).ToArray(),
            SacLagSeedBatch.Products.Sequential, CancellationToken.None);

        outcomes[1].RanAlone.Should().Contain("caught up");
        outcomes[0].RanAlone.Should().BeNull();
        for (int k = 0; k < Seeds.Length; k++) ShouldBeBitIdentical(resumed[k], single[k], $"seed {Seeds[k]}");
    }

    [Test]
    public void Batch_WhenOneSeedDivergesInsideABatchedIteration_MarksItDiverged_AndTheOthersResumeAndMatchTheirSingleRuns()
    {
        var single = SingleRuns();
        var batched = Seeds.Select(s => Options(s)).ToArray();
        // Seed 12's controller answers λ = double.MaxValue from its third update on: its actor loss is infinite in online iteration 3, after
        // the checkpoint of iteration 2.
        var members = batched.Select((o, k) => Member(o, k == 1 ? new ExplodingController(Controller(), fromUpdate: 3) : null)).ToArray();
        var outcomes = MarvelSeedBatch.Run(members, SacLagSeedBatch.Products.Sequential, CancellationToken.None);

        outcomes[1].Error.Should().BeOfType<TrainingDivergedException>().Which.Stage.Should().Be(MarvelPipelineStages.Online);
        RunDirectory.ReadStatus(batched[1].RunDirectory).State.Should().Be(RunState.Diverged);
        foreach (var k in new[] { 0, 2 })
        {
            outcomes[k].Result.Should().NotBeNull();
            ShouldBeBitIdentical(batched[k], single[k], $"seed {Seeds[k]}, resumed from its checkpoint of iteration 2 in a batch of two");
        }
    }

    [Test]
    public void Batch_OfLearnersThatAreNotSacLag_RunsEachOnlineStageAlone_AndSaysWhy()
    {
        var options = Seeds.Take(2).Select(s => Options(s, iterations: 2, checkpointEvery: 0)).ToArray();
        var members = options.Select(o => new MarvelSeedBatchMember(new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), Controller(),
            (context, _) => new FakeOnlineLearner(context)), PipelineTestData.Dataset)).ToArray();
        var outcomes = MarvelSeedBatch.Run(members);
        outcomes.Should().OnlyContain(o => o.Result != null && o.RanAlone!.Contains("only SacLagLearner seeds run as a batch"));
        foreach (var o in options) File.ReadAllLines(Path.Combine(o.RunDirectory, "metrics", "online.csv")).Should().HaveCount(3);
    }

    [Test]
    public void Batch_OfSacLagLearnersWithFusedOptions_RunsEachOnlineStageAlone_AndSaysWhy()
    {
        var options = Seeds.Take(2).Select(s => Options(s, iterations: 2, checkpointEvery: 0)).ToArray();
        var members = options.Select(o => new MarvelSeedBatchMember(new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), Controller(),
            SacLagHandover.Factory(new SacLagOptions
            {
                EpisodesPerIteration = 2, UpdatesPerIteration = 2, BatchSize = 64, MiniBatches = 2, FusedCriticEnsembles = true,
            })),
            PipelineTestData.Dataset)).ToArray();
        var outcomes = MarvelSeedBatch.Run(members);
        outcomes.Should().OnlyContain(o => o.Result != null && o.Error == null && o.RanAlone!.Contains("FusedCriticEnsembles"));
        foreach (var o in options) File.ReadAllLines(Path.Combine(o.RunDirectory, "metrics", "online.csv")).Should().HaveCount(3);
    }

    [Test]
    public void Batch_RefusesMembersThatDifferInMoreThanTheSeed_OrShareAController()
    {
        var a = Options(11);
        FluentActions.Invoking(() => MarvelSeedBatch.Run([Member(a), Member(Options(12) with { OnlineIterations = 7 })]))
            .Should().Throw<ArgumentException>().WithMessage("*MarvelPipelineOptions.OnlineIterations is 4 in member 0 and 7 in member 1*");
        var shared = Controller();
        FluentActions.Invoking(() => MarvelSeedBatch.Run([Member(a, shared), Member(Options(12), shared)]))
            .Should().Throw<ArgumentException>().WithMessage("*its own Lagrange controller*");
        FluentActions.Invoking(() => MarvelSeedBatch.Run([Member(a), Member(a with { Seed = 12 })]))
            .Should().Throw<ArgumentException>().WithMessage("*its own run directory*");
        Directory.Exists(a.RunDirectory).Should().BeFalse("nothing runs when the batch is refused");
    }

    /// <summary>A controller that answers as <paramref name="inner"/> until its <paramref name="fromUpdate"/>-th update, then λ = double.MaxValue
    /// (finite, so it reaches the learner, and infinite in float32).</summary>
    private sealed class ExplodingController(ILagrangeController inner, int fromUpdate) : ILagrangeController
    {
        private int _updates;

        public double Lambda => _updates >= fromUpdate ? double.MaxValue : inner.Lambda;
        public double CostLimit => inner.CostLimit;

        public LagrangeUpdate Update(double meanEpisodeCost)
        {
            var update = inner.Update(meanEpisodeCost);
            return ++_updates >= fromUpdate ? update with { Lambda = double.MaxValue } : update;
        }

        public LagrangeControllerState GetState() => inner.GetState();
        public void SetState(LagrangeControllerState state) => inner.SetState(state);
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Marvel.Cli.Commands;
using Marvel.Cli.Running;
using Marvel.Cli.Sweeps;

namespace Marvel.Cli.Tests;

/// <summary>
/// <c>marvel sweep --batch-seeds</c>: which runs share a seed batch (pure grouping rules), and tiny real sweeps run with and without
/// batching, interrupted and resumed, in this process and in a worker.
/// </summary>
[TestFixture]
public sealed class SeedBatchPlanTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private IReadOnlyList<SweepRun> Runs(string matrix)
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N")[..8] + ".json");
        File.WriteAllText(path, $$"""{ "name": "plan", "output": "out", "matrix": {{matrix}} }""");
        return SweepSpec.Load(path).Expand();
    }

    private static string SacLag(SweepRun run) => "SAC-Lag";

    private static string[][] Names(SeedBatchPlan plan) => plan.Batches.Select(b => b.Select(r => r.Name).ToArray()).ToArray();

    [Test]
    public void RunsThatDifferOnlyInSeed_ShareABatch_OneBatchPerValueOfEveryOtherAxis()
    {
        var runs = Runs("""
            { "task": ["BallCircle", "CarRun"], "costLimit": [20, 40], "Marvel:SacLag:BatchSize": [64, 128], "seed": [0, 1, 2] }
            """);
        var plan = SeedBatchPlan.Make(runs, SacLag);
        plan.Alone.Should().BeEmpty();
        plan.Batches.Should().HaveCount(2 * 2 * 2).And.OnlyContain(b => b.Count == 3);
        Names(plan)[0].Should().Equal("BallCircle_cost20_BatchSize64_seed0", "BallCircle_cost20_BatchSize64_seed1", "BallCircle_cost20_BatchSize64_seed2");
        Names(plan)[1].Should().Equal("BallCircle_cost20_BatchSize128_seed0", "BallCircle_cost20_BatchSize128_seed1", "BallCircle_cost20_BatchSize128_seed2");
        foreach (var batch in plan.Batches)
        {
            // Within a batch the configurations differ only in the seed and the run folder.
            var keys = batch.SelectMany(r => r.Configuration.Keys).Distinct(StringComparer.OrdinalIgnoreCase)
                .Where(k => batch.Select(r => r.Configuration.GetValueOrDefault(k)).Distinct().Count() > 1);
            keys.Should().BeEquivalentTo(["Marvel:Pipeline:Seed", "Marvel:Pipeline:RunDirectory"]);
        }
    }

    [Test]
    public void RunsThatDifferInAnythingButTheSeed_DoNotShareABatch()
    {
        // The two algorithm variants differ only in a key that is not the seed: two batches, never one of six.
        var runs = Runs("""
            { "task": ["BallCircle"], "algorithm": { "Marvel": { "Run": { "Aligner": "VPA" } }, "NoVPA": { "Run": { "Aligner": "None" } } }, "seed": [0, 1, 2] }
            """);
        var plan = SeedBatchPlan.Make(runs, SacLag);
        Names(plan).Should().HaveCount(2);
        Names(plan)[0].Should().OnlyContain(n => n.Contains("_Marvel_", StringComparison.Ordinal));
        Names(plan)[1].Should().OnlyContain(n => n.Contains("_NoVPA_", StringComparison.Ordinal));
    }

    [Test]
    public void RunsWithAnotherOnlineLearner_OrWithoutASecondSeed_OrWithoutASeedAxis_RunAlone_WithTheirReason()
    {
        var runs = Runs("""
            { "algorithm": { "Marvel": { "Run": { "Aligner": "VPA" } }, "PPO": { "Run": { "Online": "PPO-Lag" } } }, "seed": [0, 1] }
            """);
        var plan = SeedBatchPlan.Make(runs, r => r.Name.StartsWith("PPO", StringComparison.Ordinal) ? "PPO-Lag" : "SAC-Lag");
        Names(plan).Should().BeEquivalentTo(new[] { new[] { "Marvel_seed0", "Marvel_seed1" } });
        plan.Alone.Select(a => (a.Run.Name, a.Reason)).Should().Equal(
            ("PPO_seed0", "its online learner is 'PPO-Lag'; only SAC-Lag online stages run as a seed batch"),
            ("PPO_seed1", "its online learner is 'PPO-Lag'; only SAC-Lag online stages run as a seed batch"));

        var oneSeed = SeedBatchPlan.Make(Runs("""{ "costLimit": [20, 40], "seed": [3] }"""), SacLag);
        oneSeed.Batches.Should().BeEmpty();
        oneSeed.Alone.Should().OnlyContain(a => a.Reason == "no other run differs from it only in seed").And.HaveCount(2);

        var noSeedAxis = SeedBatchPlan.Make(Runs("""{ "costLimit": [20, 40] }"""), SacLag);
        noSeedAxis.Batches.Should().BeEmpty();
        noSeedAxis.Alone.Should().OnlyContain(a => a.Reason == "the sweep has no seed axis");
    }

    [Test]
    public void Units_TakeEachBatchsPendingRunsTogether_AndALoneLeftoverAlone()
    {
        var runs = Runs("""{ "costLimit": [20, 40], "seed": [0, 1, 2] }""");
        var plan = SeedBatchPlan.Make(runs, SacLag);
        // Of cost 20 two seeds are pending, of cost 40 only seed 2.
        var units = SweepCommand.Units([runs[1], runs[2], runs[5]], plan);
        units.Select(u => u.Select(r => r.Name).ToArray()).Should().BeEquivalentTo(
            new[] { new[] { "cost20_seed1", "cost20_seed2" }, new[] { "cost40_seed2" } }, o => o.WithStrictOrdering());
        SweepCommand.BatchName(units[0]).Should().Be("cost20_seed{1,2}");
        SweepCommand.Units([runs[1], runs[2]], null).Should().HaveCount(2, "without --batch-seeds every run is its own unit");
    }
}

/// <summary>Tiny real sweeps with <c>--batch-seeds</c> (BallCircle, 3 seeds, a few seconds per run).</summary>
[TestFixture]
[NonParallelizable]
public sealed class SweepSeedBatchTests
{
    /// <summary>Learner and controller numbers of online.csv (losses, Q, α, entropy, λ): within this share of their scale (max(|x|, 1e-3)) of
    /// the unbatched run's. Batched products sum in another order, and training carries the rounding on.</summary>
    private const double Tolerance = 1e-4;

    /// <summary>Episode outcomes (training episodes' return and cost, every evaluation number): an action that differs in the last bits can
    /// change an episode's path.</summary>
    private const double EpisodeTolerance = 1e-3;

    private static readonly int[] Seeds = [0, 1, 2];
    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    /// <summary>The tiny sweep in its own folder (its output is <c>folder/runs</c>).</summary>
    private string Sweep(string name, string algorithms = "\"Marvel\": { \"Run\": { \"Aligner\": \"VPA\" } }")
    {
        var folder = Path.Combine(_folder, name);
        Directory.CreateDirectory(folder);
        return CliHarness.WriteTinySweep(folder, name, Seeds, algorithms);
    }

    private static string Run(string sweep, int seed) => Path.Combine(Path.GetDirectoryName(sweep)!, "runs", $"BallCircle_Marvel_seed{seed}");

    private static string Csv(string run, string name) => File.ReadAllText(Path.Combine(run, "metrics", name));

    /// <summary>Every file a run folder holds, relative, except the TensorBoard event file (its name holds a time and the host).</summary>
    private static string[] Files(string run) => Directory.EnumerateFiles(run, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(run, f)).Where(f => !f.StartsWith("tensorboard", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Per column of two CSVs with the same rows and columns, the largest |a − b| / max(|b|, 1e-3), merged into <paramref name="worst"/>.</summary>
    private static void Collect(string actualCsv, string expectedCsv, string file, Dictionary<string, double> worst)
    {
        var a = actualCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var e = expectedCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        a.Length.Should().Be(e.Length, $"{file}: rows");
        a[0].Should().Be(e[0], $"{file}: columns");
        var columns = e[0].Split(',');
        for (int row = 1; row < e.Length; row++)
        {
            var x = a[row].Split(',');
            var y = e[row].Split(',');
            for (int c = 0; c < y.Length; c++)
            {
                if (!double.TryParse(y[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var expected)) continue;
                double actual = double.Parse(x[c], NumberStyles.Float, CultureInfo.InvariantCulture);
                if (double.IsNaN(expected)) { double.IsNaN(actual).Should().BeTrue($"{file} row {row} {columns[c]}"); continue; }
                var key = file + ":" + columns[c];
                worst[key] = Math.Max(worst.GetValueOrDefault(key), Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-3));
            }
        }
    }

    [Test]
    public void BatchedSweep_WritesEveryRunFolderAsTheUnbatchedSweep_WithEachSeedsNumbersWithinTolerance()
    {
        var single = Sweep("single");
        var batched = Sweep("batched");
        CliHarness.Run("sweep", "--config", single, "--in-process", "--quiet").ExitCode.Should().Be(0);
        var outcome = CliHarness.Run("sweep", "--config", batched, "--in-process", "--quiet", "--batch-seeds");
        outcome.ExitCode.Should().Be(0, outcome.All);
        outcome.Out.Should().Contain("Seed batch BallCircle_Marvel_seed{0,1,2}: 3 runs in one process.");

        var worst = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var seed in Seeds)
        {
            string a = Run(batched, seed), b = Run(single, seed);
            RunResumer.ReadState(a).Should().Be(RunFolderState.Complete);
            Files(a).Should().Equal(Files(b), "a batched run writes the files a single run writes, where it writes them");
            foreach (var csv in new[] { "online.csv", "eval.csv" }) Collect(Csv(a, csv), Csv(b, csv), csv, worst);
            // The stages before the online one are each seed's own, bit for bit.
            File.ReadAllBytes(Path.Combine(a, "aligned", "networks", "actor.bin")).Should().Equal(File.ReadAllBytes(Path.Combine(b, "aligned", "networks", "actor.bin")));
            JsonNode.Parse(File.ReadAllText(Path.Combine(a, "run.json")))!["seed_batch"]!.AsArray().Select(n => n!.GetValue<string>())
                .Should().Equal(Seeds.Select(s => $"BallCircle_Marvel_seed{s}"));
        }
        foreach (var (column, d) in worst.OrderByDescending(x => x.Value).Take(8)) TestContext.Out.WriteLine($"{column}: {d:E2}");
        foreach (var (key, d) in worst)
        {
            bool episode = key.StartsWith("eval.csv", StringComparison.Ordinal) || key.EndsWith(":mean_episode_return", StringComparison.Ordinal)
                           || key.EndsWith(":mean_episode_cost", StringComparison.Ordinal) || key.EndsWith(":cumulative_violation", StringComparison.Ordinal);
            d.Should().BeLessThanOrEqualTo(episode ? EpisodeTolerance : Tolerance, key);
        }
        worst.Values.Should().Contain(d => d > 0, "batched products are not bit-identical; a test that sees no difference compares the wrong folders");
    }

    [Test]
    public async Task BatchedSweep_CancelledAfterTheFirstCheckpoint_ResumesToTheOutputOfAnUninterruptedBatchedSweep()
    {
        string[] sets = ["--set", "Marvel:Pipeline:OnlineIterations=4", "--set", "Marvel:Pipeline:CheckpointEvery=1"];
        var uninterrupted = Sweep("uninterrupted");
        CliHarness.Run(["sweep", "--config", uninterrupted, "--in-process", "--quiet", "--batch-seeds", .. sets]).ExitCode.Should().Be(0);

        var interrupted = Sweep("interrupted");
        using var cts = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!Seeds.All(s => File.Exists(Path.Combine(Run(interrupted, s), "checkpoints", "latest")))) await Task.Delay(5);
            await cts.CancelAsync();
        });
        var first = await CliHarness.RunAsync(cts.Token, ["sweep", "--config", interrupted, "--in-process", "--quiet", "--batch-seeds", .. sets]);
        await watcher;
        first.ExitCode.Should().Be(1, first.All);
        first.Error.Should().Contain("cancelled during BallCircle_Marvel_seed{0,1,2}");
        var stopped = Seeds.Select(s => Core.Pipeline.RunDirectory.ReadStatus(Run(interrupted, s))).ToArray();
        stopped.Should().OnlyContain(s => s.StatusText == "cancelled" && s.LatestCheckpointIteration >= 1 && s.LatestCheckpointIteration < 4);
        stopped.Select(s => s.LatestCheckpointIteration).Distinct().Should().ContainSingle("every seed of the batch stops at the same iteration");
        var handedOver = Seeds.Select(s => File.GetLastWriteTimeUtc(Path.Combine(Run(interrupted, s), "handover", "manifest.json"))).ToArray();

        var second = CliHarness.Run(["sweep", "--config", interrupted, "--in-process", "--quiet", "--batch-seeds", .. sets]);
        second.ExitCode.Should().Be(0, second.All);
        second.Out.Should().Contain("3 runs, 0 complete (skipped), 3 to run");
        Seeds.Select(s => File.GetLastWriteTimeUtc(Path.Combine(Run(interrupted, s), "handover", "manifest.json"))).Should()
            .Equal(handedOver, "the runs resumed from their checkpoints; none started over");
        foreach (var seed in Seeds)
        {
            string a = Run(interrupted, seed), b = Run(uninterrupted, seed);
            foreach (var csv in new[] { "online.csv", "eval.csv" }) Csv(a, csv).Should().Be(Csv(b, csv), $"seed {seed} {csv}");
            File.ReadAllBytes(Path.Combine(a, "final", "networks", "actor.bin")).Should().Equal(File.ReadAllBytes(Path.Combine(b, "final", "networks", "actor.bin")));
            JsonNode.Parse(File.ReadAllText(Path.Combine(a, "run.json")))!["attempts"]!.GetValue<int>().Should().Be(2);
        }
        var third = CliHarness.Run(["sweep", "--config", interrupted, "--in-process", "--quiet", "--batch-seeds", .. sets]);
        third.Out.Should().Contain("3 runs, 3 complete (skipped), 0 to run");
    }

    [Test]
    public void BatchedSweep_WithWorkers_RunsTheBatchInOneWorker_LoggedInEveryRunsFolder()
    {
        var sweep = Sweep("workers");
        var outcome = CliHarness.Run("sweep", "--config", sweep, "--workers", "2", "--batch-seeds");
        outcome.ExitCode.Should().Be(0, outcome.All);
        outcome.Out.Should().Contain("3 to run with 1 worker process(es)");
        foreach (var seed in Seeds)
        {
            RunResumer.ReadState(Run(sweep, seed)).Should().Be(RunFolderState.Complete);
            var log = File.ReadAllText(Path.Combine(Run(sweep, seed), "worker.log"));
            log.Should().Contain("3 runs as one seed batch in this process");
            log.Should().Contain($"BallCircle_Marvel_seed{seed}: completed");
        }
    }

    [Test]
    public void BatchSeeds_WhereNoRunCanShareABatch_OrWithSlurm_IsABadUsage_ThatSaysWhy()
    {
        var sweep = Sweep("ppo");
        var ppo = CliHarness.Run("sweep", "--config", sweep, "--in-process", "--batch-seeds", "--set", "Run:Online=PPO-Lag");
        ppo.ExitCode.Should().Be(2, ppo.All);
        ppo.Error.Should().Contain("--batch-seeds: no two runs of sweep 'ppo' can share a seed batch: 3 run(s): its online learner is 'PPO-Lag'");
        Directory.Exists(Path.Combine(_folder, "ppo", "runs", "BallCircle_Marvel_seed0")).Should().BeFalse("nothing ran");

        var slurm = CliHarness.Run("sweep", "--config", sweep, "--emit", "slurm", "--batch-seeds");
        slurm.ExitCode.Should().Be(2);
        slurm.Error.Should().Contain("--batch-seeds does not apply to --emit slurm");
    }

    [Test]
    public void BatchSeeds_DryRun_NamesEachRunsBatch_OrWhyItRunsAlone()
    {
        var sweep = Sweep("mixed", "\"Marvel\": { \"Run\": { \"Aligner\": \"VPA\" } }, \"PPO\": { \"Run\": { \"Online\": \"PPO-Lag\" } }");
        var dry = CliHarness.Run("sweep", "--config", sweep, "--dry-run", "--batch-seeds");
        dry.ExitCode.Should().Be(0, dry.All);
        var lines = dry.Out.Split('\n');
        lines.Where(l => l.Contains("BallCircle_Marvel_seed", StringComparison.Ordinal)).Should().HaveCount(3).And.OnlyContain(l => l.Contains("1 (3 runs)", StringComparison.Ordinal));
        lines.Where(l => l.Contains("BallCircle_PPO_seed", StringComparison.Ordinal)).Should().HaveCount(3)
            .And.OnlyContain(l => l.Contains("alone: its online learner is 'PPO-Lag'", StringComparison.Ordinal));
    }
}

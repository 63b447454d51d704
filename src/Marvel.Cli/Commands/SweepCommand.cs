using System.CommandLine;
using System.Diagnostics;
using Marvel.Cli.Configuration;
using Marvel.Cli.Running;
using Marvel.Cli.Sweeps;
using Spectre.Console;

namespace Marvel.Cli.Commands;

/// <summary><c>sweep</c>: expand a matrix into runs and run them with worker processes, in this process, one by index, or emit Slurm.</summary>
internal static class SweepCommand
{
    public static Command Create(CliContext context)
    {
        var config = new Option<string>("--config") { Description = "Sweep file: base configuration, matrix, optional slurm settings (docs/cli.md).", Required = true, HelpName = "sweep.json" };
        var set = CommandKit.SetOption();
        var workers = new Option<int>("--workers", "-j") { Description = "Parallel worker processes, each single-threaded.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var inProcess = new Option<bool>("--in-process") { Description = "Run the runs one after another in this process instead of worker processes." };
        var runIndex = new Option<int?>("--run-index") { Description = "Run only run i of the matrix (what a worker and a Slurm array task run); with --batch-seeds, run i and the runs that differ from it only in seed, as one seed batch.", HelpName = "i" };
        var emit = new Option<string?>("--emit") { Description = "Write a cluster script instead of running: 'slurm' (a job array, one task per run, and manifest.json).", HelpName = "slurm" };
        emit.AcceptOnlyFromAmong("slurm");
        var dryRun = new Option<bool>("--dry-run") { Description = "List the runs and their state without running anything." };
        var retries = new Option<int>("--retries")
        {
            Description = "Restart a worker that crashed (an exit code other than 0-4, e.g. 134 for an abort or 70 for an internal error) up to this many " +
                          "times; each restart resumes the run from its checkpoints. A failed (1), misconfigured (2), I/O (3) or device (4) failure is not retried.",
            DefaultValueFactory = _ => 2,
        };
        var batchSeeds = new Option<bool>("--batch-seeds")
        {
            Description = "Run the runs that differ only in seed (and whose online learner is SAC-Lag) as one seed batch: their offline and alignment " +
                          "stages one after another, their online stages in lockstep with one batched gradient step for all seeds, in one process " +
                          "(one worker or this process). Each run's folder is written as without it; its numbers agree with a separate run's to float32 " +
                          "rounding, not bit for bit (docs/cli.md). Every other run runs as without it, with a line saying why.",
        };
        var quiet = CommandKit.QuietOption();
        var command = CommandKit.Make("sweep",
            "Expand a matrix (tasks × algorithms × cost limits × any option × seeds) into runs with deterministic folders <output>/<task>_<algorithm>_cost<c>_..._seed<s>, " +
            "then run them: complete runs are skipped, interrupted ones are resumed from their checkpoints in their folder. " +
            "Exit 1 when a run failed or the sweep was cancelled; run the same command again to finish it.",
            "marvel sweep --config experiments/cli-smoke.json --workers 2",
            "marvel sweep --config experiments/paper-comparison.json --emit slurm");
        foreach (var o in new Option[] { config, set, workers, inProcess, runIndex, emit, dryRun, retries, batchSeeds, quiet }) command.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            var spec = SweepSpec.Load(parse.GetValue(config)!);
            var sets = parse.GetValue(set) ?? [];
            CliConfiguration.ParseSets(sets);
            var runs = spec.Expand();
            bool batch = parse.GetValue(batchSeeds);
            if (parse.GetValue(runIndex) is { } index)
            {
                if (index < 0 || index >= runs.Count) throw new UsageException($"--run-index {index} is outside the matrix: it has {runs.Count} runs (0..{runs.Count - 1}).");
                if (!batch) return await RunOne(context, runs[index], spec, sets, parse.GetValue(quiet), ct).ConfigureAwait(false);
                // A worker of a batched sweep: run i and the runs that differ from it only in seed, as its parent grouped them.
                var unit = WorkerUnit(SeedBatchPlan.Make(SeedBatchPlan.SameButSeed(runs, runs[index]), r => OnlineLearner(r, sets)), runs[index]);
                if (unit.Count < 2) return await RunOne(context, runs[index], spec, sets, parse.GetValue(quiet), ct).ConfigureAwait(false);
                var failures = await RunBatch(context, unit, spec, sets, parse.GetValue(quiet), ct).ConfigureAwait(false);
                return failures.Count == 0 ? ExitCodes.Success : ExitCodes.RunFailed;
            }
            if (batch && parse.GetValue(emit) == "slurm")
                throw new UsageException("--batch-seeds does not apply to --emit slurm: each array task runs one run. Leave out --batch-seeds, or run the sweep " +
                                         "with --batch-seeds on a node (docs/cluster.md).");
            // Check every run's configuration before anything starts, so a bad value fails the sweep at once with exit 2.
            var online = new Dictionary<int, string>();
            foreach (var run in runs)
            {
                using var loaded = CliConfiguration.Load(null, sets, run.Configuration);
                online[run.Index] = loaded.Run.Online;
            }
            SeedBatchPlan? plan = null;
            if (batch)
            {
                plan = SeedBatchPlan.Make(runs, r => online[r.Index]);
                if (plan.Batches.Count == 0)
                    throw new UsageException($"--batch-seeds: no two runs of sweep '{spec.Name}' can share a seed batch: " +
                                             string.Join("; ", plan.Alone.GroupBy(a => a.Reason).Select(g => $"{g.Count()} run(s): {g.Key}")) +
                                             $". A batch takes runs that differ only in the seed axis and whose online learner (Run:Online) is " +
                                             $"{SeedBatchPlan.BatchableOnlineLearner}. Leave out --batch-seeds to run them one by one.");
            }
            var manifest = SlurmEmitter.WriteManifest(spec, runs);
            if (parse.GetValue(emit) == "slurm")
            {
                var script = SlurmEmitter.Write(spec, runs, sets);
                context.Out.WriteLine($"Wrote {script} ({runs.Count} array tasks) and {manifest}.");
                context.Out.WriteLine($"Submit: sbatch {SlurmEmitter.Quote(script)}   then: marvel report {SlurmEmitter.Quote(spec.Output)}");
                return ExitCodes.Success;
            }
            if (parse.GetValue(dryRun))
            {
                var table = new Table().AddColumns("index", "run", "state");
                if (plan is not null) table.AddColumn("seed batch");
                foreach (var r in runs)
                {
                    var cells = new List<string> { r.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Name, RunResumer.ReadState(r.Directory).ToString() };
                    if (plan is not null) cells.Add(DescribeBatch(plan, r));
                    CommandKit.Row(table, cells.ToArray());
                }
                CommandKit.Console(context.Out, context.Interactive).Write(table);
                return ExitCodes.Success;
            }
            int n = parse.GetValue(workers);
            if (n < 1) throw new UsageException($"--workers must be >= 1, got {n}.");
            int retryCount = parse.GetValue(retries);
            if (retryCount < 0) throw new UsageException($"--retries must be >= 0, got {retryCount}.");
            return await RunAll(context, spec, runs, plan, sets, n, parse.GetValue(inProcess), parse.GetValue(quiet), retryCount, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunOne(CliContext context, SweepRun run, SweepSpec spec, IReadOnlyList<string> sets, bool quiet, CancellationToken ct)
    {
        using var config = CliConfiguration.Load(null, sets, run.Configuration);
        var outcome = await TrainingCommands.WithProgress(context, quiet, p =>
            PipelineRunner.RunAsync(config, new RunRequest(run.Directory, Identity: Identity(spec, run, null)), context.Out, p, ct)).ConfigureAwait(false);
        if (outcome.Result is { } r) context.Out.WriteLine(Completed(run, r));
        return ExitCodes.Success;
    }

    /// <summary>
    /// Runs <paramref name="unit"/> (runs that differ only in seed) as one seed batch in this process; returns the names of the runs that
    /// failed (each named on standard error with its reason).
    /// </summary>
    private static async Task<List<string>> RunBatch(CliContext context, IReadOnlyList<SweepRun> unit, SweepSpec spec, IReadOnlyList<string> sets, bool quiet,
        CancellationToken ct)
    {
        var configs = new List<CliConfiguration>();
        try
        {
            foreach (var run in unit) configs.Add(CliConfiguration.Load(null, sets, run.Configuration));
            var names = unit.Select(r => r.Name).ToArray();
            var requests = unit.Select((run, k) => (configs[k], new RunRequest(run.Directory, Identity: Identity(spec, run, names)))).ToArray();
            context.Out.WriteLine($"{BatchName(unit)}: {unit.Count} runs as one seed batch in this process.");
            var outcomes = await TrainingCommands.WithProgress(context, quiet, p => PipelineRunner.RunBatchAsync(requests, context.Out, p, ct)).ConfigureAwait(false);
            var failed = new List<string>();
            for (int k = 0; k < unit.Count; k++)
            {
                if (outcomes[k].Failure is { } failure)
                {
                    context.Error.WriteLine($"{unit[k].Name}: failed: {failure.Message}");
                    failed.Add(unit[k].Name);
                }
                else if (outcomes[k].Outcome?.Result is { } r) context.Out.WriteLine(Completed(unit[k], r));
            }
            return failed;
        }
        finally
        {
            foreach (var c in configs) c.Dispose();
        }
    }

    private static string Completed(SweepRun run, Core.Pipeline.MarvelRunResult r) =>
        $"{run.Name}: completed; final normalized reward {CommandKit.Number(r.FinalNormalizedReward, "F3")}, cost {CommandKit.Number(r.FinalNormalizedCost, "F2")}.";

    /// <summary>The sweep's fields of a run's <c>run.json</c>; a batched run also names the runs of its seed batch.</summary>
    private static Dictionary<string, object?> Identity(SweepSpec spec, SweepRun run, IReadOnlyList<string>? batch)
    {
        var identity = new Dictionary<string, object?>
        {
            ["sweep"] = spec.Name,
            ["sweep_file"] = spec.SourcePath,
            ["index"] = run.Index,
            ["name"] = run.Name,
            ["axes"] = run.Axes,
        };
        if (batch is not null) identity["seed_batch"] = batch;
        return identity;
    }

    /// <summary>A run's resolved <c>Run:Online</c>.</summary>
    private static string OnlineLearner(SweepRun run, IReadOnlyList<string> sets)
    {
        using var config = CliConfiguration.Load(null, sets, run.Configuration);
        return config.Run.Online;
    }

    /// <summary>What a worker started with <c>--run-index i --batch-seeds</c> runs: run i's seed batch without its complete runs (as its parent
    /// grouped them), or run i alone.</summary>
    private static IReadOnlyList<SweepRun> WorkerUnit(SeedBatchPlan plan, SweepRun run)
    {
        var batch = plan.Batches.FirstOrDefault(b => b.Contains(run));
        return batch is null ? [run] : batch.Where(r => r == run || RunResumer.ReadState(r.Directory) != RunFolderState.Complete).ToArray();
    }

    /// <summary>The units of work: each seed batch's pending runs (one unit; a single pending run runs alone) and every other pending run.</summary>
    internal static List<IReadOnlyList<SweepRun>> Units(IReadOnlyList<SweepRun> pending, SeedBatchPlan? plan)
    {
        if (plan is null) return pending.Select(r => (IReadOnlyList<SweepRun>)[r]).ToList();
        var units = new List<IReadOnlyList<SweepRun>>();
        var batched = new HashSet<SweepRun>();
        foreach (var batch in plan.Batches)
        {
            batched.UnionWith(batch);
            var left = batch.Where(pending.Contains).ToArray();
            if (left.Length > 0) units.Add(left);
        }
        units.AddRange(pending.Where(r => !batched.Contains(r)).Select(r => (IReadOnlyList<SweepRun>)[r]));
        return units.OrderBy(u => u[0].Index).ToList();
    }

    /// <summary>"BallCircle_Marvel_cost20_seed{0,1,2}" for a seed batch, the run's name for a single run.</summary>
    internal static string BatchName(IReadOnlyList<SweepRun> unit)
    {
        if (unit.Count == 1) return unit[0].Name;
        var name = unit[0].Name;
        int at = name.LastIndexOf("seed", StringComparison.Ordinal);
        string prefix = at >= 0 ? name[..at] : name + "_";
        return prefix + "seed{" + string.Join(",", unit.Select(r => r.Axes.GetValueOrDefault(SweepSpec.SeedAxis, r.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)))) + "}";
    }

    /// <summary>The dry run's "seed batch" cell of a run.</summary>
    private static string DescribeBatch(SeedBatchPlan plan, SweepRun run)
    {
        int b = plan.Batches.ToList().FindIndex(x => x.Contains(run));
        if (b >= 0) return $"{b + 1} ({plan.Batches[b].Count} runs)";
        return "alone: " + plan.Alone.First(a => a.Run == run).Reason;
    }

    /// <summary>One line per seed batch to run and per pending run that runs alone, with its reason.</summary>
    private static void DescribePlan(CliContext context, SeedBatchPlan plan, IReadOnlyList<IReadOnlyList<SweepRun>> units)
    {
        foreach (var unit in units)
        {
            var run = unit[0];
            if (unit.Count > 1) context.Out.WriteLine($"Seed batch {BatchName(unit)}: {unit.Count} runs in one process.");
            else if (plan.Alone.FirstOrDefault(a => a.Run == run) is { } alone) context.Out.WriteLine($"{run.Name}: runs alone: {alone.Reason}.");
            else context.Out.WriteLine($"{run.Name}: runs alone: the other runs of its seed batch are complete.");
        }
    }

    private static async Task<int> RunAll(CliContext context, SweepSpec spec, IReadOnlyList<SweepRun> runs, SeedBatchPlan? plan, IReadOnlyList<string> sets,
        int workers, bool inProcess, bool quiet, int retries, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var pending = new List<SweepRun>();
        int skipped = 0;
        foreach (var run in runs)
        {
            if (RunResumer.ReadState(run.Directory) == RunFolderState.Complete) skipped++;
            else pending.Add(run);
        }
        var units = Units(pending, plan);
        context.Out.WriteLine($"Sweep '{spec.Name}': {runs.Count} runs, {skipped} complete (skipped), {pending.Count} to run " +
                              (inProcess ? "in this process." : $"with {Math.Min(workers, Math.Max(1, units.Count))} worker process(es).") + $" Output: {spec.Output}");
        if (plan is not null) DescribePlan(context, plan, units);
        var failed = new List<string>();
        var sync = new object();
        if (inProcess)
        {
            foreach (var unit in units)
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    if (unit.Count == 1) await RunOne(context, unit[0], spec, sets, quiet, ct).ConfigureAwait(false);
                    else failed.AddRange(await RunBatch(context, unit, spec, sets, quiet, ct).ConfigureAwait(false));
                }
                catch (RunFailedException e) when (!ct.IsCancellationRequested)
                {
                    context.Error.WriteLine($"{BatchName(unit)}: failed: {e.Message}");
                    failed.AddRange(unit.Select(r => r.Name));
                }
                catch (RunFailedException e)
                {
                    throw new RunFailedException($"sweep '{spec.Name}' cancelled during {BatchName(unit)}; run the same command again to finish it.", e);
                }
            }
        }
        else
        {
            using var gate = new SemaphoreSlim(workers);
            var tasks = units.Select(async unit =>
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    string name = BatchName(unit);
                    int code = await RunWorker(context, spec, unit, sets, ct).ConfigureAwait(false);
                    for (int attempt = 1; IsCrash(code) && attempt <= retries; attempt++)
                    {
                        lock (sync)
                            context.Error.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] {name}: worker crashed with exit code {code}; resuming it from its " +
                                                    $"checkpoints (retry {attempt} of {retries}); see {Path.Combine(unit[0].Directory, "worker.log")}.");
                        AppendLog(unit, $"--- worker exited with code {code}; retry {attempt} of {retries} resumes the run ---");
                        code = await RunWorker(context, spec, unit, sets, ct).ConfigureAwait(false);
                    }
                    lock (sync)
                    {
                        foreach (var run in unit)
                        {
                            // A seed batch's worker fails when one of its runs failed; the others completed.
                            bool completed = code == ExitCodes.Success || (unit.Count > 1 && RunResumer.ReadState(run.Directory) == RunFolderState.Complete);
                            if (completed) context.Out.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] {run.Name}: completed.");
                            else
                            {
                                failed.Add(run.Name);
                                context.Error.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] {run.Name}: failed with exit code {code}; see {Path.Combine(run.Directory, "worker.log")}.");
                            }
                        }
                    }
                }
                finally
                {
                    gate.Release();
                }
            }).ToArray();
            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            catch (OperationCanceledException e)
            {
                throw new RunFailedException($"sweep '{spec.Name}' cancelled; the runs that did not finish restart when the same command runs again.", e);
            }
        }
        context.Out.WriteLine($"Sweep '{spec.Name}': {runs.Count - failed.Count} of {runs.Count} runs complete ({skipped} skipped, {pending.Count - failed.Count} run now, {failed.Count} failed) in {clock.Elapsed.TotalSeconds:F0} s.");
        if (failed.Count > 0)
        {
            context.Error.WriteLine($"failed runs: {string.Join(", ", failed)}");
            return ExitCodes.RunFailed;
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// A worker that ended other than by completing (0), failing or being cancelled (1) or rejecting its configuration (2): an
    /// abort (134, e.g. the native crash in docs/known-issues.md), a signal, an out-of-memory kill. Its run folder is resumable.
    /// </summary>
    internal static bool IsCrash(int exitCode) => !ExitCodes.IsFinal(exitCode);

    private static void AppendLog(IReadOnlyList<SweepRun> unit, string line)
    {
        foreach (var run in unit)
        {
            using var log = new StreamWriter(Path.Combine(run.Directory, "worker.log"), append: true);
            log.WriteLine(line);
        }
    }

    /// <summary>
    /// Runs <c>marvel sweep --config f --run-index i --quiet</c> in a child process (with <c>--batch-seeds</c> for a seed batch, i its first
    /// run), its output appended to the worker.log of each run of <paramref name="unit"/>.
    /// </summary>
    private static async Task<int> RunWorker(CliContext context, SweepSpec spec, IReadOnlyList<SweepRun> unit, IReadOnlyList<string> sets, CancellationToken ct)
    {
        foreach (var run in unit) Directory.CreateDirectory(run.Directory);
        var info = new ProcessStartInfo(context.WorkerCommand[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in context.WorkerCommand.Skip(1)) info.ArgumentList.Add(a);
        foreach (var a in new[] { "sweep", "--config", spec.SourcePath, "--run-index", unit[0].Index.ToString(System.Globalization.CultureInfo.InvariantCulture), "--quiet" })
            info.ArgumentList.Add(a);
        if (unit.Count > 1) info.ArgumentList.Add("--batch-seeds");
        foreach (var s in sets)
        {
            info.ArgumentList.Add("--set");
            info.ArgumentList.Add(s);
        }
        info.Environment["OMP_NUM_THREADS"] = "1";
        var logs = unit.Select(run => new StreamWriter(Path.Combine(run.Directory, "worker.log"), append: true) { AutoFlush = true }).ToArray();
        using var closeLogs = new Disposables(logs);
        using var process = new Process { StartInfo = info };
        var gate = new object();
        void Write(string? line)
        {
            if (line is null) return;
            lock (gate)
                foreach (var log in logs) log.WriteLine(line);
        }
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ask the worker to cancel like Ctrl+C does (SIGTERM: it writes its metrics and a checkpoint), then kill it if it
            // has not stopped within 30 s. Either way it leaves an incomplete run folder, which the next invocation completes.
            if (!OperatingSystem.IsWindows() && !process.HasExited) _ = NativeSignals.Kill(process.Id, NativeSignals.SigTerm);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            throw;
        }
        process.WaitForExit(); // drains the redirected streams
        return process.ExitCode;
    }
}

/// <summary>Disposes several objects together (the worker logs of a seed batch).</summary>
internal sealed class Disposables(IEnumerable<IDisposable> items) : IDisposable
{
    public void Dispose()
    {
        foreach (var item in items) item.Dispose();
    }
}

/// <summary>POSIX kill(2), to send SIGTERM to a worker process (.NET's Process.Kill sends SIGKILL).</summary>
internal static partial class NativeSignals
{
    public const int SigTerm = 15;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}

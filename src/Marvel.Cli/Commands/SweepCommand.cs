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
        var runIndex = new Option<int?>("--run-index") { Description = "Run only run i of the matrix (what a worker and a Slurm array task run).", HelpName = "i" };
        var emit = new Option<string?>("--emit") { Description = "Write a cluster script instead of running: 'slurm' (a job array, one task per run, and manifest.json).", HelpName = "slurm" };
        emit.AcceptOnlyFromAmong("slurm");
        var dryRun = new Option<bool>("--dry-run") { Description = "List the runs and their state without running anything." };
        var retries = new Option<int>("--retries")
        {
            Description = "Restart a worker that crashed (an exit code other than 0-4, e.g. 134 for an abort or 70 for an internal error) up to this many " +
                          "times; each restart resumes the run from its checkpoints. A failed (1), misconfigured (2), I/O (3) or device (4) failure is not retried.",
            DefaultValueFactory = _ => 2,
        };
        var quiet = CommandKit.QuietOption();
        var command = CommandKit.Make("sweep",
            "Expand a matrix (tasks × algorithms × cost limits × any option × seeds) into runs with deterministic folders <output>/<task>_<algorithm>_cost<c>_..._seed<s>, " +
            "then run them: complete runs are skipped, interrupted ones are resumed from their checkpoints in their folder. " +
            "Exit 1 when a run failed or the sweep was cancelled; run the same command again to finish it.",
            "marvel sweep --config experiments/cli-smoke.json --workers 2",
            "marvel sweep --config experiments/paper-comparison.json --emit slurm");
        foreach (var o in new Option[] { config, set, workers, inProcess, runIndex, emit, dryRun, retries, quiet }) command.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            var spec = SweepSpec.Load(parse.GetValue(config)!);
            var sets = parse.GetValue(set) ?? [];
            CliConfiguration.ParseSets(sets);
            var runs = spec.Expand();
            if (parse.GetValue(runIndex) is { } index)
            {
                if (index < 0 || index >= runs.Count) throw new UsageException($"--run-index {index} is outside the matrix: it has {runs.Count} runs (0..{runs.Count - 1}).");
                return await RunOne(context, runs[index], spec, sets, parse.GetValue(quiet), ct).ConfigureAwait(false);
            }
            // Check every run's configuration before anything starts, so a bad value fails the sweep at once with exit 2.
            foreach (var run in runs) CliConfiguration.Load(null, sets, run.Configuration).Dispose();
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
                foreach (var r in runs) CommandKit.Row(table, r.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), (r.Name), RunResumer.ReadState(r.Directory).ToString());
                CommandKit.Console(context.Out, context.Interactive).Write(table);
                return ExitCodes.Success;
            }
            int n = parse.GetValue(workers);
            if (n < 1) throw new UsageException($"--workers must be >= 1, got {n}.");
            int retryCount = parse.GetValue(retries);
            if (retryCount < 0) throw new UsageException($"--retries must be >= 0, got {retryCount}.");
            return await RunAll(context, spec, runs, sets, n, parse.GetValue(inProcess), parse.GetValue(quiet), retryCount, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunOne(CliContext context, SweepRun run, SweepSpec spec, IReadOnlyList<string> sets, bool quiet, CancellationToken ct)
    {
        using var config = CliConfiguration.Load(null, sets, run.Configuration);
        var identity = new Dictionary<string, object?>
        {
            ["sweep"] = spec.Name,
            ["sweep_file"] = spec.SourcePath,
            ["index"] = run.Index,
            ["name"] = run.Name,
            ["axes"] = run.Axes,
        };
        var outcome = await TrainingCommands.WithProgress(context, quiet, p =>
            PipelineRunner.RunAsync(config, new RunRequest(run.Directory, Identity: identity), context.Out, p, ct)).ConfigureAwait(false);
        if (outcome.Result is { } r)
            context.Out.WriteLine($"{run.Name}: completed; final normalized reward {CommandKit.Number(r.FinalNormalizedReward, "F3")}, cost {CommandKit.Number(r.FinalNormalizedCost, "F2")}.");
        return ExitCodes.Success;
    }

    private static async Task<int> RunAll(CliContext context, SweepSpec spec, IReadOnlyList<SweepRun> runs, IReadOnlyList<string> sets, int workers,
        bool inProcess, bool quiet, int retries, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var pending = new List<SweepRun>();
        int skipped = 0;
        foreach (var run in runs)
        {
            if (RunResumer.ReadState(run.Directory) == RunFolderState.Complete) skipped++;
            else pending.Add(run);
        }
        context.Out.WriteLine($"Sweep '{spec.Name}': {runs.Count} runs, {skipped} complete (skipped), {pending.Count} to run " +
                              (inProcess ? "in this process." : $"with {Math.Min(workers, Math.Max(1, pending.Count))} worker process(es).") + $" Output: {spec.Output}");
        var failed = new List<string>();
        var sync = new object();
        if (inProcess)
        {
            foreach (var run in pending)
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    await RunOne(context, run, spec, sets, quiet, ct).ConfigureAwait(false);
                }
                catch (RunFailedException e) when (!ct.IsCancellationRequested)
                {
                    context.Error.WriteLine($"{run.Name}: failed: {e.Message}");
                    failed.Add(run.Name);
                }
                catch (RunFailedException e)
                {
                    throw new RunFailedException($"sweep '{spec.Name}' cancelled during {run.Name}; run the same command again to finish it.", e);
                }
            }
        }
        else
        {
            using var gate = new SemaphoreSlim(workers);
            var tasks = pending.Select(async run =>
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    int code = await RunWorker(context, spec, run, sets, ct).ConfigureAwait(false);
                    for (int attempt = 1; IsCrash(code) && attempt <= retries; attempt++)
                    {
                        lock (sync)
                            context.Error.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] {run.Name}: worker crashed with exit code {code}; resuming it from its " +
                                                    $"checkpoints (retry {attempt} of {retries}); see {Path.Combine(run.Directory, "worker.log")}.");
                        AppendLog(run, $"--- worker exited with code {code}; retry {attempt} of {retries} resumes the run ---");
                        code = await RunWorker(context, spec, run, sets, ct).ConfigureAwait(false);
                    }
                    lock (sync)
                    {
                        if (code == ExitCodes.Success) context.Out.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] {run.Name}: completed.");
                        else
                        {
                            failed.Add(run.Name);
                            context.Error.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] {run.Name}: failed with exit code {code}; see {Path.Combine(run.Directory, "worker.log")}.");
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

    private static void AppendLog(SweepRun run, string line)
    {
        using var log = new StreamWriter(Path.Combine(run.Directory, "worker.log"), append: true);
        log.WriteLine(line);
    }

    /// <summary>Runs <c>marvel sweep --config f --run-index i --quiet</c> in a child process, its output appended to the run's worker.log.</summary>
    private static async Task<int> RunWorker(CliContext context, SweepSpec spec, SweepRun run, IReadOnlyList<string> sets, CancellationToken ct)
    {
        Directory.CreateDirectory(run.Directory);
        var info = new ProcessStartInfo(context.WorkerCommand[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in context.WorkerCommand.Skip(1)) info.ArgumentList.Add(a);
        foreach (var a in new[] { "sweep", "--config", spec.SourcePath, "--run-index", run.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), "--quiet" })
            info.ArgumentList.Add(a);
        foreach (var s in sets)
        {
            info.ArgumentList.Add("--set");
            info.ArgumentList.Add(s);
        }
        info.Environment["OMP_NUM_THREADS"] = "1";
        using var log = new StreamWriter(Path.Combine(run.Directory, "worker.log"), append: true) { AutoFlush = true };
        using var process = new Process { StartInfo = info };
        var gate = new object();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (gate) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (gate) log.WriteLine(e.Data); };
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

/// <summary>POSIX kill(2), to send SIGTERM to a worker process (.NET's Process.Kill sends SIGKILL).</summary>
internal static partial class NativeSignals
{
    public const int SigTerm = 15;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}

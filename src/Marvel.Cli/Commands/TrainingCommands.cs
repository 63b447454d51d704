using System.Collections.Concurrent;
using System.CommandLine;
using System.Globalization;
using Marvel.Cli.Configuration;
using Marvel.Cli.Running;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Environments;
using Marvel.Core.Pipeline;
using Spectre.Console;

namespace Marvel.Cli.Commands;

/// <summary><c>train-offline</c>, <c>align</c>, <c>finetune</c>, <c>run</c> and <c>evaluate</c>.</summary>
internal static class TrainingCommands
{
    private const string ConfigNote = "Components come from Run:Offline/Aligner/Controller/Online, settings from Marvel:<Options> (docs/cli.md).";

    public static Command Run(CliContext context)
    {
        var (config, set, quiet) = (CommandKit.ConfigOption(), CommandKit.SetOption(), CommandKit.QuietOption());
        var runDir = new Option<string?>("--run-dir") { Description = "Run folder (default Marvel:Pipeline:RunDirectory).", HelpName = "folder" };
        var force = new Option<bool>("--force") { Description = "Start over even when the folder holds a complete, diverged or resumable run (its pipeline files are deleted first)." };
        var command = CommandKit.Make("run",
            "The whole pipeline: dataset → offline training → handover → value alignment → online finetuning with evaluations, into a run folder " +
            "(config.json, run.json, options.json, status.json, result.json, metrics/*.csv, tensorboard/, handover/, aligned/). A complete folder is skipped; " +
            "an interrupted one is resumed from its checkpoints (bit-identical on CPU); a diverged one is skipped unless --force. Ctrl+C cancels cleanly (exit 1) and leaves a checkpoint. " + ConfigNote,
            "marvel run --config run.json --set Marvel:Pipeline:Seed=1 --run-dir runs/ballcircle-s1");
        foreach (var o in new Option[] { config, set, runDir, force, quiet }) command.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            using var cfg = CommandKit.LoadConfiguration(parse, config, set);
            string dir = parse.GetValue(runDir) ?? cfg.Pipeline.RunDirectory;
            var outcome = await WithProgress(context, parse.GetValue(quiet), p =>
                PipelineRunner.RunAsync(cfg, new RunRequest(dir, Force: parse.GetValue(force)), context.Out, p, ct)).ConfigureAwait(false);
            if (outcome.Result is { } r) PrintResult(context, r);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Finetune(CliContext context)
    {
        var (config, set, quiet) = (CommandKit.ConfigOption(), CommandKit.SetOption(), CommandKit.QuietOption());
        var artifact = new Option<string>("--artifact") { Description = "Handover artifact folder to start from (e.g. runs/x/handover or the output of train-offline).", Required = true, HelpName = "folder" };
        var runDir = new Option<string?>("--run-dir") { Description = "Run folder (default Marvel:Pipeline:RunDirectory).", HelpName = "folder" };
        var force = new Option<bool>("--force") { Description = "Start over even when the folder holds a complete, diverged or resumable run (its pipeline files are deleted first)." };
        var command = CommandKit.Make("finetune",
            "The pipeline from a trained artifact: alignment (Run:Aligner, \"None\" to skip) then online finetuning with evaluations, into a run folder. " + ConfigNote,
            "marvel finetune --artifact artifacts/cpq-ballcircle --set Run:Aligner=VPA --run-dir runs/finetune-s0");
        foreach (var o in new Option[] { config, set, artifact, runDir, force, quiet }) command.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            using var cfg = CommandKit.LoadConfiguration(parse, config, set);
            string dir = parse.GetValue(runDir) ?? cfg.Pipeline.RunDirectory;
            var outcome = await WithProgress(context, parse.GetValue(quiet), p =>
                PipelineRunner.RunAsync(cfg, new RunRequest(dir, parse.GetValue(artifact), Force: parse.GetValue(force)), context.Out, p, ct)).ConfigureAwait(false);
            if (outcome.Result is { } r) PrintResult(context, r);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command TrainOffline(CliContext context)
    {
        var (config, set, quiet) = (CommandKit.ConfigOption(), CommandKit.SetOption(), CommandKit.QuietOption());
        var output = new Option<string>("--out", "-o") { Description = "Folder of the handover artifact to write.", Required = true, HelpName = "folder" };
        var command = CommandKit.Make("train-offline",
            "Train the offline learner Run:Offline for Marvel:Pipeline:OfflineSteps steps on Run:Dataset (or the generated dataset) and save its handover artifact. " + ConfigNote,
            "marvel train-offline --set Run:Offline=BEAR-Lag --set Marvel:Pipeline:OfflineSteps=50000 --set Run:Dataset=data/BallCircle.hdf5 --out artifacts/bear-ballcircle");
        foreach (var o in new Option[] { config, set, output, quiet }) command.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            using var cfg = CommandKit.LoadConfiguration(parse, config, set);
            var o = cfg.Pipeline;
            TorchSharp.torch.set_num_threads(cfg.Run.Threads);
            var dataset = PipelineRunner.LoadDataset(cfg, o.TaskId, context.Out);
            var learnerContext = Context(cfg, o, "offline");
            string target = Path.GetFullPath(parse.GetValue(output)!);
            await WithProgress(context, parse.GetValue(quiet), p => Task.Factory.StartNew(() =>
            {
                using var learner = cfg.Components.CreateOfflineLearner(cfg.Run.Offline, learnerContext);
                learner.Attach(dataset);
                var last = learner.Train(o.OfflineSteps, p, o.OfflineReportEvery, ct);
                learner.ExportHandover().Save(target);
                return last;
            }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ConfigureAwait(false);
            context.Out.WriteLine($"Saved the {cfg.Run.Offline} artifact after {o.OfflineSteps} steps to {target}.");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Align(CliContext context)
    {
        var (config, set, quiet) = (CommandKit.ConfigOption(), CommandKit.SetOption(), CommandKit.QuietOption());
        var artifact = new Option<string>("--artifact") { Description = "Handover artifact folder to align.", Required = true, HelpName = "folder" };
        var output = new Option<string>("--out", "-o") { Description = "Folder of the aligned artifact to write.", Required = true, HelpName = "folder" };
        var command = CommandKit.Make("align",
            "Run the value aligner Run:Aligner (VPA by default, settings Marvel:ValuePreAlignment) on an artifact and the dataset, and save the aligned artifact. " + ConfigNote,
            "marvel align --artifact artifacts/cpq-ballcircle --set Marvel:ValuePreAlignment:Steps=2000 --out artifacts/cpq-ballcircle-vpa");
        foreach (var o in new Option[] { config, set, artifact, output, quiet }) command.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            using var cfg = CommandKit.LoadConfiguration(parse, config, set);
            var o = cfg.Pipeline;
            TorchSharp.torch.set_num_threads(cfg.Run.Threads);
            var input = PipelineRunner.LoadArtifact(parse.GetValue(artifact)!);
            var dataset = PipelineRunner.LoadDataset(cfg, input.Manifest.TaskId ?? o.TaskId, context.Out);
            var learnerContext = Context(cfg, o with { TaskId = input.Manifest.TaskId ?? o.TaskId }, "alignment");
            string target = Path.GetFullPath(parse.GetValue(output)!);
            var aligner = cfg.Components.CreateAligner(cfg.Run.Aligner);
            var result = await WithProgress(context, parse.GetValue(quiet), p => Task.Factory.StartNew(() =>
            {
                var aligned = aligner.Align(input, dataset, learnerContext, p, ct);
                aligned.Artifact.Save(target);
                return aligned;
            }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ConfigureAwait(false);
            context.Out.WriteLine($"Aligned with {cfg.Run.Aligner} in {result.Steps} steps ({string.Join(", ", result.FinalMetrics.Select(kv => $"{kv.Key} {CommandKit.Number(kv.Value)}"))}); saved to {target}.");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Evaluate(CliContext context)
    {
        var artifact = new Option<string>("--artifact") { Description = "Handover artifact folder whose actor is evaluated (CPQ, BEAR-Lag, COptiDICE, SAC-Lag, PPO-Lag and BC actors; not CDT or BCQ-Lag).", Required = true, HelpName = "folder" };
        var task = new Option<string?>("--task") { Description = "Task (default: the artifact's)." };
        var episodes = new Option<int>("--episodes") { Description = "Deterministic evaluation episodes.", DefaultValueFactory = _ => 10 };
        var costLimit = new Option<double?>("--cost-limit") { Description = "Episode cost limit of the normalized cost (default: the artifact's)." };
        var seed = new Option<ulong>("--seed") { Description = "Reset seed of the evaluation environments.", DefaultValueFactory = _ => 0 };
        var command = CommandKit.Make("evaluate", "Evaluate an artifact's actor deterministically: mean and std of return and cost, DSRL-normalized reward and cost.",
            "marvel evaluate --artifact runs/marvel/aligned --episodes 20 --cost-limit 20");
        foreach (var o in new Option[] { artifact, task, episodes, costLimit, seed }) command.Add(o);
        command.SetAction((parse, ct) =>
        {
            string path = parse.GetValue(artifact)!;
            var loaded = PipelineRunner.LoadArtifact(path);
            string taskId = parse.GetValue(task) ?? loaded.Manifest.TaskId
                ?? throw new UsageException($"--task is required: artifact '{path}' does not name its task.");
            if (!EnvironmentRegistry.Default.Contains(taskId))
                throw new UsageException($"--task '{taskId}' is not a registered task; registered: {string.Join(", ", EnvironmentRegistry.Default.Ids)}.");
            int n = parse.GetValue(episodes);
            if (n < 1) throw new UsageException($"--episodes must be >= 1, got {n}.");
            double limit = parse.GetValue(costLimit) ?? loaded.Manifest.CostLimit;
            if (!(limit >= 0)) throw new UsageException($"--cost-limit must be >= 0, got {limit}.");
            TorchSharp.torch.set_num_threads(1);
            using var probe = EnvironmentRegistry.Default.Make(taskId);
            using var policy = new ArtifactPolicy(path, loaded, probe, parse.GetValue(seed));
            using var env = EnvironmentRegistry.Default.MakeVector(taskId, Math.Min(n, 8));
            var r = PolicyEvaluator.Evaluate(policy.Policy, env, n, limit, parse.GetValue(seed), cancellationToken: ct);
            var table = new Table().AddColumns("episodes", "return", "cost", "normalized reward", "normalized cost", "safe");
            CommandKit.Row(table, n.ToString(CultureInfo.InvariantCulture), $"{r.MeanReturn:F1} ± {r.StdReturn:F1}", $"{r.MeanCost:F1} ± {r.StdCost:F1}",
                CommandKit.Number(r.NormalizedReward, "F3"), CommandKit.Number(r.NormalizedCost, "F2"), r.IsSafe ? "yes" : "no");
            CommandKit.Console(context.Out, context.Interactive).Write(table);
            if (double.IsNaN(r.NormalizedReward)) WarnNoScoreReference(context, taskId);
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static LearnerContext Context(CliConfiguration cfg, MarvelPipelineOptions o, string stream)
    {
        if (!cfg.Components.Names(Core.Hosting.MarvelComponentKind.Environment).Contains(o.TaskId, StringComparer.Ordinal))
            throw new UsageException($"bad configuration: Marvel:Pipeline:TaskId '{o.TaskId}' is not a registered task; registered: " +
                                     $"{string.Join(", ", cfg.Components.Names(Core.Hosting.MarvelComponentKind.Environment))}.");
        using var env = cfg.Components.CreateEnvironment(o.TaskId);
        return new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(o.Seed).Fork(stream), env.Spec.MaxEpisodeSteps, o.TaskId)
        {
            Device = TorchSharp.torch.device(o.Device),
        };
    }

    /// <summary>Runs <paramref name="body"/> with Spectre progress bars on a terminal, plain lines otherwise, nothing when quiet.</summary>
    internal static async Task<T> WithProgress<T>(CliContext context, bool quiet, Func<IProgress<TrainingProgress>?, Task<T>> body)
    {
        if (quiet) return await body(null).ConfigureAwait(false);
        // Plain lines with rate and time left (the library's ConsoleProgress), in order, for logs and redirected output.
        if (!context.Interactive) return await body(new ConsoleProgress(context.Out, TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        var console = CommandKit.Console(context.Out, interactive: true);
        return await console.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var tasks = new ConcurrentDictionary<string, ProgressTask>(StringComparer.Ordinal);
                var progress = new InlineProgress(p =>
                {
                    if (p.TotalSteps <= 0) return;
                    var task = tasks.GetOrAdd(p.Stage, s => ctx.AddTask(s, maxValue: p.TotalSteps));
                    task.Value = p.Step;
                    if (p.Stage == MarvelPipelineStages.Online) task.Description = ConsoleProgress.Describe(p);
                });
                return await body(progress).ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    /// <summary>Said once per command: a task without a DSRL score reference has no normalized scores (NaN, shown as n/a).</summary>
    internal static void WarnNoScoreReference(CliContext context, string? taskId = null) =>
        context.Error.WriteLine($"note: {(taskId is null ? "this task" : $"task '{taskId}'")} has no DSRL score reference, so normalized reward and cost " +
                                "are n/a; compare the raw return and cost columns instead.");

    internal static void PrintResult(CliContext context, MarvelRunResult result)
    {
        var table = new Table().AddColumns("policy", "return", "cost", "normalized reward", "normalized cost", "safe");
        var rows = new List<(string, EvaluationPoint)> { ($"offline ({result.OfflineAlgorithm})", result.OfflineEvaluation),
            ($"finetuned ({result.OnlineAlgorithm}, iteration {result.FinalEvaluation.Iteration})", result.FinalEvaluation) };
        if (!ReferenceEquals(result.LastIterateEvaluation, result.FinalEvaluation))
            rows.Add(($"last iterate (iteration {result.LastIterateEvaluation.Iteration}, not returned)", result.LastIterateEvaluation));
        foreach (var (name, point) in rows)
        {
            var r = point.Result;
            CommandKit.Row(table, (name), $"{r.MeanReturn:F1}", $"{r.MeanCost:F1}", CommandKit.Number(r.NormalizedReward, "F3"), CommandKit.Number(r.NormalizedCost, "F2"), r.IsSafe ? "yes" : "no");
        }
        CommandKit.Console(context.Out, context.Interactive).Write(table);
        if (double.IsNaN(result.FinalEvaluation.Result.NormalizedReward)) WarnNoScoreReference(context);
        context.Out.WriteLine($"online: {result.OnlineIterations} iterations, {result.OnlineEpisodes} episodes, cumulative violation {result.CumulativeViolation:F1}, " +
                              $"normalized reward AUC {CommandKit.Number(result.NormalizedRewardAuc, "F3")}, final λ {result.FinalLambda:G3}; {result.Elapsed.TotalSeconds:F0} s. Run folder: {result.RunDirectory} (returned policy in final/)");
    }
}

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
internal sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}

using System.CommandLine;
using System.Globalization;
using Marvel.Cli.Running;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Data;
using Marvel.Core.Data.Dsrl;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Policies;
using Marvel.Core.Pipeline.Datasets;
using System.Text.Json;
using Spectre.Console;

namespace Marvel.Cli.Commands;

/// <summary><c>collect</c> and <c>inspect</c>.</summary>
internal static class DataCommands
{
    /// <summary>The recipes of <c>collect</c>: the built-in scripted cost sweep (default) and the frontier recipe.</summary>
    internal const string ScriptedRecipe = "scripted";

    /// <summary>The environment variable naming the frontier datasets' cache folder.</summary>
    internal const string CacheVariable = "MARVEL_DATASET_CACHE";

    public static Command Collect(CliContext context)
    {
        var task = new Option<string>("--task") { Description = "Task to collect on.", DefaultValueFactory = _ => "BallCircle" };
        var output = new Option<string>("--out", "-o") { Description = "DSRL HDF5 file to write.", Required = true, HelpName = "file.hdf5" };
        var recipe = new Option<string>("--recipe")
        {
            Description = "How the episodes are made: 'scripted' (the built-in cost sweep of scripted controllers, fast) or 'frontier' (an online " +
                          "Lagrangian learner under a swept cost limit, its episodes binned over the cost-return plane, as DSRL made its datasets; " +
                          "slow, cached). Ignored with --policy.",
            DefaultValueFactory = _ => ScriptedRecipe,
        };
        recipe.AcceptOnlyFromAmong(ScriptedRecipe, FrontierDataset.RecipeName);
        var episodes = new Option<int>("--episodes") { Description = "Complete episodes to collect (scripted recipe and --policy).", DefaultValueFactory = _ => 200 };
        var seed = new Option<ulong>("--seed") { Description = "The one seed of the whole dataset.", DefaultValueFactory = _ => 0 };
        var policy = new Option<string?>("--policy")
        {
            Description = "Handover artifact folder whose actor is rolled out. Without it, the --recipe.",
            HelpName = "artifact",
        };
        var noise = new Option<double>("--noise") { Description = "Gaussian action noise added to --policy's deterministic action.", DefaultValueFactory = _ => 0.1 };
        var recipeOptions = new Option<string?>("--recipe-options")
        {
            Description = "JSON file of the frontier recipe's options (FrontierDatasetOptions; fields left out keep the recipe's defaults). " +
                          "Without it, the task's DSRL-sized defaults (FrontierDatasetOptions.ForTask).",
            HelpName = "file.json",
        };
        var trainingSteps = new Option<int?>("--training-steps") { Description = "Frontier: the learner's training transitions (overrides the options)." };
        var target = new Option<int?>("--target-transitions") { Description = "Frontier: transitions to select (overrides the options)." };
        var cache = new Option<string?>("--cache")
        {
            Description = $"Frontier: folder of cached datasets, one file per content hash of task, options, seed and library version " +
                          $"(default: ${CacheVariable}, else ~/.cache/marvel/datasets).",
            HelpName = "folder",
        };
        var noCache = new Option<bool>("--no-cache") { Description = "Frontier: generate even when the cache holds the file, and do not store it." };
        var quiet = CommandKit.QuietOption();
        var command = CommandKit.Make("collect", "Collect a dataset in DSRL HDF5 layout from a trained policy, from the built-in cost-limit sweep of scripted policies, or with the frontier recipe.",
            "marvel collect --task BallCircle --episodes 200 --out data/BallCircle.hdf5",
            "marvel collect --task BallCircle --recipe frontier --training-steps 20000 --target-transitions 10000 --out data/BallCircle-frontier.hdf5",
            "marvel collect --task BallCircle --policy runs/marvel/aligned --episodes 50 --out data/aligned-policy.hdf5");
        foreach (var o in new Option[] { task, output, recipe, episodes, seed, policy, noise, recipeOptions, trainingSteps, target, cache, noCache, quiet }) command.Add(o);
        command.SetAction((parse, ct) =>
        {
            string taskId = parse.GetValue(task)!, path = parse.GetValue(output)!;
            int n = parse.GetValue(episodes);
            ulong s = parse.GetValue(seed);
            if (!EnvironmentRegistry.Default.Contains(taskId))
                throw new UsageException($"--task '{taskId}' is not a registered task; registered: {string.Join(", ", EnvironmentRegistry.Default.Ids)}.");
            string specId;
            using (var probe = EnvironmentRegistry.Default.Make(taskId)) specId = probe.Spec.Id;
            var full = Path.GetFullPath(path);
            OfflineDataset dataset;
            DsrlFileAttributes attributes;
            if (parse.GetValue(policy) is { } artifactPath)
            {
                if (n < 1) throw new UsageException($"--episodes must be >= 1, got {n}.");
                double sigma = parse.GetValue(noise);
                if (!(sigma >= 0)) throw new UsageException($"--noise must be >= 0, got {sigma}.");
                var artifact = PipelineRunner.LoadArtifact(artifactPath);
                using var probe = EnvironmentRegistry.Default.Make(taskId);
                using var actor = new ArtifactPolicy(artifactPath, artifact, probe, s);
                using var env = EnvironmentRegistry.Default.MakeVector(taskId, Math.Min(8, n));
                // The deterministic action plus N(0, σ²): NoisyPolicy perturbs stochastic requests only, so the stage asks for stochastic
                // actions and DeterministicPolicy answers them with the actor's deterministic one.
                bool noisy = sigma > 0;
                var behaviour = noisy ? (Core.Abstractions.IPolicy)new NoisyPolicy(new DeterministicPolicy(actor.Policy), sigma, s) : actor.Policy;
                dataset = DatasetCollector.Collect(env, [new CollectionStage(behaviour, n, Deterministic: !noisy)], s, cancellationToken: ct);
                attributes = Attributes(specId, "policy", JsonSerializer.Serialize(new { Artifact = Path.GetFullPath(artifactPath), Episodes = n, Noise = sigma }), s);
            }
            else if (parse.GetValue(recipe) == FrontierDataset.RecipeName)
            {
                var options = FrontierOptions(parse.GetValue(recipeOptions), taskId, parse.GetValue(trainingSteps), parse.GetValue(target));
                string? folder = parse.GetValue(noCache) ? null : CacheFolder(parse.GetValue(cache));
                var made = CollectFrontier(context, specId, options, s, folder, parse.GetValue(quiet), ct);
                dataset = made.Dataset;
                attributes = made.Attributes;
            }
            else
            {
                if (n < 10) throw new UsageException($"--episodes must be >= 10 for the built-in cost sweep, got {n}.");
                dataset = DatasetCollector.GenerateBuiltIn(taskId, n, s);
                attributes = Attributes(specId, "scripted-sweep", JsonSerializer.Serialize(new { Episodes = n }), s);
            }
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            DsrlFile.Write(dataset, full, attributes);
            var e = dataset.Episodes;
            context.Out.WriteLine($"Wrote {full}: {e.Count} episodes, {dataset.Count} transitions, return {e.Min(x => x.Return):F1}..{e.Max(x => x.Return):F1}, " +
                                  $"cost {e.Min(x => x.Cost):F1}..{e.Max(x => x.Cost):F1}.");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static DsrlFileAttributes Attributes(string taskId, string recipe, string options, ulong seed) => new()
    {
        TaskId = taskId, Recipe = recipe, RecipeOptions = options, LibraryVersion = DsrlFileAttributes.CurrentLibraryVersion, Seed = seed,
    };

    /// <summary>The frontier recipe's options: the JSON file's (fields left out at the plain defaults) or the task's DSRL-sized defaults,
    /// then the command-line overrides; every bad field is reported together.</summary>
    internal static FrontierDatasetOptions FrontierOptions(string? file, string taskId, int? trainingSteps, int? target)
    {
        FrontierDatasetOptions options;
        if (file is null) options = FrontierDatasetOptions.ForTask(taskId);
        else
        {
            if (!File.Exists(file)) throw new UsageException($"--recipe-options '{file}' does not exist.");
            try
            {
                options = FrontierDataset.OptionsFromJson(File.ReadAllText(file));
            }
            catch (JsonException e)
            {
                throw new UsageException($"--recipe-options '{file}' is not a JSON object of frontier options: {e.Message}", e);
            }
        }
        if (trainingSteps is { } t) options.TrainingSteps = t;
        if (target is { } g) options.TargetTransitions = g;
        var failures = FrontierDataset.Validate(options);
        if (failures.Count > 0)
            throw new UsageException("The frontier recipe's options are invalid:\n  " + string.Join("\n  ", failures) +
                                     "\nFix them in --recipe-options or the command line (docs/datasets.md, \"Frontier datasets\", lists each option).");
        return options;
    }

    /// <summary>The cache folder: <paramref name="given"/>, else $MARVEL_DATASET_CACHE, else $XDG_CACHE_HOME/marvel/datasets, else ~/.cache/marvel/datasets.</summary>
    internal static string CacheFolder(string? given)
    {
        if (!string.IsNullOrEmpty(given)) return Path.GetFullPath(given);
        if (Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } fromVariable) return Path.GetFullPath(fromVariable);
        string root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "marvel", "datasets");
    }

    /// <summary>
    /// The frontier dataset of (task, options, seed): read from the cache when it holds the file of this content hash, else generated
    /// (one torch thread, so that the bytes do not depend on the machine's core count) and stored there.
    /// </summary>
    private static (OfflineDataset Dataset, DsrlFileAttributes Attributes) CollectFrontier(CliContext context, string taskId, FrontierDatasetOptions options,
        ulong seed, string? cacheFolder, bool quiet, CancellationToken ct)
    {
        string key = FrontierDataset.CacheKey(taskId, options, seed);
        string? cached = cacheFolder is null ? null : Path.Combine(cacheFolder, $"{taskId}-{FrontierDataset.RecipeName}-{key[..16]}.hdf5");
        if (cached is not null && File.Exists(cached))
        {
            try
            {
                var attributes = DsrlFile.ReadAttributes(cached);
                using var probe = EnvironmentRegistry.Default.Make(taskId);
                var dataset = DsrlFile.ReadForTask(cached, probe.Spec);
                context.Out.WriteLine($"Cache: reusing {cached} (key {key[..16]}).");
                return (dataset, attributes);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                context.Out.WriteLine($"Cache: {cached} is unreadable ({e.Message}); generating it again.");
            }
        }
        TorchSharp.torch.set_num_threads(1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var progress = quiet ? null : new TenthsProgress(context.Out, clock);
        // With a cache the generation checkpoints into a work folder beside the file, so that an interrupted run resumes when the same
        // command runs again; the folder is removed once the file is stored.
        string? work = cached is null ? null : Path.ChangeExtension(cached, ".partial");
        if (work is not null && File.Exists(Path.Combine(work, "checkpoint", "state.json")))
            context.Out.WriteLine($"Resuming the generation from its last checkpoint in {work}.");
        var result = work is null
            ? FrontierDataset.Generate(taskId, options, seed, progress: progress, cancellationToken: ct)
            : FrontierDataset.GenerateResumable(taskId, options, seed, work, progress: progress, cancellationToken: ct);
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Frontier: {result.TrainingEpisodes} training and {result.CheckpointEpisodes} checkpoint episodes ({result.EnvironmentSteps} transitions), " +
            $"kept {result.KeptEpisodes} ({result.Dataset.Count} transitions) in {clock.Elapsed.TotalSeconds:F0} s."));
        if (cached is not null)
        {
            Directory.CreateDirectory(cacheFolder!);
            DsrlFile.Write(result.Dataset, cached, result.Attributes);
            context.Out.WriteLine($"Cache: stored {cached}.");
            if (work is not null && Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
        return (result.Dataset, result.Attributes);
    }

    /// <summary>Prints one line at each tenth of the training (synchronously, on the generating thread).</summary>
    private sealed class TenthsProgress(TextWriter output, System.Diagnostics.Stopwatch clock) : IProgress<TrainingProgress>
    {
        private int _printed;

        public void Report(TrainingProgress value)
        {
            int tenth = (int)Math.Floor(value.Fraction * 10);
            if (double.IsNaN(value.Fraction) || tenth <= _printed) return;
            _printed = tenth;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{clock.Elapsed.TotalSeconds,6:F0} s] frontier {value.Step}/{value.TotalSteps} transitions: cost limit {value.Metrics.GetValueOrDefault("cost_limit"):F1}, " +
                $"λ {value.Metrics.GetValueOrDefault("lambda"):F3}, {value.Metrics.GetValueOrDefault("candidate_episodes"):F0} episodes recorded"));
        }
    }

    public static Command Inspect(CliContext context)
    {
        var path = new Argument<string>("path") { Description = "A DSRL HDF5 dataset file or a handover artifact folder (with manifest.json)." };
        var costLimit = new Option<double?>("--cost-limit") { Description = "Count the episodes within this episode cost limit and draw it on the plot." };
        var plot = new Option<string?>("--plot") { Description = "Where to write the return-vs-cost PNG of a dataset (default: next to it, <name>.return-cost.png).", HelpName = "file.png" };
        var noPlot = new Option<bool>("--no-plot") { Description = "Do not write the PNG." };
        var command = CommandKit.Make("inspect", "Summarize a dataset (sizes, episodes, return and cost statistics, PNG scatter of episode return vs episode cost) or a handover artifact (producer, sizes, networks, scales).",
            "marvel inspect data/BallCircle.hdf5 --cost-limit 20", "marvel inspect runs/marvel/handover");
        foreach (var o in new Option[] { costLimit, plot, noPlot }) command.Add(o);
        command.Add(path);
        command.SetAction(parse =>
        {
            string target = parse.GetValue(path)!;
            var console = CommandKit.Console(context.Out, context.Interactive);
            if (Directory.Exists(target))
            {
                InspectArtifact(console, target);
                return ExitCodes.Success;
            }
            if (!File.Exists(target)) throw new UsageException($"path '{target}' is neither a file nor a folder.");
            OfflineDataset dataset;
            try
            {
                dataset = DsrlFile.Read(target);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException or InvalidOperationException)
            {
                throw new UsageException($"'{target}' is not a readable DSRL dataset: {e.Message}", e);
            }
            double? limit = parse.GetValue(costLimit);
            if (limit is { } l && !(l >= 0)) throw new UsageException($"--cost-limit must be >= 0, got {l}.");
            InspectDataset(console, dataset, target, limit, DsrlFile.ReadAttributes(target));
            if (!parse.GetValue(noPlot))
            {
                string png = parse.GetValue(plot) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, Path.GetFileNameWithoutExtension(target) + ".return-cost.png");
                WriteScatter(dataset, png, Path.GetFileName(target), limit);
                context.Out.WriteLine($"Plot: {Path.GetFullPath(png)}");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static void InspectDataset(IAnsiConsole console, OfflineDataset dataset, string path, double? limit, DsrlFileAttributes attributes)
    {
        var e = dataset.Episodes;
        var table = new Table().AddColumns("dataset", "value");
        CommandKit.Row(table, "file", Path.GetFullPath(path));
        CommandKit.Row(table, "transitions", dataset.Count.ToString(CultureInfo.InvariantCulture));
        CommandKit.Row(table, "episodes", e.Count.ToString(CultureInfo.InvariantCulture));
        CommandKit.Row(table, "observation / action size", $"{dataset.ObservationSize} / {dataset.ActionSize}");
        if (e.Count > 0)
        {
            CommandKit.Row(table, "episode length min / mean / max", $"{e.Min(x => x.Length)} / {e.Average(x => x.Length):F1} / {e.Max(x => x.Length)}");
            CommandKit.Row(table, "episode return min / mean / max", Stats(e.Select(x => x.Return)));
            CommandKit.Row(table, "episode cost min / mean / max", Stats(e.Select(x => x.Cost)));
            CommandKit.Row(table, "episodes ended by termination", e.Count(x => x.EndedByTermination).ToString(CultureInfo.InvariantCulture));
            if (limit is { } l)
                CommandKit.Row(table, $"episodes with cost <= {CommandKit.Number(l)}", $"{e.Count(x => x.Cost <= l)} ({100.0 * e.Count(x => x.Cost <= l) / e.Count:F0}%)");
        }
        CommandKit.Row(table, "fingerprint", dataset.Fingerprint());
        if (attributes.TaskId is { } taskId) CommandKit.Row(table, "task", taskId);
        if (attributes.Recipe is { } recipe) CommandKit.Row(table, "recipe", recipe);
        if (attributes.Seed is { } seed) CommandKit.Row(table, "seed", seed.ToString(CultureInfo.InvariantCulture));
        if (attributes.LibraryVersion is { } version) CommandKit.Row(table, "library version", version);
        if (attributes.RecipeOptions is { } options) CommandKit.Row(table, "recipe options", options);
        console.Write(table);
    }

    private static string Stats(IEnumerable<double> values)
    {
        var v = values.ToArray();
        return $"{v.Min():F2} / {v.Average():F2} / {v.Max():F2}";
    }

    private static void InspectArtifact(IAnsiConsole console, string path)
    {
        var artifact = PipelineRunner.LoadArtifact(path);
        var m = artifact.Manifest;
        var table = new Table().AddColumns("artifact", "value");
        CommandKit.Row(table, "folder", Path.GetFullPath(path));
        CommandKit.Row(table, "algorithm", (m.Algorithm));
        CommandKit.Row(table, "task", (m.TaskId ?? "-"));
        CommandKit.Row(table, "observation / action size", $"{m.ObservationSize} / {m.ActionSize}");
        CommandKit.Row(table, "cost limit", CommandKit.Number(m.CostLimit));
        CommandKit.Row(table, "gamma / reward scale / cost scale", $"{CommandKit.Number(m.Gamma)} / {CommandKit.Number(m.RewardScale)} / {CommandKit.Number(m.CostScale)}");
        CommandKit.Row(table, "training steps", m.TrainingSteps.ToString(CultureInfo.InvariantCulture));
        CommandKit.Row(table, "seed", m.Seed.ToString(CultureInfo.InvariantCulture));
        CommandKit.Row(table, "dataset fingerprint", (m.DatasetFingerprint ?? "-"));
        CommandKit.Row(table, "format / library version", $"{m.FormatVersion} / {(m.LibraryVersion)}");
        foreach (var (role, d) in m.Networks)
        {
            long parameters = artifact.Networks.TryGetValue(role, out var sd) ? sd.ParameterCount : 0;
            CommandKit.Row(table, $"network {(role)}", ($"{d.Kind} [{string.Join(", ", d.HiddenSizes)}] ×{d.EnsembleSize} {d.Activation}, {parameters} parameters"));
        }
        CommandKit.Row(table, "optimizer states", (artifact.OptimizerStates.Count == 0 ? "none" : string.Join(", ", artifact.OptimizerStates.Keys)));
        if (m.Lagrange is { } lagrange) CommandKit.Row(table, "multiplier", $"{lagrange.Kind}: " + string.Join(", ", lagrange.Scalars.Select(kv => $"{kv.Key} {CommandKit.Number(kv.Value)}")));
        console.Write(table);
    }

    /// <summary>The plot DSRL users look at first: one point per episode, return against cost, with the cost limit.</summary>
    internal static void WriteScatter(OfflineDataset dataset, string png, string title, double? limit)
    {
        var e = dataset.Episodes;
        var plot = new ScottPlot.Plot();
        var points = plot.Add.ScatterPoints(e.Select(x => x.Cost).ToArray(), e.Select(x => x.Return).ToArray());
        points.MarkerSize = 4;
        points.LegendText = $"{e.Count} episodes";
        if (limit is { } l)
        {
            var line = plot.Add.VerticalLine(l);
            line.LinePattern = ScottPlot.LinePattern.Dashed;
            line.LegendText = $"cost limit {CommandKit.Number(l)}";
        }
        plot.Title($"{title}: episode return vs episode cost");
        plot.XLabel("episode cost (undiscounted)");
        plot.YLabel("episode return (undiscounted)");
        plot.ShowLegend();
        var full = Path.GetFullPath(png);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        AtomicFile.WriteAllBytes(full, plot.GetImageBytes(900, 600, ScottPlot.ImageFormat.Png));
    }
}

using System.CommandLine;
using System.Globalization;
using Marvel.Cli.Running;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Data;
using Marvel.Core.Data.Dsrl;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Policies;
using Spectre.Console;

namespace Marvel.Cli.Commands;

/// <summary><c>collect</c> and <c>inspect</c>.</summary>
internal static class DataCommands
{
    public static Command Collect(CliContext context)
    {
        var task = new Option<string>("--task") { Description = "Task to collect on.", DefaultValueFactory = _ => "BallCircle" };
        var output = new Option<string>("--out", "-o") { Description = "DSRL HDF5 file to write.", Required = true, HelpName = "file.hdf5" };
        var episodes = new Option<int>("--episodes") { Description = "Complete episodes to collect.", DefaultValueFactory = _ => 200 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of environments and noise.", DefaultValueFactory = _ => 0 };
        var policy = new Option<string?>("--policy")
        {
            Description = "Handover artifact folder whose actor is rolled out. Without it, the task's built-in cost sweep (scripted controllers from cautious to aggressive, plus random episodes).",
            HelpName = "artifact",
        };
        var noise = new Option<double>("--noise") { Description = "Gaussian action noise added to --policy's deterministic action.", DefaultValueFactory = _ => 0.1 };
        var command = CommandKit.Make("collect", "Collect a dataset in DSRL HDF5 layout from a trained policy or from the built-in cost-limit sweep of scripted policies.",
            "marvel collect --task BallCircle --episodes 200 --out data/BallCircle.hdf5",
            "marvel collect --task BallCircle --policy runs/marvel/aligned --episodes 50 --out data/aligned-policy.hdf5");
        foreach (var o in new Option[] { task, output, episodes, seed, policy, noise }) command.Add(o);
        command.SetAction((parse, ct) =>
        {
            string taskId = parse.GetValue(task)!, path = parse.GetValue(output)!;
            int n = parse.GetValue(episodes);
            ulong s = parse.GetValue(seed);
            if (!EnvironmentRegistry.Default.Contains(taskId))
                throw new UsageException($"--task '{taskId}' is not a registered task; registered: {string.Join(", ", EnvironmentRegistry.Default.Ids)}.");
            if (n < 1) throw new UsageException($"--episodes must be >= 1, got {n}.");
            OfflineDataset dataset;
            if (parse.GetValue(policy) is { } artifactPath)
            {
                double sigma = parse.GetValue(noise);
                if (!(sigma >= 0)) throw new UsageException($"--noise must be >= 0, got {sigma}.");
                var artifact = PipelineRunner.LoadArtifact(artifactPath);
                using var probe = EnvironmentRegistry.Default.Make(taskId);
                using var actor = new ArtifactPolicy(artifactPath, artifact, probe, s);
                using var env = EnvironmentRegistry.Default.MakeVector(taskId, Math.Min(8, n));
                var behaviour = sigma > 0 ? (Core.Abstractions.IPolicy)new NoisyPolicy(actor.Policy, sigma, s) : actor.Policy;
                dataset = DatasetCollector.Collect(env, [new CollectionStage(behaviour, n, Deterministic: true)], s, cancellationToken: ct);
            }
            else
            {
                if (n < 10) throw new UsageException($"--episodes must be >= 10 for the built-in cost sweep, got {n}.");
                dataset = DatasetCollector.GenerateBuiltIn(taskId, n, s);
            }
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            DsrlFile.Write(dataset, full);
            var e = dataset.Episodes;
            context.Out.WriteLine($"Wrote {full}: {e.Count} episodes, {dataset.Count} transitions, return {e.Min(x => x.Return):F1}..{e.Max(x => x.Return):F1}, " +
                                  $"cost {e.Min(x => x.Cost):F1}..{e.Max(x => x.Cost):F1}.");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
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
            InspectDataset(console, dataset, target, limit);
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

    private static void InspectDataset(IAnsiConsole console, OfflineDataset dataset, string path, double? limit)
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

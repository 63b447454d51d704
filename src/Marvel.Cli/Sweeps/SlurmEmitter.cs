using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Marvel.Core.Abstractions.IO;

namespace Marvel.Cli.Sweeps;

/// <summary>
/// Writes a Slurm job-array script and the sweep manifest: array task i runs
/// <c>marvel sweep --config &lt;sweep file&gt; --run-index i</c>, the same command a local worker runs, into the same folder.
/// </summary>
internal static class SlurmEmitter
{
    /// <summary>Writes <c>manifest.json</c> (index, name, folder and axis values of every run) into the sweep's output folder.</summary>
    public static string WriteManifest(SweepSpec spec, IReadOnlyList<SweepRun> runs)
    {
        var manifest = new JsonObject
        {
            ["name"] = spec.Name,
            ["sweep_file"] = spec.SourcePath,
            ["output"] = spec.Output,
            ["runs"] = new JsonArray(runs.Select(r => (JsonNode)new JsonObject
            {
                ["index"] = r.Index,
                ["name"] = r.Name,
                ["directory"] = r.Directory,
                ["axes"] = new JsonObject(r.Axes.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)JsonValue.Create(a.Value)))),
            }).ToArray()),
        };
        Directory.CreateDirectory(spec.Output);
        var path = Path.Combine(spec.Output, "manifest.json");
        AtomicFile.WriteAllText(path, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    /// <summary>Writes <c>slurm/&lt;name&gt;.sbatch</c> and returns its path.</summary>
    /// <param name="spec">The sweep.</param>
    /// <param name="runs">Its expanded runs (the array has one task per run).</param>
    /// <param name="sets">The <c>--set</c> overrides given to <c>marvel sweep</c>, passed on to every array task.</param>
    public static string Write(SweepSpec spec, IReadOnlyList<SweepRun> runs, IReadOnlyList<string> sets)
    {
        var s = spec.Slurm;
        string logs = Path.Combine(spec.Output, "slurm");
        Directory.CreateDirectory(logs);
        var text = new StringBuilder();
        text.Append("#!/bin/bash\n");
        text.Append(CultureInfo.InvariantCulture, $"# marvel sweep '{spec.Name}': {runs.Count} runs, one array task each. Submit with: sbatch {Quote(Path.Combine(logs, spec.Name + ".sbatch"))}\n");
        text.Append(CultureInfo.InvariantCulture, $"# Array task i runs run i of {Quote(Path.Combine(spec.Output, "manifest.json"))}; a complete run is skipped, an interrupted one resumed from its checkpoints.\n");
        text.Append(CultureInfo.InvariantCulture, $"#SBATCH --job-name={SweepSpec.Sanitize(spec.Name)}\n");
        text.Append(CultureInfo.InvariantCulture, $"#SBATCH --array=0-{runs.Count - 1}{(s.MaxConcurrent is { } m ? "%" + m.ToString(CultureInfo.InvariantCulture) : "")}\n");
        text.Append(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={s.CpusPerTask}\n");
        text.Append(CultureInfo.InvariantCulture, $"#SBATCH --output={Path.Combine(logs, "%A_%a.out")}\n");
        if (s.Partition is not null) text.Append(CultureInfo.InvariantCulture, $"#SBATCH --partition={s.Partition}\n");
        if (s.Time is not null) text.Append(CultureInfo.InvariantCulture, $"#SBATCH --time={s.Time}\n");
        if (s.Memory is not null) text.Append(CultureInfo.InvariantCulture, $"#SBATCH --mem={s.Memory}\n");
        foreach (var extra in s.Sbatch) text.Append(CultureInfo.InvariantCulture, $"#SBATCH {extra}\n");
        text.Append("set -euo pipefail\n");
        text.Append("export OMP_NUM_THREADS=1 DOTNET_CLI_TELEMETRY_OPTOUT=1\n");
        foreach (var line in s.Setup) text.Append(line).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"exec {s.Command} sweep --config {Quote(spec.SourcePath)} --run-index \"$SLURM_ARRAY_TASK_ID\" --quiet");
        foreach (var set in sets) text.Append(" --set ").Append(Quote(set));
        text.Append('\n');
        var path = Path.Combine(logs, SweepSpec.Sanitize(spec.Name) + ".sbatch");
        AtomicFile.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>Single-quotes for bash.</summary>
    internal static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

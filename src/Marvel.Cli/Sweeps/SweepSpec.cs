using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Marvel.Cli.Sweeps;

/// <summary>One value of a matrix axis: its label in run names and reports, and the configuration keys it sets.</summary>
internal sealed record AxisValue(string Label, IReadOnlyDictionary<string, string?> Keys);

/// <summary>One axis of the matrix.</summary>
internal sealed record SweepAxis(string Name, IReadOnlyList<AxisValue> Values);

/// <summary>One expanded run: its index in the array, its deterministic name and folder, and its configuration layer.</summary>
internal sealed record SweepRun(int Index, string Name, string Directory, IReadOnlyDictionary<string, string?> Configuration, IReadOnlyDictionary<string, string> Axes);

/// <summary>Slurm settings of a sweep file (section "slurm").</summary>
internal sealed record SlurmSettings
{
    public string? Partition { get; init; }
    public string? Time { get; init; }
    public string? Memory { get; init; }
    public int CpusPerTask { get; init; } = 1;
    public int? MaxConcurrent { get; init; }
    public string Command { get; init; } = "marvel";
    public IReadOnlyList<string> Setup { get; init; } = [];
    public IReadOnlyList<string> Sbatch { get; init; } = [];
}

/// <summary>
/// A sweep file: a base configuration and a matrix (tasks × algorithms × cost limits × any option × seeds) that expands into
/// runs with deterministic names and folders. See docs/cli.md for the format.
/// </summary>
internal sealed class SweepSpec
{
    /// <summary>Axes with a meaning of their own; every other axis name is a configuration key such as "Marvel:SacLag:BatchSize".</summary>
    public const string TaskAxis = "task", AlgorithmAxis = "algorithm", CostLimitAxis = "costLimit", SeedAxis = "seed";

    private static readonly string[] TopLevelKeys = ["name", "output", "base", "matrix", "slurm", "description"];

    private SweepSpec(string path, string name, string output, IReadOnlyDictionary<string, string?> @base, IReadOnlyList<SweepAxis> axes, SlurmSettings slurm)
    {
        SourcePath = path;
        Name = name;
        Output = output;
        Base = @base;
        Axes = axes;
        Slurm = slurm;
    }

    /// <summary>Absolute path of the sweep file.</summary>
    public string SourcePath { get; }

    /// <summary>The sweep's name (default: the file name).</summary>
    public string Name { get; }

    /// <summary>Absolute output folder; a relative "output" is resolved against the sweep file's folder.</summary>
    public string Output { get; }

    /// <summary>Flattened base configuration.</summary>
    public IReadOnlyDictionary<string, string?> Base { get; }

    /// <summary>The axes in naming order: task, algorithm, costLimit, other keys in file order, seed.</summary>
    public IReadOnlyList<SweepAxis> Axes { get; }

    /// <summary>Settings of the Slurm emission.</summary>
    public SlurmSettings Slurm { get; }

    /// <summary>Reads and checks a sweep file; every problem is a <see cref="UsageException"/> naming the file and the field.</summary>
    public static SweepSpec Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new UsageException($"--config: sweep file '{path}' does not exist.");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(full), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new UsageException($"--config: sweep file '{path}' is not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            string Where(string field) => $"sweep file '{path}': field '{field}'";
            if (root.ValueKind != JsonValueKind.Object) throw new UsageException($"sweep file '{path}': expected a JSON object with 'matrix'.");
            foreach (var p in root.EnumerateObject())
                if (!TopLevelKeys.Contains(p.Name, StringComparer.Ordinal))
                    throw new UsageException($"{Where(p.Name)} is not a sweep field; known: {string.Join(", ", TopLevelKeys)}.");
            string name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : Path.GetFileNameWithoutExtension(full);
            string output = root.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString()! : Path.Combine("runs", name);
            output = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(full)!, output));
            var @base = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            if (root.TryGetProperty("base", out var b))
            {
                if (b.ValueKind != JsonValueKind.Object) throw new UsageException($"{Where("base")} must be an object (a run configuration).");
                Flatten(b, "", @base);
            }
            if (!root.TryGetProperty("matrix", out var m) || m.ValueKind != JsonValueKind.Object)
                throw new UsageException($"{Where("matrix")} is missing or not an object; e.g. \"matrix\": {{ \"task\": [\"BallCircle\"], \"seed\": [0, 1] }}.");
            var axes = ReadAxes(m, Where);
            var slurm = root.TryGetProperty("slurm", out var s) ? ReadSlurm(s, Where) : new SlurmSettings();
            return new SweepSpec(full, name, output, @base, axes, slurm);
        }
    }

    private static List<SweepAxis> ReadAxes(JsonElement matrix, Func<string, string> where)
    {
        var task = new List<SweepAxis>(); var algorithm = new List<SweepAxis>(); var cost = new List<SweepAxis>();
        var others = new List<SweepAxis>(); var seed = new List<SweepAxis>();
        foreach (var axis in matrix.EnumerateObject())
        {
            string field = "matrix." + axis.Name;
            if (axis.Name == TaskAxis && axis.Value.ValueKind == JsonValueKind.Object)
            {
                // Tasks with per-task settings: { "BallCircle": { "Marvel": { "SacLag": { "ActorLearningRate": 5e-5 } } }, ... }.
                var values = new List<AxisValue>();
                foreach (var t in axis.Value.EnumerateObject())
                {
                    if (t.Value.ValueKind != JsonValueKind.Object)
                        throw new UsageException($"{where(field + "." + t.Name)} must be an object of configuration keys for that task (or use an array of task names).");
                    var keys = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
                    Flatten(t.Value, "", keys);
                    keys["Marvel:Pipeline:TaskId"] = t.Name;
                    values.Add(new AxisValue(t.Name, keys));
                }
                if (values.Count == 0) throw new UsageException($"{where(field)} must not be empty.");
                task.Add(new SweepAxis(axis.Name, values));
                continue;
            }
            if (axis.Name == AlgorithmAxis)
            {
                if (axis.Value.ValueKind != JsonValueKind.Object || !axis.Value.EnumerateObject().Any())
                    throw new UsageException($"{where(field)} must be a non-empty object of named variants, e.g. {{ \"Marvel\": {{ \"Run\": {{ \"Aligner\": \"VPA\" }} }} }}.");
                var values = new List<AxisValue>();
                foreach (var variant in axis.Value.EnumerateObject())
                {
                    if (variant.Value.ValueKind != JsonValueKind.Object)
                        throw new UsageException($"{where(field + "." + variant.Name)} must be an object of configuration keys.");
                    var keys = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
                    Flatten(variant.Value, "", keys);
                    keys.TryAdd("Run:Label", variant.Name);
                    values.Add(new AxisValue(variant.Name, keys));
                }
                algorithm.Add(new SweepAxis(axis.Name, values));
                continue;
            }
            string key = axis.Name switch
            {
                TaskAxis => "Marvel:Pipeline:TaskId",
                SeedAxis => "Marvel:Pipeline:Seed",
                CostLimitAxis => "Marvel:Pipeline:CostLimit",
                var k when k.Contains(':', StringComparison.Ordinal) => k,
                var k => throw new UsageException($"{where(field)}: unknown axis; use task, algorithm, costLimit, seed, or a configuration key such as \"Marvel:SacLag:BatchSize\"."),
            };
            if (axis.Value.ValueKind != JsonValueKind.Array || axis.Value.GetArrayLength() == 0)
                throw new UsageException($"{where(field)} must be a non-empty array of values.");
            var list = new List<AxisValue>();
            foreach (var v in axis.Value.EnumerateArray())
            {
                if (v.ValueKind is JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null)
                    throw new UsageException($"{where(field)}: values must be strings, numbers or booleans, got {v.ValueKind}.");
                string text = v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
                list.Add(new AxisValue(text, new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { [key] = text }));
            }
            var target = axis.Name switch { TaskAxis => task, SeedAxis => seed, CostLimitAxis => cost, _ => others };
            target.Add(new SweepAxis(axis.Name, list));
        }
        var axes = task.Concat(algorithm).Concat(cost).Concat(others).Concat(seed).ToList();
        if (axes.Count == 0) throw new UsageException($"{where("matrix")} has no axes.");
        return axes;
    }

    private static SlurmSettings ReadSlurm(JsonElement s, Func<string, string> where)
    {
        if (s.ValueKind != JsonValueKind.Object) throw new UsageException($"{where("slurm")} must be an object.");
        var settings = new SlurmSettings();
        foreach (var p in s.EnumerateObject())
        {
            string field = "slurm." + p.Name;
            string Str() => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new UsageException($"{where(field)} must be a string.");
            int Int() => p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var i) && i >= 1 ? i : throw new UsageException($"{where(field)} must be an integer >= 1.");
            IReadOnlyList<string> Lines() => p.Value.ValueKind == JsonValueKind.Array && p.Value.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String)
                ? p.Value.EnumerateArray().Select(x => x.GetString()!).ToArray() : throw new UsageException($"{where(field)} must be an array of strings.");
            settings = p.Name switch
            {
                "partition" => settings with { Partition = Str() },
                "time" => settings with { Time = Str() },
                "memory" => settings with { Memory = Str() },
                "cpusPerTask" => settings with { CpusPerTask = Int() },
                "maxConcurrent" => settings with { MaxConcurrent = Int() },
                "command" => settings with { Command = Str() },
                "setup" => settings with { Setup = Lines() },
                "sbatch" => settings with { Sbatch = Lines() },
                _ => throw new UsageException($"{where(field)} is not a Slurm setting; known: partition, time, memory, cpusPerTask, maxConcurrent, command, setup, sbatch."),
            };
        }
        return settings;
    }

    /// <summary>Flattens a JSON object into configuration keys ("A:B:C"; array items get their index).</summary>
    internal static void Flatten(JsonElement element, string prefix, IDictionary<string, string?> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject()) Flatten(p.Value, prefix.Length == 0 ? p.Name : prefix + ":" + p.Name, into);
                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in element.EnumerateArray()) Flatten(item, prefix + ":" + (i++).ToString(CultureInfo.InvariantCulture), into);
                break;
            case JsonValueKind.Null:
                into[prefix] = null;
                break;
            case JsonValueKind.String:
                into[prefix] = element.GetString();
                break;
            default:
                into[prefix] = element.GetRawText();
                break;
        }
    }

    /// <summary>The runs, in a fixed order (first axis outermost, seeds innermost), with unique folder names.</summary>
    public IReadOnlyList<SweepRun> Expand()
    {
        var combos = new List<List<(SweepAxis Axis, AxisValue Value)>> { new() };
        foreach (var axis in Axes)
            combos = combos.SelectMany(c => axis.Values.Select(v => new List<(SweepAxis, AxisValue)>(c) { (axis, v) })).ToList();
        var runs = new List<SweepRun>();
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var combo in combos)
        {
            var configuration = new Dictionary<string, string?>(Base, StringComparer.OrdinalIgnoreCase);
            foreach (var (_, value) in combo)
                foreach (var (k, v) in value.Keys) configuration[k] = v;
            ExpandPlaceholders(configuration, combo);
            string name = string.Join("_", combo.Select(c => Segment(c.Axis, c.Value)));
            if (seen.TryGetValue(name, out var other))
                throw new UsageException($"sweep file '{SourcePath}': runs {other} and {runs.Count} both get the folder name '{name}'; make the axis values distinct.");
            seen[name] = runs.Count;
            var directory = Path.Combine(Output, name);
            configuration["Marvel:Pipeline:RunDirectory"] = directory;
            runs.Add(new SweepRun(runs.Count, name, directory, configuration, combo.ToDictionary(c => c.Axis.Name, c => c.Value.Label, StringComparer.Ordinal)));
        }
        return runs;
    }

    /// <summary>
    /// Replaces <c>{output}</c> (the sweep's absolute output folder) and <c>{axis}</c> (that axis's value label for this run,
    /// e.g. <c>{task}</c>, <c>{seed}</c>, <c>{costLimit}</c>) in every configuration value, so that a run can name a file
    /// another run of the same or an earlier sweep writes (e.g. <c>Run:Artifact</c>).
    /// </summary>
    private void ExpandPlaceholders(Dictionary<string, string?> configuration, List<(SweepAxis Axis, AxisValue Value)> combo)
    {
        foreach (var key in configuration.Keys.ToList())
        {
            var value = configuration[key];
            if (value is null || !value.Contains('{', StringComparison.Ordinal)) continue;
            value = value.Replace("{output}", Output, StringComparison.Ordinal);
            foreach (var (axis, axisValue) in combo) value = value.Replace("{" + axis.Name + "}", axisValue.Label, StringComparison.Ordinal);
            configuration[key] = value;
        }
    }

    private static string Segment(SweepAxis axis, AxisValue value)
    {
        string prefix = axis.Name switch
        {
            TaskAxis or AlgorithmAxis => "",
            SeedAxis => "seed",
            CostLimitAxis => "cost",
            var k => k[(k.LastIndexOf(':') + 1)..],
        };
        return Sanitize(prefix + value.Label);
    }

    /// <summary>Keeps letters, digits, '.', '-' and '+'; anything else becomes '-'.</summary>
    internal static string Sanitize(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '+' ? c : '-');
        return sb.ToString();
    }
}

using System.Globalization;
using System.Text.Json;
using Marvel.Core.Abstractions.IO;

namespace Marvel.Plotting;

/// <summary>
/// The plots of one run folder, into <c>&lt;run&gt;/plots/</c>: <c>return.png</c> (training-episode return per online iteration and the
/// evaluations), <c>cost.png</c> (the same for cost, with the dashed cost-limit line), <c>lambda.png</c> (λ and every
/// <c>controller/*</c> column of <c>metrics/online.csv</c>) and <c>qbias.png</c> (mean relative bias of the reward and cost critics,
/// <c>handover/</c> against <c>aligned/</c>, from <c>qbias.json</c>).
/// </summary>
/// <remarks>
/// Reads only the files, by column name, so it works on a partial run: a missing or empty file leaves out the plots that need it.
/// A file that is there but cannot be read (a missing column, a value that is not a number, malformed JSON) is an
/// <see cref="InvalidDataException"/> whose message names the file and the column.
/// </remarks>
public static class RunPlots
{
    /// <summary>The folder under the run folder that the plots are written to.</summary>
    public const string FolderName = "plots";

    /// <summary>Width of every plot, pixels.</summary>
    public const int Width = 900;

    /// <summary>Height of every plot, pixels.</summary>
    public const int Height = 500;

    /// <summary>Columns of <c>metrics/online.csv</c> the plots need.</summary>
    public static IReadOnlyList<string> OnlineColumns { get; } = ["iteration", "mean_episode_return", "mean_episode_cost", "lambda"];

    /// <summary>Columns of <c>metrics/eval.csv</c> the plots need.</summary>
    public static IReadOnlyList<string> EvalColumns { get; } = ["iteration", "mean_return", "mean_cost"];

    private const string ControllerPrefix = "controller/";

    /// <summary>Draws the plots of <paramref name="runDirectory"/> whose data are there; returns the files written (full paths).</summary>
    /// <exception cref="DirectoryNotFoundException">The run folder does not exist.</exception>
    /// <exception cref="InvalidDataException">A CSV or JSON file of the run cannot be read; the message names the file and column.</exception>
    /// <param name="runDirectory">A run folder written by <c>MarvelPipeline</c> (or the <c>marvel</c> tool).</param>
    /// <returns>The PNG files written, in the order return, cost, lambda, Q bias; empty when the run has no rows yet.</returns>
    public static IReadOnlyList<string> Write(string runDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        var root = Path.GetFullPath(runDirectory);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"run folder '{root}' does not exist.");
        var online = CsvTable.Read(Path.Combine(root, "metrics", "online.csv"), OnlineColumns);
        var eval = CsvTable.Read(Path.Combine(root, "metrics", "eval.csv"), EvalColumns);
        double? limit = CostLimit(root);
        string caption = Caption(root, limit);
        var qbias = ReadQBias(Path.Combine(root, "qbias.json"));

        var folder = Path.Combine(root, FolderName);
        var files = new List<string>();
        bool hasOnline = online is { Count: > 0 };
        bool hasEval = eval is { Count: > 0 };
        if (hasOnline || hasEval)
        {
            Directory.CreateDirectory(folder);
            files.Add(Curves(online, eval, "mean_episode_return", "mean_return", null, "episode return", caption, Path.Combine(folder, "return.png")));
            files.Add(Curves(online, eval, "mean_episode_cost", "mean_cost", limit, "episode cost", caption, Path.Combine(folder, "cost.png")));
        }
        if (hasOnline)
            files.Add(Lambda(online!, caption, Path.Combine(folder, "lambda.png")));
        if (qbias.Count > 0)
        {
            Directory.CreateDirectory(folder);
            files.Add(QBias(qbias, caption, Path.Combine(folder, "qbias.png")));
        }
        return files;
    }

    /// <summary>One line for the console: the files written, relative to the run folder, or why there were none.</summary>
    /// <param name="runDirectory">The run folder.</param>
    /// <param name="files">What <see cref="Write"/> returned.</param>
    public static string Describe(string runDirectory, IReadOnlyList<string> files) =>
        (files ?? throw new ArgumentNullException(nameof(files))).Count == 0
            ? $"Plots of '{Path.GetFullPath(runDirectory)}': none (no rows in metrics/online.csv or metrics/eval.csv, no Q bias in qbias.json)."
            : $"Plots of '{Path.GetFullPath(runDirectory)}': {string.Join(", ", files.Select(f => Path.GetRelativePath(runDirectory, f).Replace('\\', '/')))}.";

    /// <summary>Training-episode means per iteration as a line, evaluations as points, and the cost limit when given.</summary>
    private static string Curves(CsvTable? online, CsvTable? eval, string onlineColumn, string evalColumn, double? limit, string what, string caption, string path)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        if (online is { Count: > 0 })
        {
            var (x, y) = Finite(online.Column("iteration"), online.Column(onlineColumn));
            if (x.Length > 0)
            {
                var line = plot.Add.Scatter(x, y);
                line.Color = palette.GetColor(0);
                line.MarkerSize = x.Length > 50 ? 0 : 4;
                line.LegendText = "training episodes (mean per iteration)";
            }
        }
        if (eval is { Count: > 0 })
        {
            var (x, y) = Finite(eval.Column("iteration"), eval.Column(evalColumn));
            if (x.Length > 0)
            {
                var points = plot.Add.Scatter(x, y);
                points.Color = palette.GetColor(1);
                points.LineWidth = 0;
                points.MarkerSize = 8;
                points.MarkerShape = ScottPlot.MarkerShape.FilledCircle;
                string normalized = evalColumn == "mean_return" ? "normalized_reward" : "normalized_cost";
                string last = eval.TryColumn(normalized) is { } n && n.Length > 0 && double.IsFinite(n[^1])
                    ? $" (last: {normalized.Replace('_', ' ')} {n[^1].ToString("F3", CultureInfo.InvariantCulture)})" : "";
                points.LegendText = $"evaluation{last}";
            }
        }
        if (limit is { } l && double.IsFinite(l))
        {
            var line = plot.Add.HorizontalLine(l);
            line.LinePattern = ScottPlot.LinePattern.Dashed;
            line.Color = ScottPlot.Colors.Black;
            line.LegendText = $"cost limit {l.ToString("G6", CultureInfo.InvariantCulture)}";
        }
        plot.Title(caption + char.ToUpperInvariant(what[0]) + what[1..] + ": training and evaluation");
        plot.XLabel("online iteration");
        PlotStyle.IntegerIterationAxis(plot);
        plot.YLabel(what);
        // Outside the data area, so that no point hides behind it.
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        return Save(plot, path);
    }

    /// <summary>
    /// λ on the left axis; on the right axis the P, I and D terms of a PID controller, or else every <c>controller/*</c> column
    /// (e.g. the dual-ascent gradient and step).
    /// </summary>
    private static string Lambda(CsvTable online, string caption, string path)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var iteration = online.Column("iteration");
        var (lx, ly) = Finite(iteration, online.Column("lambda"));
        if (lx.Length > 0)
        {
            var lambda = plot.Add.Scatter(lx, ly);
            lambda.Color = ScottPlot.Colors.Black;
            lambda.LineWidth = 2.5f;
            lambda.MarkerSize = 0;
            lambda.LegendText = "λ (left axis)";
        }
        // A PID controller's λ is the sum of its p, i and d terms: show those three (its ≈ 20 internal columns — filters, gains, adaptation
        // factors — have unrelated scales and would bury them). Any other controller: all of its controller/* columns.
        string[] pid = ["controller/p", "controller/i", "controller/d"];
        var terms = pid.All(online.Header.Contains)
            ? pid.ToList()
            : online.Header.Where(h => h.StartsWith(ControllerPrefix, StringComparison.Ordinal)).ToList();
        int k = 0;
        foreach (var term in terms)
        {
            var (x, y) = Finite(iteration, online.Column(term));
            if (x.Length == 0) continue;
            var line = plot.Add.Scatter(x, y);
            line.Color = palette.GetColor(k);
            line.LinePattern = k < 10 ? ScottPlot.LinePattern.Solid : ScottPlot.LinePattern.Dashed;
            line.MarkerSize = 0;
            line.Axes.YAxis = plot.Axes.Right;
            line.LegendText = term[ControllerPrefix.Length..];
            k++;
        }
        plot.Title(caption + (k > 0 ? "Lagrange multiplier λ and the controller's terms" : "Lagrange multiplier λ (no controller/* columns)"));
        plot.XLabel("online iteration");
        PlotStyle.IntegerIterationAxis(plot);
        plot.YLabel("λ");
        if (k > 0) plot.Axes.Right.Label.Text = "controller terms";
        plot.ShowLegend(ScottPlot.Edge.Right);
        return Save(plot, path);
    }

    /// <summary>Grouped bars: per critic (reward, cost) the mean relative bias of each measured artifact (handover, aligned).</summary>
    private static string QBias(List<(string Artifact, string Critic, double Bias)> values, string caption, string path)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        string[] critics = ["reward", "cost"];
        var artifacts = values.Select(v => v.Artifact).Distinct(StringComparer.Ordinal).ToList();
        var bars = new List<ScottPlot.Bar>();
        double width = 0.8 / artifacts.Count;
        for (int c = 0; c < critics.Length; c++)
            for (int a = 0; a < artifacts.Count; a++)
            {
                var hit = values.Where(v => v.Critic == critics[c] && v.Artifact == artifacts[a]).ToList();
                if (hit.Count == 0) continue;
                double bias = hit[0].Bias;
                bars.Add(new ScottPlot.Bar
                {
                    Position = c - 0.4 + width * (a + 0.5),
                    Value = bias,
                    Size = width * 0.9,
                    FillColor = palette.GetColor(a),
                    Label = bias.ToString("+0.00;-0.00", CultureInfo.InvariantCulture),
                });
            }
        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 14;
        var zero = plot.Add.HorizontalLine(0);
        zero.Color = ScottPlot.Colors.Black;
        zero.LineWidth = 1;
        plot.Axes.Bottom.SetTicks([0, 1], ["reward critic", "cost critic"]);
        for (int a = 0; a < artifacts.Count; a++)
            plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = artifacts[a] + "/", FillColor = palette.GetColor(a) });
        plot.Title(caption + "Q bias of the critics handed to the online stage");
        plot.YLabel("mean relative bias (Q − MC) / |MC|");
        // Outside the data area, so that no point hides behind it.
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        // Room for the value labels above and below the bars.
        double high = Math.Max(0, values.Max(v => v.Bias)), low = Math.Min(0, values.Min(v => v.Bias));
        double pad = Math.Max(0.05, 0.15 * (high - low));
        plot.Axes.SetLimitsY(low - pad, high + pad);
        plot.Axes.SetLimitsX(-0.6, 1.6);
        return Save(plot, path);
    }

    private static string Save(ScottPlot.Plot plot, string path)
    {
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(Width, Height, ScottPlot.ImageFormat.Png));
        return path;
    }

    /// <summary>The points where both coordinates are finite (an iteration without a finished episode has an empty cell).</summary>
    private static (double[] X, double[] Y) Finite(double[] x, double[] y)
    {
        var keep = Enumerable.Range(0, x.Length).Where(i => double.IsFinite(x[i]) && double.IsFinite(y[i])).ToArray();
        return (keep.Select(i => x[i]).ToArray(), keep.Select(i => y[i]).ToArray());
    }

    /// <summary>
    /// The title prefix naming the run: "BallCircle, cost limit 20, seed 3: " from <c>options.json</c> (task, seed) and
    /// <paramref name="limit"/>; the parts it cannot find are left out, and "" when none is found.
    /// </summary>
    internal static string Caption(string root, double? limit)
    {
        var parts = new List<string>();
        using (var options = ReadJson(Path.Combine(root, "options.json")))
        {
            if (options is { RootElement.ValueKind: JsonValueKind.Object } && options.RootElement.TryGetProperty("options", out var o) && o.ValueKind == JsonValueKind.Object)
            {
                if (o.TryGetProperty("TaskId", out var task) && task.ValueKind == JsonValueKind.String) parts.Add(task.GetString()!);
                if (limit is { } l) parts.Add("cost limit " + l.ToString("G6", CultureInfo.InvariantCulture));
                if (o.TryGetProperty("Seed", out var seed) && seed.ValueKind == JsonValueKind.Number) parts.Add("seed " + seed.GetRawText());
            }
            else if (limit is { } l) parts.Add("cost limit " + l.ToString("G6", CultureInfo.InvariantCulture));
        }
        return parts.Count == 0 ? "" : string.Join(", ", parts) + ": ";
    }

    /// <summary><c>cost_limit</c> of <c>run.json</c>, else <c>options.CostLimit</c> of <c>options.json</c>; null when neither says.</summary>
    internal static double? CostLimit(string root)
    {
        using (var run = ReadJson(Path.Combine(root, "run.json")))
            if (run is { RootElement.ValueKind: JsonValueKind.Object } && run.RootElement.TryGetProperty("cost_limit", out var c) && Number(c) is { } v)
                return v;
        using (var options = ReadJson(Path.Combine(root, "options.json")))
            if (options is { RootElement.ValueKind: JsonValueKind.Object } && options.RootElement.TryGetProperty("options", out var o) &&
                o.ValueKind == JsonValueKind.Object && o.TryGetProperty("CostLimit", out var c) && Number(c) is { } v)
                return v;
        return null;
    }

    /// <summary>
    /// The mean relative biases in <c>qbias.json</c> (layout of <c>PipelineRunner.MeasureQBias</c>:
    /// <c>{ "handover": { "reward": { "MeanRelativeBias": … }, "cost": { … } }, "aligned": … }</c>, or <c>{ "skipped": "…" }</c> per artifact).
    /// </summary>
    internal static List<(string Artifact, string Critic, double Bias)> ReadQBias(string path)
    {
        var values = new List<(string, string, double)>();
        using var document = ReadJson(path);
        if (document is null || document.RootElement.ValueKind != JsonValueKind.Object) return values;
        foreach (var artifact in new[] { "handover", "aligned" })
        {
            if (!document.RootElement.TryGetProperty(artifact, out var a) || a.ValueKind != JsonValueKind.Object) continue;
            foreach (var critic in new[] { "reward", "cost" })
                if (a.TryGetProperty(critic, out var c) && c.ValueKind == JsonValueKind.Object &&
                    c.TryGetProperty("MeanRelativeBias", out var b) && Number(b) is { } bias && double.IsFinite(bias))
                    values.Add((artifact, critic, bias));
        }
        return values;
    }

    private static JsonDocument? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>A JSON number, or a named literal ("NaN", "Infinity") as the run files write them.</summary>
    private static double? Number(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.String when double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) => v,
        _ => null,
    };
}

/// <summary>A numeric CSV file read by header name (the metrics files of a run folder); an empty cell is NaN.</summary>
public sealed class CsvTable
{
    private readonly string _path;
    private readonly List<string[]> _rows;
    private readonly Dictionary<string, int> _index;

    private CsvTable(string path, string[] header, List<string[]> rows)
    {
        _path = path;
        Header = header;
        _rows = rows;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < header.Length; i++) _index.TryAdd(header[i], i);
    }

    /// <summary>The column names, in file order.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>Data rows.</summary>
    public int Count => _rows.Count;

    /// <summary>Reads <paramref name="path"/>; null when the file does not exist.</summary>
    /// <param name="path">A CSV file with a header line, comma-separated, invariant-culture numbers.</param>
    /// <param name="required">Columns that must be in the header.</param>
    /// <exception cref="InvalidDataException">The file is empty, a row has another number of fields than the header, or a column of <paramref name="required"/> is missing.</exception>
    public static CsvTable? Read(string path, IReadOnlyList<string> required)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(required);
        if (!File.Exists(path)) return null;
        var lines = File.ReadAllLines(path).ToList();
        while (lines.Count > 0 && lines[^1].Trim().Length == 0) lines.RemoveAt(lines.Count - 1);
        if (lines.Count == 0) throw new InvalidDataException($"{path}: empty file, expected a header line with the columns {string.Join(", ", required)}.");
        var header = lines[0].Split(',').Select(h => h.Trim()).ToArray();
        var rows = new List<string[]>(lines.Count - 1);
        for (int i = 1; i < lines.Count; i++)
        {
            var fields = lines[i].Split(',');
            if (fields.Length != header.Length)
                throw new InvalidDataException($"{path}, line {i + 1}: {fields.Length} fields, but the header has {header.Length} columns.");
            rows.Add(fields);
        }
        var table = new CsvTable(path, header, rows);
        var missing = required.Where(c => !table._index.ContainsKey(c)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{path}: column{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(c => $"'{c}'"))} missing " +
                                           $"(header: {string.Join(",", header)}).");
        return table;
    }

    /// <summary>The values of column <paramref name="name"/>.</summary>
    /// <param name="name">The column's header name.</param>
    /// <exception cref="InvalidDataException">The column is missing, or a cell is not a number.</exception>
    public double[] Column(string name) =>
        TryColumn(name) ?? throw new InvalidDataException($"{_path}: column '{name}' missing (header: {string.Join(",", Header)}).");

    /// <summary>The values of column <paramref name="name"/>, or null when there is no such column.</summary>
    /// <param name="name">The column's header name.</param>
    /// <exception cref="InvalidDataException">A cell is not a number.</exception>
    public double[]? TryColumn(string name)
    {
        if (!_index.TryGetValue(name, out int c)) return null;
        var values = new double[_rows.Count];
        for (int r = 0; r < _rows.Count; r++)
        {
            var cell = _rows[r][c].Trim();
            if (cell.Length == 0) values[r] = double.NaN;
            else if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out values[r]))
                throw new InvalidDataException($"{_path}, line {r + 2}, column '{name}': '{cell}' is not a number.");
        }
        return values;
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Marvel.Core.Abstractions.IO;

namespace Marvel.Core.Pipeline;

/// <summary>
/// The files of one pipeline run. Every write replaces the whole file atomically (<see cref="AtomicFile"/>), so a reader, a crash or a
/// cancellation never sees a half-written CSV.
/// </summary>
/// <remarks>
/// Layout: <c>options.json</c>, <c>status.json</c>, <c>result.json</c>, <c>metrics/online.csv</c>, <c>metrics/eval.csv</c>,
/// <c>handover/</c> (the offline artifact), <c>aligned/</c> (the artifact after alignment), <c>checkpoints/iteration-NNNNNN/</c>.
/// </remarks>
internal sealed class RunDirectory
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly string[] OnlineLeading =
        ["iteration", "environment_steps", "episodes", "mean_episode_return", "mean_episode_cost", "lambda", "cumulative_violation"];

    private static readonly string[] EvalColumns =
        ["index", "iteration", "environment_steps", "episodes", "mean_return", "std_return", "mean_cost", "std_cost", "mean_length",
         "normalized_reward", "normalized_cost", "safe"];

    private readonly List<string> _extraColumns = new();
    private readonly List<Dictionary<string, double>> _onlineRows = new();
    private readonly List<EvaluationPoint> _evaluations = new();

    public RunDirectory(string path)
    {
        Root = Path.GetFullPath(path);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }
    public string OptionsPath => Path.Combine(Root, "options.json");
    public string StatusPath => Path.Combine(Root, "status.json");
    public string ResultPath => Path.Combine(Root, "result.json");
    public string OnlineCsvPath => Path.Combine(Root, "metrics", "online.csv");
    public string EvalCsvPath => Path.Combine(Root, "metrics", "eval.csv");
    public string HandoverPath => Path.Combine(Root, "handover");
    public string AlignedPath => Path.Combine(Root, "aligned");
    public string CheckpointPath(long iteration) => Path.Combine(Root, "checkpoints", "iteration-" + iteration.ToString("D6", CultureInfo.InvariantCulture));

    public IReadOnlyList<EvaluationPoint> Evaluations => _evaluations;

    public void WriteJson<T>(string path, T value) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(value, Json));

    public void WriteStatus(string status, string stage, string? message = null) =>
        WriteJson(StatusPath, new Dictionary<string, object?>
        {
            ["status"] = status,
            ["stage"] = stage,
            ["online_iterations"] = _onlineRows.Count,
            ["evaluations"] = _evaluations.Count,
            ["message"] = message,
            ["utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        });

    /// <summary>Appends one online row (leading columns plus the learner's scalars) and rewrites <c>metrics/online.csv</c>.</summary>
    public void AppendOnline(Dictionary<string, double> row)
    {
        foreach (var key in row.Keys)
            if (Array.IndexOf(OnlineLeading, key) < 0 && !_extraColumns.Contains(key)) _extraColumns.Add(key);
        _onlineRows.Add(row);
        WriteOnline();
    }

    /// <summary>Rewrites <c>metrics/online.csv</c> (the header alone when no iteration has run).</summary>
    public void WriteOnline()
    {
        var columns = OnlineLeading.Concat(_extraColumns).ToArray();
        var text = new StringBuilder();
        text.AppendJoin(',', columns).Append('\n');
        foreach (var row in _onlineRows)
            text.AppendJoin(',', columns.Select(c => row.TryGetValue(c, out var v) ? Format(v) : "")).Append('\n');
        AtomicFile.WriteAllText(OnlineCsvPath, text.ToString());
    }

    /// <summary>Appends one evaluation and rewrites <c>metrics/eval.csv</c>.</summary>
    public void AppendEvaluation(EvaluationPoint point)
    {
        _evaluations.Add(point);
        WriteEvaluations();
    }

    /// <summary>Rewrites <c>metrics/eval.csv</c> (the header alone when nothing was evaluated).</summary>
    public void WriteEvaluations()
    {
        var text = new StringBuilder();
        text.AppendJoin(',', EvalColumns).Append('\n');
        foreach (var p in _evaluations)
        {
            var r = p.Result;
            text.AppendJoin(',', new[]
            {
                p.Index.ToString(CultureInfo.InvariantCulture), p.Iteration.ToString(CultureInfo.InvariantCulture),
                p.EnvironmentSteps.ToString(CultureInfo.InvariantCulture), r.Episodes.Count.ToString(CultureInfo.InvariantCulture),
                Format(r.MeanReturn), Format(r.StdReturn), Format(r.MeanCost), Format(r.StdCost), Format(r.MeanLength),
                Format(r.NormalizedReward), Format(r.NormalizedCost), r.IsSafe ? "true" : "false",
            }).Append('\n');
        }
        AtomicFile.WriteAllText(EvalCsvPath, text.ToString());
    }

    private static string Format(double v) => v.ToString("G9", CultureInfo.InvariantCulture);
}

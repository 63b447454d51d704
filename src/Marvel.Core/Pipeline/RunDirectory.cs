using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Pipeline.Stages;

namespace Marvel.Core.Pipeline;

/// <summary>
/// The files of one pipeline run. Every write replaces the whole file atomically (<see cref="AtomicFile"/>), so a reader, a crash or a
/// cancellation never sees a half-written CSV. Only <see cref="ReadStatus"/> is public: it tells a tool whether a run directory is
/// empty, resumable, completed or diverged.
/// </summary>
/// <remarks>
/// Layout: <c>options.json</c>, <c>status.json</c>, <c>result.json</c>, <c>metrics/online.csv</c>, <c>metrics/eval.csv</c>,
/// <c>handover/</c> (the offline artifact), <c>aligned/</c> and <c>alignment.json</c> (the artifact after alignment and the alignment's
/// step count), <c>checkpoints/iteration-NNNNNN/</c> and <c>checkpoints/latest</c> (the name of the newest complete checkpoint),
/// <c>checkpoints/offline/</c> and <c>checkpoints/alignment/</c> (the newest checkpoint of the offline stage and of the alignment, until
/// that stage's output is saved).
/// </remarks>
public sealed class RunDirectory
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

    internal RunDirectory(string path)
    {
        Root = Path.GetFullPath(path);
        Directory.CreateDirectory(Root);
    }

    internal string Root { get; }
    internal string OptionsPath => Path.Combine(Root, "options.json");
    internal string StatusPath => Path.Combine(Root, "status.json");
    internal string ResultPath => Path.Combine(Root, "result.json");
    internal string OnlineCsvPath => Path.Combine(Root, "metrics", "online.csv");
    internal string EvalCsvPath => Path.Combine(Root, "metrics", "eval.csv");
    internal string HandoverPath => Path.Combine(Root, "handover");
    internal string AlignedPath => Path.Combine(Root, "aligned");
    /// <summary>The artifact of the policy the run returns (<see cref="MarvelPipelineOptions.ReturnedPolicy"/>), written when the run completes.</summary>
    internal string FinalPath => Path.Combine(Root, "final");

    /// <summary>Exports of the policies that were the best within the limit when evaluated (<see cref="ReturnedPolicy.BestWithinLimit"/>),
    /// one folder per evaluation index; removed when the run completes.</summary>
    internal string CandidatesPath => Path.Combine(Root, "returned-candidates");

    internal string CandidatePath(int evaluationIndex) =>
        Path.Combine(CandidatesPath, "evaluation-" + evaluationIndex.ToString("D4", CultureInfo.InvariantCulture));

    /// <summary>Deletes candidate folders of evaluations at or after <paramref name="firstStale"/>: on resume they belong to evaluations
    /// the run will make again (and save again when they are chosen again).</summary>
    internal void PruneCandidates(int firstStale)
    {
        if (!Directory.Exists(CandidatesPath)) return;
        foreach (var folder in Directory.EnumerateDirectories(CandidatesPath))
        {
            var name = Path.GetFileName(folder);
            bool stale = !name.StartsWith("evaluation-", StringComparison.Ordinal)
                || !int.TryParse(name.AsSpan("evaluation-".Length), NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= firstStale;
            if (stale) Directory.Delete(folder, recursive: true);
        }
    }

    internal string CheckpointPath(long iteration) => Path.Combine(Root, "checkpoints", "iteration-" + iteration.ToString("D6", CultureInfo.InvariantCulture));

    internal IReadOnlyList<EvaluationPoint> Evaluations => _evaluations;
    internal int OnlineRowCount => _onlineRows.Count;
    internal string AlignmentInfoPath => Path.Combine(Root, "alignment.json");

    /// <summary>The online learner's check of the handed-over critics (<see cref="Abstractions.Learning.CriticHandoverCheck"/>), when it ran.</summary>
    internal string HandoverCheckPath => Path.Combine(Root, "handover-check.json");

    /// <summary><c>critic-check.json</c>: the measured check of <see cref="CriticHandoverRule.MeasuredCostError"/>, when it ran.</summary>
    internal string CriticCheckPath => Path.Combine(Root, "critic-check.json");
    internal string CheckpointsPath => Path.Combine(Root, "checkpoints");

    /// <summary><c>runtime.json</c>: the runtime fingerprint of every process that ran a part of the run, in order (one entry unless resumed).</summary>
    internal string RuntimePath => Path.Combine(Root, "runtime.json");

    /// <summary>
    /// Records this process's runtime fingerprint in <c>runtime.json</c>: a fresh run starts the list, a resume appends to it (runs of
    /// earlier versions without the file start from the fingerprint their <c>status.json</c> holds). Returns the deciding differences
    /// between this process and any earlier one, as texts; empty when every process agreed.
    /// </summary>
    internal List<string> RecordRuntime(bool resume)
    {
        var history = new List<Dictionary<string, string>>();
        if (resume)
        {
            try
            {
                if (File.Exists(RuntimePath))
                    history = JsonSerializer.Deserialize<List<Dictionary<string, string>>>(File.ReadAllText(RuntimePath), Json) ?? [];
                else if (File.Exists(StatusPath))
                {
                    using var status = JsonDocument.Parse(File.ReadAllText(StatusPath));
                    if (status.RootElement.TryGetProperty("runtime", out var runtime) && runtime.ValueKind == JsonValueKind.Object)
                        history.Add(runtime.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String)
                            .ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal));
                }
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{RuntimePath}' (or status.json's \"runtime\") is not valid JSON: {e.Message}. Delete the file to resume without the check.", e);
            }
        }
        var current = RuntimeFingerprint.Describe();
        var differences = history.SelectMany(h => RuntimeFingerprint.Differences(h, current)).Distinct(StringComparer.Ordinal).ToList();
        history.Add(current);
        WriteJson(RuntimePath, history);
        return differences;
    }
    internal string OfflineCheckpointsPath => Path.Combine(CheckpointsPath, "offline");
    internal string AlignmentCheckpointsPath => Path.Combine(CheckpointsPath, "alignment");
    internal string LatestCheckpointPointerPath => Path.Combine(CheckpointsPath, LatestPointerName);

    /// <summary>Name of the file in <c>checkpoints/</c> that holds the folder name of the newest complete checkpoint.</summary>
    internal const string LatestPointerName = "latest";

    /// <summary>Name of the file that marks a checkpoint folder as complete (it is written inside the atomically renamed folder).</summary>
    internal const string CheckpointStateName = "state.json";

    /// <summary>A copy of the metrics rows, for checkpoints.</summary>
    internal RunMetricsSnapshot SnapshotMetrics() => new(_extraColumns.ToArray(),
        _onlineRows.Select(r => new Dictionary<string, double>(r, StringComparer.Ordinal)).ToArray(), _evaluations.ToArray());

    /// <summary>Replaces the metrics rows with a snapshot and rewrites both CSVs (rows written after the snapshot disappear).</summary>
    internal void RestoreMetrics(RunMetricsSnapshot snapshot)
    {
        _extraColumns.Clear();
        _extraColumns.AddRange(snapshot.ExtraColumns);
        _onlineRows.Clear();
        _onlineRows.AddRange(snapshot.OnlineRows.Select(r => new Dictionary<string, double>(r, StringComparer.Ordinal)));
        _evaluations.Clear();
        _evaluations.AddRange(snapshot.Evaluations);
        WriteOnline();
        WriteEvaluations();
    }

    /// <summary>The newest complete checkpoint: the one <c>checkpoints/latest</c> names, else the highest-numbered folder holding its
    /// state file; null when there is none. Temporary folders of interrupted saves are never returned.</summary>
    internal string? FindLatestCheckpoint() => FindLatestCheckpoint(Root);

    private static string? FindLatestCheckpoint(string root)
    {
        var folder = Path.Combine(root, "checkpoints");
        if (!Directory.Exists(folder)) return null;
        var pointer = Path.Combine(folder, LatestPointerName);
        if (File.Exists(pointer))
        {
            var name = File.ReadAllText(pointer).Trim();
            var path = Path.Combine(folder, name);
            if (name.Length > 0 && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 && File.Exists(Path.Combine(path, CheckpointStateName))) return path;
        }
        return Directory.EnumerateDirectories(folder, "iteration-*")
            .Where(d => File.Exists(Path.Combine(d, CheckpointStateName)))
            .OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .LastOrDefault();
    }

    /// <summary>
    /// Reads where the run in <paramref name="path"/> stands, without loading anything heavy: <see cref="RunState.Empty"/> (no run
    /// started there), <see cref="RunState.Completed"/>, <see cref="RunState.Diverged"/> or <see cref="RunState.Resumable"/> (started and
    /// neither completed nor diverged: cancelled, crashed, or still running in another process), with the stages and the newest checkpoint
    /// on disk. A tool runs <see cref="MarvelPipeline.Run"/> on an empty directory, <see cref="MarvelPipeline.Resume"/> on a resumable one,
    /// and skips completed ones.
    /// </summary>
    /// <param name="path">The run directory (need not exist).</param>
    /// <returns>The status; never null.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    public static RunDirectoryStatus ReadStatus(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var root = Path.GetFullPath(path);
        if (!File.Exists(Path.Combine(root, "options.json")))
            return new RunDirectoryStatus(root, RunState.Empty, null, null, false, false, null, null, null);
        string? status = null, stage = null, message = null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "status.json")));
            status = doc.RootElement.TryGetProperty("status", out var s) ? s.GetString() : null;
            stage = doc.RootElement.TryGetProperty("stage", out var st) ? st.GetString() : null;
            message = doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            // A missing or unreadable status file: the run started (options.json exists) and can be resumed.
        }
        var state = status switch
        {
            "completed" when File.Exists(Path.Combine(root, "result.json")) => RunState.Completed,
            "diverged" => RunState.Diverged,
            _ => RunState.Resumable,
        };
        var checkpoint = FindLatestCheckpoint(root);
        long? iteration = null;
        if (checkpoint is not null && long.TryParse(Path.GetFileName(checkpoint).AsSpan("iteration-".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var it))
            iteration = it;
        bool handover = HandoverStage.IsCompleteIn(root);
        bool aligned = AlignmentStage.IsCompleteIn(root);
        return new RunDirectoryStatus(root, state, stage, status, handover, aligned, checkpoint, iteration, message)
        {
            // A stage's checkpoints are deleted once its output is saved, so these are null after it.
            OfflineCheckpointStep = handover ? null : StageCheckpointFolder.Find(Path.Combine(root, "checkpoints", "offline"))?.Completed,
            AlignmentCheckpointStep = aligned ? null : StageCheckpointFolder.Find(Path.Combine(root, "checkpoints", "alignment"))?.Completed,
        };
    }

    internal void WriteJson<T>(string path, T value) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(value, Json));

    internal void WriteStatus(string status, string stage, string? message = null) =>
        WriteJson(StatusPath, new Dictionary<string, object?>
        {
            ["status"] = status,
            ["stage"] = stage,
            ["online_iterations"] = _onlineRows.Count,
            ["evaluations"] = _evaluations.Count,
            ["message"] = message,
            ["utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            // Versions, CPU kernel capability and thread count of the process writing: resumed runs are bit-identical only where these match.
            ["runtime"] = RuntimeFingerprint.Describe(),
        });

    /// <summary>Appends one online row (leading columns plus the learner's scalars) and rewrites <c>metrics/online.csv</c>.</summary>
    internal void AppendOnline(Dictionary<string, double> row)
    {
        foreach (var key in row.Keys)
            if (Array.IndexOf(OnlineLeading, key) < 0 && !_extraColumns.Contains(key)) _extraColumns.Add(key);
        _onlineRows.Add(row);
        WriteOnline();
    }

    /// <summary>Rewrites <c>metrics/online.csv</c> (the header alone when no iteration has run).</summary>
    internal void WriteOnline()
    {
        var columns = OnlineLeading.Concat(_extraColumns).ToArray();
        var text = new StringBuilder();
        text.AppendJoin(',', columns).Append('\n');
        foreach (var row in _onlineRows)
            text.AppendJoin(',', columns.Select(c => row.TryGetValue(c, out var v) ? Format(v) : "")).Append('\n');
        AtomicFile.WriteAllText(OnlineCsvPath, text.ToString());
    }

    /// <summary>Appends one evaluation and rewrites <c>metrics/eval.csv</c>.</summary>
    internal void AppendEvaluation(EvaluationPoint point)
    {
        _evaluations.Add(point);
        WriteEvaluations();
    }

    /// <summary>Rewrites <c>metrics/eval.csv</c> (the header alone when nothing was evaluated).</summary>
    internal void WriteEvaluations()
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

/// <summary>Where a run directory stands (<see cref="RunDirectory.ReadStatus"/>).</summary>
public enum RunState
{
    /// <summary>No run has started there (no <c>options.json</c>): start one with <see cref="MarvelPipeline.Run"/>.</summary>
    Empty,
    /// <summary>A run started and neither completed nor diverged (cancelled, crashed, or still running elsewhere): continue it with
    /// <see cref="MarvelPipeline.Resume"/>.</summary>
    Resumable,
    /// <summary>The run completed; <c>result.json</c> holds its numbers.</summary>
    Completed,
    /// <summary>The run stopped on a NaN/Inf loss or an exploding Q; <c>status.json</c> holds the diagnostic. Resuming repeats the
    /// divergence unless something changed; the newest checkpoint is the last good one.</summary>
    Diverged,
}

/// <summary>The status of a run directory, as read by <see cref="RunDirectory.ReadStatus"/>.</summary>
/// <param name="Path">Absolute path of the run directory.</param>
/// <param name="State">Empty, resumable, completed or diverged.</param>
/// <param name="Stage">The stage <c>status.json</c> names (<see cref="MarvelPipelineStages"/>), or null.</param>
/// <param name="StatusText">The raw status of <c>status.json</c> ("running", "cancelled", "completed", "diverged"), or null.</param>
/// <param name="HandoverComplete">The offline stage's artifact (<c>handover/</c>) is on disk, so a resume skips offline training.</param>
/// <param name="AlignmentComplete">The aligned artifact is on disk, so a resume skips alignment too.</param>
/// <param name="LatestCheckpoint">Absolute path of the newest complete online checkpoint, or null.</param>
/// <param name="LatestCheckpointIteration">Online iterations completed at that checkpoint, or null.</param>
/// <param name="Message">The message of <c>status.json</c> (e.g. the divergence diagnostic), or null.</param>
public sealed record RunDirectoryStatus(string Path, RunState State, string? Stage, string? StatusText, bool HandoverComplete, bool AlignmentComplete,
    string? LatestCheckpoint, long? LatestCheckpointIteration, string? Message)
{
    /// <summary>Gradient steps of the offline stage's newest checkpoint (<c>checkpoints/offline/</c>, see
    /// <see cref="MarvelPipelineOptions.OfflineCheckpointEvery"/>) while <c>handover/</c> is not yet saved; null when there is none.</summary>
    public long? OfflineCheckpointStep { get; init; }

    /// <summary>Aligner calls of the alignment's newest checkpoint (<c>checkpoints/alignment/</c>, see
    /// <see cref="MarvelPipelineOptions.AlignmentCheckpointEvery"/>) while <c>aligned/</c> is not yet saved; null when there is none.</summary>
    public long? AlignmentCheckpointStep { get; init; }
}

/// <summary>The metrics rows of a run at a checkpoint (exact doubles, so resumed CSVs and results are identical).</summary>
internal sealed record RunMetricsSnapshot(string[] ExtraColumns, Dictionary<string, double>[] OnlineRows, EvaluationPoint[] Evaluations);

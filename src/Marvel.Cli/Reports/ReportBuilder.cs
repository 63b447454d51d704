using Marvel.Plotting;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Marvel.Cli.Reports;

/// <summary>One evaluation row of <c>metrics/eval.csv</c>.</summary>
internal sealed record CurvePoint(long Iteration, double MeanReturn, double MeanCost, double NormalizedReward, double NormalizedCost);

/// <summary>One online iteration of <c>metrics/online.csv</c>: the mean return and cost of its training episodes and λ after it.</summary>
internal sealed record TrainingPoint(long Iteration, double MeanReturn, double MeanCost, double Lambda);

/// <summary>
/// One artifact's Q bias from <c>qbias.json</c>: the mean relative bias per critic (mean over states of (Q − MC)/|MC|), and the mean
/// critic value and mean Monte-Carlo value over the states, and the mean over states of |Q − MC| (scaled units).
/// </summary>
internal readonly record struct QBias(double Reward, double Cost, double RewardQ = double.NaN, double RewardMonteCarlo = double.NaN,
    double CostQ = double.NaN, double CostMonteCarlo = double.NaN, double RewardStateError = double.NaN, double CostStateError = double.NaN)
{
    public static readonly QBias None = new(double.NaN, double.NaN);

    /// <summary>|mean Q − mean Monte-Carlo| of the reward critic: the bias of the average, robust where single Monte-Carlo values are near 0.</summary>
    public double RewardAbsoluteBias => Math.Abs(RewardQ - RewardMonteCarlo);

    /// <summary>|mean Q − mean Monte-Carlo| of the cost critic.</summary>
    public double CostAbsoluteBias => Math.Abs(CostQ - CostMonteCarlo);
}

/// <summary>What the report reads from one complete run folder.</summary>
internal sealed record RunRecord(string Directory, string Task, string Algorithm, double CostLimit, string Extra, ulong Seed, int Order,
    double NormalizedReward, double NormalizedCost, double CumulativeViolation, double NormalizedRewardAuc, IReadOnlyList<CurvePoint> Curve)
{
    /// <summary>The online training curve (empty for a run without online iterations).</summary>
    public IReadOnlyList<TrainingPoint> Training { get; init; } = [];

    /// <summary>Normalized reward of the last iterate (<c>last_iterate_*</c> in result.json; runs that returned their last iterate, or
    /// predate the field, report the final numbers).</summary>
    public double LastIterateReward { get; init; } = double.NaN;

    /// <summary>Normalized cost of the last iterate (see <see cref="LastIterateReward"/>).</summary>
    public double LastIterateCost { get; init; } = double.NaN;

    /// <summary>The online iteration of the returned policy (<c>final_iteration</c>; NaN when absent).</summary>
    public double ReturnedIteration { get; init; } = double.NaN;

    /// <summary>Σ max(0, episode cost − limit) over the evaluation episodes (<c>evaluation_violation</c>; NaN when absent).</summary>
    public double EvaluationViolation { get; init; } = double.NaN;

    /// <summary>The run's wall time in seconds (<c>elapsed_seconds</c>: all its stages, summed over resumes; NaN when absent).</summary>
    public double ElapsedSeconds { get; init; } = double.NaN;

    /// <summary>The CPU kernel capabilities of the processes that made the run (<c>runtime.json</c>, else <c>status.json</c>'s
    /// "runtime"; empty when neither records one).</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];

    /// <summary>result.json's <c>runtime_warning</c>: the run was resumed under another runtime (null when not).</summary>
    public string? RuntimeWarning { get; init; }

    /// <summary>Q bias of the handed-over critics (NaN when not measured).</summary>
    public QBias Handover { get; init; } = QBias.None;

    /// <summary>Q bias of the aligned critics (NaN when not measured or not aligned).</summary>
    public QBias Aligned { get; init; } = QBias.None;

    /// <summary>Smallest λ over the online iterations (NaN without online iterations).</summary>
    public double LambdaMin => Training.Count == 0 ? double.NaN : Training.Min(p => p.Lambda);

    /// <summary>Largest λ over the online iterations (NaN without online iterations).</summary>
    public double LambdaMax => Training.Count == 0 ? double.NaN : Training.Max(p => p.Lambda);
}

/// <summary>Mean and spread of one metric over seeds.</summary>
internal readonly record struct Spread(double Mean, double Std)
{
    /// <summary>Mean and population standard deviation (divide by n, as numpy's default); NaN values are left out.</summary>
    public static Spread Of(IEnumerable<double> values)
    {
        var v = values.Where(x => !double.IsNaN(x)).ToArray();
        if (v.Length == 0) return new Spread(double.NaN, double.NaN);
        double mean = v.Average();
        return new Spread(mean, Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length));
    }

    public string Format(string format) => double.IsNaN(Mean) ? "n/a" :
        $"{Mean.ToString(format, CultureInfo.InvariantCulture)} ± {Std.ToString(format, CultureInfo.InvariantCulture)}";
}

/// <summary>One row of the table: a task × cost limit × algorithm (× other axes) group over seeds.</summary>
internal sealed record ReportRow(string Task, double CostLimit, string Algorithm, string Extra, IReadOnlyList<RunRecord> Runs)
{
    public Spread NormalizedReward => Spread.Of(Runs.Select(r => r.NormalizedReward));
    public Spread NormalizedCost => Spread.Of(Runs.Select(r => r.NormalizedCost));
    public Spread CumulativeViolation => Spread.Of(Runs.Select(r => r.CumulativeViolation));
    public Spread NormalizedRewardAuc => Spread.Of(Runs.Select(r => r.NormalizedRewardAuc));
    public Spread LastIterateReward => Spread.Of(Runs.Select(r => r.LastIterateReward));
    public Spread LastIterateCost => Spread.Of(Runs.Select(r => r.LastIterateCost));
    public Spread WallMinutes => Spread.Of(Runs.Select(r => r.ElapsedSeconds / 60));

    /// <summary>Seeds whose returned policy is within the limit (normalized cost ≤ 1).</summary>
    public int WithinLimit => Runs.Count(r => r.NormalizedCost <= 1.0);

    /// <summary>The smallest and largest λ of any online iteration of any seed (NaN for rows without online iterations).</summary>
    public (double Min, double Max) LambdaRange
    {
        get
        {
            var runs = Runs.Where(r => r.Training.Count > 0).ToList();
            return runs.Count == 0 ? (double.NaN, double.NaN) : (runs.Min(r => r.LambdaMin), runs.Max(r => r.LambdaMax));
        }
    }

    /// <summary>Whether any seed of the row has a Q-bias measurement.</summary>
    public bool HasQBias => Runs.Any(r => !double.IsNaN(r.Handover.Reward) || !double.IsNaN(r.Aligned.Reward));
}

/// <summary>
/// Aggregates run folders (wherever they ran) into the paper-style table: mean ± std over seeds of final normalized reward,
/// final normalized cost, cumulative online violation and the normalized-reward area under the evaluation curve.
/// </summary>
internal static class ReportBuilder
{
    /// <summary>Finds run folders under <paramref name="paths"/>: a folder with <c>status.json</c>, <c>result.json</c> or <c>run.json</c> is a run; others are searched.</summary>
    public static List<string> FindRunFolders(IEnumerable<string> paths)
    {
        var found = new List<string>();
        foreach (var p in paths)
        {
            if (!Directory.Exists(p)) throw new UsageException($"report: '{p}' is not a folder.");
            Walk(Path.GetFullPath(p), found);
        }
        return found.Distinct(StringComparer.Ordinal).ToList();
    }

    private static void Walk(string dir, List<string> found)
    {
        if (new[] { "status.json", "result.json", "run.json" }.Any(f => File.Exists(Path.Combine(dir, f))))
        {
            found.Add(dir);
            return;
        }
        foreach (var sub in Directory.GetDirectories(dir).Order(StringComparer.Ordinal)) Walk(sub, found);
    }

    /// <summary>Reads a complete run folder, or returns null with the reason when it is not complete.</summary>
    public static RunRecord? Read(string dir, out string? reason)
    {
        reason = null;
        var resultPath = Path.Combine(dir, "result.json");
        if (!File.Exists(resultPath))
        {
            reason = "no result.json (not complete)";
            return null;
        }
        try
        {
            using var result = JsonDocument.Parse(File.ReadAllText(resultPath));
            JsonElement? run = null;
            JsonDocument? runDoc = null;
            if (File.Exists(Path.Combine(dir, "run.json")))
            {
                runDoc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "run.json")));
                run = runDoc.RootElement;
            }
            JsonElement? options = null;
            JsonDocument? optionsDoc = null;
            if (File.Exists(Path.Combine(dir, "options.json")))
            {
                optionsDoc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "options.json")));
                if (optionsDoc.RootElement.TryGetProperty("options", out var o)) options = o;
            }
            using (runDoc)
            using (optionsDoc)
            {
                var r = result.RootElement;
                string task = Str(run, "task") ?? Str(options, "TaskId") ?? "unknown";
                string algorithm = Str(run, "algorithm") ?? $"{Str(result.RootElement, "offline_algorithm")}→{Str(result.RootElement, "online_algorithm")}";
                double costLimit = Num(run, "cost_limit") ?? Num(options, "CostLimit") ?? double.NaN;
                ulong seed = (ulong)(Num(run, "seed") ?? Num(options, "Seed") ?? 0);
                int order = (int)(Num(run, "index") ?? int.MaxValue);
                string extra = "";
                if (run is { } rj && rj.TryGetProperty("axes", out var axes) && axes.ValueKind == JsonValueKind.Object)
                    extra = string.Join(" ", axes.EnumerateObject()
                        .Where(a => a.Name is not ("task" or "algorithm" or "costLimit" or "seed"))
                        .Select(a => $"{a.Name[(a.Name.LastIndexOf(':') + 1)..]}={a.Value}"));
                var (handover, aligned) = ReadQBias(Path.Combine(dir, "qbias.json"));
                return new RunRecord(dir, task, algorithm, costLimit, extra, seed, order,
                    Num(r, "final_normalized_reward") ?? double.NaN, Num(r, "final_normalized_cost") ?? double.NaN,
                    Num(r, "cumulative_violation") ?? double.NaN, Num(r, "normalized_reward_auc") ?? double.NaN, ReadCurve(Path.Combine(dir, "metrics", "eval.csv")))
                {
                    Training = ReadTraining(Path.Combine(dir, "metrics", "online.csv")),
                    LastIterateReward = Num(r, "last_iterate_normalized_reward") ?? Num(r, "final_normalized_reward") ?? double.NaN,
                    LastIterateCost = Num(r, "last_iterate_normalized_cost") ?? Num(r, "final_normalized_cost") ?? double.NaN,
                    ReturnedIteration = Num(r, "final_iteration") ?? double.NaN,
                    EvaluationViolation = Num(r, "evaluation_violation") ?? double.NaN,
                    ElapsedSeconds = Num(r, "elapsed_seconds") ?? double.NaN,
                    Capabilities = ReadCapabilities(dir),
                    RuntimeWarning = Str(r, "runtime_warning"),
                    Handover = handover,
                    Aligned = aligned,
                };
            }
        }
        catch (Exception e) when (e is JsonException or IOException or FormatException or InvalidDataException)
        {
            reason = $"unreadable: {e.Message}";
            return null;
        }
    }

    /// <summary>The <c>cpuKernelCapability</c> of every process in <c>runtime.json</c>, else of <c>status.json</c>'s "runtime".</summary>
    internal static IReadOnlyList<string> ReadCapabilities(string dir)
    {
        static string? Capability(JsonElement e) => Str(e, "cpuKernelCapability") is not { } c ? null
            : Str(e, "mklCbwr") is { } mkl && mkl != "auto" ? $"{c} with MKL_CBWR={mkl}" : c;
        var runtime = Path.Combine(dir, "runtime.json");
        if (File.Exists(runtime))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(runtime));
            if (doc.RootElement.ValueKind == JsonValueKind.Array)
                return doc.RootElement.EnumerateArray().Select(Capability).OfType<string>().ToList();
        }
        var status = Path.Combine(dir, "status.json");
        if (File.Exists(status))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(status));
            if (doc.RootElement.TryGetProperty("runtime", out var r) && Capability(r) is { } c) return [c];
        }
        return [];
    }

    /// <summary>
    /// A warning when the runs of the report were made under more than one CPU kernel capability or a run was resumed under another
    /// runtime (their numbers are then not bit-comparable with a rerun elsewhere); null when everything agrees.
    /// </summary>
    public static string? RuntimeWarning(IReadOnlyList<ReportRow> rows)
    {
        var runs = rows.SelectMany(r => r.Runs).ToList();
        var capabilities = runs.SelectMany(r => r.Capabilities.Distinct(StringComparer.Ordinal)).GroupBy(c => c, StringComparer.Ordinal)
            .Select(g => $"{g.Key} ({g.Count()} run{(g.Count() == 1 ? "" : "s")})").ToList();
        var resumed = runs.Where(r => r.RuntimeWarning is not null).Select(r => Path.GetFileName(r.Directory)).ToList();
        if (capabilities.Count <= 1 && resumed.Count == 0) return null;
        var text = new StringBuilder("Warning: ");
        if (capabilities.Count > 1)
            text.Append(CultureInfo.InvariantCulture, $"these runs were made under {capabilities.Count} CPU kernel capabilities: {string.Join(", ", capabilities)}. ");
        if (resumed.Count > 0)
            text.Append(CultureInfo.InvariantCulture, $"{resumed.Count} run(s) were resumed under another runtime: {string.Join(", ", resumed)}. ");
        text.Append("The numbers are correct but round differently; a rerun reproduces them bit for bit only under the same capability (ATEN_CPU_CAPABILITY).");
        return text.ToString();
    }

    private static string? Str(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Num(JsonElement? e, string name)
    {
        if (e is not { ValueKind: JsonValueKind.Object } o || !o.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.Number => v.GetDouble(),
            JsonValueKind.String when double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            JsonValueKind.String => v.GetString() is "NaN" ? double.NaN : null,
            _ => null,
        };
    }

    /// <summary>Reads <c>metrics/eval.csv</c> by column name; an absent or empty file gives an empty curve.</summary>
    internal static List<CurvePoint> ReadCurve(string path)
    {
        if (ReadTable(path, ["iteration", "mean_return", "mean_cost", "normalized_reward", "normalized_cost"]) is not { } t) return [];
        var (it, ret, cost, nr, nc) = (t.Column("iteration"), t.Column("mean_return"), t.Column("mean_cost"), t.Column("normalized_reward"), t.Column("normalized_cost"));
        return Enumerable.Range(0, t.Count).Select(i => new CurvePoint((long)it[i], ret[i], cost[i], nr[i], nc[i])).ToList();
    }

    /// <summary>Reads <c>metrics/online.csv</c> by column name (iteration, mean_episode_return, mean_episode_cost, lambda); an absent or empty file gives an empty curve.</summary>
    internal static List<TrainingPoint> ReadTraining(string path)
    {
        if (ReadTable(path, RunPlots.OnlineColumns) is not { } t) return [];
        var (it, ret, cost, lambda) = (t.Column("iteration"), t.Column("mean_episode_return"), t.Column("mean_episode_cost"), t.Column("lambda"));
        return Enumerable.Range(0, t.Count).Select(i => new TrainingPoint((long)it[i], ret[i], cost[i], lambda[i])).ToList();
    }

    /// <summary><see cref="CsvTable.Read"/>, except that an empty file (a run that wrote only its header, or nothing) is no table.</summary>
    private static CsvTable? ReadTable(string path, IReadOnlyList<string> columns) =>
        File.Exists(path) && new FileInfo(path).Length > 0 ? CsvTable.Read(path, columns) : null;

    /// <summary>Reads the mean relative biases of <c>qbias.json</c> (written by a run with <c>Run:QBias</c>); absent parts are NaN.</summary>
    internal static (QBias Handover, QBias Aligned) ReadQBias(string path)
    {
        if (!File.Exists(path)) return (QBias.None, QBias.None);
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true });
        QBias Part(string name)
        {
            if (!doc.RootElement.TryGetProperty(name, out var part) || part.ValueKind != JsonValueKind.Object) return QBias.None;
            double Field(string critic, string field) => part.TryGetProperty(critic, out var c) && c.ValueKind == JsonValueKind.Object
                ? Num(c, field) ?? double.NaN : double.NaN;
            return new QBias(Field("reward", "MeanRelativeBias"), Field("cost", "MeanRelativeBias"), Field("reward", "MeanQ"), Field("reward", "MeanMonteCarlo"),
                Field("cost", "MeanQ"), Field("cost", "MeanMonteCarlo"), Field("reward", "MeanAbsoluteBias"), Field("cost", "MeanAbsoluteBias"));
        }
        return (Part("handover"), Part("aligned"));
    }

    /// <summary>Groups records into rows (task, cost limit, then the order runs were first seen in).</summary>
    public static List<ReportRow> Aggregate(IEnumerable<RunRecord> records)
    {
        var ordered = records.OrderBy(r => r.Order).ThenBy(r => r.Directory, StringComparer.Ordinal).ToList();
        return ordered
            .GroupBy(r => (r.Task, r.CostLimit, r.Algorithm, r.Extra))
            .Select(g => new ReportRow(g.Key.Task, g.Key.CostLimit, g.Key.Algorithm, g.Key.Extra, g.OrderBy(r => r.Seed).ToList()))
            .OrderBy(row => row.Task, StringComparer.Ordinal).ThenBy(row => row.CostLimit)
            .ThenBy(row => ordered.FindIndex(r => r.Algorithm == row.Algorithm && r.Extra == row.Extra))
            .ToList();
    }

    public static string Markdown(IReadOnlyList<ReportRow> rows, IReadOnlyList<string> skipped)
    {
        bool extra = rows.Any(r => r.Extra.Length > 0);
        var md = new StringBuilder();
        md.Append("| task | cost limit | algorithm |").Append(extra ? " setting |" : "").Append(" seeds | normalized reward ↑ | normalized cost ↓ | within limit | cumulative violation ↓ | reward AUC ↑ | λ range | last iterate: reward, cost | wall time (min) |\n");
        md.Append("|---|---|---|").Append(extra ? "---|" : "").Append("---|---|---|---|---|---|---|---|---|\n");
        foreach (var r in rows)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {r.Task} | {CommandsNumber(r.CostLimit)} | {r.Algorithm} |");
            if (extra) md.Append(CultureInfo.InvariantCulture, $" {r.Extra} |");
            md.Append(CultureInfo.InvariantCulture, $" {r.Runs.Count} | {r.NormalizedReward.Format("F3")} | {r.NormalizedCost.Format("F2")} | {r.WithinLimit}/{r.Runs.Count} | {r.CumulativeViolation.Format("F1")} | {r.NormalizedRewardAuc.Format("F3")} | {FormatRange(r.LambdaRange)} | {r.LastIterateReward.Format("F3")}, {r.LastIterateCost.Format("F2")} | {r.WallMinutes.Format("F1")} |\n");
        }
        md.Append('\n');
        md.Append("Mean ± standard deviation over seeds (population std, n in the seeds column). Normalized reward and cost are DSRL's, of the ");
        md.Append("deterministic evaluation of the policy each run returns (normalized cost ≤ 1 is within the limit; `Marvel:Pipeline:ReturnedPolicy`: the ");
        md.Append("best evaluated policy within the limit, re-evaluated on fresh episodes, or the last iterate); within limit: seeds whose returned policy ");
        md.Append("is within it; last iterate: the same numbers for the policy after the last iteration (equal where the run returned it). Cumulative violation: Σ max(0, episode cost − limit) over all online ");
        md.Append("training episodes. Reward AUC: area under the normalized-reward evaluation curve divided by the online iterations it spans. ");
        md.Append("λ range: the smallest and largest multiplier of any online iteration of any seed (n/a without online iterations). ");
        md.Append("Wall time: each run's own elapsed time over all its stages and resumes (`elapsed_seconds`), which depends on the machine and on ");
        md.Append("what else ran on it.\n");
        var biased = rows.Where(r => r.HasQBias).ToList();
        if (biased.Count > 0)
        {
            md.Append("\nQ bias of the critics against Monte-Carlo rollouts of their own actor from dataset states (`qbias.json`, scaled units): the mean ");
            md.Append("critic value Q over the states for the handed-over critics (`handover/`) and after value alignment (`aligned/`; the same critics where ");
            md.Append("the row does not align), the mean Monte-Carlo value MC of the same states, the error of the mean |mean Q − mean MC| and the ");
            md.Append("per-state error (mean over states of |Q − MC|, which a critic that is right only on average does not pass) before → after; ");
            md.Append("mean ± std over seeds (errors: means over seeds). Per-state relative biases are in `runs.csv`.\n\n");
            md.Append("| task | cost limit | algorithm |").Append(extra ? " setting |" : "");
            md.Append(" reward Q, handover | reward Q, aligned | reward MC | reward \\|mean Q − mean MC\\| | reward per-state \\|Q − MC\\| |");
            md.Append(" cost Q, handover | cost Q, aligned | cost MC | cost \\|mean Q − mean MC\\| | cost per-state \\|Q − MC\\| |\n");
            md.Append("|---|---|---|").Append(extra ? "---|" : "").Append("---|---|---|---|---|---|---|---|---|---|\n");
            foreach (var r in biased)
            {
                string S(Func<RunRecord, double> f) => Spread.Of(r.Runs.Select(f)).Format("F2");
                string Change(Func<RunRecord, double> before, Func<RunRecord, double> after) =>
                    $"{Spread.Of(r.Runs.Select(before)).Mean.ToString("F2", CultureInfo.InvariantCulture)} → {Spread.Of(r.Runs.Select(after)).Mean.ToString("F2", CultureInfo.InvariantCulture)}";
                md.Append(CultureInfo.InvariantCulture, $"| {r.Task} | {CommandsNumber(r.CostLimit)} | {r.Algorithm} |");
                if (extra) md.Append(CultureInfo.InvariantCulture, $" {r.Extra} |");
                md.Append(CultureInfo.InvariantCulture, $" {S(x => x.Handover.RewardQ)} | {S(x => x.Aligned.RewardQ)} | {S(x => x.Handover.RewardMonteCarlo)} | {Change(x => x.Handover.RewardAbsoluteBias, x => x.Aligned.RewardAbsoluteBias)} | {Change(x => x.Handover.RewardStateError, x => x.Aligned.RewardStateError)} |");
                md.Append(CultureInfo.InvariantCulture, $" {S(x => x.Handover.CostQ)} | {S(x => x.Aligned.CostQ)} | {S(x => x.Handover.CostMonteCarlo)} | {Change(x => x.Handover.CostAbsoluteBias, x => x.Aligned.CostAbsoluteBias)} | {Change(x => x.Handover.CostStateError, x => x.Aligned.CostStateError)} |\n");
            }
        }
        if (RuntimeWarning(rows) is { } warning) md.Append('\n').Append(warning).Append('\n');
        if (skipped.Count > 0)
        {
            md.Append(CultureInfo.InvariantCulture, $"\n{skipped.Count} run folder(s) left out:\n");
            foreach (var s in skipped) md.Append("- ").Append(s).Append('\n');
        }
        return md.ToString();
    }

    public static string Csv(IReadOnlyList<ReportRow> rows)
    {
        var csv = new StringBuilder("task,cost_limit,algorithm,setting,seeds,normalized_reward_mean,normalized_reward_std,normalized_cost_mean,normalized_cost_std," +
                                    "cumulative_violation_mean,cumulative_violation_std,reward_auc_mean,reward_auc_std,lambda_min,lambda_max," +
                                    "qbias_reward_handover,qbias_reward_aligned,qbias_cost_handover,qbias_cost_aligned,wall_minutes_mean\n");
        foreach (var r in rows)
        {
            csv.AppendJoin(',', Q(r.Task), F(r.CostLimit), Q(r.Algorithm), Q(r.Extra), r.Runs.Count.ToString(CultureInfo.InvariantCulture),
                F(r.NormalizedReward.Mean), F(r.NormalizedReward.Std), F(r.NormalizedCost.Mean), F(r.NormalizedCost.Std),
                F(r.CumulativeViolation.Mean), F(r.CumulativeViolation.Std), F(r.NormalizedRewardAuc.Mean), F(r.NormalizedRewardAuc.Std),
                F(r.LambdaRange.Min), F(r.LambdaRange.Max), F(Spread.Of(r.Runs.Select(x => x.Handover.Reward)).Mean), F(Spread.Of(r.Runs.Select(x => x.Aligned.Reward)).Mean),
                F(Spread.Of(r.Runs.Select(x => x.Handover.Cost)).Mean), F(Spread.Of(r.Runs.Select(x => x.Aligned.Cost)).Mean), F(r.WallMinutes.Mean)).Append('\n');
        }
        return csv.ToString();
    }

    /// <summary>
    /// The raw per-run curves in long format, one line per run and point: <c>runs.csv</c> (final numbers per run),
    /// <c>training.csv</c> (every online iteration: return, cost, λ) and <c>evaluations.csv</c> (every evaluation), so the table and the
    /// plots can be recomputed without the run folders.
    /// </summary>
    public static (string Runs, string Training, string Evaluations) RawCsv(IReadOnlyList<ReportRow> rows)
    {
        var runs = new StringBuilder("task,cost_limit,algorithm,setting,seed,run,normalized_reward,normalized_cost,cumulative_violation,reward_auc,lambda_min,lambda_max," +
                                     "qbias_reward_handover,qbias_reward_aligned,qbias_cost_handover,qbias_cost_aligned," +
                                     "reward_q_handover,reward_q_aligned,reward_monte_carlo,cost_q_handover,cost_q_aligned,cost_monte_carlo," +
                                     "reward_state_error_handover,reward_state_error_aligned,cost_state_error_handover,cost_state_error_aligned," +
                                     "last_iterate_normalized_reward,last_iterate_normalized_cost,returned_iteration,evaluation_violation,elapsed_seconds\n");
        var training = new StringBuilder("task,cost_limit,algorithm,setting,seed,iteration,mean_episode_return,mean_episode_cost,lambda\n");
        var evaluations = new StringBuilder("task,cost_limit,algorithm,setting,seed,iteration,mean_return,mean_cost,normalized_reward,normalized_cost\n");
        foreach (var row in rows)
            foreach (var r in row.Runs)
            {
                string key = string.Join(',', Q(r.Task), F(r.CostLimit), Q(r.Algorithm), Q(r.Extra), r.Seed.ToString(CultureInfo.InvariantCulture));
                runs.AppendJoin(',', key, Q(Path.GetFileName(r.Directory)), F(r.NormalizedReward), F(r.NormalizedCost), F(r.CumulativeViolation), F(r.NormalizedRewardAuc),
                    F(r.LambdaMin), F(r.LambdaMax), F(r.Handover.Reward), F(r.Aligned.Reward), F(r.Handover.Cost), F(r.Aligned.Cost),
                    F(r.Handover.RewardQ), F(r.Aligned.RewardQ), F(r.Handover.RewardMonteCarlo), F(r.Handover.CostQ), F(r.Aligned.CostQ), F(r.Handover.CostMonteCarlo),
                    F(r.Handover.RewardStateError), F(r.Aligned.RewardStateError), F(r.Handover.CostStateError), F(r.Aligned.CostStateError),
                    F(r.LastIterateReward), F(r.LastIterateCost), F(r.ReturnedIteration), F(r.EvaluationViolation), F(r.ElapsedSeconds)).Append('\n');
                foreach (var p in r.Training)
                    training.AppendJoin(',', key, p.Iteration.ToString(CultureInfo.InvariantCulture), F(p.MeanReturn), F(p.MeanCost), F(p.Lambda)).Append('\n');
                foreach (var p in r.Curve)
                    evaluations.AppendJoin(',', key, p.Iteration.ToString(CultureInfo.InvariantCulture), F(p.MeanReturn), F(p.MeanCost), F(p.NormalizedReward), F(p.NormalizedCost)).Append('\n');
            }
        return (runs.ToString(), training.ToString(), evaluations.ToString());
    }

    /// <summary>A CSV number: round-trippable, invariant culture.</summary>
    private static string F(double v) => v.ToString("G9", CultureInfo.InvariantCulture);

    /// <summary>A CSV text cell, quoted when it holds a comma or a quote.</summary>
    private static string Q(string s) => s.Contains(',', StringComparison.Ordinal) || s.Contains('"', StringComparison.Ordinal) ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;

    private static string FormatRange((double Min, double Max) range) => double.IsNaN(range.Min) ? "n/a" :
        $"{range.Min.ToString("G3", CultureInfo.InvariantCulture)} – {range.Max.ToString("G3", CultureInfo.InvariantCulture)}";

    private static string CommandsNumber(double v) => double.IsNaN(v) ? "n/a" : v.ToString("G6", CultureInfo.InvariantCulture);
}

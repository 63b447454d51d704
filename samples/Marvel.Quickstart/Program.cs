// Marvel.Core quickstart: the offline-to-online Marvel pipeline on BallCircle, end to end.
//   1. collect an offline dataset that spans low to high episode costs (scripted controllers at a cost sweep)
//   2. MarvelPipeline: CPQ offline → handover artifact → Value Pre-Alignment on the dataset → SAC-Lag finetuning with the adaptive PID
//      Lagrangian, evaluated at iteration 0 (the offline policy), every few iterations and at the end
//   3. print offline vs finetuned DSRL-normalized reward and cost; everything is also in the run directory, with plots/*.png
// Usage: dotnet run --project samples/Marvel.Quickstart -- [offlineSteps] [onlineIterations] [runDirectory]
using System.Diagnostics;
using System.Globalization;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Alignment;
using Marvel.Core.Data;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
const string task = "BallCircle";
const double costLimit = 20;          // undiscounted episode cost budget
const ulong seed = 7;
int offlineSteps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1500;
int onlineIterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 60;
string runDirectory = args.Length > 2 ? args[2] : Path.Combine("runs", "quickstart");
int[] hidden = [128, 128];
TorchSharp.torch.set_num_threads(1);

var clock = Stopwatch.StartNew();
var dataset = DatasetCollector.GenerateBuiltIn(task, episodes: 200, seed: new SeedStreams(seed).Derive("dataset"));
var episodes = dataset.Episodes;
Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F1}s] dataset: {episodes.Count} {task} episodes, cost {episodes.Min(e => e.Cost):F0}..{episodes.Max(e => e.Cost):F0}, " +
                  $"return {episodes.Min(e => e.Return):F0}..{episodes.Max(e => e.Return):F0}, {episodes.Count(e => e.Cost <= costLimit)} within the limit");

var options = new MarvelPipelineOptions
{
    TaskId = task, CostLimit = costLimit, Seed = seed, OfflineSteps = offlineSteps, OnlineIterations = onlineIterations,
    EvalEvery = 5, EvalEpisodes = 10, EnvironmentCount = 5, RunDirectory = runDirectory, CheckpointEvery = 10,
};

// Value Pre-Alignment, deliberately conservative. With the reference settings (γ 0.99, lr 5e-3, 5000 calls = 20 000 steps) fitted
// evaluation of a CPQ actor on BallCircle ran away in a large run (cost Q ≈ 962 against a 1/(1 − γ) = 100 bound; see
// docs/algorithms/value-alignment.md): π_off's target actions leave the data's support and the error compounds over a 100-step
// horizon. A few hundred calls at a 5× lower learning rate move the critics toward π_off's values without giving that runaway time
// to build up; the pipeline's exploding-Q guard stops the run if it happens anyway.
var aligner = new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 250, RewardCriticLearningRate = 1e-3, CostCriticLearningRate = 1e-3 });

// aPID with gains for one controller update per iteration (marvel.md §4.4): the reference's 5e-6 assumes 20 updates per iteration
// and leaves λ near 0 here. Measured on this quickstart (docs/algorithms/marvel-pipeline.md): from the short, unsafe CPQ policy
// (cost ≈ 90) the cost stays ≈ 90–100 until λ ≈ 4, then the policy collapses to standing still (cost 0, return ≈ 0). The gains
// below reach that point at the end of 60 iterations; none of the settings tried yet gives a policy that is both safe and rewarding
// within the quickstart's budget. This is an open tuning problem, shown as it is.
var controller = new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = costLimit, Kp = 0.005, Ki = 3e-4, Kd = 0.002 });

// Online settings. Marvel's BallCircle settings (marvel.md §5.1: actor lr 5e-5, 20 gradient steps per 5 episodes) assume a
// near-safe offline policy trained for 100 000 steps; from this short CPQ run they moved the policy too little to matter in
// 60 iterations (cost stayed ≈ 95 while λ rose to 22). A larger actor step and 50 gradient steps per iteration (update-to-data
// ratio 0.05) let finetuning act within the quickstart's budget. Network sizes and scales come from the artifact (SacLagHandover).
var online = SacLagHandover.Factory(new SacLagOptions
{
    ActorLearningRate = 3e-4, CriticLearningRate = 1e-3, CostCriticLearningRate = 1e-3, Alpha = 1e-3,
    UpdatesPerIteration = 50, MiniBatches = 1, BatchSize = 256,
});

var pipeline = new MarvelPipeline(options,
    context => new CpqLearner(context, new CpqOptions { CostLimit = costLimit, ActorHiddenSizes = hidden, CriticHiddenSizes = hidden, VaeHiddenSize = 128, BatchSize = 256 }),
    aligner, controller, online);

var lastReport = Stopwatch.StartNew();
var progress = new InlineProgress(p =>
{
    bool periodic = p.Stage is "offline" or "alignment";
    if (periodic && lastReport.Elapsed.TotalSeconds < 5 && p.Step < p.TotalSteps) return;
    lastReport.Restart();
    string metrics = p.Stage switch
    {
        "online" => $"return {p.Metrics["mean_episode_return"],6:F1} cost {p.Metrics["mean_episode_cost"],5:F1} λ {p.Metrics["lambda"]:G3} " +
                    $"cumulative violation {p.Metrics["cumulative_violation"]:F0}",
        "evaluation" => $"iteration {p.Metrics["iteration"]}: return {p.Metrics["mean_return"]:F1} cost {p.Metrics["mean_cost"]:F1} " +
                        $"(normalized {p.Metrics["normalized_reward"]:F3} / {p.Metrics["normalized_cost"]:F2})",
        _ => string.Join(" ", p.Metrics.Take(4).Select(kv => $"{kv.Key}={kv.Value:G3}")),
    };
    Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F1}s] {p.Stage} {(p.TotalSteps > 0 ? $"{p.Step}/{p.TotalSteps} " : "")}{metrics}");
});

// Ctrl+C cancels cleanly and leaves a checkpoint; running the quickstart again resumes it (bit-identically) instead of starting over.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
MarvelRunResult result;
try
{
    var status = RunDirectory.ReadStatus(runDirectory);
    if (status.State == RunState.Resumable)
        Console.WriteLine($"Resuming {status.Path} (stage {status.Stage}, checkpoint at iteration {status.LatestCheckpointIteration?.ToString(CultureInfo.InvariantCulture) ?? "none"}).");
    result = status.State == RunState.Resumable
        ? await pipeline.ResumeAsync(dataset, progress, cancel.Token)
        : await pipeline.RunAsync(dataset, progress, cancel.Token);
}
catch (OperationCanceledException)
{
    Console.WriteLine($"Cancelled. Run the same command again to resume from {runDirectory}.");
    return;
}

Console.WriteLine();
Console.WriteLine($"{"policy",-22} {"return",8} {"cost",6} {"norm. reward",13} {"norm. cost",11}");
foreach (var (name, point) in new[] { ($"offline ({result.OfflineAlgorithm})", result.OfflineEvaluation), ($"finetuned ({result.OnlineAlgorithm})", result.FinalEvaluation) })
{
    var r = point.Result;
    Console.WriteLine($"{name,-22} {r.MeanReturn,8:F1} {r.MeanCost,6:F1} {r.NormalizedReward,13:F3} {r.NormalizedCost,11:F2}{(r.IsSafe ? "" : "  (over the limit)")}");
}
Console.WriteLine($"online: {result.OnlineIterations} iterations, {result.OnlineEpisodes} episodes, {result.OnlineEnvironmentSteps} steps, " +
                  $"cumulative violation {result.CumulativeViolation:F0}, reward AUC {result.RewardAuc:F1} (normalized {result.NormalizedRewardAuc:F3}), final λ {result.FinalLambda:G3}");
var plots = Marvel.Cli.Reports.RunPlots.Write(result.RunDirectory);
Console.WriteLine($"Plots: {string.Join(", ", plots.Select(p => Path.GetRelativePath(result.RunDirectory, p)))} (return and cost per iteration with the evaluations and the limit line; λ and its P, I, D terms).");
Console.WriteLine($"CostLimit {costLimit} (undiscounted episode cost; normalized cost <= 1 is within it). Run directory: {result.RunDirectory}. Done in {clock.Elapsed.TotalSeconds:F0} s.");

/// <summary>Reports on the pipeline's own thread, so lines print in order (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}

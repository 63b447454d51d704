// Marvel.Core quickstart: offline-to-online safe RL on a built-in task, end to end.
//   1. collect an offline dataset that spans low to high episode costs (scripted controllers at a cost sweep)
//   2. MarvelPipeline: BEAR-Lag offline → handover artifact → SAC-Lag finetuning with the library's safe-finetuning recipe (warm-up on
//      the offline policy's own episodes, critic warm-up, offline-data mixing, policy-set safe exploration, the adaptive PID Lagrangian
//      with bounded gain adaptation and a set point below the limit), evaluated at iteration 0 (the offline policy), every 10 iterations
//      and at the end; the run returns the best evaluated policy within the limit
//   3. print offline vs finetuned DSRL-normalized reward and cost; everything is also in the run directory, with plots/*.png
// Usage: dotnet run -c Release --project samples/Marvel.Quickstart -- [--task BallCircle] [--cost-limit 20] [--dataset-seed 7]
//        [--seed 7] [--offline-steps 4000] [--online-iterations 40] [--run-dir runs/quickstart]
using System.Diagnostics;
using System.Globalization;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Alignment;
using Marvel.Core.Data;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var arguments = QuickstartArguments.Parse(args);
if (arguments is null) return 2;
string task = arguments.Task;
double costLimit = arguments.CostLimit;   // undiscounted episode cost budget
int[] hidden = [64, 64];
TorchSharp.torch.set_num_threads(1);

var clock = Stopwatch.StartNew();
var dataset = DatasetCollector.GenerateBuiltIn(task, episodes: 200, seed: new SeedStreams(arguments.DatasetSeed).Derive("dataset"));
var episodes = dataset.Episodes;
Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F1}s] dataset: {episodes.Count} {task} episodes (dataset seed {arguments.DatasetSeed}), cost {episodes.Min(e => e.Cost):F0}..{episodes.Max(e => e.Cost):F0}, " +
                  $"return {episodes.Min(e => e.Return):F0}..{episodes.Max(e => e.Return):F0}, {episodes.Count(e => e.Cost <= costLimit)} within the limit {costLimit}");

var options = new MarvelPipelineOptions
{
    TaskId = task, CostLimit = costLimit, Seed = arguments.Seed, OfflineSteps = arguments.OfflineSteps, OnlineIterations = arguments.OnlineIterations,
    EvalEvery = 10, EvalEpisodes = 10, EnvironmentCount = 5, RunDirectory = arguments.RunDirectory, CheckpointEvery = 10,
    // The recipe takes over the offline actor alone: fresh critics (offline critics are pessimistic about actions outside the data) and
    // fresh actor moments. λ starts from the controller's own start (LambdaAtHandover, the default).
    HandoverLoad = HandoverLoadOptions.SafeFinetuning(),
};

// Offline: BEAR-Lag at the sizes of the offline benchmark ([64, 64], batch 256) with τ = 0.05 for the short budget (docs/benchmarks.md):
// within the limit on every seed there, so finetuning starts from a safe policy and must improve it without spending the budget.
var offline = new BearLagOptions
{
    CostLimit = costLimit, ActorHiddenSizes = hidden, CriticHiddenSizes = hidden, VaeHiddenSize = 64, BatchSize = 256, Tau = 0.05,
};

// No separate alignment stage: the recipe fits fresh critics online, on the offline policy's own warm-up episodes and the offline data
// (SacLagOptions.SafeFinetuning: WarmupSteps, CriticWarmupSteps, OfflineDataFraction). ValuePreAligner is Marvel's stage.
var aligner = new NoAlignment();
var controller = new AdaptivePidLagrangeController(AdaptivePidLagrangeOptions.SafeFinetuning(costLimit));
var online = SacLagHandover.Factory(SacLagOptions.SafeFinetuning());   // network sizes and scales come from the artifact

var pipeline = new MarvelPipeline(options, context => new BearLagLearner(context, offline), aligner, controller, online);

// Lines in order, with each stage's rate and time left (Progress<T> would post them to the thread pool and reorder them).
var progress = new ConsoleProgress(Console.Out);

// Ctrl+C cancels cleanly and leaves a checkpoint; running the quickstart again resumes it (bit-identically) instead of starting over.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
MarvelRunResult result;
try
{
    var status = RunDirectory.ReadStatus(arguments.RunDirectory);
    if (status.State == RunState.Resumable)
        Console.WriteLine($"Resuming {status.Path} (stage {status.Stage}, checkpoint at iteration {status.LatestCheckpointIteration?.ToString(CultureInfo.InvariantCulture) ?? "none"}).");
    result = status.State == RunState.Resumable
        ? await pipeline.ResumeAsync(dataset, progress, cancel.Token)
        : await pipeline.RunAsync(dataset, progress, cancel.Token);
}
catch (OperationCanceledException)
{
    Console.WriteLine($"Cancelled. Run the same command again to resume from {arguments.RunDirectory}.");
    return 130;
}

Console.WriteLine();
Console.WriteLine($"{"policy",-22} {"return",8} {"cost",6} {"norm. reward",13} {"norm. cost",11}");
// The finetuned policy is the one the run returns (final/): the best evaluated policy within the limit, re-evaluated on fresh episodes
// (MarvelPipelineOptions.ReturnedPolicy); the last iterate is in result.json and eval.csv.
foreach (var (name, point) in new[] { ($"offline ({result.OfflineAlgorithm})", result.OfflineEvaluation), ($"finetuned ({result.OnlineAlgorithm})", result.FinalEvaluation) })
{
    var r = point.Result;
    Console.WriteLine($"{name,-22} {r.MeanReturn,8:F1} {r.MeanCost,6:F1} {r.NormalizedReward,13:F3} {r.NormalizedCost,11:F2}{(r.IsSafe ? "" : "  (over the limit)")}");
}
Console.WriteLine($"online: {result.OnlineIterations} iterations, {result.OnlineEpisodes} episodes, {result.OnlineEnvironmentSteps} steps, " +
                  $"cumulative violation {result.CumulativeViolation:F0}, returned policy from iteration {result.FinalEvaluation.Iteration}, reward AUC {result.RewardAuc:F1} (normalized {result.NormalizedRewardAuc:F3}), final λ {result.FinalLambda:G3}");
var plots = Marvel.Plotting.RunPlots.Write(result.RunDirectory);
Console.WriteLine($"Plots: {string.Join(", ", plots.Select(p => Path.GetRelativePath(result.RunDirectory, p)))} (return and cost per iteration with the evaluations and the limit line; λ and its P, I, D terms).");
Console.WriteLine($"CostLimit {costLimit} (undiscounted episode cost; normalized cost <= 1 is within it). Run directory: {result.RunDirectory}. Done in {clock.Elapsed.TotalSeconds:F0} s.");
return 0;

/// <summary>The quickstart's command line: <c>--task</c>, <c>--cost-limit</c>, <c>--dataset-seed</c>, <c>--seed</c>, <c>--offline-steps</c>,
/// <c>--online-iterations</c>, <c>--run-dir</c>, each followed by its value.</summary>
internal sealed record QuickstartArguments(string Task, double CostLimit, ulong DatasetSeed, ulong Seed, long OfflineSteps, int OnlineIterations, string RunDirectory)
{
    public static QuickstartArguments? Parse(string[] args)
    {
        var a = new QuickstartArguments("BallCircle", 20, 7, 7, 4000, 40, Path.Combine("runs", "quickstart"));
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (i + 1 >= args.Length) return Fail($"{name} needs a value.");
            string value = args[++i];
            var c = CultureInfo.InvariantCulture;
            try
            {
                a = name switch
                {
                    "--task" => a with { Task = value },
                    "--cost-limit" => a with { CostLimit = double.Parse(value, c) },
                    "--dataset-seed" => a with { DatasetSeed = ulong.Parse(value, c) },
                    "--seed" => a with { Seed = ulong.Parse(value, c) },
                    "--offline-steps" => a with { OfflineSteps = long.Parse(value, c) },
                    "--online-iterations" => a with { OnlineIterations = int.Parse(value, c) },
                    "--run-dir" => a with { RunDirectory = value },
                    _ => throw new ArgumentException($"unknown option {name}"),
                };
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
            {
                return Fail($"{name} {value}: {e.Message}");
            }
        }
        if (!(a.CostLimit > 0 && double.IsFinite(a.CostLimit))) return Fail($"--cost-limit must be a positive episode cost, got {a.CostLimit}.");
        return a;
    }

    private static QuickstartArguments? Fail(string message)
    {
        Console.Error.WriteLine($"quickstart: {message}");
        Console.Error.WriteLine("usage: Marvel.Quickstart [--task BallCircle] [--cost-limit 20] [--dataset-seed 7] [--seed 7] [--offline-steps 4000] [--online-iterations 40] [--run-dir runs/quickstart]");
        return null;
    }
}

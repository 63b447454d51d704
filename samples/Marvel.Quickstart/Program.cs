// Marvel.Core quickstart: the offline-to-online path on BallCircle, end to end.
//   1. collect an offline dataset that spans low to high episode costs (scripted controllers at a cost sweep)
//   2. train CPQ offline against CostLimit = 20 and export the handover artifact
//   3. finetune online with SAC-Lag, starting from the artifact, λ driven by the adaptive PID Lagrangian
//   4. print offline vs finetuned DSRL-normalized reward and cost
// This is the thin slice of the Marvel pipeline; value pre-alignment plugs in between steps 2 and 3 when it lands.
// Usage: dotnet run --project samples/Marvel.Quickstart -- [offlineSteps] [onlineIterations]
using System.Diagnostics;
using System.Globalization;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using Marvel.Core.Lagrange;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
const string task = "BallCircle";
const double costLimit = 20;          // undiscounted episode cost budget
const ulong seed = 7;
int offlineSteps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1500;
int onlineIterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
int[] hidden = [128, 128];
TorchSharp.torch.set_num_threads(1);

var clock = Stopwatch.StartNew();
var seeds = new SeedStreams(seed);
var dataset = DatasetCollector.GenerateBuiltIn(task, episodes: 200, seed: seeds.Derive("dataset"));
var episodes = dataset.Episodes;
Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F1}s] dataset: {episodes.Count} {task} episodes, cost {episodes.Min(e => e.Cost):F0}..{episodes.Max(e => e.Cost):F0}, " +
                  $"return {episodes.Min(e => e.Return):F0}..{episodes.Max(e => e.Return):F0}, {episodes.Count(e => e.Cost <= costLimit)} within the limit");

using var evalEnv = EnvironmentRegistry.Default.MakeVector(task, 5);
var context = new LearnerContext(evalEnv.ObservationSpace, evalEnv.ActionSpace, seeds, evalEnv.Spec.MaxEpisodeSteps, task);

// 2. Offline: CPQ.
using var cpq = new CpqLearner(context, new CpqOptions
{
    CostLimit = costLimit, ActorHiddenSizes = hidden, CriticHiddenSizes = hidden, VaeHiddenSize = 128, BatchSize = 256,
});
cpq.Attach(dataset);
var lastReport = Stopwatch.StartNew();
cpq.Train(offlineSteps, new Progress<TrainingProgress>(p =>
{
    if (lastReport.Elapsed.TotalSeconds < 5 && p.Step < p.TotalSteps) return;
    lastReport.Restart();
    Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F1}s] CPQ {p.Step}/{p.TotalSteps} " + string.Join(" ", p.Metrics.Take(4).Select(kv => $"{kv.Key}={kv.Value:G3}")));
}), reportEvery: 100);
var offline = PolicyEvaluator.Evaluate(cpq.Policy, evalEnv, episodes: 10, costLimit: costLimit, seed: seeds.Derive("eval/offline"));
var artifact = cpq.ExportHandover();

// 3. Online: SAC-Lag from the handover, aPID multiplier (gains scaled for one update per iteration).
using var sac = new SacLagLearner(context with { Seeds = seeds.Fork("online") }, new SacLagOptions
{
    ActorHiddenSizes = hidden, CriticHiddenSizes = hidden, RewardCriticCount = 2, CostCriticHiddenSizes = hidden, CostCriticCount = 2,
    ActorLearningRate = 5e-5, CriticLearningRate = 5e-3, CostCriticLearningRate = 5e-3, Alpha = 1e-3,
});
sac.InitializeFrom(artifact);
var controller = new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = costLimit, Kp = 1e-4, Ki = 1e-4, Kd = 1e-4 });
using var trainEnv = EnvironmentRegistry.Default.MakeVector(task, 5);
double violation = 0;
for (int it = 0; it < onlineIterations; it++)
{
    var r = sac.RunIteration(trainEnv, controller);
    violation += r.Episodes.Sum(e => Math.Max(0, e.Cost - costLimit));
    Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F1}s] SAC-Lag iteration {it + 1}/{onlineIterations}: return {r.Episodes.Average(e => e.Return),6:F1} " +
                      $"cost {r.Episodes.Average(e => e.Cost),5:F1} λ {r.Lambda:G3} cumulative violation {violation:F0}");
}
var online = PolicyEvaluator.Evaluate(sac.Policy, evalEnv, episodes: 10, costLimit: costLimit, seed: seeds.Derive("eval/online"));

// 4. Summary.
Console.WriteLine();
Console.WriteLine($"{"policy",-22} {"return",8} {"cost",6} {"norm. reward",13} {"norm. cost",11}");
foreach (var (name, r) in new[] { ("offline (CPQ)", offline), ($"finetuned (SAC-Lag)", online) })
    Console.WriteLine($"{name,-22} {r.MeanReturn,8:F1} {r.MeanCost,6:F1} {r.NormalizedReward,13:F3} {r.NormalizedCost,11:F2}{(r.IsSafe ? "" : "  (over the limit)")}");
Console.WriteLine($"CostLimit {costLimit} (undiscounted episode cost; normalized cost <= 1 is within it). Done in {clock.Elapsed.TotalSeconds:F0} s.");

// Marvel.Core sample: bring your own constrained task.
//   1. write the task (PointReach.cs: reach a target, a hazard disc on the straight path costs 1 per step) and check it
//   2. plug it in by name with services.AddMarvel().AddEnvironment(...)
//   3. collect a dataset with scripted drivers: straight (through the hazard) and detouring (cheaper in cost), with noise
//   4. train CPQ offline under CostLimit, then finetune briefly with SAC-Lag and the adaptive PID Lagrangian
// Everything is resolved by name from IMarvelComponents, as a configuration file would pick it. The run is short:
// its numbers show the wiring, not a tuned result.
// Usage: dotnet run --project samples/CustomEnvironment -- [offlineSteps] [onlineIterations]
using System.Diagnostics;
using System.Globalization;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using Marvel.Core.Hosting;
using Marvel.Core.Lagrange;
using Marvel.Samples.CustomEnvironment;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
const double costLimit = 3;           // undiscounted episode cost budget: at most 3 steps inside the hazard per episode
const ulong seed = 3;
int offlineSteps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
int onlineIterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
int[] hidden = [64, 64];
TorchSharp.torch.set_num_threads(1);
var clock = Stopwatch.StartNew();

// 1. Check the task against the IEnvironment contract (spaces, determinism, costs >= 0, truncation, bad actions).
EnvironmentChecker.Check(new PointReach()).ThrowIfInvalid();

// 2. Register it, and size the built-in learners for this small task.
var services = new ServiceCollection();
services.AddMarvel()
    .AddEnvironment("PointReach", () => new PointReach())
    .Configure<CpqOptions>(o =>
    {
        o.CostLimit = costLimit; o.ActorHiddenSizes = hidden; o.CriticHiddenSizes = hidden; o.VaeHiddenSize = 64; o.BatchSize = 128;
    })
    .Configure<SacLagOptions>(o =>
    {
        o.ActorHiddenSizes = hidden; o.CriticHiddenSizes = hidden; o.CostCriticHiddenSizes = hidden; o.CostCriticCount = 2;
        o.ActorLearningRate = 1e-4; o.CriticLearningRate = 1e-3; o.CostCriticLearningRate = 1e-3; o.Alpha = 1e-3;
        o.BatchSize = 128; o.EpisodesPerIteration = 4; o.UpdatesPerIteration = 20; o.MiniBatches = 1; o.ReplayCapacity = 50_000;
    })
    .Configure<AdaptivePidLagrangeOptions>(o => { o.CostLimit = costLimit; o.Kp = 0.2; o.Ki = 0.05; o.Kd = 0.01; });
using var provider = services.BuildServiceProvider();
provider.GetRequiredService<IStartupValidator>().Validate();   // what a host does at start: every bad field at once
var components = provider.GetRequiredService<IMarvelComponents>();

// 3. Dataset: half straight drivers (through the hazard), half detouring ones, all noisy.
var seeds = new SeedStreams(seed);
using var env = components.CreateVectorEnvironment("PointReach", 4);
var dataset = DatasetCollector.Collect(env, [
    new CollectionStage(new PointReachDriver(avoidance: 0, noise: 0.4, seed: seeds.Derive("straight")), Episodes: 60),
    new CollectionStage(new PointReachDriver(avoidance: 1, noise: 0.4, seed: seeds.Derive("detour")), Episodes: 60),
], seed: seeds.Derive("dataset"));
var episodes = dataset.Episodes;
Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F1}s] dataset: {episodes.Count} episodes, {dataset.Count} transitions, cost {episodes.Min(e => e.Cost):F0}..{episodes.Max(e => e.Cost):F0}, " +
                  $"{episodes.Count(e => e.Cost <= costLimit)} within CostLimit {costLimit}");

// 4. Offline CPQ, then SAC-Lag from its handover under the adaptive PID Lagrangian.
var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, seeds, env.Spec.MaxEpisodeSteps, env.Spec.Id);
using var cpq = components.CreateOfflineLearner("CPQ", context);
cpq.Attach(dataset);
cpq.Train(offlineSteps);
using var evalEnv = components.CreateVectorEnvironment("PointReach", 4);
var offline = PolicyEvaluator.Evaluate(cpq.Policy, evalEnv, episodes: 20, costLimit: costLimit, seed: seeds.Derive("eval/offline"));
Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F1}s] CPQ: {offlineSteps} steps, return {offline.MeanReturn:F1}, cost {offline.MeanCost:F2}");

using var sac = components.CreateOnlineLearner("SAC-Lag", context with { Seeds = seeds.Fork("online") });
sac.InitializeFrom(cpq.ExportHandover());
var controller = components.CreateController("aPID");
using var trainEnv = components.CreateVectorEnvironment("PointReach", 4);
for (int it = 0; it < onlineIterations; it++)
{
    var r = sac.RunIteration(trainEnv, controller);
    Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F1}s] SAC-Lag iteration {it + 1}/{onlineIterations}: return {r.Episodes.Average(e => e.Return),5:F1}, " +
                      $"cost {r.Episodes.Average(e => e.Cost),4:F1}, λ {r.Lambda:F3}");
}
var online = PolicyEvaluator.Evaluate(sac.Policy, evalEnv, episodes: 20, costLimit: costLimit, seed: seeds.Derive("eval/online"));

Console.WriteLine();
Console.WriteLine($"{"policy",-22} {"return",7} {"cost",6}  safe (cost <= {costLimit})");
foreach (var (name, r) in new[] { ("offline (CPQ)", offline), ("finetuned (SAC-Lag)", online) })
    Console.WriteLine($"{name,-22} {r.MeanReturn,7:F1} {r.MeanCost,6:F2}  {r.IsSafe}");
Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F0} s.");

// Marvel.Core quickstart: build an offline BallCircle dataset that spans low to high episode costs,
// then evaluate scripted behaviour policies against CostLimit = 20 with DSRL-normalized scores.
// (Later stages of the library grow this into the full offline → alignment → online pipeline.)
using System.Diagnostics;
using System.Globalization;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Scoring;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Policies;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
const string task = "BallCircle";
const double costLimit = 20;          // undiscounted episode cost budget
const ulong seed = 7;

var clock = Stopwatch.StartNew();
var dataset = DatasetCollector.GenerateBuiltIn(task, episodes: 200, seed: seed);
var episodes = dataset.Episodes;
Console.WriteLine($"Collected {episodes.Count} {task} episodes ({dataset.Count} transitions) in {clock.Elapsed.TotalSeconds:F1} s");
Console.WriteLine($"  episode cost   {episodes.Min(e => e.Cost),7:F1} .. {episodes.Max(e => e.Cost),7:F1}");
Console.WriteLine($"  episode return {episodes.Min(e => e.Return),7:F1} .. {episodes.Max(e => e.Return),7:F1}");
Console.WriteLine($"  safe episodes (cost <= {costLimit}): {episodes.Count(e => e.Cost <= costLimit)}");

Console.WriteLine();
Console.WriteLine($"Evaluation, 10 episodes each, CostLimit {costLimit} (normalized cost <= 1 is safe):");
Console.WriteLine($"{"policy",-28} {"return",9} {"cost",7} {"norm. reward",13} {"norm. cost",11}");
using var env = EnvironmentRegistry.Default.MakeVector(task, 5);
foreach (var (name, policy) in new (string, IPolicy)[]
{
    ("cautious (r=5.0, v=2.0)", ScriptedTaskPolicy.Circle(task, 5.0, 2.0)),
    ("balanced (r=6.0, v=3.0)", ScriptedTaskPolicy.Circle(task, 6.0, 3.0)),
    ("aggressive (r=7.5, v=5.0)", ScriptedTaskPolicy.Circle(task, 7.5, 5.0)),
    ("random", new RandomPolicy(8, env.ActionSpace, seed)),
})
{
    var r = PolicyEvaluator.Evaluate(policy, env, episodes: 10, costLimit: costLimit, seed: seed + 1000);
    Console.WriteLine($"{name,-28} {r.MeanReturn,9:F1} {r.MeanCost,7:F1} {r.NormalizedReward,13:F3} {r.NormalizedCost,11:F2}{(r.IsSafe ? "" : "  (unsafe)")}");
}
Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F1} s.");

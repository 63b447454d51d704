// SAC-Lag from scratch on a built-in task with the adaptive PID Lagrangian; writes a CSV per iteration, a CSV of
// deterministic evaluations and PNG learning curves (return; cost with the limit line; λ).
// Usage: dotnet run -c Release --project samples/Marvel.OnlineCurve -- [outDir] [envSteps] [task] [costLimit] [seed]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Environments;
using Marvel.Core.Lagrange;
using Marvel.Plotting;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string outDir = args.Length > 0 ? args[0] : "runs/online-curve";
long envSteps = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 60_000;
string task = args.Length > 2 ? args[2] : "BallCircle";
double costLimit = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 20;
ulong seed = args.Length > 4 ? ulong.Parse(args[4], CultureInfo.InvariantCulture) : 1;
const int environments = 4, evalEvery = 10_000, evalEpisodes = 10;
TorchSharp.torch.set_num_threads(1);
Directory.CreateDirectory(outDir);

var seeds = new SeedStreams(seed);
using var env = EnvironmentRegistry.Default.MakeVector(task, environments);
using var evalEnv = EnvironmentRegistry.Default.MakeVector(task, 5);
var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, seeds, env.Spec.MaxEpisodeSteps, task);
var options = new SacLagOptions
{
    ActorHiddenSizes = [256, 256], CriticHiddenSizes = [256, 256], CostCriticHiddenSizes = [256, 256],
    ActorLearningRate = 3e-4, CriticLearningRate = 3e-4, CostCriticLearningRate = 3e-4, AutoTuneAlpha = true, Alpha = 0.1,
    Schedule = SacLagSchedule.StepBased, UpdateEveryNSteps = 40, UpdatesPerIteration = 10, MiniBatches = 1, BatchSize = 256,
    WarmupSteps = 2_000,
};
using var learner = new SacLagLearner(context, options);
var controllerOptions = new AdaptivePidLagrangeOptions { CostLimit = costLimit, Kp = 0.01, Ki = 0.002, Kd = 0.005 };
var controller = new AdaptivePidLagrangeController(controllerOptions);

var clock = Stopwatch.StartNew();
var rows = new StringBuilder("env_steps,episodes,mean_return,mean_cost,lambda,reward_critic_loss,cost_critic_loss,actor_loss,alpha,cumulative_violation\n");
var evals = new StringBuilder("env_steps,mean_return,std_return,mean_cost,std_cost,normalized_reward,normalized_cost\n");
var curve = new List<(double Steps, double Return, double Cost, double Lambda)>();
var evalCurve = new List<(double Steps, double Return, double Cost)>();
double violation = 0;
long nextEval = 0;
int episodes = 0;
void Evaluate(long steps)
{
    var r = PolicyEvaluator.Evaluate(learner.Policy, evalEnv, evalEpisodes, costLimit, seeds.Derive("eval/" + steps));
    evals.AppendLine(FormattableString.Invariant($"{steps},{r.MeanReturn:F3},{r.StdReturn:F3},{r.MeanCost:F3},{r.StdCost:F3},{r.NormalizedReward:F4},{r.NormalizedCost:F4}"));
    evalCurve.Add((steps, r.MeanReturn, r.MeanCost));
    Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] eval @ {steps,7}: return {r.MeanReturn,7:F1} ± {r.StdReturn,5:F1}  cost {r.MeanCost,6:F1} ± {r.StdCost,5:F1}  (limit {costLimit})");
}
while (learner.EnvironmentSteps < envSteps)
{
    if (learner.EnvironmentSteps >= nextEval) { Evaluate(learner.EnvironmentSteps); nextEval += evalEvery; }
    var it = learner.RunIteration(env, controller);
    if (it.Episodes.Count == 0) continue;
    episodes += it.Episodes.Count;
    double ret = it.Episodes.Average(e => e.Return), cost = it.Episodes.Average(e => e.Cost);
    violation += it.Episodes.Sum(e => Math.Max(0, e.Cost - costLimit));
    double M(string k) => it.Metrics.TryGetValue(k, out var v) ? v : double.NaN;
    rows.AppendLine(FormattableString.Invariant($"{it.EnvironmentSteps},{episodes},{ret:F3},{cost:F3},{it.Lambda:G6},{M("reward_critic_loss"):G6},{M("cost_critic_loss"):G6},{M("actor_loss"):G6},{M("alpha"):G6},{violation:F1}"));
    curve.Add((it.EnvironmentSteps, ret, cost, it.Lambda));
    if (episodes % 20 == 0)
        Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] {it.EnvironmentSteps,7} steps, {episodes} episodes: return {ret,7:F1} cost {cost,6:F1} λ {it.Lambda:F3}");
}
Evaluate(learner.EnvironmentSteps);
AtomicFile.WriteAllText(Path.Combine(outDir, "train.csv"), rows.ToString());
AtomicFile.WriteAllText(Path.Combine(outDir, "eval.csv"), evals.ToString());

static double[] Smooth(IReadOnlyList<double> v, int window) =>
    v.Select((_, i) => v.Skip(Math.Max(0, i - window + 1)).Take(Math.Min(window, i + 1)).Average()).ToArray();
var x = curve.Select(c => c.Steps).ToArray();
void SavePlot(string file, string title, string yLabel, double[] train, double[] evalY, double? limit) =>
    TrainingCurvePlot.Save(Path.Combine(outDir, file), title, yLabel, x, Smooth(train, 5), "training episodes (moving mean of 5 iterations)",
        evalCurve.Select(c => c.Steps).ToArray(), evalY, evalEpisodes, limit, 0);
SavePlot("return.png", $"SAC-Lag + aPID on {task}: episode return", "undiscounted return", curve.Select(c => c.Return).ToArray(), evalCurve.Select(c => c.Return).ToArray(), null);
SavePlot("cost.png", $"SAC-Lag + aPID on {task}: episode cost", "undiscounted cost", curve.Select(c => c.Cost).ToArray(), evalCurve.Select(c => c.Cost).ToArray(), costLimit);
SavePlot("lambda.png", $"SAC-Lag + aPID on {task}: multiplier", "λ", curve.Select(c => c.Lambda).ToArray(), [], null);
Console.WriteLine($"Wrote {outDir}/train.csv, eval.csv, return.png, cost.png, lambda.png in {clock.Elapsed.TotalSeconds:F0} s; cumulative violation {violation:F0}.");

// SAC-Lag from scratch on a MuJoCo velocity task, with the adaptive PID Lagrangian. Writes train.csv (one row per
// iteration with finished episodes), eval.csv (deterministic evaluations) and return.png / cost.png / lambda.png.
// Usage: dotnet run -c Release --project samples/Marvel.MuJoCoCurve -- [outDir] [envSteps] [task] [costLimit] [seed] [hidden]
// Needs MuJoCo 2.2.2: bash eng/install-prerequisites.sh --mujoco
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Environments;
using Marvel.Core.Lagrange;
using Marvel.Environments.MuJoCo;
using Marvel.Plotting;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string outDir = args.Length > 0 ? args[0] : "runs/mujoco-curve";
long envSteps = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 60_000;
string task = args.Length > 2 ? args[2] : "HalfCheetahVelocity";
double costLimit = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 20;
ulong seed = args.Length > 4 ? ulong.Parse(args[4], CultureInfo.InvariantCulture) : 1;
int hidden = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 128;
const int environments = 4, evalEvery = 10_000, evalEpisodes = 5;
TorchSharp.torch.set_num_threads(1);
Directory.CreateDirectory(outDir);

var registry = new EnvironmentRegistry().RegisterMuJoCoVelocityTasks();
var seeds = new SeedStreams(seed);
using var env = registry.MakeVector(task, environments);
using var evalEnv = registry.MakeVector(task, evalEpisodes);
var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, seeds, env.Spec.MaxEpisodeSteps, env.Spec.Id);
// Standard SAC settings (learning rates 3e-4, auto-tuned temperature, no gradient steps before 5000 transitions) with
// smaller networks and one gradient step per two environment steps, to fit a one-core budget.
var options = new SacLagOptions
{
    ActorHiddenSizes = [hidden, hidden], CriticHiddenSizes = [hidden, hidden], CostCriticHiddenSizes = [hidden, hidden],
    ActorLearningRate = 3e-4, CriticLearningRate = 3e-4, CostCriticLearningRate = 3e-4, AutoTuneAlpha = true, Alpha = 0.1,
    Schedule = SacLagSchedule.StepBased, UpdateEveryNSteps = 40, UpdatesPerIteration = 20, MiniBatches = 1, BatchSize = 256,
    WarmupSteps = 5_000, RewardScale = 1.0,
};
using var learner = new SacLagLearner(context, options);
var controller = new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = costLimit, Kp = 0.01, Ki = 0.002, Kd = 0.005 });

var clock = Stopwatch.StartNew();
var train = new StringBuilder("env_steps,wall_seconds,episodes,mean_return,mean_cost,mean_length,lambda,alpha,cumulative_violation\n");
var evals = new StringBuilder("env_steps,wall_seconds,mean_return,std_return,mean_cost,std_cost,mean_length,normalized_reward,normalized_cost\n");
var curve = new List<(double Steps, double Return, double Cost, double Lambda)>();
var evalCurve = new List<(double Steps, double Return, double Cost)>();
double violation = 0;
long nextEval = 0;
int episodes = 0;
void Evaluate(long steps)
{
    var r = PolicyEvaluator.Evaluate(learner.Policy, evalEnv, evalEpisodes, costLimit, seeds.Derive("eval/" + steps));
    evals.AppendLine(FormattableString.Invariant($"{steps},{clock.Elapsed.TotalSeconds:F0},{r.MeanReturn:F2},{r.StdReturn:F2},{r.MeanCost:F2},{r.StdCost:F2},{r.MeanLength:F1},{r.NormalizedReward:F4},{r.NormalizedCost:F4}"));
    evalCurve.Add((steps, r.MeanReturn, r.MeanCost));
    Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] eval @ {steps,7}: return {r.MeanReturn,8:F1} ± {r.StdReturn,6:F1}  cost {r.MeanCost,6:F1} ± {r.StdCost,5:F1}  length {r.MeanLength,6:F0}");
}
while (learner.EnvironmentSteps < envSteps)
{
    if (learner.EnvironmentSteps >= nextEval) { Evaluate(learner.EnvironmentSteps); nextEval += evalEvery; }
    var it = learner.RunIteration(env, controller);
    if (it.Episodes.Count == 0) continue;
    episodes += it.Episodes.Count;
    double ret = it.Episodes.Average(e => e.Return), cost = it.Episodes.Average(e => e.Cost), length = it.Episodes.Average(e => e.Length);
    violation += it.Episodes.Sum(e => Math.Max(0, e.Cost - costLimit));
    double alpha = it.Metrics.TryGetValue("alpha", out var a) ? a : double.NaN;
    train.AppendLine(FormattableString.Invariant($"{it.EnvironmentSteps},{clock.Elapsed.TotalSeconds:F0},{episodes},{ret:F2},{cost:F2},{length:F1},{it.Lambda:G6},{alpha:G6},{violation:F1}"));
    curve.Add((it.EnvironmentSteps, ret, cost, it.Lambda));
    Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] {it.EnvironmentSteps,7} steps, {episodes} episodes: return {ret,8:F1} cost {cost,6:F1} length {length,6:F0} λ {it.Lambda:F3}");
}
Evaluate(learner.EnvironmentSteps);
AtomicFile.WriteAllText(Path.Combine(outDir, "train.csv"), train.ToString());
AtomicFile.WriteAllText(Path.Combine(outDir, "eval.csv"), evals.ToString());

var x = curve.Select(c => c.Steps).ToArray();
void SavePlot(string file, string title, string yLabel, double[] train, double[] evalY, double? limit) =>
    TrainingCurvePlot.Save(Path.Combine(outDir, file), title, yLabel, x, train, "training episodes (mean per iteration)",
        evalCurve.Select(c => c.Steps).ToArray(), evalY, evalEpisodes, limit, 3);
SavePlot("return.png", $"SAC-Lag + aPID on {task}: episode return", "undiscounted return", curve.Select(c => c.Return).ToArray(), evalCurve.Select(c => c.Return).ToArray(), null);
SavePlot("cost.png", $"SAC-Lag + aPID on {task}: episode cost", "undiscounted cost", curve.Select(c => c.Cost).ToArray(), evalCurve.Select(c => c.Cost).ToArray(), costLimit);
SavePlot("lambda.png", $"SAC-Lag + aPID on {task}: multiplier", "λ", curve.Select(c => c.Lambda).ToArray(), [], null);
Console.WriteLine($"Wrote {outDir}/train.csv, eval.csv, return.png, cost.png, lambda.png in {clock.Elapsed.TotalSeconds:F0} s; cumulative violation {violation:F0}.");

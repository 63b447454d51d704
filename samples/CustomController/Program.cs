// Marvel.Core sample: bring your own Lagrange multiplier controller.
//   1. write the controller (LogBarrierController.cs: λ is the slope of a log barrier on the remaining cost budget)
//   2. register it by name with services.AddMarvel().AddLagrangeController<T>("LogBarrier"); its options come from the container
//   3. run a short SAC-Lag training on BallCircle from scratch, with λ from the new controller
// Usage: dotnet run --project samples/CustomController -- [iterations]
using System.Diagnostics;
using System.Globalization;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Environments;
using Marvel.Core.Hosting;
using Marvel.Samples.CustomController;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
const double costLimit = 20;          // undiscounted episode cost budget
int iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 25;
int[] hidden = [64, 64];
TorchSharp.torch.set_num_threads(1);
var clock = Stopwatch.StartNew();

var services = new ServiceCollection();
services.Configure<LogBarrierOptions>(o => { o.CostLimit = costLimit; o.Sharpness = 0.5; o.MaxLambda = 2; });
services.AddMarvel()
    .AddLagrangeController<LogBarrierController>("LogBarrier")
    .Configure<SacLagOptions>(o =>
    {
        o.ActorHiddenSizes = hidden; o.CriticHiddenSizes = hidden; o.CostCriticHiddenSizes = hidden;
        o.ActorLearningRate = 3e-4; o.CriticLearningRate = 1e-3; o.CostCriticLearningRate = 1e-3; o.Alpha = 1e-2;
        o.BatchSize = 128; o.EpisodesPerIteration = 2; o.UpdatesPerIteration = 50; o.MiniBatches = 1; o.ReplayCapacity = 50_000;
    });
using var provider = services.BuildServiceProvider();
provider.GetRequiredService<IStartupValidator>().Validate();
var components = provider.GetRequiredService<IMarvelComponents>();
Console.WriteLine("Lagrange controllers: " + string.Join(", ", components.Names(MarvelComponentKind.LagrangeController)));

var controller = components.CreateController("LogBarrier");
using var env = components.CreateVectorEnvironment("BallCircle", 2);
var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(11), env.Spec.MaxEpisodeSteps, env.Spec.Id);
using var sac = components.CreateOnlineLearner("SAC-Lag", context);
for (int it = 0; it < iterations; it++)
{
    var r = sac.RunIteration(env, controller);
    Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F1}s] iteration {it + 1}/{iterations}: return {r.Episodes.Average(e => e.Return),6:F1}, " +
                      $"cost {r.Episodes.Average(e => e.Cost),5:F1} (limit {costLimit}), λ {r.Lambda:F3}");
}
var result = PolicyEvaluator.Evaluate(sac.Policy, env, episodes: 4, costLimit: costLimit, seed: 99);
Console.WriteLine($"Evaluation: return {result.MeanReturn:F1}, cost {result.MeanCost:F1}, safe {result.IsSafe}. Done in {clock.Elapsed.TotalSeconds:F0} s.");

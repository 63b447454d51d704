// A user's first program against the Marvel.Core NuGet package (run by eng/package-smoke.sh).
// Each step checks its result; any failure prints "FAIL: ..." and exits 1. The last line is "package consumer: OK".
using System.Globalization;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Policies;
using Marvel.Core.Lagrange;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
const double costLimit = 20;
int failures = 0;

void Check(bool ok, string what)
{
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")}: {what}");
    if (!ok) failures++;
}

try
{
    var assembly = typeof(EnvironmentRegistry).Assembly;
    var informational = assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion;
    Console.WriteLine($"Marvel.Core {informational ?? assembly.GetName().Version?.ToString()} loaded from the package");

    // 1. A built-in task from the registry, driven by a scripted policy for one whole episode.
    var env = EnvironmentRegistry.Default.Make("BallCircle");
    var policy = ScriptedTaskPolicy.Circle("BallCircle", targetRadius: 6, targetSpeed: 3);
    var obs = new float[env.ObservationSpace.Dimension];
    var act = new float[env.ActionSpace.Dimension];
    env.Reset(7, obs);
    double episodeReturn = 0, episodeCost = 0;
    int steps = 0;
    while (true)
    {
        policy.Act(obs, act, deterministic: true);
        var step = env.Step(act, obs);
        episodeReturn += step.Reward;
        episodeCost += step.Cost;
        steps++;
        if (step.EpisodeEnded) break;
    }
    Console.WriteLine($"BallCircle scripted episode: {steps} steps, return {episodeReturn:F1}, cost {episodeCost:F1}");
    Check(steps == env.Spec.MaxEpisodeSteps, $"the episode runs to the time limit ({env.Spec.MaxEpisodeSteps} steps)");
    Check(double.IsFinite(episodeReturn) && episodeReturn > 0, "the scripted circling policy earns a positive return");
    Check(double.IsFinite(episodeCost) && episodeCost >= 0, "the episode cost is finite and non-negative");

    // 2. The adaptive PID Lagrangian raises λ when the measured episode cost is over the limit.
    var controller = new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = costLimit });
    var update = controller.Update(meanEpisodeCost: 2 * costLimit);
    Console.WriteLine($"aPID after one episode at cost {2 * costLimit}: λ = {update.Lambda:F4}");
    Check(update.Lambda > 0 && double.IsFinite(update.Lambda), "λ is positive after a cost overshoot");

    // 3. TorchSharp through the package: one short SAC-Lag iteration (collect two episodes, a few updates).
    TorchSharp.torch.set_num_threads(1);
    using var vec = EnvironmentRegistry.Default.MakeVector("BallCircle", 2);
    var context = new LearnerContext(vec.ObservationSpace, vec.ActionSpace, new SeedStreams(3), vec.Spec.MaxEpisodeSteps, vec.Spec.Id);
    int[] hidden = [32, 32];
    using var sac = new SacLagLearner(context, new SacLagOptions
    {
        ActorHiddenSizes = hidden, CriticHiddenSizes = hidden, CostCriticHiddenSizes = hidden,
        BatchSize = 64, EpisodesPerIteration = 2, UpdatesPerIteration = 5, MiniBatches = 1, ReplayCapacity = 10_000,
    });
    var iteration = sac.RunIteration(vec, new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = costLimit }));
    Console.WriteLine($"SAC-Lag iteration: {iteration.EnvironmentSteps} steps, {iteration.Episodes.Count} episodes, " +
                      $"mean return {iteration.Episodes.Average(e => e.Return):F1}, mean cost {iteration.Episodes.Average(e => e.Cost):F1}, λ {iteration.Lambda:F3}");
    Check(iteration.Episodes.Count >= 2 && iteration.EnvironmentSteps > 0, "the learner collected whole episodes");
    Check(double.IsFinite(iteration.Lambda) && iteration.Metrics.Values.All(double.IsFinite), "λ and the update metrics are finite");

    // 4. The trained policy through the evaluator, with DSRL-style safety.
    var eval = PolicyEvaluator.Evaluate(sac.Policy, vec, episodes: 2, costLimit: costLimit, seed: 5);
    Console.WriteLine($"Evaluation: return {eval.MeanReturn:F1}, cost {eval.MeanCost:F1}, safe {eval.IsSafe}");
    Check(double.IsFinite(eval.MeanReturn) && double.IsFinite(eval.MeanCost), "the evaluation is finite");
}
catch (Exception e)
{
    Console.WriteLine($"FAIL: {e.GetType().Name}: {e.Message}");
    failures++;
}

if (failures > 0)
{
    Console.WriteLine($"package consumer: {failures} check(s) failed");
    return 1;
}
Console.WriteLine("package consumer: OK");
return 0;

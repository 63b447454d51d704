using Marvel.Core.Environments;
using Marvel.Core.Environments.Policies;

namespace Marvel.Core.Data;

/// <summary>One entry of a collection plan: roll <paramref name="Policy"/> for <paramref name="Episodes"/> episodes.</summary>
/// <param name="Policy">The behaviour policy (scripted, noisy, a mixture, or a trained actor).</param>
/// <param name="Episodes">Number of complete episodes to keep.</param>
/// <param name="Deterministic">Act deterministically (default: sample).</param>
public sealed record CollectionStage(IPolicy Policy, int Episodes, bool Deterministic = false);

/// <summary>
/// Rolls policies in a vector environment and records complete episodes as a DSRL-layout <see cref="OfflineDataset"/>.
/// A plan of several policies of increasing aggressiveness gives a dataset that spans low to high episode costs, as
/// DSRL obtained by sweeping the cost limit of its behaviour agents.
/// </summary>
public static class DatasetCollector
{
    /// <summary>Collects complete episodes stage by stage and concatenates them.</summary>
    /// <param name="environment">The vector environment (its task must match every policy).</param>
    /// <param name="plan">The stages.</param>
    /// <param name="seed">Root seed: stage k resets the environment with seed derived from (seed, k).</param>
    /// <param name="progress">Reports episodes collected.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <exception cref="ArgumentException">A policy's sizes differ from the environment's, or the plan is empty.</exception>
    public static OfflineDataset Collect(IVectorEnvironment environment, IReadOnlyList<CollectionStage> plan, ulong seed,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Count == 0) throw new ArgumentException("The collection plan is empty; add at least one stage.", nameof(plan));
        int obsDim = environment.ObservationSpace.Dimension, actDim = environment.ActionSpace.Dimension;
        foreach (var stage in plan)
        {
            if (stage.Policy.ObservationSize != obsDim || stage.Policy.ActionSize != actDim)
                throw new ArgumentException($"Policy {stage.Policy.GetType().Name} takes {stage.Policy.ObservationSize} observations and gives {stage.Policy.ActionSize} actions; task '{environment.Spec.Id}' has {obsDim} and {actDim}.", nameof(plan));
            if (stage.Episodes < 1) throw new ArgumentException("Every stage needs at least one episode.", nameof(plan));
        }
        var obs = new List<float>();
        var next = new List<float>();
        var act = new List<float>();
        var rew = new List<float>();
        var cost = new List<float>();
        var term = new List<bool>();
        var tout = new List<bool>();
        int total = Run(environment, plan, seed, episode => episode.AppendTo(obs, next, act, rew, cost, term, tout), progress, cancellationToken);
        return new OfflineDataset(obsDim, actDim, obs.ToArray(), act.ToArray(), rew.ToArray(), cost.ToArray(), next.ToArray(), term.ToArray(), tout.ToArray(),
            $"collected from {environment.Spec.Id} ({total} episodes, seed {seed})");
    }

    /// <summary>As <see cref="Collect"/>, but returns the episodes one by one, in the order they finished (the plan is not checked).</summary>
    internal static List<RecordedEpisode> CollectEpisodes(IVectorEnvironment environment, IReadOnlyList<CollectionStage> plan, ulong seed,
        CancellationToken cancellationToken = default)
    {
        var episodes = new List<RecordedEpisode>();
        Run(environment, plan, seed, episode => episodes.Add(episode.ToEpisode()), progress: null, cancellationToken);
        return episodes;
    }

    /// <summary>Rolls the plan; hands each kept episode to <paramref name="keep"/>; returns the number of episodes.</summary>
    private static int Run(IVectorEnvironment environment, IReadOnlyList<CollectionStage> plan, ulong seed, Action<EpisodeBuffer> keep,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        int obsDim = environment.ObservationSpace.Dimension, actDim = environment.ActionSpace.Dimension, n = environment.Count;
        int total = plan.Sum(s => s.Episodes);
        var pending = Enumerable.Range(0, n).Select(_ => new EpisodeBuffer()).ToArray();
        var current = new float[n * obsDim];
        var actions = new float[n * actDim];
        var results = new StepResult[n];
        var finished = new List<(int Index, EpisodeSummary Episode)>();
        int done = 0;
        for (int k = 0; k < plan.Count; k++)
        {
            var stage = plan[k];
            environment.Reset(Abstractions.Seeding.SeedStreams.Derive(seed, "collect/" + k), current);
            foreach (var p in pending) p.Clear();
            for (int i = 0; i < n; i++) stage.Policy.OnEpisodeStart(i);
            int kept = 0;
            while (kept < stage.Episodes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                stage.Policy.Act(current, actions, stage.Deterministic);
                var before = current.ToArray();
                finished.Clear();
                environment.Step(actions, current, results, finished);
                for (int i = 0; i < n; i++)
                {
                    var r = results[i];
                    var nextObs = r.EpisodeEnded ? environment.FinalObservation(i) : current.AsSpan(i * obsDim, obsDim);
                    pending[i].Add(before.AsSpan(i * obsDim, obsDim), actions.AsSpan(i * actDim, actDim), (float)r.Reward, (float)r.Cost, nextObs, r.Terminated, r.Truncated);
                    if (r.EpisodeEnded)
                    {
                        if (kept < stage.Episodes)
                        {
                            keep(pending[i]);
                            kept++;
                            done++;
                            progress?.Report(new TrainingProgress("collect", done, total, new Dictionary<string, double>()));
                        }
                        pending[i].Clear();
                        stage.Policy.OnEpisodeStart(i);
                    }
                }
            }
        }
        return total;
    }

    /// <summary>
    /// A seeded dataset for a built-in task that spans low to high episode cost: scripted controllers at ten
    /// aggressiveness levels (radius/speed), each with Gaussian exploration noise (σ = 0.3). Like the DSRL datasets, most
    /// episodes come from the reward-seeking, costly end: level ℓ gets a share proportional to 2 + ℓ² (at least one
    /// episode each), so imitating the whole dataset (BC-All) is unsafe while its cautious episodes still support safe policies. About a
    /// tenth of the episodes (at least one when there are more than ten) take uniformly random actions, for action coverage.
    /// </summary>
    /// <param name="taskId">"BallCircle", "BallRun", "CarCircle", "CarRun", "DroneCircle" or "DroneRun" (Drone levels: circles of radius
    /// 4.5–7.5 m at 2–4.5 m/s, lines at 0.6–3.6 m/s, flown by <see cref="ScriptedDronePolicy"/>), or a task for which
    /// <paramref name="registry"/> holds a <see cref="ScriptedSweep"/> (its controllers and noise replace the built-in ones).</param>
    /// <param name="episodes">Total complete episodes (≥ 10).</param>
    /// <param name="seed">Seed of environments, noise and mixtures.</param>
    /// <param name="environments">Environments stepped together.</param>
    /// <param name="registry">Where to find the task; <see cref="EnvironmentRegistry.Default"/> when null.</param>
    /// <exception cref="ArgumentException">An unsupported task or too few episodes.</exception>
    public static OfflineDataset GenerateBuiltIn(string taskId, int episodes = 200, ulong seed = 0, int environments = 8, EnvironmentRegistry? registry = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        if (episodes < 10) throw new ArgumentException("Generate at least 10 episodes so the cost sweep has several levels.", nameof(episodes));
        registry ??= EnvironmentRegistry.Default;
        using var env = registry.MakeVector(taskId, environments);
        const int levels = 10;
        // The task's own id, so a DSRL id ("OfflineDroneRun-v0") picks the same controllers as the short id.
        string id = env.Spec.Id;
        bool circle = id.EndsWith("Circle", StringComparison.Ordinal);
        bool car = id.StartsWith("Car", StringComparison.Ordinal);
        bool drone = id.StartsWith("Drone", StringComparison.Ordinal);
        // A task from elsewhere (an environments package) brings its own controllers; the built-in ones are known by id.
        bool registered = registry.TryGetScriptedSweep(taskId, out var sweep) || registry.TryGetScriptedSweep(id, out sweep);
        bool known = EnvironmentRegistry.BuiltIns.Any(b => b.Id == id);
        if (!registered && !known)
            throw new ArgumentException($"Built-in generation supports {SupportedTasks} and tasks registered with a scripted sweep " +
                $"(EnvironmentRegistry.RegisterScriptedSweep), not '{taskId}'. Use Collect with your own policies.", nameof(taskId));
        // About a tenth random-action episodes (action coverage for the critics of offline RL and value alignment); the rest
        // over the levels, skewed toward the costly end.
        int randomEpisodes = episodes > levels ? Math.Max(1, episodes / 10) : 0;
        var counts = LevelEpisodeCounts(episodes - randomEpisodes, levels);
        var plan = new List<CollectionStage>();
        for (int level = 0; level < levels; level++)
        {
            double f = level / (double)(levels - 1);
            IPolicy scripted = sweep is not null
                ? sweep.PolicyAt(f)
                : drone
                ? circle
                    ? ScriptedDronePolicy.Circle(radius: 4.5 + 3.0 * f, speed: 2.0 + 2.5 * f)
                    : ScriptedDronePolicy.Line(speed: 0.6 + 3.0 * f)
                : circle
                    ? ScriptedTaskPolicy.Circle(id, targetRadius: 4.5 + 4.0 * f, targetSpeed: car ? 1.5 + 3.0 * f : 3.5 + 1.0 * f)
                    : ScriptedTaskPolicy.Run(id, targetSpeed: car ? 0.8 + 3.0 * f : 1.2 + 3.0 * f);
            var noisy = new NoisyPolicy(scripted, sweep?.NoiseStandardDeviation ?? 0.3, Abstractions.Seeding.SeedStreams.Derive(seed, "noise/" + level));
            plan.Add(new CollectionStage(noisy, counts[level]));
        }
        if (randomEpisodes > 0)
            plan.Add(new CollectionStage(new RandomPolicy(env.ObservationSpace.Dimension, env.ActionSpace, Abstractions.Seeding.SeedStreams.Derive(seed, "random")), randomEpisodes));
        return Collect(env, plan, seed);
    }

    private const string SupportedTasks = "BallCircle, BallRun, CarCircle, CarRun, DroneCircle and DroneRun";

    /// <summary>Episodes per aggressiveness level: shares ∝ 2 + ℓ², at least one each, summing to <paramref name="episodes"/> (largest remainders).</summary>
    internal static int[] LevelEpisodeCounts(int episodes, int levels)
    {
        var weights = Enumerable.Range(0, levels).Select(l => 2.0 + l * (double)l).ToArray();
        double total = weights.Sum();
        int spare = episodes - levels;   // one episode per level first
        var exact = weights.Select(w => spare * w / total).ToArray();
        var counts = exact.Select(x => 1 + (int)Math.Floor(x)).ToArray();
        int left = episodes - counts.Sum();
        foreach (int l in Enumerable.Range(0, levels).OrderByDescending(l => exact[l] - Math.Floor(exact[l])).ThenBy(l => l).Take(left))
            counts[l]++;
        return counts;
    }
}

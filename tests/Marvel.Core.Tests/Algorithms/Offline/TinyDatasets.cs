using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Environments.Tasks;

namespace Marvel.Core.Tests.Algorithms.Offline;

/// <summary>Small datasets and contexts for learner tests, made by rolling a noisy scripted policy in BallCircle.</summary>
internal static class TinyDatasets
{
    public const int EpisodeLength = 40;

    /// <summary>
    /// Episodes of BallCircle: each pushes the ball in a fixed direction whose strength varies per episode, plus
    /// noise, so some leave the safe band and collect cost.
    /// </summary>
    public static OfflineDataset BallCircle(int episodes = 6, ulong seed = 1)
    {
        using var env = new BallCircle(maxEpisodeSteps: EpisodeLength);
        int obsSize = env.ObservationSpace.Dimension, actSize = env.ActionSpace.Dimension;
        var random = new RandomSource(seed);
        var obs = new List<float>(); var next = new List<float>(); var act = new List<float>();
        var rew = new List<float>(); var cost = new List<float>(); var term = new List<bool>(); var trunc = new List<bool>();
        var o = new float[obsSize];
        var n = new float[obsSize];
        var a = new float[actSize];
        for (int e = 0; e < episodes; e++)
        {
            env.Reset(seed * 1000 + (ulong)e, o);
            double strength = (double)e / Math.Max(1, episodes - 1);
            double angle = random.NextDouble(0, 2 * Math.PI);
            bool done = false;
            while (!done)
            {
                a[0] = (float)Math.Clamp(strength * Math.Cos(angle) + 0.3 * random.NextGaussian(), -1, 1);
                a[1] = (float)Math.Clamp(strength * Math.Sin(angle) + 0.3 * random.NextGaussian(), -1, 1);
                var r = env.Step(a, n);
                obs.AddRange(o); next.AddRange(n); act.AddRange(a);
                rew.Add((float)r.Reward); cost.Add((float)r.Cost); term.Add(r.Terminated); trunc.Add(r.Truncated);
                n.CopyTo(o, 0);
                done = r.EpisodeEnded;
            }
        }
        return new OfflineDataset(obsSize, actSize, obs.ToArray(), act.ToArray(), rew.ToArray(), cost.ToArray(), next.ToArray(),
            term.ToArray(), trunc.ToArray(), "tiny BallCircle");
    }

    /// <summary>The BallCircle context with the test horizon.</summary>
    public static LearnerContext Context(ulong seed = 7)
    {
        using var env = new BallCircle(maxEpisodeSteps: EpisodeLength);
        return new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(seed), EpisodeLength, "BallCircle");
    }

    /// <summary>The same transitions as <paramref name="data"/> with the per-step cost of row i replaced by <paramref name="cost"/>(i).</summary>
    public static OfflineDataset WithCosts(OfflineDataset data, Func<int, float> cost, string description) =>
        new(data.ObservationSize, data.ActionSize, data.Observations.ToArray(), data.Actions.ToArray(), data.Rewards.ToArray(),
            Enumerable.Range(0, data.Count).Select(cost).ToArray(), data.NextObservations.ToArray(), data.Terminals.ToArray(),
            data.Timeouts.ToArray(), description);

    /// <summary>A dataset from hand-written episodes of 1-dimensional observations and actions; each episode is (length, cost per step).</summary>
    public static OfflineDataset Episodes(params (int Length, float CostPerStep)[] episodes)
    {
        int total = episodes.Sum(e => e.Length);
        var obs = new float[total]; var act = new float[total]; var rew = new float[total]; var cost = new float[total];
        var next = new float[total]; var term = new bool[total]; var trunc = new bool[total];
        int i = 0;
        for (int e = 0; e < episodes.Length; e++)
        {
            for (int t = 0; t < episodes[e].Length; t++, i++)
            {
                obs[i] = e; next[i] = e; act[i] = 0.1f * e; rew[i] = 1; cost[i] = episodes[e].CostPerStep;
                trunc[i] = t == episodes[e].Length - 1;
            }
        }
        return new OfflineDataset(1, 1, obs, act, rew, cost, next, term, trunc, "hand-made episodes");
    }

    /// <summary>A batch of <paramref name="size"/> BallCircle-shaped transitions with one reward replaced by NaN.</summary>
    public static TransitionBatch BatchWithNaNReward(OfflineDataset data, int size = 8)
    {
        var batch = data.Sample(size, new RandomSource(3));
        var rewards = batch.Rewards.clone();
        rewards[0] = TorchSharp.torch.tensor(float.NaN);
        batch.Rewards.Dispose();
        return batch with { Rewards = rewards };
    }

    /// <summary>A context whose task has <paramref name="observationSize"/> observation values (for mismatch tests).</summary>
    public static LearnerContext ContextWithObservationSize(int observationSize) =>
        new(Marvel.Core.Abstractions.Spaces.BoxSpace.Uniform(observationSize, -10, 10), Marvel.Core.Abstractions.Spaces.BoxSpace.Uniform(2, -1, 1),
            new SeedStreams(1), EpisodeLength, "custom");
}

using Marvel.Core.Abstractions.Scoring;

namespace Marvel.Core.Environments;

/// <summary>Statistics of an evaluation (population standard deviations over episodes).</summary>
/// <param name="Episodes">Evaluated episodes, in the order they were assigned.</param>
/// <param name="MeanReturn">Mean undiscounted return (task units).</param>
/// <param name="StdReturn">Standard deviation of the return.</param>
/// <param name="MeanCost">Mean undiscounted episode cost.</param>
/// <param name="StdCost">Standard deviation of the episode cost.</param>
/// <param name="MeanLength">Mean episode length.</param>
/// <param name="CostLimit">The CostLimit used to normalize the cost.</param>
/// <param name="NormalizedReward">DSRL normalized reward of the mean return, or NaN without a score reference.</param>
/// <param name="NormalizedCost">DSRL normalized cost (C + ε)/(κ + ε) of the mean cost.</param>
public sealed record EvaluationResult(IReadOnlyList<EpisodeSummary> Episodes, double MeanReturn, double StdReturn, double MeanCost, double StdCost,
    double MeanLength, double CostLimit, double NormalizedReward, double NormalizedCost)
{
    /// <summary>True when the mean episode cost is within the limit (normalized cost ≤ 1).</summary>
    public bool IsSafe => NormalizedCost <= 1.0;
}

/// <summary>Evaluates a policy for a number of complete episodes: in a vector environment (<see cref="Evaluate"/>), or by the pipeline's
/// protocol of one seed per episode on fresh instances.</summary>
public static class PolicyEvaluator
{
    /// <summary>Runs <paramref name="episodes"/> episodes (environment i runs episodes i, i + N, …) and summarizes them.</summary>
    /// <param name="policy">The policy.</param>
    /// <param name="environment">The vector environment; it is reset with <paramref name="seed"/>.</param>
    /// <param name="episodes">Number of episodes (≥ 1).</param>
    /// <param name="costLimit">CostLimit κ (undiscounted episode cost) for the normalized cost.</param>
    /// <param name="seed">Reset seed (use a seed stream separate from training).</param>
    /// <param name="deterministic">Use the policy's mode (default) or sample.</param>
    /// <param name="reference">Score reference for the normalized reward; looked up by task id when null (NaN when unknown).</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public static EvaluationResult Evaluate(IPolicy policy, IVectorEnvironment environment, int episodes, double costLimit, ulong seed,
        bool deterministic = true, TaskScoreReference? reference = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(episodes);
        int n = environment.Count, obsDim = environment.ObservationSpace.Dimension, actDim = environment.ActionSpace.Dimension;
        if (policy.ObservationSize != obsDim || policy.ActionSize != actDim)
            throw new ArgumentException($"The policy takes {policy.ObservationSize} observations and gives {policy.ActionSize} actions; task '{environment.Spec.Id}' has {obsDim} and {actDim}.", nameof(policy));
        var quota = Enumerable.Range(0, n).Select(i => episodes / n + (i < episodes % n ? 1 : 0)).ToArray();
        var perEnv = Enumerable.Range(0, n).Select(_ => new List<EpisodeSummary>()).ToArray();
        var obs = new float[n * obsDim];
        var actions = new float[n * actDim];
        var results = new StepResult[n];
        var finished = new List<(int Index, EpisodeSummary Episode)>();
        environment.Reset(seed, obs);
        for (int i = 0; i < n; i++) policy.OnEpisodeStart(i);
        while (Enumerable.Range(0, n).Any(i => perEnv[i].Count < quota[i]))
        {
            cancellationToken.ThrowIfCancellationRequested();
            policy.Act(obs, actions, deterministic);
            finished.Clear();
            environment.Step(actions, obs, results, finished);
            foreach (var (index, episode) in finished)
            {
                if (perEnv[index].Count < quota[index]) perEnv[index].Add(episode);
                policy.OnEpisodeStart(index);
            }
        }
        var all = new List<EpisodeSummary>(episodes);
        for (int k = 0; all.Count < episodes; k++)
            for (int i = 0; i < n; i++)
                if (k < perEnv[i].Count) all.Add(perEnv[i][k]);
        return Summarize(all, environment.Spec.Id, costLimit, reference);
    }

    /// <summary>
    /// The pipeline's evaluation protocol (marvel.md §4.5): <paramref name="episodes"/> deterministic episodes in rounds of
    /// <c>environments.Count</c>, episode i reset with seed <paramref name="firstSeed"/> + i on its own environment instance, so the result
    /// is a function of the policy and the seeds only (the environments share no random state with training).
    /// </summary>
    /// <param name="policy">The policy; acts deterministically.</param>
    /// <param name="environments">Fresh environment instances of one task (at least one); each round resets them.</param>
    /// <param name="episodes">Number of episodes (≥ 1).</param>
    /// <param name="costLimit">CostLimit κ for the normalized cost.</param>
    /// <param name="firstSeed">Reset seed of episode 0 (wraps modulo 2⁶⁴).</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    internal static EvaluationResult EvaluateSeeded(IPolicy policy, IReadOnlyList<IEnvironment> environments, int episodes, double costLimit, ulong firstSeed,
        CancellationToken cancellationToken)
    {
        int n = environments.Count;
        int obsDim = environments[0].ObservationSpace.Dimension, actDim = environments[0].ActionSpace.Dimension;
        var obs = new float[n * obsDim];
        var actions = new float[n * actDim];
        var returns = new double[n];
        var costs = new double[n];
        var lengths = new int[n];
        var done = new bool[n];
        var all = new List<EpisodeSummary>(episodes);
        for (int start = 0; start < episodes; start += n)
        {
            int active = Math.Min(n, episodes - start);
            for (int j = 0; j < active; j++)
            {
                environments[j].Reset(unchecked(firstSeed + (ulong)(start + j)), obs.AsSpan(j * obsDim, obsDim));
                policy.OnEpisodeStart(j);
                returns[j] = 0; costs[j] = 0; lengths[j] = 0; done[j] = false;
            }
            var summaries = new EpisodeSummary[active];
            int remaining = active;
            while (remaining > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                policy.Act(obs.AsSpan(0, active * obsDim), actions.AsSpan(0, active * actDim), deterministic: true);
                for (int j = 0; j < active; j++)
                {
                    if (done[j]) continue;
                    var r = environments[j].Step(actions.AsSpan(j * actDim, actDim), obs.AsSpan(j * obsDim, obsDim));
                    returns[j] += r.Reward;
                    costs[j] += r.Cost;
                    lengths[j]++;
                    if (r.EpisodeEnded)
                    {
                        done[j] = true;
                        remaining--;
                        summaries[j] = new EpisodeSummary(returns[j], costs[j], lengths[j]);
                    }
                }
            }
            all.AddRange(summaries);
        }
        return Summarize(all, environments[0].Spec.Id, costLimit, reference: null);
    }

    /// <summary>Means, population standard deviations and DSRL scores of evaluated episodes (the reference looked up by
    /// <paramref name="taskId"/> when null; NaN normalized reward without one).</summary>
    private static EvaluationResult Summarize(List<EpisodeSummary> all, string taskId, double costLimit, TaskScoreReference? reference)
    {
        double meanR = all.Average(e => e.Return), meanC = all.Average(e => e.Cost);
        double stdR = Math.Sqrt(all.Average(e => (e.Return - meanR) * (e.Return - meanR)));
        double stdC = Math.Sqrt(all.Average(e => (e.Cost - meanC) * (e.Cost - meanC)));
        if (reference is null) NormalizedScore.TryGetReference(taskId, out reference!);
        double normR = reference is null ? double.NaN : NormalizedScore.Reward(meanR, reference);
        return new EvaluationResult(all, meanR, stdR, meanC, stdC, all.Average(e => e.Length), costLimit, normR, NormalizedScore.Cost(meanC, costLimit));
    }
}

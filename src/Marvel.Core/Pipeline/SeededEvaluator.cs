using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Scoring;
using Marvel.Core.Environments;

namespace Marvel.Core.Pipeline;

/// <summary>
/// The evaluation protocol of marvel.md §4.5: deterministic actions, complete episodes, and episode i of evaluation k reset with
/// seed <c>baseSeed + 10 000·k + i</c> on dedicated environment instances that share no random state with training.
/// </summary>
internal static class SeededEvaluator
{
    /// <summary>Seed offset between consecutive evaluations.</summary>
    public const ulong EvaluationStride = 10_000;

    /// <summary>Runs <paramref name="episodes"/> episodes in rounds of <c>environments.Count</c> and summarizes them.</summary>
    public static EvaluationResult Evaluate(IPolicy policy, IReadOnlyList<IEnvironment> environments, int episodes, double costLimit, ulong baseSeed,
        int evaluationIndex, CancellationToken cancellationToken)
    {
        int n = environments.Count;
        var spec = environments[0].Spec;
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
                ulong seed = unchecked(baseSeed + EvaluationStride * (ulong)evaluationIndex + (ulong)(start + j));
                environments[j].Reset(seed, obs.AsSpan(j * obsDim, obsDim));
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
        double meanR = all.Average(e => e.Return), meanC = all.Average(e => e.Cost);
        double stdR = Math.Sqrt(all.Average(e => (e.Return - meanR) * (e.Return - meanR)));
        double stdC = Math.Sqrt(all.Average(e => (e.Cost - meanC) * (e.Cost - meanC)));
        double normR = NormalizedScore.TryGetReference(spec.Id, out var reference) ? NormalizedScore.Reward(meanR, reference) : double.NaN;
        return new EvaluationResult(all, meanR, stdR, meanC, stdC, all.Average(e => e.Length), costLimit, normR, NormalizedScore.Cost(meanC, costLimit));
    }
}

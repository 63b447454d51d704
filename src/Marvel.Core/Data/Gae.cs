namespace Marvel.Core.Data;

/// <summary>Generalised advantage estimation (Schulman et al. 2016) over one environment's stretch of a rollout.</summary>
/// <remarks>
/// δ_t = r_t + γ·v'_t − v_t, A_t = δ_t + γλ·(1 − end_t)·A_{t+1}, return target R_t = A_t + v_t, computed in double precision
/// (as OmniSafe does) and stored as float32. v'_t is the bootstrap value of the state after step t: V(s_{t+1}) inside an episode,
/// 0 when the episode terminated, V(final observation) when it was truncated by the time limit, V(current observation) at the end
/// of the rollout (algorithms.md §8.2). end_t cuts the recursion where an episode ended.
/// </remarks>
public static class Gae
{
    /// <summary>Computes advantages and return targets for one environment's consecutive steps.</summary>
    /// <param name="rewards">r_t, length n.</param>
    /// <param name="values">v_t = V(s_t), length n.</param>
    /// <param name="nextValues">v'_t, the bootstrap value after step t (see remarks), length n.</param>
    /// <param name="episodeEnds">end_t: the episode ended (terminated or truncated) at step t, length n.</param>
    /// <param name="gamma">Discount γ in [0, 1].</param>
    /// <param name="lambda">GAE λ in [0, 1].</param>
    /// <param name="advantages">Receives A_t, length n.</param>
    /// <param name="returns">Receives R_t = A_t + v_t, length n.</param>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void Compute(ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, ReadOnlySpan<float> nextValues, ReadOnlySpan<bool> episodeEnds,
        double gamma, double lambda, Span<float> advantages, Span<float> returns)
    {
        int n = rewards.Length;
        if (values.Length != n || nextValues.Length != n || episodeEnds.Length != n || advantages.Length != n || returns.Length != n)
            throw new ArgumentException($"GAE: all spans must have the rewards' length {n}; got values {values.Length}, next values {nextValues.Length}, " +
                $"episode ends {episodeEnds.Length}, advantages {advantages.Length}, returns {returns.Length}.");
        double next = 0;
        for (int t = n - 1; t >= 0; t--)
        {
            double delta = rewards[t] + gamma * nextValues[t] - values[t];
            double a = delta + (episodeEnds[t] ? 0 : gamma * lambda * next);
            advantages[t] = (float)a;
            returns[t] = (float)(a + values[t]);
            next = a;
        }
    }
}

namespace Marvel.Core.Abstractions;

/// <summary>
/// The one place where the episodic cost limit is converted to other thresholds.
/// Everywhere in the public API, <c>CostLimit</c> is the <b>undiscounted episode cost</b> budget κ:
/// a policy is safe when E[Σ_{t&lt;T} c_t] ≤ κ.
/// </summary>
/// <remarks>
/// Q-based offline methods (CPQ, BEAR-Lag, BCQ-Lag, COptiDICE) compare a discounted cost value with
/// <see cref="QCostThreshold"/>: the discounted value of spending the budget evenly, κ/T per step, for T steps
/// (the <c>qc_thres</c> of OSRL). SAC-Lag, PPO-Lag, BC-Safe and CDT compare episode costs with κ directly.
/// </remarks>
public static class CostBudget
{
    /// <summary>Per-step share of the budget: κ / T.</summary>
    /// <param name="costLimit">Undiscounted episode cost limit κ ≥ 0.</param>
    /// <param name="episodeLength">Episode length T ≥ 1 (steps).</param>
    /// <exception cref="ArgumentOutOfRangeException">κ is negative or not finite, or T &lt; 1.</exception>
    public static double PerStepCostThreshold(double costLimit, int episodeLength)
    {
        Check(costLimit, episodeLength);
        return costLimit / episodeLength;
    }

    /// <summary>
    /// Discounted cost-value threshold: κ · (1 − γ^T) / ((1 − γ) · T), i.e. Σ_{t&lt;T} γ^t · κ/T.
    /// For γ = 1 it equals κ.
    /// </summary>
    /// <param name="costLimit">Undiscounted episode cost limit κ ≥ 0.</param>
    /// <param name="gamma">Discount factor γ in (0, 1].</param>
    /// <param name="episodeLength">Episode length T ≥ 1 (steps).</param>
    /// <returns>The bound on Q_c(s, a) that corresponds to κ.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    /// <example>κ = 10, γ = 0.99, T = 100 gives 10 · (1 − 0.99¹⁰⁰) / (0.01 · 100) ≈ 6.3397.</example>
    public static double QCostThreshold(double costLimit, double gamma, int episodeLength)
    {
        Check(costLimit, episodeLength);
        if (!(gamma > 0 && gamma <= 1))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "The discount factor gamma must be in (0, 1].");
        if (gamma == 1.0) return costLimit;
        return costLimit * (1 - Math.Pow(gamma, episodeLength)) / ((1 - gamma) * episodeLength);
    }

    private static void Check(double costLimit, int episodeLength)
    {
        if (!double.IsFinite(costLimit) || costLimit < 0)
            throw new ArgumentOutOfRangeException(nameof(costLimit), costLimit, "CostLimit (undiscounted episode cost) must be finite and >= 0.");
        if (episodeLength < 1)
            throw new ArgumentOutOfRangeException(nameof(episodeLength), episodeLength, "The episode length T must be at least 1 step.");
    }
}

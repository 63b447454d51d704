namespace Marvel.Core.Abstractions;

/// <summary>
/// The one place where the episodic cost limit is converted to other thresholds.
/// Everywhere in the public API, <c>CostLimit</c> is the <b>undiscounted episode cost</b> budget κ:
/// a policy is safe when E[Σ_{t&lt;T} c_t] ≤ κ.
/// </summary>
/// <remarks>
/// Q-based offline methods (CPQ, BEAR-Lag, BCQ-Lag, COptiDICE) compare a discounted cost value with
/// <see cref="CostValueThreshold"/>: the discounted value of spending the budget evenly, κ/T per step, in the critic's units (times
/// its cost scale) and over the critic's horizon: forever (<see cref="InfiniteHorizonCostThreshold"/>) for critics that bootstrap through
/// time-limit truncation, the library default; T steps (<see cref="QCostThreshold"/>, the <c>qc_thres</c> of OSRL) for critics that stop
/// there, as the reference does. SAC-Lag, PPO-Lag, BC-Safe and CDT compare episode costs with κ directly.
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

    /// <summary>
    /// Discounted cost-value threshold of an infinite-horizon critic: κ / (T · (1 − γ)), the value Σ_{t≥0} γ^t · κ/T of spending the
    /// per-step share κ/T forever. This is the consistent bound for critics that bootstrap through time-limit truncation (they estimate
    /// the value of a policy that keeps going), which is the library's default for every value-based learner. For γ = 1 it equals κ.
    /// </summary>
    /// <param name="costLimit">Undiscounted episode cost limit κ ≥ 0.</param>
    /// <param name="gamma">Discount factor γ in (0, 1].</param>
    /// <param name="episodeLength">Episode length T ≥ 1 (steps).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    /// <example>κ = 20, γ = 0.99, T = 200 gives 20 / (200 · 0.01) = 10 (the episode form <see cref="QCostThreshold"/> gives 8.66).</example>
    public static double InfiniteHorizonCostThreshold(double costLimit, double gamma, int episodeLength)
    {
        Check(costLimit, episodeLength);
        if (!(gamma > 0 && gamma <= 1))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "The discount factor gamma must be in (0, 1].");
        if (gamma == 1.0) return costLimit;
        return costLimit / (episodeLength * (1 - gamma));
    }

    /// <summary>
    /// The threshold a value-based learner compares its cost critic with, in the critic's own units: the discounted form that matches
    /// how the critic bootstraps, times the cost scale the critic learns with. Critics that bootstrap through time-limit truncation
    /// estimate infinite-horizon values, so they get <see cref="InfiniteHorizonCostThreshold"/>; critics that stop at truncation
    /// (the reference's <c>TreatTimeoutAsTerminal</c>) estimate at most T-step values and get OSRL's <see cref="QCostThreshold"/>.
    /// </summary>
    /// <param name="costLimit">Undiscounted episode cost limit κ ≥ 0, in task cost units.</param>
    /// <param name="gamma">Discount factor γ in (0, 1].</param>
    /// <param name="episodeLength">Episode length T ≥ 1 (steps).</param>
    /// <param name="costScale">The factor the critic's costs were multiplied by (c·CostScale), &gt; 0.</param>
    /// <param name="bootstrapsThroughTruncation">Whether the critic's target bootstraps at time-limit truncations.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    /// <example>κ = 20, γ = 0.99, T = 200, CostScale 2: 2 · 10 = 20 when bootstrapping through truncation, 2 · 8.66 = 17.32 otherwise.</example>
    public static double CostValueThreshold(double costLimit, double gamma, int episodeLength, double costScale, bool bootstrapsThroughTruncation)
    {
        if (!(double.IsFinite(costScale) && costScale > 0))
            throw new ArgumentOutOfRangeException(nameof(costScale), costScale, "The cost scale must be finite and > 0.");
        double threshold = bootstrapsThroughTruncation
            ? InfiniteHorizonCostThreshold(costLimit, gamma, episodeLength)
            : QCostThreshold(costLimit, gamma, episodeLength);
        return costScale * threshold;
    }

    private static void Check(double costLimit, int episodeLength)
    {
        if (!double.IsFinite(costLimit) || costLimit < 0)
            throw new ArgumentOutOfRangeException(nameof(costLimit), costLimit, "CostLimit (undiscounted episode cost) must be finite and >= 0.");
        if (episodeLength < 1)
            throw new ArgumentOutOfRangeException(nameof(episodeLength), episodeLength, "The episode length T must be at least 1 step.");
    }
}

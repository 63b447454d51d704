namespace Marvel.Core.Abstractions;

/// <summary>
/// The run's cost budget and the one place where it is converted to other units. Everywhere in the public API, <c>CostLimit</c> is the
/// <b>undiscounted episode cost</b> budget κ: a policy is safe when E[Σ_{t&lt;T} c_t] ≤ κ. An instance binds κ to the task's horizon T;
/// the pipeline creates one per run (<see cref="Learning.LearnerContext.Budget"/>) and every learner, aligner and controller reads κ
/// and its derived thresholds from it.
/// </summary>
/// <remarks>
/// <para>The units, each derived here and nowhere else:</para>
/// <list type="bullet">
/// <item><see cref="CostLimit"/>: undiscounted episode cost, task units. SAC-Lag, PPO-Lag, the Lagrange controllers, BC-Safe and CDT
/// compare episode costs with it; the pipeline's cumulative violation is <see cref="Violation(double)"/> summed over episodes.</item>
/// <item><see cref="PerStepCost"/>: κ/T, the budget spent evenly over the horizon.</item>
/// <item><see cref="CriticThreshold"/>: the discounted value of spending κ/T per step, in a critic's units (times its cost scale) and
/// over the critic's horizon: forever (<see cref="InfiniteHorizonCostThreshold"/>) for critics that bootstrap through time-limit
/// truncation, the library default; T steps (<see cref="QCostThreshold"/>, the <c>qc_thres</c> of OSRL) for critics that stop there,
/// as the reference does. CPQ, BEAR-Lag and BCQ-Lag compare Q_c with it.</item>
/// <item><see cref="PerStepCriticThreshold"/>: (1 − γ) times the critic threshold, the bound on a (1 − γ)-normalised cost estimate
/// (COptiDICE's ĉ).</item>
/// </list>
/// <para>The static methods are the formulas; they stay public for code that has no run (reports, notebooks).</para>
/// </remarks>
/// <example>
/// <code>
/// var budget = new CostBudget(costLimit: 20, episodeLength: 200);
/// budget.PerStepCost;                                            // 0.1
/// budget.CriticThreshold(0.99, costScale: 1, bootstrapsThroughTruncation: true);  // 20 / (200 · 0.01) = 10
/// budget.Violation(26.5);                                        // 6.5
/// </code>
/// </example>
public sealed class CostBudget
{
    /// <summary>Relative tolerance within which two cost limits are the same budget (<see cref="Agrees"/>).</summary>
    public const double AgreementTolerance = 1e-9;

    /// <summary>Creates the budget of a run.</summary>
    /// <param name="costLimit">Undiscounted episode cost limit κ ≥ 0, in task cost units.</param>
    /// <param name="episodeLength">The task horizon T ≥ 1 (steps), e.g. <c>EnvironmentSpec.MaxEpisodeSteps</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">κ is negative or not finite, or T &lt; 1.</exception>
    public CostBudget(double costLimit, int episodeLength)
    {
        Check(costLimit, episodeLength);
        CostLimit = costLimit;
        EpisodeLength = episodeLength;
    }

    /// <summary>κ: the undiscounted episode cost limit, in task cost units.</summary>
    public double CostLimit { get; }

    /// <summary>T: the task horizon in steps.</summary>
    public int EpisodeLength { get; }

    /// <summary>This budget's κ over another horizon, for a learner whose options override the task's episode length (the reference's
    /// per-task <c>episode_len</c>); the same instance when <paramref name="episodeLength"/> is already T.</summary>
    /// <param name="episodeLength">The horizon T' ≥ 1 the learner's thresholds use.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="episodeLength"/> is below 1.</exception>
    public CostBudget WithEpisodeLength(int episodeLength) => episodeLength == EpisodeLength ? this : new CostBudget(CostLimit, episodeLength);

    /// <summary>κ / T: the per-step share of the budget, in task cost units per step.</summary>
    public double PerStepCost => CostLimit / EpisodeLength;

    /// <summary>The threshold a value-based learner compares its cost critic with, in the critic's own units
    /// (<see cref="CostValueThreshold"/> of this budget).</summary>
    /// <param name="gamma">The critic's discount factor γ in (0, 1].</param>
    /// <param name="costScale">The factor the critic's costs were multiplied by (c·CostScale), &gt; 0.</param>
    /// <param name="bootstrapsThroughTruncation">Whether the critic's target bootstraps at time-limit truncations.</param>
    /// <exception cref="ArgumentOutOfRangeException">γ or the cost scale is outside its range.</exception>
    public double CriticThreshold(double gamma, double costScale, bool bootstrapsThroughTruncation) =>
        CostValueThreshold(CostLimit, gamma, EpisodeLength, costScale, bootstrapsThroughTruncation);

    /// <summary>(1 − γ) · <see cref="CriticThreshold"/>: the bound on a (1 − γ)-normalised discounted cost estimate, a per-step quantity
    /// in the critic's units (COptiDICE's ĉ). Meaningful for γ &lt; 1 only (it is 0 at γ = 1).</summary>
    /// <param name="gamma">The discount factor γ in (0, 1].</param>
    /// <param name="costScale">The factor the costs were multiplied by, &gt; 0.</param>
    /// <param name="bootstrapsThroughTruncation">Whether the estimate bootstraps at time-limit truncations.</param>
    /// <exception cref="ArgumentOutOfRangeException">γ or the cost scale is outside its range.</exception>
    /// <example>κ = 20, T = 200, γ = 0.99, scale 1, bootstrapping: 0.01 · 10 = 0.1 = κ/T.</example>
    public double PerStepCriticThreshold(double gamma, double costScale, bool bootstrapsThroughTruncation)
    {
        return (1 - gamma) * CriticThreshold(gamma, costScale, bootstrapsThroughTruncation);
    }

    /// <summary>max(0, C − κ): how far one episode's undiscounted cost C went over the limit, in task cost units.</summary>
    /// <param name="episodeCost">The episode's undiscounted cost C.</param>
    public double Violation(double episodeCost) => Math.Max(0, episodeCost - CostLimit);

    /// <summary>Σ max(0, C_i − κ) over episodes: the cumulative violation of the pipeline's tables.</summary>
    /// <param name="episodeCosts">Undiscounted episode costs.</param>
    /// <exception cref="ArgumentNullException"><paramref name="episodeCosts"/> is null.</exception>
    public double Violation(IEnumerable<double> episodeCosts)
    {
        ArgumentNullException.ThrowIfNull(episodeCosts);
        double sum = 0;
        foreach (double c in episodeCosts) sum += Violation(c);
        return sum;
    }

    /// <summary>Whether <paramref name="costLimit"/> is this budget's κ (equal within a relative <see cref="AgreementTolerance"/>).</summary>
    /// <param name="costLimit">A cost limit from another source (an options section, an artifact, a controller).</param>
    public bool Agrees(double costLimit) => Agree(CostLimit, costLimit);

    /// <summary>
    /// Checks that each named cost limit agrees with this budget and throws one exception that names every one that does not, e.g.
    /// "CpqOptions.CostLimit = 10, AdaptivePidLagrangeOptions.CostLimit = 25 disagree with the run's CostLimit = 20 …".
    /// </summary>
    /// <param name="where">Who asks, for the message (e.g. "Marvel pipeline").</param>
    /// <param name="limits">(name, value) pairs: where each limit is set, and its value.</param>
    /// <exception cref="ArgumentException">At least one limit disagrees.</exception>
    public void RequireAgreement(string where, params (string Name, double CostLimit)[] limits) => RequireAgreement(CostLimit, where, limits);

    /// <summary>
    /// <see cref="RequireAgreement(string, ValueTuple{string, double}[])"/> before the horizon is known (e.g. when a pipeline is built):
    /// checks each named limit against <paramref name="costLimit"/> and names every one that disagrees.
    /// </summary>
    /// <param name="costLimit">The run's κ.</param>
    /// <param name="where">Who asks, for the message.</param>
    /// <param name="limits">(name, value) pairs: where each limit is set, and its value.</param>
    /// <exception cref="ArgumentException">At least one limit disagrees.</exception>
    public static void RequireAgreement(double costLimit, string where, params (string Name, double CostLimit)[] limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var disagreeing = limits.Where(l => !Agree(costLimit, l.CostLimit)).ToArray();
        if (disagreeing.Length == 0) return;
        string list = string.Join(", ", disagreeing.Select(l => System.FormattableString.Invariant($"{l.Name} = {l.CostLimit}")));
        throw new ArgumentException(System.FormattableString.Invariant(
            $"{where}: {list} {(disagreeing.Length == 1 ? "disagrees" : "disagree")} with the run's CostLimit = {costLimit} (undiscounted episode cost). ") +
            "One budget drives the whole run: set each of these to the run's CostLimit, or leave it unset where it defaults from the run's.");
    }

    private static bool Agree(double costLimit, double other) => Math.Abs(other - costLimit) <= AgreementTolerance * Math.Max(1, Math.Abs(costLimit));

    /// <inheritdoc />
    public override string ToString() => System.FormattableString.Invariant($"κ = {CostLimit} per episode of T = {EpisodeLength} steps");

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

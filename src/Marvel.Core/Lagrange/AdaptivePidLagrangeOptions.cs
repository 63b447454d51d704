using System.Text.Json.Serialization;

namespace Marvel.Core.Lagrange;

/// <summary>How <see cref="AdaptivePidLagrangeController"/> adapts its gains after each update.</summary>
public enum GainAdaptationRule
{
    /// <summary>
    /// The Marvel reference rule (<c>adapt_pid_parameters</c>, marvel.md §3.2): with m = mean(W + offset) and
    /// s = std(W) over the stored cost averages W, K_P and K_I are multiplied by 1 + a·(m − d)/m and K_D by
    /// 1 + g·s/m, then clipped to [K⁰·lower, K⁰·upper]. The factor can be negative when m ≪ d (the clip rescues it).
    /// </summary>
    Reference,

    /// <summary>
    /// Paper-style rule (the paper's exact form could not be read; marvel.md §3.3): as <see cref="Reference"/>
    /// but K_P is multiplied by 1 + a·tanh((m − d)/m), so its step is bounded to ±a per update and the factor is
    /// always positive. K_I and K_D follow the reference rule.
    /// </summary>
    PaperTanh,

    /// <summary>No adaptation: the gains stay at K⁰ (a plain PID Lagrangian with this controller's filters).</summary>
    None,

    /// <summary>
    /// The library's rule: the reference's factors with the relative error taken against the larger of m and d,
    /// f_P = f_I = 1 + a·(m − d)/max(m, d) and f_D = 1 + g·s/max(m, d), so every factor lies in (1 − a, 1 + a) (K_D: ≥ 1).
    /// The reference divides by m alone, which reaches ≈ −160 when the cost is ≈ 0 (m = the 0.1 offset, d = 16): K_I drops to
    /// its lower bound at the first update below the limit and a high multiplier then unwinds at a tenth of its rate
    /// (marvel.md §3.2; ERRATA). Above the set point both rules agree.
    /// </summary>
    Bounded,
}

/// <summary>Settings of <see cref="AdaptivePidLagrangeController"/>, Marvel's adaptive PID Lagrangian (aPID).</summary>
/// <remarks>
/// Defaults are the Marvel reference's (CLIVERCHEN/Marvel-O2O_Safe_RL, <c>online/sac_lag.py</c> and <c>utils.py</c>;
/// marvel.md §3.3) except the initial gains: the reference's K⁰ = 5e-6 is sized for one controller update per mini-batch
/// step, 20 per iteration, while Marvel.Core updates the controller once per iteration (marvel.md §4.4). The default
/// K⁰ = 1e-4 is the reference value × 20, the conversion §4.4 gives. Measured on BallCircle (docs/results.md): with 5e-6 at
/// one update per iteration λ stayed at most 0.39 over 100 iterations while the episode cost was 5–9× the limit; with 1e-4
/// it reached 8. <see cref="Reference"/> gives the reference's gains and delay line (its worked trace, marvel.md §3.4).
/// The paper's values K_P = 1e-4, K_I = 1e-5 (unverified, marvel.md §3.3) are an alternative starting point.
/// </remarks>
public sealed record AdaptivePidLagrangeOptions
{
    /// <summary>
    /// Set point: the undiscounted episode cost budget d (cost units per episode, unscaled). Default 20 (Marvel
    /// reference <c>--cost_limit</c>).
    /// </summary>
    public double CostLimit { get; set; } = 20.0;

    /// <summary>
    /// The controller regulates the mean episode cost to <c>SetPointFraction · CostLimit</c> rather than to the limit itself, in (0, 1].
    /// The multiplier holds the <i>training</i> episodes' mean cost at its set point, with noise around it; a set point below the limit
    /// leaves the margin that keeps the final policy within the limit on most seeds. Default 1 (the limit itself, as the reference).
    /// </summary>
    public double SetPointFraction { get; set; } = 1.0;

    /// <summary>
    /// The Marvel reference's initial gain, 5e-6 for each of K_P⁰, K_I⁰ and K_D⁰, sized for 20 controller updates per iteration
    /// (one per mini-batch step, <c>MultiplierUpdate = PerMiniBatch</c> in marvel.md §4.4).
    /// </summary>
    public const double ReferenceGain = 5e-6;

    /// <summary>
    /// The default initial gain for one controller update per iteration: <see cref="ReferenceGain"/> × 20, the reference's mini-batch
    /// steps per iteration (marvel.md §4.4), i.e. 1e-4.
    /// </summary>
    public const double PerIterationGain = ReferenceGain * 20;

    /// <summary>K_P⁰, the initial proportional gain (λ per cost unit). Default <see cref="PerIterationGain"/> = 1e-4 (reference 5e-6 × 20; paper: 1e-4, unverified).</summary>
    public double Kp { get; set; } = PerIterationGain;

    /// <summary>K_I⁰, the initial integral gain (λ per cost unit per update). Default <see cref="PerIterationGain"/> = 1e-4 (reference 5e-6 × 20; paper: 1e-5, unverified).</summary>
    public double Ki { get; set; } = PerIterationGain;

    /// <summary>K_D⁰, the initial derivative gain (λ per cost unit). Default <see cref="PerIterationGain"/> = 1e-4 (reference 5e-6 × 20).</summary>
    public double Kd { get; set; } = PerIterationGain;

    /// <summary>
    /// The Marvel reference's settings: K⁰ = <see cref="ReferenceGain"/> for all three gains and the zero-seeded delay line, the
    /// configuration of the worked trace in marvel.md §3.4. Use it with a controller updated once per mini-batch step, as the
    /// reference does; at one update per iteration these gains leave λ far too small (see the remarks of this type).
    /// </summary>
    public static AdaptivePidLagrangeOptions Reference() => new()
    {
        Kp = ReferenceGain, Ki = ReferenceGain, Kd = ReferenceGain, DelayInit = DelayLineInit.ZeroSeeded,
    };

    /// <summary>
    /// The library's safe-finetuning gains for one controller update per iteration of 5 episodes: K⁰ = (0.1, 0.01, 0.01), the
    /// OmniSafe PID gains for episode costs of order 10–100 (1 000× and 100× the per-iteration default 1e-4, which left λ ≤ 0.4 while
    /// the cost was 4–10× over the limit), the set point at 0.5·CostLimit (the training episodes' cost spreads widely around its mean, and
    /// with the handed-over critics left out, the lower set point cut the cumulative violation by 19–62 % on four tasks at a reward within
    /// 0.03 of 0.8·CostLimit's; docs/results.md, round 5), and the
    /// <see cref="GainAdaptationRule.Bounded"/> gain rule. The reference rule's relative error (m − d)/m is about −160 when the cost is
    /// near 0, so K_I fell to K⁰/10 at the first safe update and a multiplier that started high stayed high (docs/results.md, "Safe
    /// finetuning": CarCircle 0.014 → 0.079 normalized reward in 500 episodes); the Bounded rule moves each gain by at most 5 % per update.
    /// </summary>
    /// <param name="costLimit">The undiscounted episode cost limit κ.</param>
    public static AdaptivePidLagrangeOptions SafeFinetuning(double costLimit) => new()
    {
        CostLimit = costLimit, Kp = 0.1, Ki = 0.01, Kd = 0.01, SetPointFraction = 0.5, GainAdaptation = GainAdaptationRule.Bounded,
    };

    /// <summary>
    /// How many controller updates of the reference's time base one call of <see cref="AdaptivePidLagrangeController.Update"/>
    /// stands for, k ≥ 1. One call applies the integral step k·K_I·e, the averages with a^k in place of a, and the gain factors
    /// raised to the k-th power, which for a constant cost is what k calls at k = 1 would do (exactly for the integral and the
    /// averages; the gains to first order). So the same gains describe the same behaviour in time whether the controller is updated
    /// once per mini-batch step (the reference, 20 per iteration) or once per iteration with k = 20. The delay line counts calls.
    /// Default 1.
    /// </summary>
    public int UpdatesPerCall { get; set; } = 1;

    /// <summary>
    /// d_delay, the capacity of the delay line of past cost averages (updates, ≥ 1); the line is also the
    /// adaptation window W. Default 10 (Marvel reference).
    /// </summary>
    public int DerivativeDelay { get; set; } = 10;

    /// <summary>a_p in Δp ← a_p·Δp + (1 − a_p)·(J_c − d), the P term's error average. In [0, 1). Default 0.9 (Marvel reference).</summary>
    public double ProportionalEmaAlpha { get; set; } = 0.9;

    /// <summary>a_d in c_d ← a_d·c_d + (1 − a_d)·J_c, the D term's cost average. In [0, 1). Default 0.9 (Marvel reference).</summary>
    public double DerivativeEmaAlpha { get; set; } = 0.9;

    /// <summary>λ₀: the initial integral I₀ and output before the first update (λ units). Default 0: Marvel restarts λ online (marvel.md §4.2).</summary>
    public double InitialLambda { get; set; }

    /// <summary>
    /// Optional upper bound on λ (λ ← min(λ, bound) after the non-negativity projection); null (default) means none, as in the
    /// reference (its <c>penalty_max</c> is inactive). The bound also caps the integral term (anti-windup), so that λ leaves the bound as
    /// soon as the cost falls below the set point; <see cref="ReferenceUnboundedIntegral"/> restores OmniSafe's unbounded integral.
    /// </summary>
    public double? UpperBound { get; set; }

    /// <summary>
    /// Reproduction option: with an <see cref="UpperBound"/>, let the integral grow past the bound as OmniSafe's <c>penalty_max</c> does
    /// (only λ is clipped). Then a long costly phase winds the integral far above the bound and λ stays pinned there for many updates
    /// after the cost has fallen (measured on DroneRun, issue 23: the integral reached 40.7 under a bound of 2 and λ stayed at 2 from
    /// iteration 45 to 100 at episode cost 0). Default false: the integral is capped at the bound. No effect without a bound.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]   // absent from the options JSON at its default
    public bool ReferenceUnboundedIntegral { get; set; }

    /// <summary>The gain adaptation rule. Default <see cref="GainAdaptationRule.Reference"/> (marvel.md §3.2, §3.3).</summary>
    public GainAdaptationRule GainAdaptation { get; set; } = GainAdaptationRule.Reference;

    /// <summary>
    /// How the delay line starts. Default <see cref="DelayLineInit.FirstValue"/>, the corrected algorithm recommended
    /// by marvel.md §3.5 and §8 D9 (D is a real difference from the first update on). Use
    /// <see cref="DelayLineInit.ZeroSeeded"/> to reproduce the reference (and its worked trace, marvel.md §3.4).
    /// </summary>
    public DelayLineInit DelayInit { get; set; } = DelayLineInit.FirstValue;

    /// <summary>a, the adaptation rate of K_P (fraction per update, in [0, 1)). Default 0.05 (Marvel reference).</summary>
    public double ProportionalAdaptationRate { get; set; } = 0.05;

    /// <summary>b, the adaptation rate of K_I (fraction per update, in [0, 1)). Default 0.05 (Marvel reference).</summary>
    public double IntegralAdaptationRate { get; set; } = 0.05;

    /// <summary>g, the adaptation rate of K_D (fraction per update, in [0, 1)). Default 0.05 (Marvel reference).</summary>
    public double DerivativeAdaptationRate { get; set; } = 0.05;

    /// <summary>
    /// Offset added to every window element before averaging, m = mean(W + offset) (cost units, &gt; 0; it keeps m
    /// away from 0). Default 0.1 (Marvel reference).
    /// </summary>
    public double WindowOffset { get; set; } = 0.1;

    /// <summary>Lower gain bound as a fraction of K⁰: K ≥ K⁰·factor, in (0, 1]. Default 0.1, i.e. K⁰/10 (Marvel reference).</summary>
    public double GainLowerBoundFactor { get; set; } = 0.1;

    /// <summary>Upper gain bound as a multiple of K⁰: K ≤ K⁰·factor, ≥ 1. Default 10 (Marvel reference).</summary>
    public double GainUpperBoundFactor { get; set; } = 10.0;
}

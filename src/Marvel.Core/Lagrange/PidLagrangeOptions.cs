using System.Text.Json.Serialization;

namespace Marvel.Core.Lagrange;

/// <summary>Settings of <see cref="PidLagrangeController"/> (the PID Lagrangian of Stooke et al. as in OmniSafe).</summary>
/// <remarks>
/// Gain and filter defaults are OmniSafe's <c>configs/on-policy/CPPOPID.yaml</c> (algorithms.md §9.4), tuned
/// there for one update per epoch with episode costs of order 10–100. OmniSafe's <c>sum_norm</c> = true (its
/// default) applies no upper bound, which is <see cref="UpperBound"/> = null here; its
/// <c>sum_norm = diff_norm = false</c> corresponds to <see cref="UpperBound"/> = <c>penalty_max</c> (100).
/// </remarks>
public sealed record PidLagrangeOptions
{
    /// <summary>
    /// Set point: the undiscounted episode cost budget d (cost units per episode, unscaled). Default 20, the
    /// online limit of the Marvel reference (<c>--cost_limit</c>); OmniSafe's <c>CPPOPID.yaml</c> uses 25.
    /// </summary>
    public double CostLimit { get; set; } = 20.0;

    /// <summary>
    /// The controller regulates the mean episode cost to <c>SetPointFraction · CostLimit</c> rather than to the limit itself, in (0, 1].
    /// The multiplier holds the <i>training</i> episodes' mean cost at its set point, with noise around it; a set point below the limit
    /// leaves the margin that keeps the final policy within the limit on most seeds. Default 1 (the limit itself, as the reference).
    /// </summary>
    public double SetPointFraction { get; set; } = 1.0;

    /// <summary>Proportional gain K_P on Δp, the moving average of J_c − d (λ per cost unit). Default 0.1 (OmniSafe <c>pid_kp</c>).</summary>
    public double Kp { get; set; } = 0.1;

    /// <summary>Integral gain K_I: I ← max(0, I + K_I·(J_c − d)) (λ per cost unit per update). Default 0.01 (OmniSafe <c>pid_ki</c>).</summary>
    public double Ki { get; set; } = 0.01;

    /// <summary>Derivative gain K_D on D = max(0, c_d − c_d delayed) (λ per cost unit). Default 0.01 (OmniSafe <c>pid_kd</c>).</summary>
    public double Kd { get; set; } = 0.01;

    /// <summary>
    /// d_delay, the capacity of the delay line of past cost averages: D compares c_d with the value stored
    /// d_delay updates earlier (updates, ≥ 1). Default 10 (OmniSafe <c>pid_d_delay</c>).
    /// </summary>
    public int DerivativeDelay { get; set; } = 10;

    /// <summary>
    /// a_p, the weight of the old value in the moving average of the error that feeds the P term:
    /// Δp ← a_p·Δp + (1 − a_p)·(J_c − d). In [0, 1); 0 means no smoothing. Default 0.95 (OmniSafe <c>pid_delta_p_ema_alpha</c>).
    /// </summary>
    public double ProportionalEmaAlpha { get; set; } = 0.95;

    /// <summary>
    /// a_d, the weight of the old value in the moving average of the cost that feeds the D term:
    /// c_d ← a_d·c_d + (1 − a_d)·J_c. In [0, 1). Default 0.95 (OmniSafe <c>pid_delta_d_ema_alpha</c>).
    /// </summary>
    public double DerivativeEmaAlpha { get; set; } = 0.95;

    /// <summary>
    /// λ₀: the initial integral I₀ (and the output before the first update), λ units. Default 0.001 (OmniSafe
    /// <c>lagrangian_multiplier_init</c>).
    /// </summary>
    public double InitialLambda { get; set; } = 0.001;

    /// <summary>
    /// Optional upper bound on λ (λ ← min(λ, bound) after the non-negativity projection); null (default) means none (OmniSafe's default). The bound also caps the integral term (anti-windup), so that λ leaves the bound as
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
}

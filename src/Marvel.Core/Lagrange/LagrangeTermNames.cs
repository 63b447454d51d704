namespace Marvel.Core.Lagrange;

/// <summary>
/// Keys of <see cref="Abstractions.LagrangeUpdate.Terms"/> written by the controllers of this namespace, so
/// loggers and tests do not spell them by hand. Each controller writes only the keys that apply to it.
/// </summary>
public static class LagrangeTermNames
{
    /// <summary>Dual ascent: gradient g = ∂/∂λ[−λ(J_c − CostLimit)] = −(J_c − CostLimit).</summary>
    public const string Gradient = "gradient";

    /// <summary>Dual ascent: the optimiser's change of λ before the projection onto [0, UpperBound].</summary>
    public const string Step = "step";

    /// <summary>Dual ascent (Adam): first moment m after this update.</summary>
    public const string AdamFirstMoment = "adamM";

    /// <summary>Dual ascent (Adam): second moment v after this update.</summary>
    public const string AdamSecondMoment = "adamV";

    /// <summary>PID: proportional contribution K_P·Δp (λ units).</summary>
    public const string Proportional = "p";

    /// <summary>PID: integral I after this update (already λ units, K_I is inside the sum).</summary>
    public const string Integral = "i";

    /// <summary>PID: derivative contribution K_D·D (λ units).</summary>
    public const string Derivative = "d";

    /// <summary>PID: Δp, the exponential moving average of the error J_c − CostLimit that the P term uses.</summary>
    public const string ErrorEma = "errorEma";

    /// <summary>PID: c_d, the exponential moving average of the cost J_c that the D term uses.</summary>
    public const string CostEma = "costEma";

    /// <summary>PID: the oldest stored c_d that this update compared against (ds[0]).</summary>
    public const string DelayedCostEma = "delayedCostEma";

    /// <summary>PID: D = max(0, c_d − ds[0]), before the gain.</summary>
    public const string DerivativeInput = "derivativeInput";

    /// <summary>PID: K_P·Δp + I + K_D·D before the projection onto [0, UpperBound].</summary>
    public const string Output = "output";

    /// <summary>PID: the proportional gain used by this update.</summary>
    public const string Kp = "kp";

    /// <summary>PID: the integral gain used by this update.</summary>
    public const string Ki = "ki";

    /// <summary>PID: the derivative gain used by this update.</summary>
    public const string Kd = "kd";

    /// <summary>Adaptive PID: the proportional gain after this update's adaptation (used by the next update).</summary>
    public const string NextKp = "kpNext";

    /// <summary>Adaptive PID: the integral gain after this update's adaptation.</summary>
    public const string NextKi = "kiNext";

    /// <summary>Adaptive PID: the derivative gain after this update's adaptation.</summary>
    public const string NextKd = "kdNext";

    /// <summary>Adaptive PID: m = mean(W + WindowOffset) over the stored cost averages W.</summary>
    public const string WindowMean = "windowMean";

    /// <summary>Adaptive PID: s = population standard deviation of W.</summary>
    public const string WindowStd = "windowStd";

    /// <summary>Adaptive PID: the factor applied to K_P before clipping.</summary>
    public const string KpFactor = "kpFactor";

    /// <summary>Adaptive PID: the factor applied to K_I before clipping.</summary>
    public const string KiFactor = "kiFactor";

    /// <summary>Adaptive PID: the factor applied to K_D before clipping.</summary>
    public const string KdFactor = "kdFactor";
}

using Microsoft.Extensions.Options;
using static System.FormattableString;

namespace Marvel.Core.Lagrange;

/// <summary>Checks every field of <see cref="AdaptivePidLagrangeOptions"/> and reports all failures at once.</summary>
internal sealed class AdaptivePidLagrangeOptionsValidator : IValidateOptions<AdaptivePidLagrangeOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AdaptivePidLagrangeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new ValidateOptionsResultBuilder();
        PidFieldChecks.CostLimit(failures, options.CostLimit, nameof(options.CostLimit));
        if (!(options.SetPointFraction > 0 && options.SetPointFraction <= 1))
            failures.AddError(System.FormattableString.Invariant($"must be in (0, 1] (the set point as a fraction of CostLimit), got {options.SetPointFraction}."), nameof(options.SetPointFraction));
        PidFieldChecks.Gain(failures, options.Kp, nameof(options.Kp));
        PidFieldChecks.Gain(failures, options.Ki, nameof(options.Ki));
        PidFieldChecks.Gain(failures, options.Kd, nameof(options.Kd));
        PidFieldChecks.NotAllGainsZero(failures, options.Kp, options.Ki, options.Kd);
        PidFieldChecks.Delay(failures, options.DerivativeDelay, nameof(options.DerivativeDelay));
        PidFieldChecks.EmaAlpha(failures, options.ProportionalEmaAlpha, nameof(options.ProportionalEmaAlpha));
        PidFieldChecks.EmaAlpha(failures, options.DerivativeEmaAlpha, nameof(options.DerivativeEmaAlpha));
        PidFieldChecks.InitialAndUpper(failures, options.InitialLambda, options.UpperBound, nameof(options.InitialLambda), nameof(options.UpperBound));
        if (!Enum.IsDefined(options.GainAdaptation))
            failures.AddError(Invariant($"must be Reference, PaperTanh, None or Bounded, got {(int)options.GainAdaptation}."), nameof(options.GainAdaptation));
        if (!Enum.IsDefined(options.DelayInit))
            failures.AddError(Invariant($"must be ZeroSeeded or FirstValue, got {(int)options.DelayInit}."), nameof(options.DelayInit));
        if (options.UpdatesPerCall < 1)
            failures.AddError(Invariant($"must be >= 1 (reference controller updates one call stands for), got {options.UpdatesPerCall}."), nameof(options.UpdatesPerCall));
        Rate(failures, options.ProportionalAdaptationRate, nameof(options.ProportionalAdaptationRate));
        Rate(failures, options.IntegralAdaptationRate, nameof(options.IntegralAdaptationRate));
        Rate(failures, options.DerivativeAdaptationRate, nameof(options.DerivativeAdaptationRate));
        if (!double.IsFinite(options.WindowOffset) || options.WindowOffset <= 0)
            failures.AddError(Invariant($"must be finite and > 0 (it keeps mean(W + offset) away from 0), got {options.WindowOffset}."), nameof(options.WindowOffset));
        if (!(options.GainLowerBoundFactor > 0 && options.GainLowerBoundFactor <= 1))
            failures.AddError(Invariant($"must be in (0, 1], got {options.GainLowerBoundFactor}."), nameof(options.GainLowerBoundFactor));
        if (!double.IsFinite(options.GainUpperBoundFactor) || options.GainUpperBoundFactor < 1)
            failures.AddError(Invariant($"must be finite and >= 1, got {options.GainUpperBoundFactor}."), nameof(options.GainUpperBoundFactor));
        return failures.Build();
    }

    private static void Rate(ValidateOptionsResultBuilder failures, double value, string name)
    {
        if (!(value >= 0 && value < 1))
            failures.AddError(Invariant($"must be in [0, 1) (fraction per update), got {value}."), name);
    }
}

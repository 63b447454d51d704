using Microsoft.Extensions.Options;
using static System.FormattableString;

namespace Marvel.Core.Lagrange;

/// <summary>Checks every field of <see cref="PidLagrangeOptions"/> and reports all failures at once.</summary>
internal sealed class PidLagrangeOptionsValidator : IValidateOptions<PidLagrangeOptions>
{
    /// <summary>Largest accepted <see cref="PidLagrangeOptions.DerivativeDelay"/> (a guard against typos that would allocate a huge line).</summary>
    internal const int MaxDerivativeDelay = 1_000_000;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PidLagrangeOptions options)
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
        return failures.Build();
    }
}

/// <summary>Field checks shared by the PID and adaptive PID validators, so both word their failures alike.</summary>
internal static class PidFieldChecks
{
    public static void CostLimit(ValidateOptionsResultBuilder failures, double value, string name)
    {
        if (!double.IsFinite(value) || value < 0)
            failures.AddError(Invariant($"must be a finite undiscounted episode cost > 0, got {value}."), name);
        else if (value == 0)
            failures.AddError(
                "must be > 0, got 0: episode costs are never negative, so with a budget of 0 the error J − d is never below 0 and the " +
                "integral term, hence λ, can only grow and never comes back down. Use a small positive budget (e.g. 0.1) for 'almost no cost'.", name);
    }

    /// <summary>With K_P = K_I = K_D = 0 no term ever moves λ from its initial value (the adaptive rule multiplies gains, so 0 stays 0).</summary>
    public static void NotAllGainsZero(ValidateOptionsResultBuilder failures, double kp, double ki, double kd)
    {
        if (kp == 0 && ki == 0 && kd == 0)
            failures.AddError("Kp, Ki and Kd are all 0, so λ would stay at InitialLambda forever and the cost limit would never be enforced. " +
                "Set at least one gain > 0 (Ki drives λ to the level that meets the limit).", "Kp/Ki/Kd");
    }

    public static void Gain(ValidateOptionsResultBuilder failures, double value, string name)
    {
        if (!double.IsFinite(value) || value < 0)
            failures.AddError(Invariant($"must be a finite gain >= 0, got {value}."), name);
    }

    public static void Delay(ValidateOptionsResultBuilder failures, int value, string name)
    {
        if (value < 1 || value > PidLagrangeOptionsValidator.MaxDerivativeDelay)
            failures.AddError(Invariant($"must be between 1 and {PidLagrangeOptionsValidator.MaxDerivativeDelay} updates, got {value}."), name);
    }

    public static void EmaAlpha(ValidateOptionsResultBuilder failures, double value, string name)
    {
        if (!(value >= 0 && value < 1))
            failures.AddError(Invariant($"must be in [0, 1) (weight of the old average), got {value}."), name);
    }

    public static void InitialAndUpper(ValidateOptionsResultBuilder failures, double initial, double? upperBound, string initialName, string upperName)
    {
        if (!double.IsFinite(initial) || initial < 0)
            failures.AddError(Invariant($"must be finite and >= 0, got {initial}."), initialName);
        if (upperBound is double upper)
        {
            if (!double.IsFinite(upper) || upper <= 0)
                failures.AddError(Invariant($"must be null (no bound) or finite and > 0, got {upper}."), upperName);
            else if (double.IsFinite(initial) && initial > upper)
                failures.AddError(Invariant($"is {upper}, below {initialName} = {initial}; raise it or lower {initialName}."), upperName);
        }
    }
}

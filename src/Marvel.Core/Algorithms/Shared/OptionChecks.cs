using System.Globalization;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>The field checks options validators share; each adds one failure naming the property and never stops early.</summary>
internal static class OptionChecks
{
    private static string S(double v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Finite and ≥ 0 (cost limits).</summary>
    public static void NonNegative(ValidateOptionsResultBuilder b, double value, string name)
    {
        if (!double.IsFinite(value) || value < 0) b.AddError($"must be finite and >= 0, got {S(value)}.", name);
    }

    /// <summary>Finite and &gt; 0 (learning rates, scales, widths of kernels).</summary>
    public static void Positive(ValidateOptionsResultBuilder b, double value, string name)
    {
        if (!double.IsFinite(value) || !(value > 0)) b.AddError($"must be finite and > 0, got {S(value)}.", name);
    }

    /// <summary>In the open interval (0, 1) (discounts, quantiles).</summary>
    public static void OpenUnit(ValidateOptionsResultBuilder b, double value, string name)
    {
        if (!(value > 0 && value < 1)) b.AddError($"must be in (0, 1), got {S(value)}.", name);
    }

    /// <summary>In (0, 1] (Polyak rates).</summary>
    public static void HalfOpenUnit(ValidateOptionsResultBuilder b, double value, string name)
    {
        if (!(value > 0 && value <= 1)) b.AddError($"must be in (0, 1], got {S(value)}.", name);
    }

    /// <summary>In [0, 1] (mixing weights).</summary>
    public static void ClosedUnit(ValidateOptionsResultBuilder b, double value, string name)
    {
        if (!(value >= 0 && value <= 1)) b.AddError($"must be in [0, 1], got {S(value)}.", name);
    }

    /// <summary>An integer ≥ <paramref name="minimum"/>.</summary>
    public static void AtLeast(ValidateOptionsResultBuilder b, long value, long minimum, string name)
    {
        if (value < minimum) b.AddError($"must be >= {minimum}, got {value}.", name);
    }

    /// <summary>Null (take the context's) or ≥ 1 step.</summary>
    public static void EpisodeLength(ValidateOptionsResultBuilder b, int? value, string name)
    {
        if (value is < 1) b.AddError($"must be null (use LearnerContext.EpisodeLength) or >= 1 step, got {value}.", name);
    }

    /// <summary>A non-empty list of positive widths.</summary>
    public static void HiddenSizes(ValidateOptionsResultBuilder b, int[]? sizes, string name)
    {
        if (sizes is null || sizes.Length == 0) b.AddError("must list at least one hidden width.", name);
        else if (sizes.Any(s => s < 1)) b.AddError($"must all be >= 1, got [{string.Join(", ", sizes)}].", name);
    }

    /// <summary>A defined enum value.</summary>
    public static void Defined<TEnum>(ValidateOptionsResultBuilder b, TEnum value, string name) where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value)) b.AddError($"must be one of {string.Join(", ", Enum.GetNames<TEnum>())}, got {value}.", name);
    }

    /// <summary>Runs a validator and throws <see cref="OptionsValidationException"/> listing every failure.</summary>
    public static void ThrowIfInvalid<TOptions>(IValidateOptions<TOptions> validator, TOptions options) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
            throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), result.Failures);
    }
}

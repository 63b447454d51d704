using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Abstractions;

/// <summary>Checks shared by the options validators; each adds one error naming the property and never stops at the first.</summary>
internal static partial class OptionChecks
{
    public static void Positive(ValidateOptionsResultBuilder failures, double value, string name)
    {
        if (!(double.IsFinite(value) && value > 0))
            failures.AddError($"must be finite and > 0, got {Text(value)}.", name);
    }

    public static void NonNegative(ValidateOptionsResultBuilder failures, double value, string name)
    {
        if (!(double.IsFinite(value) && value >= 0))
            failures.AddError($"must be finite and >= 0, got {Text(value)}.", name);
    }

    public static void AtLeast(ValidateOptionsResultBuilder failures, long value, long minimum, string name)
    {
        if (value < minimum) failures.AddError($"must be >= {minimum}, got {value}.", name);
    }

    public static void Discount(ValidateOptionsResultBuilder failures, double value, string name)
    {
        if (!(value >= 0 && value < 1)) failures.AddError($"must be in [0, 1), got {Text(value)}.", name);
    }

    public static void UnitInterval(ValidateOptionsResultBuilder failures, double value, string name, bool includeZero, bool includeOne)
    {
        bool ok = (includeZero ? value >= 0 : value > 0) && (includeOne ? value <= 1 : value < 1);
        if (!ok) failures.AddError($"must be in {(includeZero ? "[" : "(")}0, 1{(includeOne ? "]" : ")")}, got {Text(value)}.", name);
    }

    public static void HiddenSizes(ValidateOptionsResultBuilder failures, int[]? sizes, string name)
    {
        if (sizes is null || sizes.Length == 0) failures.AddError("must list at least one hidden width, e.g. [256, 256].", name);
        else if (sizes.Any(s => s < 1)) failures.AddError($"every width must be >= 1, got [{string.Join(", ", sizes)}].", name);
    }

    public static void OptionalPositive(ValidateOptionsResultBuilder failures, double? value, string name)
    {
        if (value is { } v && !(double.IsFinite(v) && v > 0))
            failures.AddError($"must be null (off) or finite and > 0, got {Text(v)}.", name);
    }

    public static void Defined<TEnum>(ValidateOptionsResultBuilder failures, TEnum value, string name) where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
            failures.AddError($"'{value}' is not one of {string.Join(", ", Enum.GetNames<TEnum>())}.", name);
    }

    public static void Device(ValidateOptionsResultBuilder failures, string? device, string name)
    {
        if (device is not null && !DevicePattern().IsMatch(device))
            failures.AddError($"'{device}' is not a device; use null, \"cpu\", \"cuda\" or \"cuda:N\".", name);
    }

    /// <summary>In the open interval (0, 1) (discounts, quantiles).</summary>
    public static void OpenUnit(ValidateOptionsResultBuilder failures, double value, string name)
    {
        if (!(value > 0 && value < 1)) failures.AddError($"must be in (0, 1), got {Text(value)}.", name);
    }

    /// <summary>In (0, 1] (Polyak rates).</summary>
    public static void HalfOpenUnit(ValidateOptionsResultBuilder failures, double value, string name)
    {
        if (!(value > 0 && value <= 1)) failures.AddError($"must be in (0, 1], got {Text(value)}.", name);
    }

    /// <summary>In [0, 1] (mixing weights).</summary>
    public static void ClosedUnit(ValidateOptionsResultBuilder failures, double value, string name)
    {
        if (!(value >= 0 && value <= 1)) failures.AddError($"must be in [0, 1], got {Text(value)}.", name);
    }

    /// <summary>Null (take the context's) or ≥ 1 step.</summary>
    public static void EpisodeLength(ValidateOptionsResultBuilder failures, int? value, string name)
    {
        if (value is < 1) failures.AddError($"must be null (use LearnerContext.EpisodeLength) or >= 1 step, got {value}.", name);
    }

    /// <summary>Runs a validator and throws <see cref="OptionsValidationException"/> listing every failure.</summary>
    public static void ThrowIfInvalid<TOptions>(IValidateOptions<TOptions> validator, TOptions options) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
            throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), result.Failures);
    }

    private static string Text(double value) => value.ToString("G", CultureInfo.InvariantCulture);

    [GeneratedRegex("^(cpu|cuda(:[0-9]+)?)$", RegexOptions.CultureInvariant)]
    private static partial Regex DevicePattern();
}

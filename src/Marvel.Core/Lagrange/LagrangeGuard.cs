using Microsoft.Extensions.Options;
using static System.FormattableString;

namespace Marvel.Core.Lagrange;

/// <summary>Checks shared by the controllers of this namespace.</summary>
internal static class LagrangeGuard
{
    /// <summary>Throws unless the measured cost is finite and non-negative.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The cost is negative, NaN or infinite.</exception>
    public static void CheckEpisodeCost(double meanEpisodeCost)
    {
        if (!double.IsFinite(meanEpisodeCost) || meanEpisodeCost < 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(meanEpisodeCost),
                meanEpisodeCost,
                Invariant($"The mean undiscounted episode cost must be finite and >= 0, got {meanEpisodeCost}. ") +
                "Pass the mean of the latest episodes' summed (unscaled) costs; check the cost aggregation for a NaN or a sign error.");
        }
    }

    /// <summary>Runs <paramref name="validator"/> and throws when it reports failures, as <c>ValidateOnStart</c> would.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="OptionsValidationException">At least one field is invalid; the message lists all of them.</exception>
    public static TOptions Validated<TOptions>(TOptions? options, IValidateOptions<TOptions> validator)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateOptionsResult result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
            throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), result.Failures);
        return options;
    }

    /// <summary>Reads a scalar of a saved state and checks that it is finite.</summary>
    /// <exception cref="ArgumentException">The scalar is missing or not finite.</exception>
    public static double FiniteScalar(Abstractions.LagrangeControllerState state, string name)
    {
        double value = state.Scalar(name);
        if (!double.IsFinite(value))
            throw new ArgumentException(Invariant($"Lagrange controller state of kind '{state.Kind}': scalar '{name}' is {value}; it must be finite."), nameof(state));
        return value;
    }

    /// <summary>Reads a non-negative whole-number counter of a saved state.</summary>
    /// <exception cref="ArgumentException">The scalar is missing, negative, fractional or too large.</exception>
    public static long Counter(Abstractions.LagrangeControllerState state, string name)
    {
        double value = FiniteScalar(state, name);
        if (value < 0 || value != Math.Floor(value) || value > 9.007199254740992e15)
            throw new ArgumentException(Invariant($"Lagrange controller state of kind '{state.Kind}': scalar '{name}' is {value}; it must be a whole number >= 0."), nameof(state));
        return (long)value;
    }

    /// <summary>Throws unless <paramref name="value"/> ≥ 0.</summary>
    public static void NonNegative(Abstractions.LagrangeControllerState state, string name, double value)
    {
        if (value < 0)
            throw new ArgumentException(Invariant($"Lagrange controller state of kind '{state.Kind}': scalar '{name}' is {value}; it must be >= 0."), nameof(state));
    }
}

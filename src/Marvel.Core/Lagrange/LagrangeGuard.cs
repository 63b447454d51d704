using Microsoft.Extensions.Options;
using static System.FormattableString;

namespace Marvel.Core.Lagrange;

/// <summary>Checks shared by the controllers of this namespace.</summary>
internal static class LagrangeGuard
{
    /// <summary>
    /// The largest mean episode cost a controller accepts, 1e150: far above any real cost, and low enough that the squares and
    /// sums the controllers form (aPID's window spread, Adam's second moment) stay finite. A larger input, though finite, would
    /// overflow the state a few updates later (aPID's window mean did at 1e308) or leave it unable to take normal costs again.
    /// </summary>
    public const double MaxEpisodeCost = 1e150;

    /// <summary>Throws unless the measured cost is finite, non-negative and at most <see cref="MaxEpisodeCost"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The cost is negative, NaN, infinite or above <see cref="MaxEpisodeCost"/>.</exception>
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
        if (meanEpisodeCost > MaxEpisodeCost)
        {
            throw new ArgumentOutOfRangeException(
                nameof(meanEpisodeCost),
                meanEpisodeCost,
                Invariant($"The mean undiscounted episode cost is {meanEpisodeCost}, above the {MaxEpisodeCost} a Lagrange controller can represent ") +
                "(its squares and sums would overflow and turn λ into NaN). The controller's state is unchanged. Pass the mean of the latest " +
                "episodes' summed costs in the units of CostLimit; a value this large usually means a cost aggregation bug.");
        }
    }

    /// <summary>
    /// Throws when an update would put a non-finite number into a controller's state, the second line of defence behind
    /// <see cref="MaxEpisodeCost"/> (a huge gain times a large error can still overflow); the caller computes the update on
    /// copies, calls this, and commits only when it returns.
    /// </summary>
    /// <param name="controller">The controller's kind, for the message.</param>
    /// <param name="meanEpisodeCost">The refused input.</param>
    /// <param name="quantities">The would-be state values, by name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A quantity is NaN or infinite; the message names it and the input.</exception>
    public static void CheckRepresentable(string controller, double meanEpisodeCost, params ReadOnlySpan<(string Name, double Value)> quantities)
    {
        foreach (var (name, value) in quantities)
        {
            if (double.IsFinite(value)) continue;
            throw new ArgumentOutOfRangeException(
                "meanEpisodeCost",
                meanEpisodeCost,
                Invariant($"The {controller} controller cannot take a mean episode cost of {meanEpisodeCost}: it would make {name} = {value}. ") +
                "The update was refused and the controller's state is unchanged. Check that the input is the mean of the latest episodes' summed costs " +
                "in the units of CostLimit, and that the gains are not far larger than the defaults.");
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

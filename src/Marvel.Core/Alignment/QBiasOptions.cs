using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Alignment;

/// <summary>How far <see cref="QBiasDiagnostics"/> rolls the policy out from each state.</summary>
public enum QBiasHorizon
{
    /// <summary>Until the discount weight γ^k falls below <see cref="QBiasOptions.DiscountTolerance"/>, continuing through time-limit
    /// truncations (the simulator is set back to the final state with a fresh step count). This is the value a critic that
    /// bootstraps at truncation estimates. Default.</summary>
    Discounted,

    /// <summary>Only the steps left in the state's episode (T − elapsed), so a state near the time limit has a short horizon: the value a
    /// critic trained with truncation as terminal (the reference's done flag) estimates.</summary>
    RemainingEpisode,
}

/// <summary>Settings of <see cref="QBiasDiagnostics.Measure"/>.</summary>
public sealed record QBiasOptions
{
    /// <summary>States drawn from the dataset's complete episodes (without replacement when possible). Default 64.</summary>
    public int StateCount { get; set; } = 64;

    /// <summary>Rollouts K per state; the state's Q and Monte-Carlo estimates are averages over them. Default 4.</summary>
    public int RolloutsPerState { get; set; } = 4;

    /// <summary>Roll out and evaluate the deterministic action tanh(μ(s)) instead of samples. Default false (the stochastic policy,
    /// which is what <see cref="ValuePreAligner"/> evaluates by default).</summary>
    public bool DeterministicPolicy { get; set; }

    /// <summary>Rollout length rule. Default <see cref="QBiasHorizon.Discounted"/>.</summary>
    public QBiasHorizon Horizon { get; set; } = QBiasHorizon.Discounted;

    /// <summary>With <see cref="QBiasHorizon.Discounted"/>: stop once γ^k &lt; this, in (0, 1). Default 1e-3 (688 steps at γ = 0.99).</summary>
    public double DiscountTolerance { get; set; } = 1e-3;

    /// <summary>Denominator floor of the relative bias (Q − MC) / max(|MC|, floor), in scaled value units, &gt; 0. Default 1.</summary>
    public double RelativeFloor { get; set; } = 1.0;

    /// <summary>How the cost ensemble is reduced to one Q. Default <see cref="EnsembleReduction.Mean"/> (as SAC-Lag and the aligner).</summary>
    public EnsembleReduction CostEnsembleReduction { get; set; } = EnsembleReduction.Mean;

    /// <summary>Discount in [0, 1); null takes the artifact's γ. Default null.</summary>
    public double? Gamma { get; set; }

    /// <summary>Seed of state selection and policy noise. Default 0.</summary>
    public ulong Seed { get; set; }
}

/// <summary>Checks every field of <see cref="QBiasOptions"/>.</summary>
internal sealed class QBiasOptionsValidator : IValidateOptions<QBiasOptions>
{
    public ValidateOptionsResult Validate(string? name, QBiasOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new ValidateOptionsResultBuilder();
        OptionChecks.AtLeast(failures, options.StateCount, 1, nameof(options.StateCount));
        OptionChecks.AtLeast(failures, options.RolloutsPerState, 1, nameof(options.RolloutsPerState));
        OptionChecks.Defined(failures, options.Horizon, nameof(options.Horizon));
        OptionChecks.OpenUnit(failures, options.DiscountTolerance, nameof(options.DiscountTolerance));
        OptionChecks.Positive(failures, options.RelativeFloor, nameof(options.RelativeFloor));
        OptionChecks.Defined(failures, options.CostEnsembleReduction, nameof(options.CostEnsembleReduction));
        if (options.Gamma is { } gamma) OptionChecks.Discount(failures, gamma, nameof(options.Gamma));
        return failures.Build();
    }
}

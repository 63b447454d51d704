using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Offline.BcqLag;

/// <summary>Checks every field of <see cref="BcqLagOptions"/> and reports all failures together.</summary>
internal sealed class BcqLagOptionsValidator : IValidateOptions<BcqLagOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, BcqLagOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var b = new ValidateOptionsResultBuilder();
        OptionChecks.NonNegative(b, options.CostLimit, nameof(options.CostLimit));
        OptionChecks.EpisodeLength(b, options.EpisodeLength, nameof(options.EpisodeLength));
        OptionChecks.OpenUnit(b, options.Gamma, nameof(options.Gamma));
        OptionChecks.HalfOpenUnit(b, options.Tau, nameof(options.Tau));
        OptionChecks.Positive(b, options.RewardScale, nameof(options.RewardScale));
        OptionChecks.Positive(b, options.CostScale, nameof(options.CostScale));
        OptionChecks.AtLeast(b, options.BatchSize, 1, nameof(options.BatchSize));
        OptionChecks.HiddenSizes(b, options.ActorHiddenSizes, nameof(options.ActorHiddenSizes));
        OptionChecks.HiddenSizes(b, options.CriticHiddenSizes, nameof(options.CriticHiddenSizes));
        OptionChecks.AtLeast(b, options.VaeHiddenSize, 1, nameof(options.VaeHiddenSize));
        OptionChecks.AtLeast(b, options.RewardCriticsPerGroup, 1, nameof(options.RewardCriticsPerGroup));
        OptionChecks.AtLeast(b, options.CostCriticsPerGroup, 1, nameof(options.CostCriticsPerGroup));
        OptionChecks.Positive(b, options.ActorLearningRate, nameof(options.ActorLearningRate));
        OptionChecks.Positive(b, options.CriticLearningRate, nameof(options.CriticLearningRate));
        OptionChecks.Positive(b, options.VaeLearningRate, nameof(options.VaeLearningRate));
        OptionChecks.NonNegative(b, options.VaeKlWeight, nameof(options.VaeKlWeight));
        OptionChecks.AtLeast(b, options.SampleActionCount, 1, nameof(options.SampleActionCount));
        OptionChecks.AtLeast(b, options.SelectionCandidates, 1, nameof(options.SelectionCandidates));
        OptionChecks.ClosedUnit(b, options.DoubleQMix, nameof(options.DoubleQMix));
        OptionChecks.HalfOpenUnit(b, options.Phi, nameof(options.Phi));
        OptionChecks.NonNegative(b, options.PidKp, nameof(options.PidKp));
        OptionChecks.NonNegative(b, options.PidKi, nameof(options.PidKi));
        OptionChecks.NonNegative(b, options.PidKd, nameof(options.PidKd));
        OptionChecks.Defined(b, options.ConstraintStates, nameof(options.ConstraintStates));
        return b.Build();
    }
}

using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Offline.Cpq;

/// <summary>Checks every field of <see cref="CpqOptions"/> and reports all failures together.</summary>
internal sealed class CpqOptionsValidator : IValidateOptions<CpqOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, CpqOptions options)
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
        OptionChecks.NonNegative(b, options.UnsafeCostDescentWeight, nameof(options.UnsafeCostDescentWeight));
        OptionChecks.HiddenSizes(b, options.ActorHiddenSizes, nameof(options.ActorHiddenSizes));
        OptionChecks.HiddenSizes(b, options.CriticHiddenSizes, nameof(options.CriticHiddenSizes));
        OptionChecks.AtLeast(b, options.VaeHiddenSize, 1, nameof(options.VaeHiddenSize));
        OptionChecks.AtLeast(b, options.RewardEnsembleSize, 1, nameof(options.RewardEnsembleSize));
        OptionChecks.AtLeast(b, options.CostEnsembleSize, 1, nameof(options.CostEnsembleSize));
        OptionChecks.Defined(b, options.CostEnsembleReduction, nameof(options.CostEnsembleReduction));
        OptionChecks.Positive(b, options.ActorLearningRate, nameof(options.ActorLearningRate));
        OptionChecks.Positive(b, options.CriticLearningRate, nameof(options.CriticLearningRate));
        OptionChecks.Positive(b, options.AlphaLearningRate, nameof(options.AlphaLearningRate));
        OptionChecks.Positive(b, options.VaeLearningRate, nameof(options.VaeLearningRate));
        OptionChecks.NonNegative(b, options.VaeKlWeight, nameof(options.VaeKlWeight));
        OptionChecks.AtLeast(b, options.SampleActionCount, 1, nameof(options.SampleActionCount));
        OptionChecks.Positive(b, options.OodThresholdScale, nameof(options.OodThresholdScale));
        OptionChecks.OpenUnit(b, options.OodKlQuantile, nameof(options.OodKlQuantile));
        return b.Build();
    }
}

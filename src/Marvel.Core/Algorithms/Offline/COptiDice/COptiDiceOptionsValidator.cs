using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Offline.COptiDice;

/// <summary>Checks every field of <see cref="COptiDiceOptions"/> and reports all failures together.</summary>
internal sealed class COptiDiceOptionsValidator : IValidateOptions<COptiDiceOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, COptiDiceOptions options)
    {
        var b = OfflineOptionsValidator.Common(options);
        OptionChecks.HiddenSizes(b, options.ValueHiddenSizes, nameof(options.ValueHiddenSizes));
        OptionChecks.AtLeast(b, options.NuEnsembleSize, 1, nameof(options.NuEnsembleSize));
        OptionChecks.AtLeast(b, options.ChiEnsembleSize, 1, nameof(options.ChiEnsembleSize));
        OptionChecks.Positive(b, options.ScalarLearningRate, nameof(options.ScalarLearningRate));
        OptionChecks.Positive(b, options.Alpha, nameof(options.Alpha));
        OptionChecks.Defined(b, options.Divergence, nameof(options.Divergence));
        OptionChecks.NonNegative(b, options.CostUpperBoundEpsilon, nameof(options.CostUpperBoundEpsilon));
        OptionChecks.NonNegative(b, options.ExtractionNoiseScale, nameof(options.ExtractionNoiseScale));
        return b.Build();
    }
}

using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Offline.Cpq;

/// <summary>Checks every field of <see cref="CpqOptions"/> and reports all failures together.</summary>
internal sealed class CpqOptionsValidator : IValidateOptions<CpqOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, CpqOptions options)
    {
        var b = OfflineOptionsValidator.Common(options);
        OptionChecks.NonNegative(b, options.UnsafeCostDescentWeight, nameof(options.UnsafeCostDescentWeight));
        OptionChecks.AtLeast(b, options.RewardEnsembleSize, 1, nameof(options.RewardEnsembleSize));
        OptionChecks.AtLeast(b, options.CostEnsembleSize, 1, nameof(options.CostEnsembleSize));
        OptionChecks.Defined(b, options.CostEnsembleReduction, nameof(options.CostEnsembleReduction));
        OptionChecks.Positive(b, options.AlphaLearningRate, nameof(options.AlphaLearningRate));
        OptionChecks.Positive(b, options.OodThresholdScale, nameof(options.OodThresholdScale));
        OptionChecks.OpenUnit(b, options.OodKlQuantile, nameof(options.OodKlQuantile));
        return b.Build();
    }
}

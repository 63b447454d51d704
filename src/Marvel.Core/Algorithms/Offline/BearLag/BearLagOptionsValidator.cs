using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Offline.BearLag;

/// <summary>Checks every field of <see cref="BearLagOptions"/> and reports all failures together.</summary>
internal sealed class BearLagOptionsValidator : IValidateOptions<BearLagOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, BearLagOptions options)
    {
        var b = OfflineOptionsValidator.Common(options);
        OptionChecks.Positive(b, options.AlphaLearningRate, nameof(options.AlphaLearningRate));
        OptionChecks.Defined(b, options.MmdKernel, nameof(options.MmdKernel));
        OptionChecks.Positive(b, options.MmdSigma, nameof(options.MmdSigma));
        OptionChecks.NonNegative(b, options.MmdThreshold, nameof(options.MmdThreshold));
        OptionChecks.AtLeast(b, options.MmdSampleCount, 1, nameof(options.MmdSampleCount));
        OptionChecks.AtLeast(b, options.StartUpdatePolicyStep, 0, nameof(options.StartUpdatePolicyStep));
        return b.Build();
    }
}

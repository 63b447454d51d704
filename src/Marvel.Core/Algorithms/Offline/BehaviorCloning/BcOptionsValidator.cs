using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Offline.BehaviorCloning;

/// <summary>Checks every field of <see cref="BcOptions"/> and reports all failures together.</summary>
internal sealed class BcOptionsValidator : IValidateOptions<BcOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, BcOptions options)
    {
        var b = OfflineOptionsValidator.Common(options);
        OptionChecks.Defined(b, options.Mode, nameof(options.Mode));
        OptionChecks.HiddenSizes(b, options.HiddenSizes, nameof(options.HiddenSizes));
        OptionChecks.Positive(b, options.LearningRate, nameof(options.LearningRate));
        return b.Build();
    }
}

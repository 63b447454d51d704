using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Offline.BcqLag;

/// <summary>Checks every field of <see cref="BcqLagOptions"/> and reports all failures together.</summary>
internal sealed class BcqLagOptionsValidator : IValidateOptions<BcqLagOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, BcqLagOptions options)
    {
        var b = OfflineOptionsValidator.Common(options);
        OptionChecks.AtLeast(b, options.SelectionCandidates, 1, nameof(options.SelectionCandidates));
        OptionChecks.HalfOpenUnit(b, options.Phi, nameof(options.Phi));
        return b.Build();
    }
}

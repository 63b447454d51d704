using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Alignment;

/// <summary>Checks every field of <see cref="ValuePreAlignmentOptions"/> and reports all failures together.</summary>
internal sealed class ValuePreAlignmentOptionsValidator : IValidateOptions<ValuePreAlignmentOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ValuePreAlignmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new ValidateOptionsResultBuilder();
        OptionChecks.AtLeast(failures, options.Steps, 0, nameof(options.Steps));
        OptionChecks.AtLeast(failures, options.BatchSize, 1, nameof(options.BatchSize));
        OptionChecks.AtLeast(failures, options.MiniBatches, 1, nameof(options.MiniBatches));
        if (options.BatchSize >= 1 && options.MiniBatches >= 1 && options.BatchSize % options.MiniBatches != 0)
            failures.AddError($"must divide BatchSize ({options.BatchSize}) into equal mini-batches, got {options.MiniBatches}.", nameof(options.MiniBatches));
        OptionChecks.HalfOpenUnit(failures, options.Tau, nameof(options.Tau));
        OptionChecks.Positive(failures, options.RewardCriticLearningRate, nameof(options.RewardCriticLearningRate));
        OptionChecks.Positive(failures, options.CostCriticLearningRate, nameof(options.CostCriticLearningRate));
        if (options.Gamma is { } gamma) OptionChecks.Discount(failures, gamma, nameof(options.Gamma));
        OptionChecks.Defined(failures, options.Mode, nameof(options.Mode));
        OptionChecks.NonNegative(failures, options.Alpha, nameof(options.Alpha));
        if (options.DeterministicTarget && options.Mode != ValuePreAlignmentMode.Plain)
            failures.AddError($"needs a sampled a′ for the entropy term of Mode {options.Mode}; use Mode Plain or DeterministicTarget false.", nameof(options.DeterministicTarget));
        OptionChecks.Defined(failures, options.CostEnsembleReduction, nameof(options.CostEnsembleReduction));
        OptionChecks.AtLeast(failures, options.ReportEvery, 1, nameof(options.ReportEvery));
        return failures.Build();
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every bad field.</summary>
    internal static void ThrowIfInvalid(ValuePreAlignmentOptions options) => OptionChecks.ThrowIfInvalid(new ValuePreAlignmentOptionsValidator(), options);
}

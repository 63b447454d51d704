using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Algorithms.Online.SacLag;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Pipeline.Datasets;

/// <summary>Checks every field of <see cref="FrontierDatasetOptions"/> (the learner's through its own validator, prefixed
/// "Learner." or "PpoLearner.") and reports all failures at once, each naming its property.</summary>
internal sealed class FrontierDatasetOptionsValidator : IValidateOptions<FrontierDatasetOptions>
{
    public ValidateOptionsResult Validate(string? name, FrontierDatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new ValidateOptionsResultBuilder();
        OptionChecks.AtLeast(failures, options.TrainingSteps, 1, nameof(options.TrainingSteps));
        OptionChecks.AtLeast(failures, options.Environments, 1, nameof(options.Environments));
        OptionChecks.NonNegative(failures, options.CostLimitStart, nameof(options.CostLimitStart));
        OptionChecks.NonNegative(failures, options.CostLimitEnd, nameof(options.CostLimitEnd));
        OptionChecks.Defined(failures, options.Schedule, nameof(options.Schedule));
        OptionChecks.AtLeast(failures, options.ScheduleCycles, 1, nameof(options.ScheduleCycles));
        OptionChecks.UnitInterval(failures, options.SweepStartFraction, nameof(options.SweepStartFraction), includeZero: true, includeOne: false);
        OptionChecks.UnitInterval(failures, options.SweepEndFraction, nameof(options.SweepEndFraction), includeZero: false, includeOne: true);
        if (options.SweepStartFraction is >= 0 and < 1 && options.SweepEndFraction is > 0 and <= 1 && !(options.SweepEndFraction > options.SweepStartFraction))
            failures.AddError($"must be greater than SweepStartFraction ({options.SweepStartFraction}), got {options.SweepEndFraction}.", nameof(options.SweepEndFraction));
        OptionChecks.Positive(failures, options.LambdaLearningRate, nameof(options.LambdaLearningRate));
        OptionChecks.NonNegative(failures, options.InitialLambda, nameof(options.InitialLambda));
        OptionChecks.AtLeast(failures, options.CheckpointEvery, 1, nameof(options.CheckpointEvery));
        OptionChecks.AtLeast(failures, options.DeterministicEpisodes, 0, nameof(options.DeterministicEpisodes));
        OptionChecks.AtLeast(failures, options.NoisyEpisodes, 0, nameof(options.NoisyEpisodes));
        if (options.NoiseStandardDeviations is null)
            failures.AddError("must be a list of noise levels (it may be empty), got null.", nameof(options.NoiseStandardDeviations));
        else if (options.NoiseStandardDeviations.Any(s => !(double.IsFinite(s) && s > 0)))
            failures.AddError($"every σ must be finite and > 0, got [{string.Join(", ", options.NoiseStandardDeviations)}].", nameof(options.NoiseStandardDeviations));
        OptionChecks.AtLeast(failures, options.CostBins, 1, nameof(options.CostBins));
        OptionChecks.AtLeast(failures, options.ReturnBins, 1, nameof(options.ReturnBins));
        OptionChecks.AtLeast(failures, options.MaxEpisodesPerBin, 1, nameof(options.MaxEpisodesPerBin));
        OptionChecks.OptionalPositive(failures, options.MaxEpisodeCost, nameof(options.MaxEpisodeCost));
        OptionChecks.AtLeast(failures, options.TargetTransitions, 1, nameof(options.TargetTransitions));
        OptionChecks.Defined(failures, options.LearnerKind, nameof(options.LearnerKind));
        if (options.Learner is null)
            failures.AddError("must be SAC-Lag options, got null.", nameof(options.Learner));
        else
            AddNested(failures, new SacLagOptionsValidator().Validate(name, options.Learner), nameof(options.Learner));
        if (options.PpoLearner is not null)
            AddNested(failures, new PpoLagOptionsValidator().Validate(name, options.PpoLearner), nameof(options.PpoLearner));
        return failures.Build();
    }

    /// <summary>A nested validator's failures read "Property X: ..."; they become "Property Learner.X: ..." (with <paramref name="prefix"/>).</summary>
    private static void AddNested(ValidateOptionsResultBuilder failures, ValidateOptionsResult nested, string prefix)
    {
        if (!nested.Failed) return;
        foreach (var failure in nested.Failures ?? [])
            failures.AddError(failure.StartsWith("Property ", StringComparison.Ordinal)
                ? $"Property {prefix}." + failure["Property ".Length..]
                : $"Property {prefix}: " + failure);
    }
}

using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Online.SacLag;

/// <summary>Checks every field of <see cref="SacLagOptions"/> and reports all failures at once, each naming its property.</summary>
internal sealed class SacLagOptionsValidator : IValidateOptions<SacLagOptions>
{
    public ValidateOptionsResult Validate(string? name, SacLagOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new ValidateOptionsResultBuilder();
        OptionChecks.HiddenSizes(failures, options.ActorHiddenSizes, nameof(options.ActorHiddenSizes));
        OptionChecks.HiddenSizes(failures, options.CriticHiddenSizes, nameof(options.CriticHiddenSizes));
        OptionChecks.HiddenSizes(failures, options.CostCriticHiddenSizes, nameof(options.CostCriticHiddenSizes));
        OptionChecks.AtLeast(failures, options.RewardCriticCount, 1, nameof(options.RewardCriticCount));
        OptionChecks.AtLeast(failures, options.CostCriticCount, 1, nameof(options.CostCriticCount));
        OptionChecks.Discount(failures, options.Gamma, nameof(options.Gamma));
        OptionChecks.UnitInterval(failures, options.Tau, nameof(options.Tau), includeZero: false, includeOne: true);
        OptionChecks.AtLeast(failures, options.BatchSize, 1, nameof(options.BatchSize));
        OptionChecks.AtLeast(failures, options.MiniBatches, 1, nameof(options.MiniBatches));
        if (options.BatchSize >= 1 && options.MiniBatches >= 1 && options.BatchSize % options.MiniBatches != 0)
            failures.AddError($"must divide BatchSize ({options.BatchSize}) into equal mini-batches, got {options.MiniBatches}.", nameof(options.MiniBatches));
        OptionChecks.Positive(failures, options.ActorLearningRate, nameof(options.ActorLearningRate));
        OptionChecks.Positive(failures, options.CriticLearningRate, nameof(options.CriticLearningRate));
        OptionChecks.Positive(failures, options.CostCriticLearningRate, nameof(options.CostCriticLearningRate));
        if (options.AutoTuneAlpha) OptionChecks.Positive(failures, options.Alpha, nameof(options.Alpha));
        else OptionChecks.NonNegative(failures, options.Alpha, nameof(options.Alpha));
        OptionChecks.Positive(failures, options.AlphaLearningRate, nameof(options.AlphaLearningRate));
        if (options.TargetEntropy is { } h && !double.IsFinite(h))
            failures.AddError($"must be null (−|A|) or finite, got {h}.", nameof(options.TargetEntropy));
        OptionChecks.Positive(failures, options.RewardScale, nameof(options.RewardScale));
        OptionChecks.Positive(failures, options.CostScale, nameof(options.CostScale));
        OptionChecks.Defined(failures, options.Schedule, nameof(options.Schedule));
        OptionChecks.AtLeast(failures, options.EpisodesPerIteration, 1, nameof(options.EpisodesPerIteration));
        OptionChecks.AtLeast(failures, options.UpdatesPerIteration, 0, nameof(options.UpdatesPerIteration));
        OptionChecks.AtLeast(failures, options.UpdateEveryNSteps, 1, nameof(options.UpdateEveryNSteps));
        OptionChecks.AtLeast(failures, options.WarmupSteps, 0, nameof(options.WarmupSteps));
        OptionChecks.AtLeast(failures, options.CriticWarmupSteps, 0, nameof(options.CriticWarmupSteps));
        OptionChecks.AtLeast(failures, options.ActorLearningRateRampSteps, 0, nameof(options.ActorLearningRateRampSteps));
        if (!Enum.IsDefined(options.SafeExploration))
            failures.AddError($"must be None, PolicySet or CostGuardedPolicySet, got {(int)options.SafeExploration}.", nameof(options.SafeExploration));
        if (!(options.OfflineDataFraction >= 0 && options.OfflineDataFraction < 1))
            failures.AddError($"must be in [0, 1) (the share of each batch drawn from the offline dataset), got {options.OfflineDataFraction}.", nameof(options.OfflineDataFraction));
        OptionChecks.AtLeast(failures, options.ReplayCapacity, 1, nameof(options.ReplayCapacity));
        OptionChecks.Positive(failures, options.CostNeutralLambdaCap, nameof(options.CostNeutralLambdaCap));
        OptionChecks.OptionalPositive(failures, options.MaxGradNorm, nameof(options.MaxGradNorm));
        OptionChecks.Device(failures, options.Device, nameof(options.Device));
        return failures.Build();
    }

    /// <summary>Runs the validator and throws when anything is wrong (the path of a learner built without DI).</summary>
    public static void ThrowIfInvalid(SacLagOptions options)
    {
        var result = new SacLagOptionsValidator().Validate(null, options);
        if (result.Failed) throw new OptionsValidationException(nameof(SacLagOptions), typeof(SacLagOptions), result.Failures);
    }
}

using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Online.PpoLag;

/// <summary>Checks every field of <see cref="PpoLagOptions"/> and reports all failures at once, each naming its property.</summary>
internal sealed class PpoLagOptionsValidator : IValidateOptions<PpoLagOptions>
{
    public ValidateOptionsResult Validate(string? name, PpoLagOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new ValidateOptionsResultBuilder();
        OptionChecks.HiddenSizes(failures, options.ActorHiddenSizes, nameof(options.ActorHiddenSizes));
        OptionChecks.HiddenSizes(failures, options.CriticHiddenSizes, nameof(options.CriticHiddenSizes));
        OptionChecks.Defined(failures, options.Activation, nameof(options.Activation));
        if (!(double.IsFinite(options.InitialLogStd) && options.InitialLogStd >= -20 && options.InitialLogStd <= 2))
            failures.AddError($"must be in [−20, 2], got {options.InitialLogStd}.", nameof(options.InitialLogStd));
        OptionChecks.AtLeast(failures, options.StepsPerIteration, 1, nameof(options.StepsPerIteration));
        OptionChecks.Discount(failures, options.Gamma, nameof(options.Gamma));
        OptionChecks.UnitInterval(failures, options.GaeLambda, nameof(options.GaeLambda), includeZero: true, includeOne: true);
        OptionChecks.UnitInterval(failures, options.CostGaeLambda, nameof(options.CostGaeLambda), includeZero: true, includeOne: true);
        OptionChecks.UnitInterval(failures, options.ClipRatio, nameof(options.ClipRatio), includeZero: false, includeOne: false);
        OptionChecks.AtLeast(failures, options.UpdateEpochs, 1, nameof(options.UpdateEpochs));
        OptionChecks.AtLeast(failures, options.MiniBatchSize, 1, nameof(options.MiniBatchSize));
        OptionChecks.Positive(failures, options.ActorLearningRate, nameof(options.ActorLearningRate));
        OptionChecks.Positive(failures, options.CriticLearningRate, nameof(options.CriticLearningRate));
        OptionChecks.AtLeast(failures, options.LinearLearningRateDecayIterations, 0, nameof(options.LinearLearningRateDecayIterations));
        OptionChecks.OptionalPositive(failures, options.TargetKl, nameof(options.TargetKl));
        OptionChecks.NonNegative(failures, options.EntropyCoefficient, nameof(options.EntropyCoefficient));
        OptionChecks.NonNegative(failures, options.CriticL2Coefficient, nameof(options.CriticL2Coefficient));
        OptionChecks.OptionalPositive(failures, options.MaxGradNorm, nameof(options.MaxGradNorm));
        OptionChecks.Defined(failures, options.PolicyLoss, nameof(options.PolicyLoss));
        OptionChecks.Defined(failures, options.AdvantageNormalization, nameof(options.AdvantageNormalization));
        OptionChecks.Positive(failures, options.RewardScale, nameof(options.RewardScale));
        OptionChecks.Positive(failures, options.CostScale, nameof(options.CostScale));
        OptionChecks.Device(failures, options.Device, nameof(options.Device));
        return failures.Build();
    }

    /// <summary>Runs the validator and throws when anything is wrong (the path of a learner built without DI).</summary>
    public static void ThrowIfInvalid(PpoLagOptions options)
    {
        var result = new PpoLagOptionsValidator().Validate(null, options);
        if (result.Failed) throw new OptionsValidationException(nameof(PpoLagOptions), typeof(PpoLagOptions), result.Failures);
    }
}

using Marvel.Core.Algorithms.Shared;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Offline.Cdt;

/// <summary>Checks every field of <see cref="CdtOptions"/> and reports all failures together.</summary>
internal sealed class CdtOptionsValidator : IValidateOptions<CdtOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, CdtOptions options)
    {
        var b = OfflineOptionsValidator.Common(options);
        if (!double.IsFinite(options.TargetReturn)) b.AddError($"must be finite, got {options.TargetReturn}.", nameof(options.TargetReturn));
        OptionChecks.AtLeast(b, options.SequenceLength, 1, nameof(options.SequenceLength));
        OptionChecks.AtLeast(b, options.EmbeddingSize, 1, nameof(options.EmbeddingSize));
        OptionChecks.AtLeast(b, options.Layers, 1, nameof(options.Layers));
        OptionChecks.AtLeast(b, options.Heads, 1, nameof(options.Heads));
        if (options.Heads >= 1 && options.EmbeddingSize >= 1 && options.EmbeddingSize % options.Heads != 0)
            b.AddError($"must divide EmbeddingSize ({options.EmbeddingSize}), got {options.Heads}.", nameof(options.Heads));
        if (!(options.Dropout >= 0 && options.Dropout < 1)) b.AddError($"must be in [0, 1), got {options.Dropout}.", nameof(options.Dropout));
        OptionChecks.Positive(b, options.LearningRate, nameof(options.LearningRate));
        OptionChecks.NonNegative(b, options.WeightDecay, nameof(options.WeightDecay));
        OptionChecks.Positive(b, options.MaxGradNorm, nameof(options.MaxGradNorm));
        OptionChecks.AtLeast(b, options.WarmupSteps, 1, nameof(options.WarmupSteps));
        OptionChecks.NonNegative(b, options.CostLossWeight, nameof(options.CostLossWeight));
        OptionChecks.Positive(b, options.InitialTemperature, nameof(options.InitialTemperature));
        OptionChecks.Positive(b, options.TemperatureLearningRate, nameof(options.TemperatureLearningRate));
        if (!double.IsFinite(options.CostTokenOffset)) b.AddError($"must be finite, got {options.CostTokenOffset}.", nameof(options.CostTokenOffset));
        OptionChecks.Positive(b, options.CostSamplingOffset, nameof(options.CostSamplingOffset));
        if (!(options.AugmentationFraction >= 0 && options.AugmentationFraction <= 1)) b.AddError($"must be in [0, 1] (0 turns the augmentation off), got {options.AugmentationFraction}.", nameof(options.AugmentationFraction));
        OptionChecks.AtLeast(b, options.AugmentationCostBins, 1, nameof(options.AugmentationCostBins));
        OptionChecks.AtLeast(b, options.AugmentationReturnBins, 1, nameof(options.AugmentationReturnBins));
        OptionChecks.AtLeast(b, options.AugmentationMaxPerBin, 1, nameof(options.AugmentationMaxPerBin));
        OptionChecks.AtLeast(b, options.AugmentationMinPerBin, 1, nameof(options.AugmentationMinPerBin));
        if (options.AugmentationMinPerBin > options.AugmentationMaxPerBin && options.AugmentationMaxPerBin >= 1)
            b.AddError($"must be at most AugmentationMaxPerBin ({options.AugmentationMaxPerBin}), got {options.AugmentationMinPerBin}; no grid cell could take part.", nameof(options.AugmentationMinPerBin));
        OptionChecks.NonNegative(b, options.AugmentationPolynomialDegree, nameof(options.AugmentationPolynomialDegree));
        if (options.AugmentationMaxReturn is { } maxReturn && !double.IsFinite(maxReturn)) b.AddError($"must be finite or null, got {maxReturn}.", nameof(options.AugmentationMaxReturn));
        OptionChecks.NonNegative(b, options.AugmentationMinReturnAboveFrontier, nameof(options.AugmentationMinReturnAboveFrontier));
        OptionChecks.NonNegative(b, options.AugmentationMaxReturnDecrease, nameof(options.AugmentationMaxReturnDecrease));
        OptionChecks.Positive(b, options.AugmentationResampleBeta, nameof(options.AugmentationResampleBeta));
        return b.Build();
    }
}

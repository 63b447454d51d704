using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Alignment;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Pipeline;

/// <summary>Checks every field of <see cref="MarvelPipelineOptions"/> and reports all failures together.</summary>
internal sealed class MarvelPipelineOptionsValidator : IValidateOptions<MarvelPipelineOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, MarvelPipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new ValidateOptionsResultBuilder();
        if (string.IsNullOrWhiteSpace(options.TaskId))
            failures.AddError("must name a registered task, e.g. \"BallCircle\".", nameof(options.TaskId));
        if (!double.IsFinite(options.CostLimit) || options.CostLimit < 0)
            failures.AddError($"must be a finite undiscounted episode cost >= 0, got {options.CostLimit}.", nameof(options.CostLimit));
        OptionChecks.AtLeast(failures, options.OfflineSteps, 0, nameof(options.OfflineSteps));
        OptionChecks.AtLeast(failures, options.OnlineIterations, 0, nameof(options.OnlineIterations));
        OptionChecks.AtLeast(failures, options.EvalEvery, 1, nameof(options.EvalEvery));
        OptionChecks.AtLeast(failures, options.EvalEpisodes, 1, nameof(options.EvalEpisodes));
        OptionChecks.AtLeast(failures, options.EnvironmentCount, 1, nameof(options.EnvironmentCount));
        if (string.IsNullOrWhiteSpace(options.RunDirectory))
            failures.AddError("must be a folder path for options, metrics and artifacts.", nameof(options.RunDirectory));
        else if (options.RunDirectory.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
            failures.AddError($"'{options.RunDirectory}' contains characters that are not allowed in a path.", nameof(options.RunDirectory));
        OptionChecks.AtLeast(failures, options.CheckpointEvery, 0, nameof(options.CheckpointEvery));
        OptionChecks.AtLeast(failures, options.KeepCheckpoints, 0, nameof(options.KeepCheckpoints));
        OptionChecks.AtLeast(failures, options.OfflineCheckpointEvery, 0, nameof(options.OfflineCheckpointEvery));
        OptionChecks.AtLeast(failures, options.AlignmentCheckpointEvery, 0, nameof(options.AlignmentCheckpointEvery));
        if (string.IsNullOrWhiteSpace(options.Device))
            failures.AddError("must be \"cpu\", \"cuda\" or \"cuda:N\".", nameof(options.Device));
        else
            OptionChecks.Device(failures, options.Device, nameof(options.Device));
        OptionChecks.AtLeast(failures, options.AlignmentRolloutEpisodes, 0, nameof(options.AlignmentRolloutEpisodes));
        if (!(double.IsFinite(options.MaxHandoverLambda) && options.MaxHandoverLambda > 0))
            failures.AddError($"must be finite and > 0 (the largest offline multiplier taken over at the handover), got {options.MaxHandoverLambda}.", nameof(options.MaxHandoverLambda));
        if (!Enum.IsDefined(options.LambdaAtHandover))
            failures.AddError($"must be Controller or OfflineMultiplier, got {(int)options.LambdaAtHandover}.", nameof(options.LambdaAtHandover));
        if (!(options.ReturnedPolicyStandardErrors >= 0) || double.IsInfinity(options.ReturnedPolicyStandardErrors))
            failures.AddError($"must be a finite number ≥ 0 (standard errors of the evaluation's mean cost; 0 compares the mean alone), got {options.ReturnedPolicyStandardErrors}.",
                nameof(options.ReturnedPolicyStandardErrors));
        if (!Enum.IsDefined(options.ReturnedPolicy))
            failures.AddError($"must be LastIterate or BestWithinLimit, got {(int)options.ReturnedPolicy}.", nameof(options.ReturnedPolicy));
        if (!(options.AlignmentRolloutFraction >= 0 && options.AlignmentRolloutFraction <= 1))
            failures.AddError($"must be in [0, 1] (the share of each alignment batch taken from the rollout episodes), got {options.AlignmentRolloutFraction}.", nameof(options.AlignmentRolloutFraction));
        if (!Enum.IsDefined(options.CriticHandover))
            failures.AddError($"must be AsConfigured, WithinLimitStart or MeasuredCostError, got {(int)options.CriticHandover}.", nameof(options.CriticHandover));
        if (!(double.IsFinite(options.MaxCostCriticError) && options.MaxCostCriticError > 0))
            failures.AddError($"must be finite and > 0 (the largest relative error of the cost critic for which the critics are taken over), got {options.MaxCostCriticError}.",
                nameof(options.MaxCostCriticError));
        if (options.CriticCheck is null)
            failures.AddError("must not be null; use new QBiasOptions() for the defaults.", nameof(options.CriticCheck));
        else
            foreach (var failure in new QBiasOptionsValidator().Validate(null, options.CriticCheck).Failures ?? [])
                failures.AddError($"{nameof(options.CriticCheck)}.{failure}");
        if (options.HandoverLoad is null)
            failures.AddError("must not be null; use new HandoverLoadOptions() for the defaults.", nameof(options.HandoverLoad));
        if (options.TorchThreads < 0)
            failures.AddError($"must be >= 1 (libtorch threads), or 0 to leave libtorch's own setting; got {options.TorchThreads}.", nameof(options.TorchThreads));
        if (double.IsNaN(options.QDivergenceFactor) || options.QDivergenceFactor < 1)
            failures.AddError($"must be >= 1 (or +Infinity to disable the guard), got {options.QDivergenceFactor}.", nameof(options.QDivergenceFactor));
        OptionChecks.AtLeast(failures, options.OfflineReportEvery, 1, nameof(options.OfflineReportEvery));
        return failures.Build();
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every bad field.</summary>
    internal static void ThrowIfInvalid(MarvelPipelineOptions options) => OptionChecks.ThrowIfInvalid(new MarvelPipelineOptionsValidator(), options);
}

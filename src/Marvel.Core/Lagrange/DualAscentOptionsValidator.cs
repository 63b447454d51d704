using Microsoft.Extensions.Options;
using static System.FormattableString;

namespace Marvel.Core.Lagrange;

/// <summary>Checks every field of <see cref="DualAscentOptions"/> and reports all failures at once.</summary>
internal sealed class DualAscentOptionsValidator : IValidateOptions<DualAscentOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DualAscentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new ValidateOptionsResultBuilder();
        if (!double.IsFinite(options.CostLimit) || options.CostLimit < 0)
            failures.AddError(Invariant($"must be a finite undiscounted episode cost >= 0, got {options.CostLimit}."), nameof(options.CostLimit));
        if (!Enum.IsDefined(options.Optimizer))
            failures.AddError(Invariant($"must be Sgd or Adam, got {(int)options.Optimizer}."), nameof(options.Optimizer));
        if (!double.IsFinite(options.LearningRate) || options.LearningRate <= 0)
            failures.AddError(Invariant($"must be finite and > 0, got {options.LearningRate}."), nameof(options.LearningRate));
        if (!double.IsFinite(options.InitialLambda) || options.InitialLambda < 0)
            failures.AddError(Invariant($"must be finite and >= 0, got {options.InitialLambda}."), nameof(options.InitialLambda));
        if (!double.IsFinite(options.InitialLambdaFloor) || options.InitialLambdaFloor < 0)
            failures.AddError(Invariant($"must be finite and >= 0, got {options.InitialLambdaFloor}."), nameof(options.InitialLambdaFloor));
        if (options.UpperBound is double upper)
        {
            if (!double.IsFinite(upper) || upper <= 0)
                failures.AddError(Invariant($"must be null (no bound) or finite and > 0, got {upper}."), nameof(options.UpperBound));
            else if (Math.Max(options.InitialLambda, options.InitialLambdaFloor) > upper)
                failures.AddError(Invariant($"is {upper}, below the initial multiplier max(InitialLambda, InitialLambdaFloor) = {Math.Max(options.InitialLambda, options.InitialLambdaFloor)}; raise it or lower InitialLambda."), nameof(options.UpperBound));
        }
        if (!(options.AdamBeta1 >= 0 && options.AdamBeta1 < 1))
            failures.AddError(Invariant($"must be in [0, 1), got {options.AdamBeta1}."), nameof(options.AdamBeta1));
        if (!(options.AdamBeta2 >= 0 && options.AdamBeta2 < 1))
            failures.AddError(Invariant($"must be in [0, 1), got {options.AdamBeta2}."), nameof(options.AdamBeta2));
        if (!double.IsFinite(options.AdamEpsilon) || options.AdamEpsilon <= 0)
            failures.AddError(Invariant($"must be finite and > 0, got {options.AdamEpsilon}."), nameof(options.AdamEpsilon));
        return failures.Build();
    }
}

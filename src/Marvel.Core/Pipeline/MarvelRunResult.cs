using Marvel.Core.Environments;

namespace Marvel.Core.Pipeline;

/// <summary>One evaluation of the online policy (a row of <c>metrics/eval.csv</c>).</summary>
/// <param name="Index">0-based evaluation index; index 0 is the handed-over (offline) actor after alignment.</param>
/// <param name="Iteration">Online iterations completed before this evaluation (0 for the offline actor).</param>
/// <param name="EnvironmentSteps">Online environment steps taken before this evaluation.</param>
/// <param name="Result">Raw and DSRL-normalized reward and cost of the deterministic policy.</param>
public sealed record EvaluationPoint(int Index, long Iteration, long EnvironmentSteps, EvaluationResult Result);

/// <summary>The outcome of <see cref="MarvelPipeline.Run"/>, with the offline-to-online metrics as first-class fields.</summary>
/// <param name="RunDirectory">Absolute path of the run directory.</param>
/// <param name="OfflineAlgorithm">The producer of the handover artifact, e.g. "CPQ".</param>
/// <param name="OnlineAlgorithm">The online learner, e.g. "SAC-Lag".</param>
/// <param name="OfflineEvaluation">Evaluation of the handed-over actor before any online iteration (iteration 0, after alignment,
/// which leaves the actor unchanged): the "offline only" baseline.</param>
/// <param name="FinalEvaluation">Evaluation of the policy the run returns (the artifact in the run's <c>final/</c> folder), chosen by
/// <see cref="MarvelPipelineOptions.ReturnedPolicy"/>: with <see cref="ReturnedPolicy.LastIterate"/> the last periodic evaluation; with
/// <see cref="ReturnedPolicy.BestWithinLimit"/> a fresh evaluation (its own episodes, <see cref="EvaluationPoint.Index"/> one past the last
/// periodic one) of the chosen policy, whose online iteration is <see cref="EvaluationPoint.Iteration"/>.</param>
/// <param name="Evaluations">Every evaluation, in order.</param>
/// <param name="OnlineIterations">Online iterations completed.</param>
/// <param name="OnlineEnvironmentSteps">Online environment steps taken.</param>
/// <param name="OnlineEpisodes">Online (training) episodes finished.</param>
/// <param name="CumulativeViolation">Σ max(0, episode cost − CostLimit) over all online training episodes, in cost units.</param>
/// <param name="RewardAuc">Area under the evaluation mean-return curve against online iterations (trapezoid rule), divided by the
/// iterations spanned, i.e. the time-averaged evaluation return; equals the single evaluation's return when there is only one.</param>
/// <param name="NormalizedRewardAuc">The same area for the DSRL-normalized reward (NaN when the task has no score reference).</param>
/// <param name="AlignmentSteps">Gradient steps taken by the value aligner (0 for <c>NoAlignment</c>).</param>
/// <param name="FinalLambda">λ after the last online iteration.</param>
/// <param name="Elapsed">Wall time of the whole run.</param>
public sealed record MarvelRunResult(string RunDirectory, string OfflineAlgorithm, string OnlineAlgorithm, EvaluationPoint OfflineEvaluation,
    EvaluationPoint FinalEvaluation, IReadOnlyList<EvaluationPoint> Evaluations, long OnlineIterations, long OnlineEnvironmentSteps, long OnlineEpisodes,
    double CumulativeViolation, double RewardAuc, double NormalizedRewardAuc, long AlignmentSteps, double FinalLambda, TimeSpan Elapsed)
{
    private readonly EvaluationPoint? _lastIterate;

    /// <summary>The last periodic evaluation, of the policy after the last online iteration (the last row of <c>metrics/eval.csv</c>);
    /// the same point as <see cref="FinalEvaluation"/> when the run returns its last iterate.</summary>
    public EvaluationPoint LastIterateEvaluation { get => _lastIterate ?? FinalEvaluation; init => _lastIterate = value; }

    /// <summary>Σ max(0, episode cost − CostLimit) over the periodic evaluations' episodes and the returned policy's fresh evaluation,
    /// in cost units: the violation the evaluations themselves caused, apart from <see cref="CumulativeViolation"/>.</summary>
    public double EvaluationViolation { get; init; }

    /// <summary>Final minus offline DSRL-normalized reward (positive: finetuning improved the reward).</summary>
    public double NormalizedRewardGain => FinalEvaluation.Result.NormalizedReward - OfflineEvaluation.Result.NormalizedReward;

    /// <summary>DSRL-normalized cost of the final policy (≤ 1 is within the limit).</summary>
    public double FinalNormalizedCost => FinalEvaluation.Result.NormalizedCost;

    /// <summary>DSRL-normalized reward of the final policy.</summary>
    public double FinalNormalizedReward => FinalEvaluation.Result.NormalizedReward;

    /// <summary>Time-averaged value of <paramref name="value"/> over the evaluation curve (trapezoid rule against iterations).</summary>
    internal static double Auc(IReadOnlyList<EvaluationPoint> points, Func<EvaluationResult, double> value)
    {
        if (points.Count == 0) return double.NaN;
        if (points.Count == 1) return value(points[0].Result);
        double area = 0;
        for (int i = 1; i < points.Count; i++)
            area += 0.5 * (value(points[i - 1].Result) + value(points[i].Result)) * (points[i].Iteration - points[i - 1].Iteration);
        long span = points[^1].Iteration - points[0].Iteration;
        return span > 0 ? area / span : points.Average(p => value(p.Result));
    }
}

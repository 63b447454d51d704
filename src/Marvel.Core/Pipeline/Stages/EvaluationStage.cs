using Marvel.Core.Abstractions.Telemetry;
using Marvel.Core.Environments;
using Marvel.Core.Inference;

namespace Marvel.Core.Pipeline.Stages;

/// <summary>
/// Evaluation (marvel.md §4.5) and the returned policy. The online stage calls <see cref="Evaluate"/> at iteration 0, every
/// <see cref="MarvelPipelineOptions.EvalEvery"/> iterations and after the last one; <see cref="Run"/>, after the online stage, chooses the
/// policy the run returns (<see cref="MarvelPipelineOptions.ReturnedPolicy"/>), writes it to <c>final/</c> and sets
/// <see cref="PipelineRun.Final"/>. An evaluation is <see cref="MarvelPipelineOptions.EvalEpisodes"/> deterministic episodes, episode i
/// of evaluation k reset with seed s + 10 000·k + i on fresh environments, s the seed of stream "eval": a function of the policy and k only,
/// so a resumed run evaluates exactly as an uninterrupted one.
/// </summary>
/// <remarks><c>status.json</c> keeps naming the online stage while the returned policy is chosen: it is the online stage's last step for
/// a resume, which runs the online stage again from its newest checkpoint.</remarks>
internal sealed class EvaluationStage(EnvironmentRegistry environments) : IPipelineStage
{
    /// <summary>Seed offset between consecutive evaluations.</summary>
    public const ulong EvaluationStride = 10_000;

    public string Name => MarvelPipelineStages.Evaluation;

    /// <summary>Never: <c>final/</c> is complete only with <c>result.json</c>, and a completed run is not resumed.</summary>
    public bool IsComplete(PipelineRun run) => false;

    public void Load(PipelineRun run) => throw new InvalidOperationException("Marvel pipeline: the returned policy is always chosen again.");

    /// <summary>True when the online stage evaluates after <paramref name="iteration"/> iterations.</summary>
    public static bool IsEvaluationIteration(MarvelPipelineOptions options, long iteration) =>
        iteration % options.EvalEvery == 0 || iteration == options.OnlineIterations;

    /// <summary>
    /// Evaluates the online learner's policy after <paramref name="iteration"/> iterations, appends the row to <c>eval.csv</c>, saves the
    /// policy as a candidate when <see cref="ReturnedPolicy.BestWithinLimit"/> may return it, and reports it.
    /// </summary>
    public void Evaluate(PipelineRun run, IOnlineSafeLearner learner, long iteration)
    {
        var o = run.Options;
        var folder = run.Folder;
        int index = folder.Evaluations.Count;
        var result = EvaluatePolicy(run, learner.Policy, index);
        folder.AppendEvaluation(new EvaluationPoint(index, iteration, run.Session.EnvironmentSteps, result));
        run.Logger.Evaluated(index, iteration, result.MeanReturn, result.MeanCost, o.CostLimit);
        if (index == 0 && double.IsNaN(result.NormalizedReward)) run.Logger.NoScoreReference(o.TaskId);
        if (o.ReturnedPolicy == ReturnedPolicy.BestWithinLimit
            && (BestWithinLimit(folder.Evaluations, o.CostLimit, o.ReturnedPolicyStandardErrors) == index
                || Safest(folder.Evaluations, o.ReturnedPolicyStandardErrors) == index))
            learner.ExportHandover().Save(folder.CandidatePath(index));
        var scalars = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["iteration"] = iteration,
            ["mean_return"] = result.MeanReturn,
            ["mean_cost"] = result.MeanCost,
            ["normalized_reward"] = result.NormalizedReward,
            ["normalized_cost"] = result.NormalizedCost,
        };
        MarvelTelemetry.Publish(MarvelPipelineStages.Evaluation, scalars);
        run.Progress?.Report(new TrainingProgress(MarvelPipelineStages.Evaluation, index, 0, scalars));
    }

    /// <summary>
    /// Chooses the policy the run returns, writes its artifact to <c>final/</c> and sets its evaluation as <see cref="PipelineRun.Final"/>:
    /// the last periodic one for <see cref="ReturnedPolicy.LastIterate"/>, otherwise a fresh one (index one past the periodic evaluations,
    /// so its episodes are none the choice was made on) of the chosen candidate: the best within the limit, or the one with the lowest cost
    /// bound when none is.
    /// </summary>
    public void Run(PipelineRun run)
    {
        var o = run.Options;
        var folder = run.Folder;
        var evaluations = folder.Evaluations;
        if (o.ReturnedPolicy == ReturnedPolicy.LastIterate)
        {
            run.Online.ExportHandover().Save(folder.FinalPath);
            run.Final = evaluations[^1];
            return;
        }
        int best = BestWithinLimit(evaluations, o.CostLimit, o.ReturnedPolicyStandardErrors);
        if (best < 0) best = Safest(evaluations, o.ReturnedPolicyStandardErrors);
        var path = folder.CandidatePath(evaluations[best].Index);
        if (!File.Exists(Path.Combine(path, "manifest.json")))
            throw new InvalidDataException($"Marvel pipeline: evaluation {evaluations[best].Index} (iteration {evaluations[best].Iteration}) is the policy to return, " +
                $"but its policy is not in '{path}'. The run folder was changed by hand or written by another version; run it again from the start.");
        var chosen = HandoverArtifact.Load(path);
        long iteration = evaluations[best].Iteration;
        EvaluationResult result;
        using (var policy = InferencePolicy.FromArtifact(chosen))
            result = EvaluatePolicy(run, policy, evaluations.Count);
        chosen.Save(folder.FinalPath);   // the candidates are removed once result.json is written, so a crash before that can resume
        run.Final = new EvaluationPoint(evaluations.Count, iteration, run.Session.EnvironmentSteps, result);
    }

    /// <summary>Evaluation number <paramref name="index"/> of <paramref name="policy"/> (its episodes' seeds follow from the index).</summary>
    private EvaluationResult EvaluatePolicy(PipelineRun run, IPolicy policy, int index)
    {
        var o = run.Options;
        // Fresh instances for every evaluation (also for tasks whose wrappers keep running statistics).
        var instances = Enumerable.Range(0, Math.Min(o.EnvironmentCount, o.EvalEpisodes)).Select(_ => environments.Make(o.TaskId)).ToArray();
        try
        {
            ulong firstSeed = unchecked(run.EvaluationSeed + EvaluationStride * (ulong)index);
            return PolicyEvaluator.EvaluateSeeded(policy, instances, o.EvalEpisodes, o.CostLimit, firstSeed, run.Cancellation);
        }
        finally
        {
            foreach (var e in instances) e.Dispose();
        }
    }

    /// <summary>
    /// An upper confidence bound of an evaluated policy's expected episode cost: the mean episode cost plus
    /// <paramref name="standardErrors"/> standard errors (sample standard deviation over the evaluation's episodes / √n; the mean
    /// alone for one episode).
    /// </summary>
    public static double CostUpperBound(EvaluationResult result, double standardErrors)
    {
        var episodes = result.Episodes;
        int n = episodes.Count;
        if (n < 2 || standardErrors == 0) return result.MeanCost;
        double mean = episodes.Average(e => e.Cost);
        double variance = episodes.Sum(e => (e.Cost - mean) * (e.Cost - mean)) / (n - 1);
        return result.MeanCost + standardErrors * Math.Sqrt(variance / n);
    }

    /// <summary>
    /// The index of the evaluation with the highest mean return among those whose cost bound (<see cref="CostUpperBound"/>) is within
    /// <paramref name="costLimit"/> (the earliest on ties), or −1 when none is.
    /// </summary>
    public static int BestWithinLimit(IReadOnlyList<EvaluationPoint> evaluations, double costLimit, double standardErrors)
    {
        int best = -1;
        for (int i = 0; i < evaluations.Count; i++)
        {
            var r = evaluations[i].Result;
            if (CostUpperBound(r, standardErrors) <= costLimit && (best < 0 || r.MeanReturn > evaluations[best].Result.MeanReturn)) best = i;
        }
        return best;
    }

    /// <summary>The index of the evaluation with the lowest cost bound (the higher mean return, then the earliest, on ties); −1 when there is none.</summary>
    public static int Safest(IReadOnlyList<EvaluationPoint> evaluations, double standardErrors)
    {
        int safest = -1;
        double bound = double.PositiveInfinity;
        for (int i = 0; i < evaluations.Count; i++)
        {
            double b = CostUpperBound(evaluations[i].Result, standardErrors);
            if (safest < 0 || b < bound || (b == bound && evaluations[i].Result.MeanReturn > evaluations[safest].Result.MeanReturn))
            {
                safest = i;
                bound = b;
            }
        }
        return safest;
    }
}

using Marvel.Core.Lagrange;
using System.Diagnostics;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Alignment;
using Marvel.Core.Environments;

namespace Marvel.Core.Pipeline.Stages;

/// <summary>
/// Online finetuning (seed stream "online"): the online learner starts from the aligned artifact, runs
/// <see cref="MarvelPipelineOptions.OnlineIterations"/> iterations against the Lagrange controller with evaluations from the
/// <see cref="EvaluationStage"/>, and writes a checkpoint (<see cref="OnlineCheckpoint"/>) every
/// <see cref="MarvelPipelineOptions.CheckpointEvery"/> iterations and on cancellation; on a resume it continues from the newest one.
/// </summary>
internal sealed class OnlineStage(Func<LearnerContext, HandoverArtifact, IOnlineSafeLearner> factory, ILagrangeController controller,
    EvaluationStage evaluation, Action<string>? checkpointFault, EnvironmentRegistry environments) : IPipelineStage
{
    public string Name => MarvelPipelineStages.Online;

    /// <summary>Never: its output is the run's result, and a completed run is not resumed; a resume continues from its checkpoint.</summary>
    public bool IsComplete(PipelineRun run) => false;

    public void Load(PipelineRun run) => throw new InvalidOperationException("Marvel pipeline: the online stage resumes from its checkpoint, it is never loaded.");

    /// <summary>The controller the online stage feeds.</summary>
    public ILagrangeController Controller => controller;

    /// <summary>Runs the whole online stage: <see cref="Enter"/>, <see cref="Start"/> with the factory's learner, then one iteration after
    /// another, each followed by <see cref="Count"/> and <see cref="Conclude"/>.</summary>
    public void Run(PipelineRun run)
    {
        Enter(run);
        var online = Start(run, CreateLearner(run), ownsLearner: true);
        var environment = run.TrainEnvironment!;
        while (run.Session.Iterations < run.Options.OnlineIterations)
        {
            run.Cancellation.ThrowIfCancellationRequested();
            var r = online.RunIteration(environment, controller, IterationToken(run));
            Count(run, r);
            Conclude(run);
        }
    }

    /// <summary>The context the online learner is built from: the run's, with seed stream "online".</summary>
    public static LearnerContext LearnerContext(PipelineRun run) => run.Context with { Seeds = run.Seeds.Fork("online") };

    /// <summary>The online learner from the factory, for the aligned artifact (<see cref="PipelineRun.Aligned"/>; its stage ran or loaded).</summary>
    public IOnlineSafeLearner CreateLearner(PipelineRun run) =>
        factory(LearnerContext(run), run.Aligned) ?? throw new InvalidOperationException("Marvel pipeline: the online learner factory returned null.");

    /// <summary>
    /// The token an iteration of the learner is given: none while checkpoints are on (the learner is then never interrupted inside an
    /// iteration, so every cancellation leaves an exact resume point), the run's otherwise.
    /// </summary>
    public static CancellationToken IterationToken(PipelineRun run) => run.OnlineCheckpoints ? CancellationToken.None : run.Cancellation;

    /// <summary>Enters the stage: counts the alignment's rollouts (the first online interactions; a checkpoint's totals already include
    /// them) and names the stage in <c>status.json</c>. Once per run, before <see cref="CreateLearner"/>.</summary>
    public static void Enter(PipelineRun run)
    {
        run.Session.CountAlignmentRollouts(run.Alignment, includeInTotals: run.Checkpoint is null);
        run.Enter(MarvelPipelineStages.Online);
    }

    /// <summary>
    /// Everything else before the first iteration (after <see cref="Enter"/>): takes <paramref name="online"/> as the run's learner, initializes it from the aligned artifact (with the critic-handover rules), restores the newest checkpoint on a resume, warm-starts
    /// the controller and evaluates iteration 0 (or the evaluation a cancellation interrupted).
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="online">The learner, built from <see cref="LearnerContext"/> for <see cref="PipelineRun.Aligned"/> (by
    /// <see cref="CreateLearner"/>, or a seed of a seed batch built from the same context and options).</param>
    /// <param name="ownsLearner">Whether the run disposes <paramref name="online"/> (false for a seed batch's learner, which the batch owns).</param>
    /// <returns><paramref name="online"/>.</returns>
    public IOnlineSafeLearner Start(PipelineRun run, IOnlineSafeLearner online, bool ownsLearner)
    {
        var o = run.Options;
        var folder = run.Folder;
        var session = run.Session;
        var checkpoint = run.Checkpoint;
        var environment = run.TrainEnvironment!;
        var aligned = run.Aligned;
        run.SetOnline(online, ownsLearner);
        var load = o.HandoverLoad;
        if (o.CriticHandover == CriticHandoverRule.MeasuredCostError)
            load = load with { LoadCritics = CheckCritics(run).CriticsTakenOver };
        // WithinLimitStart: start without critics, evaluate the handed-over policy (the actor alone decides it), then take the critics
        // over when that evaluation is within the limit. A resumed run restores the learner from its checkpoint instead.
        bool decideOnStart = o.CriticHandover == CriticHandoverRule.WithinLimitStart && checkpoint is null && load.LoadCritics;
        var handoverCheck = Initialize(run, online, aligned, decideOnStart ? load with { LoadCritics = false } : load, writeCheck: checkpoint is null);
        var resumable = online as ICheckpointableOnlineLearner;
        if (run.OnlineCheckpoints && resumable is null)
            throw new NotSupportedException($"Marvel pipeline: CheckpointEvery is {o.CheckpointEvery} but the online learner '{online.Algorithm}' ({online.GetType().Name}) " +
                "does not implement ICheckpointableOnlineLearner. Set CheckpointEvery = 0 or use a learner that can checkpoint (SacLagLearner).");
        if (checkpoint is not null)
        {
            if (resumable is null)
                throw new InvalidOperationException($"Marvel pipeline: '{checkpoint.Path}' cannot be loaded: the online learner '{online.Algorithm}' does not implement ICheckpointableOnlineLearner.");
            if (checkpoint.Iteration > o.OnlineIterations)
                throw new InvalidOperationException($"Marvel pipeline: the newest checkpoint is at iteration {checkpoint.Iteration} but OnlineIterations is {o.OnlineIterations}; " +
                    "OnlineIterations may grow on resume, not shrink.");
            checkpoint.LoadInto(resumable, environment, controller);
            folder.RestoreMetrics(checkpoint.Metrics);
            run.Logger.OnlineResumed(checkpoint.Iteration);
        }
        folder.PruneCandidates(folder.Evaluations.Count);
        if (decideOnStart)
        {
            evaluation.Evaluate(run, online, 0);
            var start = folder.Evaluations[0].Result;
            double bound = EvaluationStage.CostUpperBound(start, o.ReturnedPolicyStandardErrors);
            bool withinLimit = bound <= o.CostLimit;
            folder.WriteJson(folder.CriticCheckPath, new StartCheckResult(start.MeanCost, bound, o.CostLimit, withinLimit));
            run.Logger.StartChecked(start.MeanCost, bound, o.CostLimit, withinLimit ? "the critics are taken over" : "the online stage starts from fresh critics");
            if (withinLimit) handoverCheck = Initialize(run, online, aligned, load, writeCheck: true);
        }
        // A fresh online stage (no checkpoint) always restarts from the same state. The offline multiplier balanced the offline critics:
        // when the handover check replaced one of them, it no longer fits, and the controller starts from its own λ.
        if (checkpoint is null && HandoverLambda(o, aligned.Manifest, handoverCheck) is double handoverLambda && controller is ILagrangeWarmStart warm)
            warm.WarmStart(handoverLambda);
        if (folder.Evaluations.Count == 0)
            evaluation.Evaluate(run, online, 0);
        else if (EvaluationStage.IsEvaluationIteration(o, session.Iterations) && folder.Evaluations[^1].Iteration != session.Iterations)
            evaluation.Evaluate(run, online, session.Iterations); // cancelled during this evaluation
        return online;
    }

    /// <summary>
    /// Counts the learner's iteration <paramref name="r"/>: the totals, the <c>online.csv</c> row, the exploding-Q guard (which throws
    /// <see cref="TrainingDivergedException"/>) and the progress report.
    /// </summary>
    public static void Count(PipelineRun run, OnlineIterationResult r)
    {
        var session = run.Session;
        var row = session.Add(r, run.Budget);
        run.Folder.AppendOnline(row);
        run.Bounds.Check(r.Metrics, "reward_q", "cost_q", MarvelPipelineStages.Online, session.Iterations);
        run.Progress?.Report(new TrainingProgress(MarvelPipelineStages.Online, session.Iterations, run.Options.OnlineIterations, row));
    }

    /// <summary>After <see cref="Count"/>: the evaluation and the checkpoint that fall on this iteration.</summary>
    public void Conclude(PipelineRun run)
    {
        var o = run.Options;
        long iteration = run.Session.Iterations;
        if (EvaluationStage.IsEvaluationIteration(o, iteration))
            evaluation.Evaluate(run, run.Online, iteration);
        if (run.OnlineCheckpoints && iteration % o.CheckpointEvery == 0)
            WriteCheckpoint(run, (ICheckpointableOnlineLearner)run.Online);
    }

    /// <summary>
    /// <c>InitializeFrom</c> with <paramref name="load"/>, then the offline data for a mixing learner (its options decide the share, 0 leaving it
    /// unused, and whether handed-over critics are checked); writes the learner's handover check when it ran and <paramref name="writeCheck"/>.
    /// </summary>
    private static CriticHandoverCheck? Initialize(PipelineRun run, IOnlineSafeLearner online, HandoverArtifact aligned, HandoverLoadOptions load, bool writeCheck)
    {
        online.InitializeFrom(aligned, load);
        if (online is not IOfflineDataConsumer mixing) return null;
        mixing.AttachOfflineData(run.Dataset);
        var check = mixing.HandoverCheck;
        if (check is not null && writeCheck) run.Folder.WriteJson(run.Folder.HandoverCheckPath, check);
        return check;
    }

    /// <summary>
    /// The check of <see cref="CriticHandoverRule.MeasuredCostError"/>: the aligned artifact's cost critic against Monte-Carlo rollouts of its
    /// actor from dataset states, seeded from the run's "critic-check" stream (so a restarted online stage decides the same); writes
    /// <c>critic-check.json</c> and logs the decision.
    /// </summary>
    private CriticCheckResult CheckCritics(PipelineRun run)
    {
        var o = run.Options;
        var check = o.CriticCheck with { Seed = run.Seeds.Derive("critic-check") };
        var report = QBiasDiagnostics.Measure(run.Aligned, run.Dataset, () => environments.Make(o.TaskId), check, run.Context.Device);
        var cost = report.Cost;
        double error = cost.MeanAbsoluteBias / Math.Max(Math.Abs(cost.MeanMonteCarlo), check.RelativeFloor);
        bool keep = double.IsFinite(error) && error <= o.MaxCostCriticError;
        var result = new CriticCheckResult(cost.MeanQ, cost.MeanMonteCarlo, cost.MeanAbsoluteBias, error, o.MaxCostCriticError, keep,
            (long)check.StateCount * check.RolloutsPerState * report.RolloutSteps);
        run.Folder.WriteJson(run.Folder.CriticCheckPath, result);
        run.Logger.CriticChecked(error, cost.MeanQ, cost.MeanMonteCarlo, o.MaxCostCriticError,
            keep ? "the critics are taken over" : "the online stage starts from fresh critics");
        return result;
    }

    /// <summary>
    /// On cancellation: the learner, environments and controller are at the end of the last completed iteration (the learner is never
    /// interrupted inside one while checkpoints are on), so a checkpoint of it is an exact resume point; writes one unless it exists.
    /// </summary>
    public void SaveResumePoint(PipelineRun run)
    {
        if (run.OnlineOrNull is ICheckpointableOnlineLearner learner && run.TrainEnvironment is not null && run.OnlineCheckpoints && run.Session.Iterations > 0
            && run.Session.CheckpointedIteration != run.Session.Iterations)
            WriteCheckpoint(run, learner);
    }

    /// <summary>Writes the checkpoint of the current iteration, logs it and reports its time and size as "checkpoint" progress.</summary>
    private void WriteCheckpoint(PipelineRun run, ICheckpointableOnlineLearner learner)
    {
        var clock = Stopwatch.StartNew();
        long iteration = run.Session.Iterations;
        var path = OnlineCheckpoint.Write(run.Folder, learner, run.TrainEnvironment!, controller, run.Session, run.Clock.Elapsed, run.Options.KeepCheckpoints,
            checkpointFault);
        run.Logger.CheckpointWritten(MarvelPipelineStages.Online, iteration, path);
        if (run.Progress is not null)
        {
            long bytes = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            run.Progress.Report(new TrainingProgress(MarvelPipelineStages.Checkpoint, iteration, run.Options.OnlineIterations, new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["iteration"] = iteration,
                ["seconds"] = clock.Elapsed.TotalSeconds,
                ["megabytes"] = bytes / 1e6,
            }));
        }
    }

    /// <summary>
    /// The multiplier the online stage starts from under <see cref="MarvelPipelineOptions.LambdaAtHandover"/>, or null to keep the
    /// controller's own: the offline learner's λ when its state is a PID multiplier on the same actor loss (kind "OsrlBatchPid"), at most
    /// <see cref="MarvelPipelineOptions.MaxHandoverLambda"/>; null as well when the online learner's handover check re-initialized a critic.
    /// </summary>
    public static double? HandoverLambda(MarvelPipelineOptions options, HandoverManifest manifest, CriticHandoverCheck? check = null)
    {
        if (options.LambdaAtHandover != LambdaAtHandover.OfflineMultiplier) return null;
        if (check is { AnyReset: true }) return null; // the offline λ balanced critics that the online learner replaced
        var state = manifest.Lagrange;
        if (state is null || !string.Equals(state.Kind, BatchPidLagrangian.Kind, StringComparison.Ordinal)) return null;
        if (!(state.Scalars.TryGetValue("lambda", out double lambda) && double.IsFinite(lambda) && lambda >= 0)) return null;
        return Math.Min(lambda, options.MaxHandoverLambda);
    }
}

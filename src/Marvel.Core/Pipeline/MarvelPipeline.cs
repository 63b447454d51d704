using System.Text.Json;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Environments;
using Marvel.Core.Pipeline.Stages;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Marvel.Core.Pipeline;

/// <summary>Stage names used in progress reports, <c>status.json</c> and <see cref="TrainingDivergedException.Stage"/> of pipeline errors.</summary>
public static class MarvelPipelineStages
{
    /// <summary>Opening the task, checking the dataset, writing <c>options.json</c>.</summary>
    public const string Setup = "setup";
    /// <summary>Offline training of the injected offline learner.</summary>
    public const string Offline = "offline";
    /// <summary>Exporting and saving the handover artifact.</summary>
    public const string Handover = "handover";
    /// <summary>Value alignment of the artifact's critics on the dataset.</summary>
    public const string Alignment = "alignment";
    /// <summary>Online finetuning.</summary>
    public const string Online = "online";
    /// <summary>A deterministic evaluation of the online policy.</summary>
    public const string Evaluation = "evaluation";
    /// <summary>An online checkpoint was written (progress only: its metrics are "iteration", "seconds" and "megabytes").</summary>
    public const string Checkpoint = "checkpoint";
}

/// <summary>
/// Marvel's offline-to-online pipeline (marvel.md §4): offline training (or a loaded artifact) → handover artifact → value alignment
/// on the offline dataset → online finetuning with a Lagrange controller and periodic evaluation, with every result written to a
/// run directory.
/// </summary>
/// <remarks>
/// <para>The pipeline only composes: the offline method is an <see cref="IOfflineSafeLearner"/> factory (or an artifact), the
/// alignment an <see cref="IValueAligner"/> (<c>ValuePreAligner</c> for Marvel, <c>NoAlignment</c> for the naive warm start), the
/// multiplier an <see cref="ILagrangeController"/> (<c>AdaptivePidLagrangeController</c> for Marvel) and the online method an
/// <see cref="IOnlineSafeLearner"/> factory that receives the artifact it will start from (<see cref="SacLagHandover.Factory"/>
/// sizes SAC-Lag from it).</para>
/// <para>Evaluation (marvel.md §4.5): at iteration 0 (after alignment, so it measures the handed-over actor), every
/// <see cref="MarvelPipelineOptions.EvalEvery"/> iterations and after the last one; <see cref="MarvelPipelineOptions.EvalEpisodes"/>
/// deterministic episodes, episode i of evaluation k reset with seed s + 10 000·k + i on dedicated environments, s the seed of stream
/// "eval".</para>
/// <para>Divergence: a <see cref="TrainingDivergedException"/> of any stage, or an exploding mean Q in the online learner's metrics
/// (<see cref="MarvelPipelineOptions.QDivergenceFactor"/>), stops the run after the metrics so far and <c>status.json</c> are written; it
/// is rethrown wrapped, with <see cref="TrainingDivergedException.Stage"/> the pipeline stage; the last good checkpoint stays the newest
/// one. Cancellation is checked between steps and iterations; the metrics so far (and a checkpoint when checkpoints are on) are written
/// before <see cref="OperationCanceledException"/> propagates.</para>
/// <para>Checkpoints and resume: with <see cref="MarvelPipelineOptions.CheckpointEvery"/> = N &gt; 0 the online stage writes
/// <c>checkpoints/iteration-NNNNNN/</c> every N iterations and on cancellation, holding everything that determines the rest of the run
/// (learner state with replay buffer and generators, training environments, controller, counters, metrics rows). <see cref="Resume"/>
/// continues from the newest one, skipping the stages whose outputs are on disk; on CPU the resumed run is bit-identical to an
/// uninterrupted one. <see cref="RunDirectory.ReadStatus"/> tells whether a run directory is empty, resumable, completed or diverged.</para>
/// <para>The controller is reset to the state it had when the pipeline was built at the start of every run, so a pipeline can run
/// several times; runs must not overlap.</para>
/// </remarks>
public sealed class MarvelPipeline
{
    private readonly MarvelPipelineOptions _options;
    private readonly Func<LearnerContext, IOfflineSafeLearner>? _offlineFactory;
    private readonly HandoverArtifact? _offlineArtifact;
    private readonly IValueAligner _aligner;
    private readonly ILagrangeController _controller;
    private readonly LagrangeControllerState _initialControllerState;
    private readonly Func<LearnerContext, HandoverArtifact, IOnlineSafeLearner> _onlineFactory;
    private readonly EnvironmentRegistry _environments;
    private readonly ILogger _logger = NullLogger.Instance;

    /// <summary>A pipeline that trains the offline stage itself.</summary>
    /// <param name="options">Settings; copied and validated.</param>
    /// <param name="offlineLearnerFactory">Builds the offline learner from the task's context (seed stream "offline").</param>
    /// <param name="aligner">Value alignment between handover and finetuning (<c>NoAlignment</c> to skip it).</param>
    /// <param name="controller">The Lagrange controller of the online stage; its <see cref="ILagrangeController.CostLimit"/> must equal
    /// <see cref="MarvelPipelineOptions.CostLimit"/>.</param>
    /// <param name="onlineLearnerFactory">Builds the online learner from the context (seed stream "online") and the aligned artifact it will
    /// start from, e.g. <see cref="SacLagHandover.Factory"/>.</param>
    /// <param name="environments">Registry the task id is looked up in; <see cref="EnvironmentRegistry.Default"/> when null.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message lists every bad field.</exception>
    /// <exception cref="ArgumentException">The task is unknown, or the controller's CostLimit differs from the options'.</exception>
    public MarvelPipeline(MarvelPipelineOptions options, Func<LearnerContext, IOfflineSafeLearner> offlineLearnerFactory, IValueAligner aligner,
        ILagrangeController controller, Func<LearnerContext, HandoverArtifact, IOnlineSafeLearner> onlineLearnerFactory, EnvironmentRegistry? environments = null)
        : this(options, offlineLearnerFactory ?? throw new ArgumentNullException(nameof(offlineLearnerFactory)), null, aligner, controller, onlineLearnerFactory, environments)
    {
    }

    /// <summary>A pipeline that starts from an offline artifact trained elsewhere (e.g. <see cref="HandoverArtifact.Load"/>).</summary>
    /// <param name="options">Settings; copied and validated. <see cref="MarvelPipelineOptions.OfflineSteps"/> is ignored.</param>
    /// <param name="offlineArtifact">The offline result; saved into the run directory's <c>handover/</c>.</param>
    /// <param name="aligner">Value alignment between handover and finetuning (<c>NoAlignment</c> to skip it).</param>
    /// <param name="controller">The Lagrange controller of the online stage; its CostLimit must equal the options'.</param>
    /// <param name="onlineLearnerFactory">Builds the online learner from the context and the aligned artifact.</param>
    /// <param name="environments">Registry the task id is looked up in; <see cref="EnvironmentRegistry.Default"/> when null.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message lists every bad field.</exception>
    /// <exception cref="ArgumentException">The task is unknown, or the controller's CostLimit differs from the options'.</exception>
    public MarvelPipeline(MarvelPipelineOptions options, HandoverArtifact offlineArtifact, IValueAligner aligner, ILagrangeController controller,
        Func<LearnerContext, HandoverArtifact, IOnlineSafeLearner> onlineLearnerFactory, EnvironmentRegistry? environments = null)
        : this(options, null, offlineArtifact ?? throw new ArgumentNullException(nameof(offlineArtifact)), aligner, controller, onlineLearnerFactory, environments)
    {
    }

    private MarvelPipeline(MarvelPipelineOptions options, Func<LearnerContext, IOfflineSafeLearner>? offlineFactory, HandoverArtifact? artifact,
        IValueAligner aligner, ILagrangeController controller, Func<LearnerContext, HandoverArtifact, IOnlineSafeLearner> onlineFactory, EnvironmentRegistry? environments)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(aligner);
        ArgumentNullException.ThrowIfNull(controller);
        ArgumentNullException.ThrowIfNull(onlineFactory);
        _options = options with { }; // HandoverLoadOptions is immutable, so a shallow copy suffices
        MarvelPipelineOptionsValidator.ThrowIfInvalid(_options);
        _environments = environments ?? EnvironmentRegistry.Default;
        if (!_environments.Contains(_options.TaskId))
            throw new ArgumentException($"Marvel pipeline: task '{_options.TaskId}' is not registered. Known tasks: {string.Join(", ", _environments.Ids)}.", nameof(options));
        CostBudget.RequireAgreement(_options.CostLimit, "Marvel pipeline (MarvelPipelineOptions.CostLimit)",
            ($"the Lagrange controller's CostLimit ({controller.GetType().Name})", controller.CostLimit));
        _offlineFactory = offlineFactory;
        _offlineArtifact = artifact;
        _aligner = aligner;
        _controller = controller;
        _initialControllerState = controller.GetState();
        _onlineFactory = onlineFactory;
    }

    /// <summary>The settings in use (a copy).</summary>
    public MarvelPipelineOptions Options => _options with { };

    /// <summary>The online stage's Lagrange controller (a seed batch checks that its pipelines do not share one).</summary>
    internal ILagrangeController Controller => _controller;

    /// <summary>
    /// Where the pipeline logs stage starts and ends, resumes, evaluations, divergence, cancellation and warnings (e.g. an artifact
    /// trained for another cost limit); <see cref="NullLogger.Instance"/> by default. <c>AddMarvel</c>'s <c>MarvelPipelineFactory</c>
    /// sets it from the host's <see cref="ILoggerFactory"/>. The pipeline never writes to the console itself.
    /// </summary>
    public ILogger Logger
    {
        get => _logger;
        init => _logger = value ?? NullLogger.Instance;
    }

    /// <summary>Runs the pipeline on a background thread; see <see cref="Run"/>.</summary>
    /// <param name="dataset">The offline dataset (training data of the offline stage and data of the alignment).</param>
    /// <param name="progress">Receives stage progress ("offline", "alignment", "online", "evaluation").</param>
    /// <param name="cancellationToken">Checked between steps, episodes and iterations.</param>
    public Task<MarvelRunResult> RunAsync(OfflineDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return OnDedicatedThread(() => Run(dataset, progress, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Runs offline training (or takes the loaded artifact) → saves the handover artifact → aligns it on <paramref name="dataset"/> →
    /// finetunes online with periodic evaluation, writing the run directory as it goes. A run directory that already holds a run is
    /// started over (use <see cref="Resume"/> to continue it).
    /// </summary>
    /// <param name="dataset">The offline dataset; its sizes must match the task.</param>
    /// <param name="progress">Receives stage progress ("offline", "alignment", "online", "evaluation").</param>
    /// <param name="cancellationToken">Checked between steps, episodes and iterations. With checkpoints on
    /// (<see cref="MarvelPipelineOptions.CheckpointEvery"/> &gt; 0) the online stage checks it only between iterations and during
    /// evaluations, so the checkpoint written on cancellation is an exact resume point.</param>
    /// <returns>The offline-to-online metrics (also written to <c>result.json</c>).</returns>
    /// <exception cref="InvalidDataException">The dataset or artifact does not fit the task or the online learner.</exception>
    /// <exception cref="NotSupportedException">Checkpoints are on but the online learner does not implement
    /// <see cref="ICheckpointableOnlineLearner"/> or the task's environment does not implement <see cref="ICheckpointableEnvironment"/>.</exception>
    /// <exception cref="TrainingDivergedException">A stage diverged (NaN/Inf loss or exploding Q); <see cref="TrainingDivergedException.Stage"/>
    /// names the pipeline stage and the inner exception is the original one. The metrics so far are written; the last good checkpoint is kept.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the metrics so far (and, with checkpoints on, a checkpoint of the last
    /// completed online iteration) are written.</exception>
    public MarvelRunResult Run(OfflineDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return Execute(dataset, resume: false, progress, cancellationToken);
    }

    /// <summary>Resumes on a background thread; see <see cref="Resume"/>.</summary>
    /// <param name="dataset">The offline dataset the run was started with.</param>
    /// <param name="progress">Receives stage progress.</param>
    /// <param name="cancellationToken">Checked as in <see cref="Run"/>.</param>
    public Task<MarvelRunResult> ResumeAsync(OfflineDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return OnDedicatedThread(() => Resume(dataset, progress, cancellationToken), cancellationToken);
    }

    /// <summary>One dedicated thread for the whole run, because TorchSharp dispose scopes are per thread (see
    /// <see cref="ApplyThreadCountToThisThread"/> for the thread count).</summary>
    private static Task<MarvelRunResult> OnDedicatedThread(Func<MarvelRunResult> body, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(body, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// Sets <see cref="MarvelPipelineOptions.TorchThreads"/> (when &gt; 0) and applies the process's <c>torch.set_num_threads</c> to the calling thread now. libtorch applies it to a thread only lazily, at
    /// the first operation large enough to parallelize, and until then MKL's per-thread setting is its default (all cores): matrix
    /// products would switch from several threads to one at a point that depends on the work the thread did before, which differs
    /// between an uninterrupted and a resumed run (RunAsync's fresh thread, a test runner's worker thread). On the quickstart the
    /// resumed run's numbers differed in the last bits until this was added.
    /// </summary>
    private static void ApplyThreadCountToThisThread(int torchThreads)
    {
        int threads = torchThreads > 0 ? torchThreads : TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(threads);
    }

    /// <summary>
    /// Continues the interrupted run in <see cref="MarvelPipelineOptions.RunDirectory"/> from what it completed: the offline stage is
    /// skipped when <c>handover/</c> is on disk, alignment when <c>aligned/</c> is, and the online stage continues from the newest
    /// checkpoint (<c>checkpoints/latest</c>), with the metrics CSVs cut back to that checkpoint. On CPU the result, the CSVs and the final
    /// weights are bit-identical to those of a run that was never interrupted.
    /// </summary>
    /// <remarks>
    /// <para>Build the pipeline as the interrupted run was built: same options (except <see cref="MarvelPipelineOptions.OnlineIterations"/>,
    /// which may grow to extend a run, <see cref="MarvelPipelineOptions.CheckpointEvery"/>, <see cref="MarvelPipelineOptions.KeepCheckpoints"/>
    /// and <see cref="MarvelPipelineOptions.OfflineReportEvery"/>), same dataset, aligner and controller types, controller settings and
    /// online learner options. A stage that was interrupted before its output was saved is run again from its start, which gives the
    /// same output because every stage draws from its own seed stream.</para>
    /// <para>Use <see cref="RunDirectory.ReadStatus"/> first to tell an empty, resumable, completed or diverged directory apart.</para>
    /// </remarks>
    /// <param name="dataset">The offline dataset the run was started with (its fingerprint is checked).</param>
    /// <param name="progress">Receives stage progress.</param>
    /// <param name="cancellationToken">Checked as in <see cref="Run"/>.</param>
    /// <returns>The metrics of the whole run, as <see cref="Run"/> returns them.</returns>
    /// <exception cref="InvalidOperationException">The run directory holds no run (no <c>options.json</c>), the run already completed, or
    /// it was started with other options, dataset, aligner or controller; the message names the field that differs.</exception>
    /// <exception cref="InvalidDataException">The newest checkpoint is unreadable or does not fit the learner (e.g. other online learner
    /// options; the message names the option).</exception>
    /// <exception cref="TrainingDivergedException">As in <see cref="Run"/>.</exception>
    /// <exception cref="OperationCanceledException">As in <see cref="Run"/>.</exception>
    public MarvelRunResult Resume(OfflineDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return Execute(dataset, resume: true, progress, cancellationToken);
    }

    private MarvelRunResult Execute(OfflineDataset dataset, bool resume, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        using var execution = Begin(dataset, resume, progress, cancellationToken);
        try
        {
            execution.Prepare();
            execution.OnlineStage.Run(execution.Run);
            return execution.Finish();
        }
        catch (TrainingDivergedException e)
        {
            throw execution.Diverged(e);
        }
        catch (OperationCanceledException e)
        {
            execution.Cancelled(e);
            throw;
        }
    }

    /// <summary>One <see cref="Run"/> or <see cref="Resume"/> of this pipeline, in the phases a <see cref="MarvelSeedBatch"/> interleaves
    /// across its pipelines; <see cref="Execute"/> runs them in a row.</summary>
    internal Execution Begin(OfflineDataset dataset, bool resume, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) =>
        new(this, new PipelineRun(_options, dataset, resume, _logger, progress, cancellationToken));

    /// <summary>
    /// The phases of one run: <see cref="Prepare"/> (set-up, then the offline, handover and alignment stages, each loaded instead when a
    /// resume finds its output), the online stage (<see cref="OnlineStage"/>, driven by the caller), <see cref="Finish"/> (the returned
    /// policy and <c>result.json</c>); <see cref="Diverged"/> and <see cref="Cancelled"/> record how a run stopped, as <see cref="Run"/> does.
    /// </summary>
    internal sealed class Execution : IDisposable
    {
        private readonly MarvelPipeline _pipeline;
        private readonly EvaluationStage _evaluation;
        private readonly IPipelineStage[] _beforeOnline;

        internal Execution(MarvelPipeline pipeline, PipelineRun run)
        {
            _pipeline = pipeline;
            Run = run;
            _evaluation = new EvaluationStage(pipeline._environments);
            OnlineStage = new OnlineStage(pipeline._onlineFactory, pipeline._controller, _evaluation, pipeline.CheckpointFault, pipeline._environments);
            _beforeOnline =
            [
                new OfflineStage(pipeline._offlineFactory, pipeline._offlineArtifact),
                new HandoverStage(),
                new AlignmentStage(pipeline._aligner, pipeline._onlineFactory, pipeline._environments),
            ];
        }

        /// <summary>The run's shared state.</summary>
        public PipelineRun Run { get; }

        /// <summary>The online stage of this run (its controller is the pipeline's).</summary>
        public OnlineStage OnlineStage { get; }

        /// <summary>True once <see cref="Prepare"/> began: from then on the run folder belongs to this run.</summary>
        public bool Started { get; private set; }

        /// <summary>Set-up, then every stage before the online one (loaded when a resume finds its output).</summary>
        public void Prepare()
        {
            Started = true;
            _pipeline.SetUp(Run);
            foreach (var stage in _beforeOnline)
            {
                if (Run.Resuming && stage.IsComplete(Run)) stage.Load(Run);
                else stage.Run(Run);
            }
        }

        /// <summary>After the online stage: chooses and evaluates the returned policy, writes <c>result.json</c>.</summary>
        public MarvelRunResult Finish()
        {
            _evaluation.Run(Run);
            return _pipeline.Complete(Run);
        }

        /// <summary>Records a divergence (<c>status.json</c> "diverged", the log) and returns the exception <see cref="Run"/> throws for it.</summary>
        public TrainingDivergedException Diverged(TrainingDivergedException e)
        {
            var folder = Run.Folder;
            var last = folder.FindLatestCheckpoint();
            var where = last is null ? $"The metrics so far are in '{folder.Root}'." : $"The metrics so far are in '{folder.Root}'; the last good checkpoint is '{last}'.";
            folder.WriteStatus("diverged", Run.Stage, e.Message + " " + where);
            _pipeline._logger.Diverged(Run.Stage, e.Message + " " + where);
            return new TrainingDivergedException(Run.Stage, e, where);
        }

        /// <summary>Records a cancellation: the online resume point (when checkpoints are on), <c>status.json</c> "cancelled", the log.</summary>
        public void Cancelled(OperationCanceledException e)
        {
            OnlineStage.SaveResumePoint(Run);
            Run.Folder.WriteStatus("cancelled", Run.Stage, e.Message);
            _pipeline._logger.Cancelled(Run.Stage, DescribeResumePoint(Run.Folder));
        }

        public void Dispose() => Run.Dispose();
    }

    /// <summary>
    /// Prepares <paramref name="run"/> for the stages: threads, controller state, seeds, training environments, budget and context; checks
    /// the dataset; on a resume checks the folder and restores the online totals and metrics of the newest checkpoint (or none), otherwise
    /// clears the outputs of an earlier run; writes <c>options.json</c>, <c>runtime.json</c> and <c>status.json</c>.
    /// </summary>
    private void SetUp(PipelineRun run)
    {
        var o = _options;
        var folder = run.Folder;
        TorchNative.EnsureAvailable();
        ApplyThreadCountToThisThread(o.TorchThreads);   // MarvelPipelineOptions.TorchThreads, default 1
        _controller.SetState(_initialControllerState);
        run.Seeds = new SeedStreams(o.Seed);
        var environment = run.TrainEnvironment = _environments.MakeVector(o.TaskId, o.EnvironmentCount);
        if (run.OnlineCheckpoints && !environment.CanSaveState)
            throw new NotSupportedException($"Marvel pipeline: CheckpointEvery is {o.CheckpointEvery} but task '{o.TaskId}' cannot save its environment state " +
                "(implement ICheckpointableEnvironment on it, or set CheckpointEvery = 0).");
        run.Budget = new CostBudget(o.CostLimit, environment.Spec.MaxEpisodeSteps);
        run.Context = new LearnerContext(environment.ObservationSpace, environment.ActionSpace, run.Seeds, environment.Spec.MaxEpisodeSteps, o.TaskId)
        {
            Device = TorchSharp.torch.device(o.Device),
            Budget = run.Budget,
        };
        run.Dataset.EnsureMatches(run.Context.ObservationSpace.Dimension, run.Context.ActionSpace.Dimension, $"Marvel pipeline (task '{o.TaskId}')");
        var description = DescribeRun(run.Dataset);
        if (run.Resuming)
        {
            EnsureResumable(folder, description);
            run.Checkpoint = OnlineCheckpoint.FindLatest(folder);
            if (run.Checkpoint is not null) run.Session.Restore(run.Checkpoint);
            else folder.RestoreMetrics(new RunMetricsSnapshot([], [], []));
        }
        else
        {
            DeleteOutputsOfEarlierRun(folder);
            folder.WriteOnline();
            folder.WriteEvaluations();
        }
        folder.WriteJson(folder.OptionsPath, description);
        run.RuntimeDifferences = folder.RecordRuntime(run.Resuming);
        folder.WriteStatus("running", run.Stage, run.RuntimeDifferences.Count == 0 ? null : RuntimeWarning(run.RuntimeDifferences));
        _logger.RunStarted(run.Resuming ? "resumed" : "new", folder.Root, o.TaskId, o.CostLimit, o.Seed);
    }

    /// <summary>The run's result from the stages' outputs: written to <c>result.json</c>, then <c>status.json</c> says "completed" and the
    /// returned-policy candidates are removed.</summary>
    private MarvelRunResult Complete(PipelineRun run)
    {
        var folder = run.Folder;
        var session = run.Session;
        var evaluations = folder.Evaluations;
        var final = run.Final;
        double evaluationViolation = evaluations.Append(final).Distinct()
            .Sum(p => run.Budget.Violation(p.Result.Episodes.Select(e => e.Cost)));
        var result = new MarvelRunResult(folder.Root, run.Handover.Manifest.Algorithm, run.Online.Algorithm, evaluations[0], final, evaluations.ToArray(),
            session.Iterations, session.EnvironmentSteps, session.Episodes, session.CumulativeViolation,
            MarvelRunResult.Auc(evaluations, e => e.MeanReturn), MarvelRunResult.Auc(evaluations, e => e.NormalizedReward),
            run.Alignment.Steps, _controller.Lambda, session.ElapsedBefore + run.Clock.Elapsed)
        {
            LastIterateEvaluation = evaluations[^1],
            EvaluationViolation = evaluationViolation,
        };
        ResultFault?.Invoke();
        var summary = Summarize(result);
        if (run.RuntimeDifferences.Count > 0) summary["runtime_warning"] = RuntimeWarning(run.RuntimeDifferences);
        folder.WriteJson(folder.ResultPath, summary);
        folder.WriteStatus("completed", run.Stage);
        if (Directory.Exists(folder.CandidatesPath)) Directory.Delete(folder.CandidatesPath, recursive: true);
        _logger.StageCompleted(MarvelPipelineStages.Online, run.Clock.Elapsed.TotalSeconds);
        _logger.RunCompleted(result.FinalEvaluation.Result.MeanReturn, result.FinalEvaluation.Result.MeanCost, result.CumulativeViolation, result.Elapsed.TotalSeconds);
        return result;
    }

    /// <summary>
    /// What a resume of the run in <paramref name="run"/> will start from, in one sentence per stage: the newest online checkpoint, or the
    /// offline or alignment checkpoint, or the completed stages only. Used for the cancellation message of the log and the tool.
    /// </summary>
    internal static string DescribeResumePoint(RunDirectory run) => DescribeResumePoint(RunDirectory.ReadStatus(run.Root));

    /// <inheritdoc cref="DescribeResumePoint(RunDirectory)"/>
    public static string DescribeResumePoint(RunDirectoryStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (status.LatestCheckpointIteration is { } iteration)
            return $"A checkpoint of online iteration {iteration} is under checkpoints/; resuming continues from it.";
        if (status.AlignmentCheckpointStep is { } calls)
            return $"A checkpoint of the alignment after {calls} calls is under checkpoints/alignment/ (handover/ is complete); resuming continues the alignment from it.";
        if (status.OfflineCheckpointStep is { } steps)
            return $"A checkpoint of the offline stage after {steps} gradient steps is under checkpoints/offline/; resuming continues offline training from it.";
        var kept = status.AlignmentComplete ? "handover/ and aligned/ are complete" : status.HandoverComplete ? "handover/ is complete" : "no stage is complete";
        var stage = status.Stage ?? MarvelPipelineStages.Setup;
        return $"Stage '{stage}' has no checkpoint ({kept}); resuming keeps the completed stages and runs '{stage}' again from its start.";
    }

    /// <summary>Test hook: called after the returned policy is saved to <c>final/</c> and before <c>result.json</c> is written (a throw simulates a crash there).</summary>
    internal Action? ResultFault { get; set; }

    /// <summary>Test hook: called inside the temporary checkpoint folder before its state file is written (a throw simulates a crash mid-save).</summary>
    internal Action<string>? CheckpointFault { get; set; }


    /// <inheritdoc cref="OnlineStage.HandoverLambda"/>
    internal static double? HandoverLambda(MarvelPipelineOptions options, HandoverManifest manifest, CriticHandoverCheck? check = null) =>
        OnlineStage.HandoverLambda(options, manifest, check);

    /// <inheritdoc cref="EvaluationStage.CostUpperBound"/>
    internal static double CostUpperBound(EvaluationResult result, double standardErrors) => EvaluationStage.CostUpperBound(result, standardErrors);

    /// <inheritdoc cref="EvaluationStage.BestWithinLimit"/>
    internal static int BestWithinLimit(IReadOnlyList<EvaluationPoint> evaluations, double costLimit, double standardErrors) =>
        EvaluationStage.BestWithinLimit(evaluations, costLimit, standardErrors);

    /// <inheritdoc cref="EvaluationStage.Safest"/>
    internal static int Safest(IReadOnlyList<EvaluationPoint> evaluations, double standardErrors) => EvaluationStage.Safest(evaluations, standardErrors);

    /// <summary>Checks that the run directory holds a run that is not complete and was started with these options, dataset and setup.</summary>
    private static void EnsureResumable(RunDirectory run, Dictionary<string, object?> description)
    {
        var status = RunDirectory.ReadStatus(run.Root);
        if (status.State == RunState.Empty)
            throw new InvalidOperationException($"Marvel pipeline: nothing to resume in '{run.Root}': it has no options.json, so no run was started there. Start one with Run.");
        if (status.State == RunState.Completed)
            throw new InvalidOperationException($"Marvel pipeline: the run in '{run.Root}' already completed (result.json holds its numbers); there is nothing to resume.");
        using var saved = JsonDocument.Parse(File.ReadAllText(run.OptionsPath));
        using var current = JsonDocument.Parse(JsonSerializer.Serialize(description, RunDirectory.Json));
        if (!saved.RootElement.TryGetProperty("options", out var savedOptions))
            throw new InvalidOperationException($"Marvel pipeline: '{run.OptionsPath}' has no \"options\"; it was not written by MarvelPipeline.");
        var difference = JsonComparison.FirstDifference(savedOptions, current.RootElement.GetProperty("options"),
            nameof(MarvelPipelineOptions.OnlineIterations), nameof(MarvelPipelineOptions.CheckpointEvery), nameof(MarvelPipelineOptions.KeepCheckpoints),
            nameof(MarvelPipelineOptions.OfflineReportEvery), nameof(MarvelPipelineOptions.RunDirectory), nameof(MarvelPipelineOptions.OfflineCheckpointEvery),
            nameof(MarvelPipelineOptions.AlignmentCheckpointEvery));
        if (difference is not null)
            throw new InvalidOperationException($"Marvel pipeline: cannot resume '{run.Root}': it was started with other options: MarvelPipelineOptions.{difference}. " +
                "Build the pipeline with the options in its options.json.");
        string Fingerprint(JsonElement root) => root.TryGetProperty("dataset", out var d) && d.TryGetProperty("fingerprint", out var f) ? f.GetString() ?? "" : "";
        if (!string.Equals(Fingerprint(saved.RootElement), Fingerprint(current.RootElement), StringComparison.Ordinal))
            throw new InvalidOperationException($"Marvel pipeline: cannot resume '{run.Root}': the dataset differs (fingerprint {Fingerprint(current.RootElement)}, " +
                $"but the run was started on {Fingerprint(saved.RootElement)}). Pass the run's dataset.");
        difference = JsonComparison.FirstDifference(saved.RootElement, current.RootElement, "options", "library_version", "dataset");
        if (difference is not null)
            throw new InvalidOperationException($"Marvel pipeline: cannot resume '{run.Root}': it was started with another setup: {difference}. " +
                "Build the pipeline with the same offline source, aligner and controller (with the same settings).");
    }

    /// <summary>The warning written to <c>status.json</c> and <c>result.json</c> when a resumed run continued under another runtime.</summary>
    private static string RuntimeWarning(List<string> differences) =>
        $"resumed under another runtime ({string.Join("; ", differences)}): the numbers are correct but not bit-identical to an uninterrupted run " +
        "(runtime.json lists every process; pin the kernels with ATEN_CPU_CAPABILITY to compare across CPU kinds).";

    /// <summary>A fresh <see cref="Run"/> removes the outputs a resume would read, so an old run's stages and checkpoints are never mixed in.</summary>
    private static void DeleteOutputsOfEarlierRun(RunDirectory run)
    {
        foreach (var folder in new[] { run.CheckpointsPath, run.HandoverPath, run.AlignedPath, run.CandidatesPath, run.FinalPath })
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        foreach (var file in new[] { run.AlignmentInfoPath, run.ResultPath, run.RuntimePath })
            if (File.Exists(file)) File.Delete(file);
    }


    private Dictionary<string, object?> DescribeRun(OfflineDataset dataset) => new()
    {
        ["options"] = _options,
        ["library_version"] = typeof(MarvelPipeline).Assembly.GetName().Version?.ToString(),
        ["offline"] = _offlineFactory is not null ? "factory" : $"artifact from {_offlineArtifact!.Manifest.Algorithm}",
        ["aligner"] = _aligner.GetType().FullName,
        ["controller"] = _controller.GetType().FullName,
        ["controller_initial_state"] = _initialControllerState,
        ["dataset"] = new Dictionary<string, object?>
        {
            ["source"] = dataset.Source,
            ["transitions"] = dataset.Count,
            ["episodes"] = dataset.Episodes.Count,
            ["fingerprint"] = dataset.Fingerprint(),
        },
    };

    private static Dictionary<string, object?> Summarize(MarvelRunResult r) => new()
    {
        ["offline_algorithm"] = r.OfflineAlgorithm,
        ["online_algorithm"] = r.OnlineAlgorithm,
        ["offline_mean_return"] = r.OfflineEvaluation.Result.MeanReturn,
        ["offline_mean_cost"] = r.OfflineEvaluation.Result.MeanCost,
        ["offline_normalized_reward"] = r.OfflineEvaluation.Result.NormalizedReward,
        ["offline_normalized_cost"] = r.OfflineEvaluation.Result.NormalizedCost,
        ["final_mean_return"] = r.FinalEvaluation.Result.MeanReturn,
        ["final_mean_cost"] = r.FinalEvaluation.Result.MeanCost,
        ["final_normalized_reward"] = r.FinalEvaluation.Result.NormalizedReward,
        ["final_normalized_cost"] = r.FinalEvaluation.Result.NormalizedCost,
        ["final_iteration"] = r.FinalEvaluation.Iteration,                     // the online iteration of the returned policy
        ["last_iterate_mean_return"] = r.LastIterateEvaluation.Result.MeanReturn,
        ["last_iterate_mean_cost"] = r.LastIterateEvaluation.Result.MeanCost,
        ["last_iterate_normalized_reward"] = r.LastIterateEvaluation.Result.NormalizedReward,
        ["last_iterate_normalized_cost"] = r.LastIterateEvaluation.Result.NormalizedCost,
        ["evaluation_violation"] = r.EvaluationViolation,
        ["normalized_reward_gain"] = r.NormalizedRewardGain,
        ["cumulative_violation"] = r.CumulativeViolation,
        ["reward_auc"] = r.RewardAuc,
        ["normalized_reward_auc"] = r.NormalizedRewardAuc,
        ["online_iterations"] = r.OnlineIterations,
        ["online_environment_steps"] = r.OnlineEnvironmentSteps,
        ["online_episodes"] = r.OnlineEpisodes,
        ["alignment_gradient_steps"] = r.AlignmentSteps,   // gradient steps, not ValuePreAlignmentOptions.Steps (calls of MiniBatches steps each)
        ["final_lambda"] = r.FinalLambda,
        ["elapsed_seconds"] = r.Elapsed.TotalSeconds,
    };
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Telemetry;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Environments;
using Marvel.Core.Inference;
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
        var clock = Stopwatch.StartNew();
        var o = _options;
        var run = new RunDirectory(o.RunDirectory);
        string stage = MarvelPipelineStages.Setup;
        IOnlineSafeLearner? online = null;
        var session = new OnlineSession();
        bool checkpoints = o.CheckpointEvery > 0;
        VectorEnvironment? trainEnvironment = null;
        try
        {
            TorchNative.EnsureAvailable();
            ApplyThreadCountToThisThread(o.TorchThreads);   // MarvelPipelineOptions.TorchThreads, default 1
            _controller.SetState(_initialControllerState);
            var seeds = new SeedStreams(o.Seed);
            trainEnvironment = _environments.MakeVector(o.TaskId, o.EnvironmentCount);
            if (checkpoints && !trainEnvironment.CanSaveState)
                throw new NotSupportedException($"Marvel pipeline: CheckpointEvery is {o.CheckpointEvery} but task '{o.TaskId}' cannot save its environment state " +
                    "(implement ICheckpointableEnvironment on it, or set CheckpointEvery = 0).");
            var budget = new CostBudget(o.CostLimit, trainEnvironment.Spec.MaxEpisodeSteps);
            var context = new LearnerContext(trainEnvironment.ObservationSpace, trainEnvironment.ActionSpace, seeds, trainEnvironment.Spec.MaxEpisodeSteps, o.TaskId)
            {
                Device = TorchSharp.torch.device(o.Device),
                Budget = budget,
            };
            dataset.EnsureMatches(context.ObservationSpace.Dimension, context.ActionSpace.Dimension, $"Marvel pipeline (task '{o.TaskId}')");
            var description = DescribeRun(dataset);
            CheckpointState? checkpoint = null;
            if (resume)
            {
                checkpoint = PrepareResume(run, description);
                if (checkpoint is not null) session.Restore(checkpoint);
                else run.RestoreMetrics(new RunMetricsSnapshot([], [], []));
            }
            else
            {
                DeleteOutputsOfEarlierRun(run);
                run.WriteOnline();
                run.WriteEvaluations();
            }
            run.WriteJson(run.OptionsPath, description);
            var runtimeDifferences = run.RecordRuntime(resume);
            run.WriteStatus("running", stage, runtimeDifferences.Count == 0 ? null : RuntimeWarning(runtimeDifferences));
            _logger.RunStarted(resume ? "resumed" : "new", run.Root, o.TaskId, o.CostLimit, o.Seed);

            // 1. Offline training, or the loaded artifact; skipped on resume when handover/ is complete.
            HandoverArtifact artifact;
            if (resume && File.Exists(Path.Combine(run.HandoverPath, "manifest.json")))
            {
                stage = MarvelPipelineStages.Handover;
                artifact = HandoverArtifact.Load(run.HandoverPath);
                _logger.StageSkipped(MarvelPipelineStages.Offline, run.HandoverPath);
            }
            else
            {
                if (_offlineFactory is not null)
                {
                    stage = MarvelPipelineStages.Offline;
                    run.WriteStatus("running", stage);
                    _logger.StageStarted(stage);
                    var stageClock = Stopwatch.StartNew();
                    using var offline = _offlineFactory(context with { Seeds = seeds.Fork("offline") })
                        ?? throw new InvalidOperationException("Marvel pipeline: the offline learner factory returned null.");
                    offline.Attach(dataset);
                    TrainOffline(run, offline, resume, progress, cancellationToken);
                    _logger.StageCompleted(MarvelPipelineStages.Offline, stageClock.Elapsed.TotalSeconds);
                    stage = MarvelPipelineStages.Handover;
                    artifact = offline.ExportHandover();
                }
                else
                {
                    stage = MarvelPipelineStages.Handover;
                    artifact = _offlineArtifact!;
                }
                artifact.EnsureCompatible(context.ObservationSpace.Dimension, context.ActionSpace.Dimension, "Marvel pipeline");
                artifact.Save(run.HandoverPath);
                new StageCheckpointFolder(run.OfflineCheckpointsPath, MarvelPipelineStages.Offline).Delete();   // handover/ supersedes them
            }
            if (resume) artifact.EnsureCompatible(context.ObservationSpace.Dimension, context.ActionSpace.Dimension, "Marvel pipeline");
            var bounds = QBounds.From(dataset, artifact.Manifest, o.QDivergenceFactor);
            if (!budget.Agrees(artifact.Manifest.CostLimit))
                _logger.CostLimitMismatch(artifact.Manifest.Algorithm, artifact.Manifest.CostLimit, o.CostLimit);

            // 2. Value alignment on the offline dataset; skipped on resume when aligned/ and alignment.json are complete.
            stage = MarvelPipelineStages.Alignment;
            HandoverArtifact alignedArtifact;
            AlignmentInfo alignment;
            if (resume && File.Exists(Path.Combine(run.AlignedPath, "manifest.json")) && File.Exists(run.AlignmentInfoPath))
            {
                alignedArtifact = HandoverArtifact.Load(run.AlignedPath);
                alignment = ReadAlignmentInfo(run.AlignmentInfoPath);
                _logger.StageSkipped(MarvelPipelineStages.Alignment, run.AlignedPath);
            }
            else
            {
                run.WriteStatus("running", stage);
                _logger.StageStarted(stage);
                var stageClock = Stopwatch.StartNew();
                cancellationToken.ThrowIfCancellationRequested();
                var rollouts = CollectAlignmentRollouts(artifact, context, seeds, cancellationToken);
                ITransitionSampler data = rollouts is null ? dataset : new Data.MixedTransitionSampler(dataset, rollouts, o.AlignmentRolloutFraction);
                var aligned = Align(run, artifact, data, context with { Seeds = seeds.Fork("alignment") }, resume, progress, cancellationToken);
                aligned.Artifact.Save(run.AlignedPath);
                new StageCheckpointFolder(run.AlignmentCheckpointsPath, MarvelPipelineStages.Alignment).Delete();   // aligned/ supersedes them
                bounds.Check(aligned.FinalMetrics, "reward_target", "cost_target", MarvelPipelineStages.Alignment, aligned.Steps);
                alignment = new AlignmentInfo(aligned.Steps, rollouts?.Episodes.Count ?? 0, rollouts?.Count ?? 0,
                    rollouts is null ? 0 : budget.Violation(rollouts.Episodes.Select(e => e.Cost)));
                run.WriteJson(run.AlignmentInfoPath, new Dictionary<string, object?>
                {
                    ["steps"] = aligned.Steps,
                    ["final_metrics"] = aligned.FinalMetrics,
                    ["rollout_episodes"] = alignment.RolloutEpisodes,
                    ["rollout_environment_steps"] = alignment.RolloutSteps,
                    ["rollout_violation"] = alignment.RolloutViolation,
                    ["rollout_mean_cost"] = rollouts is null ? null : rollouts.Episodes.Average(e => e.Cost),
                    ["rollout_mean_return"] = rollouts is null ? null : rollouts.Episodes.Average(e => e.Return),
                });
                alignedArtifact = aligned.Artifact;
                _logger.StageCompleted(MarvelPipelineStages.Alignment, stageClock.Elapsed.TotalSeconds);
            }
            long alignmentSteps = alignment.Steps;
            // The alignment's rollout episodes are the first online interactions; a checkpoint's totals already include them.
            session.CountAlignmentRollouts(alignment, includeInTotals: checkpoint is null);

            // 3. Online finetuning with evaluation at 0, every EvalEvery iterations and after the last one; on resume from the checkpoint.
            stage = MarvelPipelineStages.Online;
            run.WriteStatus("running", stage);
            _logger.StageStarted(stage);
            online = _onlineFactory(context with { Seeds = seeds.Fork("online") }, alignedArtifact)
                ?? throw new InvalidOperationException("Marvel pipeline: the online learner factory returned null.");
            online.InitializeFrom(alignedArtifact, o.HandoverLoad);
            CriticHandoverCheck? handoverCheck = null;
            if (online is IOfflineDataConsumer mixing)
            {
                mixing.AttachOfflineData(dataset); // the learner's options decide the share (0: unused) and whether critics are checked
                handoverCheck = mixing.HandoverCheck;
                if (handoverCheck is not null && checkpoint is null) run.WriteJson(run.HandoverCheckPath, handoverCheck);
            }
            var resumable = online as ICheckpointableOnlineLearner;
            if (checkpoints && resumable is null)
                throw new NotSupportedException($"Marvel pipeline: CheckpointEvery is {o.CheckpointEvery} but the online learner '{online.Algorithm}' ({online.GetType().Name}) " +
                    "does not implement ICheckpointableOnlineLearner. Set CheckpointEvery = 0 or use a learner that can checkpoint (SacLagLearner).");
            if (checkpoint is not null)
            {
                if (resumable is null)
                    throw new InvalidOperationException($"Marvel pipeline: '{checkpoint.Path}' cannot be loaded: the online learner '{online.Algorithm}' does not implement ICheckpointableOnlineLearner.");
                if (checkpoint.Iteration > o.OnlineIterations)
                    throw new InvalidOperationException($"Marvel pipeline: the newest checkpoint is at iteration {checkpoint.Iteration} but OnlineIterations is {o.OnlineIterations}; " +
                        "OnlineIterations may grow on resume, not shrink.");
                resumable.LoadCheckpoint(Path.Combine(checkpoint.Path, "learner"));
                using (var f = File.OpenRead(Path.Combine(checkpoint.Path, "environment.bin")))
                using (var reader = new BinaryReader(f))
                    trainEnvironment.LoadState(reader);
                _controller.SetState(ReadJson<LagrangeControllerState>(Path.Combine(checkpoint.Path, "controller.json")));
                run.RestoreMetrics(checkpoint.Metrics);
                _logger.OnlineResumed(checkpoint.Iteration);
            }
            run.PruneCandidates(run.Evaluations.Count);
            // A fresh online stage (no checkpoint) always restarts from the same state. The offline multiplier balanced the offline critics:
            // when the handover check replaced one of them, it no longer fits, and the controller starts from its own λ.
            if (checkpoint is null && HandoverLambda(o, alignedArtifact.Manifest, handoverCheck) is double handoverLambda && _controller is ILagrangeWarmStart warm)
                warm.WarmStart(handoverLambda);
            ulong evalSeed = seeds.Derive("eval");
            if (run.Evaluations.Count == 0)
                Evaluate(run, online, evalSeed, 0, session, progress, cancellationToken);
            else if (IsEvaluationIteration(session.Iterations) && run.Evaluations[^1].Iteration != session.Iterations)
                Evaluate(run, online, evalSeed, session.Iterations, session, progress, cancellationToken); // cancelled during this evaluation
            // With checkpoints on, the learner is never interrupted inside an iteration, so every cancellation leaves an exact resume point.
            var iterationToken = checkpoints ? CancellationToken.None : cancellationToken;
            while (session.Iterations < o.OnlineIterations)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var r = online.RunIteration(trainEnvironment, _controller, iterationToken);
                var row = session.Add(r, budget);
                run.AppendOnline(row);
                bounds.Check(r.Metrics, "reward_q", "cost_q", MarvelPipelineStages.Online, session.Iterations);
                progress?.Report(new TrainingProgress(MarvelPipelineStages.Online, session.Iterations, o.OnlineIterations, row));
                if (IsEvaluationIteration(session.Iterations))
                    Evaluate(run, online, evalSeed, session.Iterations, session, progress, cancellationToken);
                if (checkpoints && session.Iterations % o.CheckpointEvery == 0)
                    WriteCheckpoint(run, resumable!, trainEnvironment, session, clock.Elapsed, progress);
            }

            var evaluations = run.Evaluations;
            var final = ReturnPolicy(run, online, evalSeed, session, cancellationToken);
            double evaluationViolation = evaluations.Append(final).Distinct()
                .Sum(p => budget.Violation(p.Result.Episodes.Select(e => e.Cost)));
            var result = new MarvelRunResult(run.Root, artifact.Manifest.Algorithm, online.Algorithm, evaluations[0], final, evaluations.ToArray(),
                session.Iterations, session.EnvironmentSteps, session.Episodes, session.CumulativeViolation,
                MarvelRunResult.Auc(evaluations, e => e.MeanReturn), MarvelRunResult.Auc(evaluations, e => e.NormalizedReward),
                alignmentSteps, _controller.Lambda, session.ElapsedBefore + clock.Elapsed)
            {
                LastIterateEvaluation = evaluations[^1],
                EvaluationViolation = evaluationViolation,
            };
            ResultFault?.Invoke();
            var summary = Summarize(result);
            if (runtimeDifferences.Count > 0) summary["runtime_warning"] = RuntimeWarning(runtimeDifferences);
            run.WriteJson(run.ResultPath, summary);
            run.WriteStatus("completed", stage);
            if (Directory.Exists(run.CandidatesPath)) Directory.Delete(run.CandidatesPath, recursive: true);
            _logger.StageCompleted(MarvelPipelineStages.Online, clock.Elapsed.TotalSeconds);
            _logger.RunCompleted(result.FinalEvaluation.Result.MeanReturn, result.FinalEvaluation.Result.MeanCost, result.CumulativeViolation, result.Elapsed.TotalSeconds);
            return result;
        }
        catch (TrainingDivergedException e)
        {
            var last = run.FindLatestCheckpoint();
            var where = last is null ? $"The metrics so far are in '{run.Root}'." : $"The metrics so far are in '{run.Root}'; the last good checkpoint is '{last}'.";
            run.WriteStatus("diverged", stage, e.Message + " " + where);
            _logger.Diverged(stage, e.Message + " " + where);
            throw new TrainingDivergedException(stage, e, where);
        }
        catch (OperationCanceledException e)
        {
            // At this point the learner, environment and controller are at the end of iteration session.Iterations (see iterationToken).
            if (online is ICheckpointableOnlineLearner learner && trainEnvironment is not null && checkpoints && session.Iterations > 0
                && session.CheckpointedIteration != session.Iterations)
                WriteCheckpoint(run, learner, trainEnvironment, session, clock.Elapsed, progress);
            run.WriteStatus("cancelled", stage, e.Message);
            _logger.Cancelled(stage, DescribeResumePoint(run));
            throw;
        }
        finally
        {
            online?.Dispose();
            trainEnvironment?.Dispose();
        }
    }

    /// <summary>
    /// Offline training from step 0, or on resume from the newest offline checkpoint: <see cref="MarvelPipelineOptions.OfflineSteps"/>
    /// <see cref="IOfflineSafeLearner.TrainStep"/> calls with progress every <see cref="MarvelPipelineOptions.OfflineReportEvery"/>, a
    /// checkpoint every <see cref="MarvelPipelineOptions.OfflineCheckpointEvery"/> steps and one on cancellation (checked between steps, so
    /// every checkpoint is an exact resume point).
    /// </summary>
    private void TrainOffline(RunDirectory run, IOfflineSafeLearner learner, bool resume, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var o = _options;
        var checkpointable = learner as ICheckpointableOfflineLearner;
        if (o.OfflineCheckpointEvery > 0 && checkpointable is null)
            throw new NotSupportedException($"Marvel pipeline: OfflineCheckpointEvery is {o.OfflineCheckpointEvery} but the offline learner '{learner.Algorithm}' " +
                $"({learner.GetType().Name}) does not implement ICheckpointableOfflineLearner. Set OfflineCheckpointEvery = 0 or implement it.");
        var store = new StageCheckpointFolder(run.OfflineCheckpointsPath, MarvelPipelineStages.Offline);
        long step = 0;
        if (resume && checkpointable is not null && store.Latest is { } latest && latest.Completed <= o.OfflineSteps)
        {
            checkpointable.LoadCheckpoint(Path.Combine(latest.Path, StageCheckpointFolder.StateFolder));
            step = latest.Completed;
            _logger.OfflineResumed(learner.Algorithm, step);
        }
        long saved = step;
        void Save()
        {
            store.Save(step, checkpointable!.SaveCheckpoint);
            saved = step;
            _logger.CheckpointWritten(MarvelPipelineStages.Offline, step, run.OfflineCheckpointsPath);
        }
        try
        {
            while (step < o.OfflineSteps)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var last = learner.TrainStep();
                step++;
                if (progress is not null && (step % o.OfflineReportEvery == 0 || step == o.OfflineSteps))
                    progress.Report(new TrainingProgress(MarvelPipelineStages.Offline, step, o.OfflineSteps, last));
                if (o.OfflineCheckpointEvery > 0 && step % o.OfflineCheckpointEvery == 0 && step < o.OfflineSteps) Save();
            }
        }
        catch (OperationCanceledException) when (o.OfflineCheckpointEvery > 0 && step > 0 && saved != step)
        {
            Save();
            throw;
        }
    }

    /// <summary>The alignment, with checkpoints in <c>checkpoints/alignment/</c> when the aligner can save them and
    /// <see cref="MarvelPipelineOptions.AlignmentCheckpointEvery"/> &gt; 0; on resume from the newest one.</summary>
    private ValueAlignmentResult Align(RunDirectory run, HandoverArtifact artifact, ITransitionSampler data, LearnerContext context, bool resume,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var store = new StageCheckpointFolder(run.AlignmentCheckpointsPath, MarvelPipelineStages.Alignment);
        var latest = resume ? store.Latest : null;
        if (_aligner is not ICheckpointableValueAligner checkpointable || (_options.AlignmentCheckpointEvery == 0 && latest is null))
            return _aligner.Align(artifact, data, context, progress, cancellationToken);
        if (latest is { } l) _logger.AlignmentResumed(l.Completed);
        // AlignmentCheckpointEvery = 0 with a checkpoint on disk: resume from it, save no more.
        var checkpoints = _options.AlignmentCheckpointEvery > 0
            ? new StageCheckpoints(_options.AlignmentCheckpointEvery, latest is { } a ? Path.Combine(a.Path, StageCheckpointFolder.StateFolder) : null, (calls, write) =>
            {
                store.Save(calls, write);
                _logger.CheckpointWritten(MarvelPipelineStages.Alignment, calls, run.AlignmentCheckpointsPath);
            })
            : new StageCheckpoints(0, Path.Combine(latest!.Value.Path, StageCheckpointFolder.StateFolder), (_, _) => { });
        return checkpointable.Align(artifact, data, context, checkpoints, progress, cancellationToken);
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

    private bool IsEvaluationIteration(long iteration) => iteration % _options.EvalEvery == 0 || iteration == _options.OnlineIterations;

    private void Evaluate(RunDirectory run, IOnlineSafeLearner learner, ulong evalSeed, long iteration, OnlineSession totals,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        int index = run.Evaluations.Count;
        var result = EvaluatePolicy(learner.Policy, evalSeed, index, cancellationToken);
        run.AppendEvaluation(new EvaluationPoint(index, iteration, totals.EnvironmentSteps, result));
        _logger.Evaluated(index, iteration, result.MeanReturn, result.MeanCost, _options.CostLimit);
        if (index == 0 && double.IsNaN(result.NormalizedReward)) _logger.NoScoreReference(_options.TaskId);
        if (_options.ReturnedPolicy == ReturnedPolicy.BestWithinLimit
            && (BestWithinLimit(run.Evaluations, _options.CostLimit, _options.ReturnedPolicyStandardErrors) == index
                || Safest(run.Evaluations, _options.ReturnedPolicyStandardErrors) == index))
            learner.ExportHandover().Save(run.CandidatePath(index));
        var scalars = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["iteration"] = iteration,
            ["mean_return"] = result.MeanReturn,
            ["mean_cost"] = result.MeanCost,
            ["normalized_reward"] = result.NormalizedReward,
            ["normalized_cost"] = result.NormalizedCost,
        };
        MarvelTelemetry.Publish(MarvelPipelineStages.Evaluation, scalars);
        progress?.Report(new TrainingProgress(MarvelPipelineStages.Evaluation, index, 0, scalars));
    }

    /// <summary>Evaluation number <paramref name="index"/> of <paramref name="policy"/> (its episodes' seeds follow from the index).</summary>
    private EvaluationResult EvaluatePolicy(IPolicy policy, ulong evalSeed, int index, CancellationToken cancellationToken)
    {
        // Fresh instances for every evaluation: an evaluation is a function of the policy, the seed and its index only, so a resumed run
        // evaluates exactly as an uninterrupted one (also for tasks whose wrappers keep running statistics).
        var environments = Enumerable.Range(0, Math.Min(_options.EnvironmentCount, _options.EvalEpisodes)).Select(_ => _environments.Make(_options.TaskId)).ToArray();
        try
        {
            return SeededEvaluator.Evaluate(policy, environments, _options.EvalEpisodes, _options.CostLimit, evalSeed, index, cancellationToken);
        }
        finally
        {
            foreach (var e in environments) e.Dispose();
        }
    }

    /// <summary>
    /// An upper confidence bound of an evaluated policy's expected episode cost: the mean episode cost plus
    /// <paramref name="standardErrors"/> standard errors (sample standard deviation over the evaluation's episodes / √n; the mean
    /// alone for one episode).
    /// </summary>
    internal static double CostUpperBound(EvaluationResult result, double standardErrors)
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
    internal static int BestWithinLimit(IReadOnlyList<EvaluationPoint> evaluations, double costLimit, double standardErrors)
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
    internal static int Safest(IReadOnlyList<EvaluationPoint> evaluations, double standardErrors)
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

    /// <summary>
    /// Chooses the policy the run returns (<see cref="MarvelPipelineOptions.ReturnedPolicy"/>), writes its artifact to <c>final/</c> and
    /// returns its evaluation: the last periodic one for <see cref="ReturnedPolicy.LastIterate"/>, otherwise a fresh one (index one past the
    /// periodic evaluations, so its episodes are none the choice was made on) of the chosen candidate: the best within the limit, or the
    /// one with the lowest cost bound when none is.
    /// </summary>
    private EvaluationPoint ReturnPolicy(RunDirectory run, IOnlineSafeLearner online, ulong evalSeed, OnlineSession session, CancellationToken cancellationToken)
    {
        var evaluations = run.Evaluations;
        if (_options.ReturnedPolicy == ReturnedPolicy.LastIterate)
        {
            online.ExportHandover().Save(run.FinalPath);
            return evaluations[^1];
        }
        int best = BestWithinLimit(evaluations, _options.CostLimit, _options.ReturnedPolicyStandardErrors);
        if (best < 0) best = Safest(evaluations, _options.ReturnedPolicyStandardErrors);
        HandoverArtifact chosen;
        long iteration;
        {
            var path = run.CandidatePath(evaluations[best].Index);
            if (!File.Exists(Path.Combine(path, "manifest.json")))
                throw new InvalidDataException($"Marvel pipeline: evaluation {evaluations[best].Index} (iteration {evaluations[best].Iteration}) is the policy to return, " +
                    $"but its policy is not in '{path}'. The run folder was changed by hand or written by another version; run it again from the start.");
            chosen = HandoverArtifact.Load(path);
            iteration = evaluations[best].Iteration;
        }
        EvaluationResult result;
        using (var policy = InferencePolicy.FromArtifact(chosen))
            result = EvaluatePolicy(policy, evalSeed, evaluations.Count, cancellationToken);
        chosen.Save(run.FinalPath);   // the candidates are removed once result.json is written, so a crash before that can resume
        return new EvaluationPoint(evaluations.Count, iteration, session.EnvironmentSteps, result);
    }

    /// <summary>
    /// Writes <c>checkpoints/iteration-N/</c> atomically (temporary folder, renamed when complete), then points <c>checkpoints/latest</c> at
    /// it: <c>learner/</c> (the learner's complete state), <c>handover/</c> (its export, loadable with <see cref="HandoverArtifact.Load"/>),
    /// <c>environment.bin</c> (the training environments), <c>controller.json</c> and, last, <c>state.json</c> (counters and the exact
    /// metrics rows).
    /// </summary>
    private void WriteCheckpoint(RunDirectory run, ICheckpointableOnlineLearner learner, VectorEnvironment environment, OnlineSession session, TimeSpan elapsed,
        IProgress<TrainingProgress>? progress)
    {
        var clock = Stopwatch.StartNew();
        long iteration = session.Iterations;
        var path = run.CheckpointPath(iteration);
        var export = learner.ExportHandover();
        var state = new CheckpointFile(CheckpointFormat, iteration, session.EnvironmentSteps, session.Episodes, session.CumulativeViolation,
            (session.ElapsedBefore + elapsed).TotalSeconds, learner.Algorithm, run.SnapshotMetrics());
        AtomicFile.WriteDirectory(path, temp =>
        {
            learner.SaveCheckpoint(Path.Combine(temp, "learner"));
            export.Save(Path.Combine(temp, "handover"));
            using (var f = new FileStream(Path.Combine(temp, "environment.bin"), FileMode.CreateNew))
            using (var w = new BinaryWriter(f))
                environment.SaveState(w);
            File.WriteAllText(Path.Combine(temp, "controller.json"), JsonSerializer.Serialize(_controller.GetState(), RunDirectory.Json));
            CheckpointFault?.Invoke(temp);
            File.WriteAllText(Path.Combine(temp, RunDirectory.CheckpointStateName), JsonSerializer.Serialize(state, RunDirectory.Json));
        });
        AtomicFile.WriteAllText(run.LatestCheckpointPointerPath, Path.GetFileName(path));
        session.CheckpointedIteration = iteration;
        _logger.CheckpointWritten(MarvelPipelineStages.Online, iteration, path);
        if (_options.KeepCheckpoints > 0)
        {
            // Only once the new checkpoint is complete and named in "latest"; names sort by iteration (zero-padded).
            var older = Directory.EnumerateDirectories(run.CheckpointsPath, "iteration-*").Select(Path.GetFileName).OfType<string>()
                .Where(name => string.CompareOrdinal(name, Path.GetFileName(path)) < 0).Order(StringComparer.Ordinal).ToArray();
            foreach (var name in older.Take(Math.Max(0, older.Length - (_options.KeepCheckpoints - 1))))
                try { Directory.Delete(Path.Combine(run.CheckpointsPath, name), recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        if (progress is not null)
        {
            long bytes = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            progress.Report(new TrainingProgress(MarvelPipelineStages.Checkpoint, iteration, _options.OnlineIterations, new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["iteration"] = iteration,
                ["seconds"] = clock.Elapsed.TotalSeconds,
                ["megabytes"] = bytes / 1e6,
            }));
        }
    }

    /// <summary>Checks that the run directory holds a run started with these options and setup; returns its newest checkpoint or null.</summary>
    private static CheckpointState? PrepareResume(RunDirectory run, Dictionary<string, object?> description)
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

        // Leftovers of interrupted checkpoint saves (AtomicFile's temporary folders) are never read; remove them.
        if (Directory.Exists(run.CheckpointsPath))
            foreach (var leftover in Directory.EnumerateDirectories(run.CheckpointsPath, ".iteration-*"))
                try { Directory.Delete(leftover, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }

        var path = run.FindLatestCheckpoint();
        if (path is null) return null;
        var file = ReadJson<CheckpointFile>(Path.Combine(path, RunDirectory.CheckpointStateName));
        if (file.Format != CheckpointFormat)
            throw new InvalidDataException($"Checkpoint '{path}' has format {file.Format}; this library reads format {CheckpointFormat}.");
        return new CheckpointState(path, file.Iteration, file.EnvironmentSteps, file.Episodes, file.CumulativeViolation,
            TimeSpan.FromSeconds(file.ElapsedSeconds), file.Metrics);
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

    /// <summary>The alignment stage's result as <c>alignment.json</c> records it (rollout fields absent in runs of earlier versions: 0).</summary>
    private sealed record AlignmentInfo(long Steps, long RolloutEpisodes, long RolloutSteps, double RolloutViolation);

    private static AlignmentInfo ReadAlignmentInfo(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        long Long(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        double violation = root.TryGetProperty("rollout_violation", out var x) && x.ValueKind == JsonValueKind.Number ? x.GetDouble() : 0;
        return new AlignmentInfo(root.GetProperty("steps").GetInt64(), Long("rollout_episodes"), Long("rollout_environment_steps"), violation);
    }

    /// <summary>
    /// <see cref="MarvelPipelineOptions.AlignmentRolloutEpisodes"/> episodes of the artifact's actor, sampled (as online collection acts), on
    /// environments of their own so the training environments' state is untouched; null when none are asked for or the aligner is
    /// <see cref="Alignment.NoAlignment"/>. The actor is run through a learner of the online factory that takes the artifact over.
    /// </summary>
    private OfflineDataset? CollectAlignmentRollouts(HandoverArtifact artifact, LearnerContext context, SeedStreams seeds, CancellationToken cancellationToken)
    {
        int episodes = _options.AlignmentRolloutEpisodes;
        if (episodes == 0 || _aligner is Alignment.NoAlignment) return null;
        var rolloutSeeds = seeds.Fork("alignment-rollouts");
        using var learner = _onlineFactory(context with { Seeds = rolloutSeeds }, artifact)
            ?? throw new InvalidOperationException("Marvel pipeline: the online learner factory returned null.");
        learner.InitializeFrom(artifact, _options.HandoverLoad);
        using var environment = _environments.MakeVector(_options.TaskId, Math.Min(_options.EnvironmentCount, episodes));
        return Data.DatasetCollector.Collect(environment, [new Data.CollectionStage(learner.Policy, episodes)], rolloutSeeds.Derive("episodes"),
            cancellationToken: cancellationToken);
    }

    /// <summary>
    /// The multiplier the online stage starts from under <see cref="MarvelPipelineOptions.LambdaAtHandover"/>, or null to keep the
    /// controller's own: the offline learner's λ when its state is a PID multiplier on the same actor loss (kind "OsrlBatchPid"), at most
    /// <see cref="MarvelPipelineOptions.MaxHandoverLambda"/>; null as well when the online learner's handover check re-initialized a critic.
    /// </summary>
    internal static double? HandoverLambda(MarvelPipelineOptions options, HandoverManifest manifest, CriticHandoverCheck? check = null)
    {
        if (options.LambdaAtHandover != LambdaAtHandover.OfflineMultiplier) return null;
        if (check is { AnyReset: true }) return null; // the offline λ balanced critics that the online learner replaced
        var state = manifest.Lagrange;
        if (state is null || !string.Equals(state.Kind, BatchPidLagrangian.Kind, StringComparison.Ordinal)) return null;
        if (!(state.Scalars.TryGetValue("lambda", out double lambda) && double.IsFinite(lambda) && lambda >= 0)) return null;
        return Math.Min(lambda, options.MaxHandoverLambda);
    }

    private static T ReadJson<T>(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"'{path}' is missing; the checkpoint is incomplete.");
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), RunDirectory.Json) ?? throw new InvalidDataException($"'{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON of a checkpoint: {e.Message}", e);
        }
    }

    private const int CheckpointFormat = 1;

    /// <summary>The pipeline's part of a checkpoint (<c>state.json</c>).</summary>
    private sealed record CheckpointFile(
        [property: JsonPropertyName("format")] int Format,
        [property: JsonPropertyName("iteration")] long Iteration,
        [property: JsonPropertyName("environment_steps")] long EnvironmentSteps,
        [property: JsonPropertyName("episodes")] long Episodes,
        [property: JsonPropertyName("cumulative_violation")] double CumulativeViolation,
        [property: JsonPropertyName("elapsed_seconds")] double ElapsedSeconds,
        [property: JsonPropertyName("online_algorithm")] string OnlineAlgorithm,
        [property: JsonPropertyName("metrics")] RunMetricsSnapshot Metrics);

    /// <summary>A checkpoint found for a resume.</summary>
    private sealed record CheckpointState(string Path, long Iteration, long EnvironmentSteps, long Episodes, double CumulativeViolation, TimeSpan Elapsed,
        RunMetricsSnapshot Metrics);

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

    /// <summary>Iterations and running totals of the online stage, and the construction of an <c>online.csv</c> row.</summary>
    private sealed class OnlineSession
    {
        public long Iterations { get; private set; }
        public long EnvironmentSteps { get; private set; }
        public long Episodes { get; private set; }
        public double CumulativeViolation { get; private set; }
        public TimeSpan ElapsedBefore { get; private set; }
        public long CheckpointedIteration { get; set; } = -1;

        public void Restore(CheckpointState c)
        {
            Iterations = c.Iteration;
            EnvironmentSteps = c.EnvironmentSteps;
            Episodes = c.Episodes;
            CumulativeViolation = c.CumulativeViolation;
            ElapsedBefore = c.Elapsed;
            CheckpointedIteration = c.Iteration;
        }

        /// <summary>Environment steps taken before the online learner's first (the alignment's rollouts); the learner counts only its own.</summary>
        private long _stepsBefore;

        public void CountAlignmentRollouts(AlignmentInfo alignment, bool includeInTotals)
        {
            _stepsBefore = alignment.RolloutSteps;
            if (!includeInTotals) return;
            EnvironmentSteps += alignment.RolloutSteps;
            Episodes += alignment.RolloutEpisodes;
            CumulativeViolation += alignment.RolloutViolation;
        }

        public Dictionary<string, double> Add(OnlineIterationResult r, CostBudget budget)
        {
            Iterations++;
            EnvironmentSteps = _stepsBefore + r.EnvironmentSteps;
            Episodes += r.Episodes.Count;
            foreach (var e in r.Episodes) CumulativeViolation += budget.Violation(e.Cost);
            var row = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["iteration"] = Iterations,
                ["environment_steps"] = EnvironmentSteps,
                ["episodes"] = r.Episodes.Count,
                ["mean_episode_return"] = r.Episodes.Count > 0 ? r.Episodes.Average(e => e.Return) : double.NaN,
                ["mean_episode_cost"] = r.Episodes.Count > 0 ? r.Episodes.Average(e => e.Cost) : double.NaN,
                ["lambda"] = r.Lambda,
                ["cumulative_violation"] = CumulativeViolation,
            };
            foreach (var (name, value) in r.Metrics) row.TryAdd(name, value);
            return row;
        }
    }

    /// <summary>The exploding-Q guard: |mean Q| above max|r|·scale/(1 − γ)·factor counts as divergence.</summary>
    private sealed record QBounds(double Reward, double Cost)
    {
        public static QBounds From(OfflineDataset dataset, HandoverManifest manifest, double factor)
        {
            double maxReward = 0, maxCost = 0;
            foreach (var r in dataset.Rewards) maxReward = Math.Max(maxReward, Math.Abs(r));
            foreach (var c in dataset.Costs) maxCost = Math.Max(maxCost, Math.Abs(c));
            double horizon = 1.0 / (1.0 - manifest.Gamma);
            // A task with no reward (or no cost) at all in the data gives no bound for that value.
            double Bound(double max, double scale) => max > 0 && Math.Abs(scale) > 0 ? max * Math.Abs(scale) * horizon * factor : double.PositiveInfinity;
            return new QBounds(Bound(maxReward, manifest.RewardScale), Bound(maxCost, manifest.CostScale));
        }

        public void Check(IReadOnlyDictionary<string, double> metrics, string rewardKey, string costKey, string stage, long step)
        {
            if (metrics.TryGetValue(rewardKey, out var q) && !(Math.Abs(q) <= Reward))
                throw new TrainingDivergedException(stage + " (exploding Q)", rewardKey, step, q, Finite(metrics, Reward));
            if (metrics.TryGetValue(costKey, out var qc) && !(Math.Abs(qc) <= Cost))
                throw new TrainingDivergedException(stage + " (exploding Q)", costKey, step, qc, Finite(metrics, Cost));
        }

        private static Dictionary<string, double> Finite(IReadOnlyDictionary<string, double> metrics, double bound)
        {
            var d = metrics.Where(kv => double.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            d["bound"] = bound;
            return d;
        }
    }
}

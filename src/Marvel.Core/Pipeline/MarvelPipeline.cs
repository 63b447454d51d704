using System.Diagnostics;
using System.Globalization;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Telemetry;
using Marvel.Core.Environments;

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
/// is rethrown wrapped, with <see cref="TrainingDivergedException.Stage"/> the pipeline stage. Cancellation is checked between
/// steps and iterations; the metrics so far (and a checkpoint when checkpoints are on) are written before
/// <see cref="OperationCanceledException"/> propagates.</para>
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
        if (Math.Abs(controller.CostLimit - _options.CostLimit) > 1e-9 * Math.Max(1, Math.Abs(_options.CostLimit)))
            throw new ArgumentException($"Marvel pipeline: the Lagrange controller's CostLimit is {controller.CostLimit.ToString(CultureInfo.InvariantCulture)} but " +
                $"MarvelPipelineOptions.CostLimit is {_options.CostLimit.ToString(CultureInfo.InvariantCulture)}. Build the controller with the same CostLimit.", nameof(controller));
        _offlineFactory = offlineFactory;
        _offlineArtifact = artifact;
        _aligner = aligner;
        _controller = controller;
        _initialControllerState = controller.GetState();
        _onlineFactory = onlineFactory;
    }

    /// <summary>The settings in use (a copy).</summary>
    public MarvelPipelineOptions Options => _options with { };

    /// <summary>Runs the pipeline on a background thread; see <see cref="Run"/>.</summary>
    /// <param name="dataset">The offline dataset (training data of the offline stage and data of the alignment).</param>
    /// <param name="progress">Receives stage progress ("offline", "alignment", "online", "evaluation").</param>
    /// <param name="cancellationToken">Checked between steps, episodes and iterations.</param>
    public Task<MarvelRunResult> RunAsync(OfflineDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        // One dedicated thread for the whole run: TorchSharp dispose scopes are per thread.
        return Task.Factory.StartNew(() => Run(dataset, progress, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// Runs offline training (or takes the loaded artifact) → saves the handover artifact → aligns it on <paramref name="dataset"/> →
    /// finetunes online with periodic evaluation, writing the run directory as it goes.
    /// </summary>
    /// <param name="dataset">The offline dataset; its sizes must match the task.</param>
    /// <param name="progress">Receives stage progress ("offline", "alignment", "online", "evaluation").</param>
    /// <param name="cancellationToken">Checked between steps, episodes and iterations.</param>
    /// <returns>The offline-to-online metrics (also written to <c>result.json</c>).</returns>
    /// <exception cref="InvalidDataException">The dataset or artifact does not fit the task or the online learner.</exception>
    /// <exception cref="TrainingDivergedException">A stage diverged (NaN/Inf loss or exploding Q); <see cref="TrainingDivergedException.Stage"/>
    /// names the pipeline stage and the inner exception is the original one. The metrics so far are written.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the metrics so far are written.</exception>
    public MarvelRunResult Run(OfflineDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var clock = Stopwatch.StartNew();
        var o = _options;
        var run = new RunDirectory(o.RunDirectory);
        string stage = MarvelPipelineStages.Setup;
        IOnlineSafeLearner? online = null;
        long iterationsDone = 0;
        var onlineState = new OnlineTotals();
        try
        {
            TorchNative.EnsureAvailable();
            _controller.SetState(_initialControllerState);
            var seeds = new SeedStreams(o.Seed);
            using var trainEnvironment = _environments.MakeVector(o.TaskId, o.EnvironmentCount);
            var evalEnvironments = Enumerable.Range(0, Math.Min(o.EnvironmentCount, o.EvalEpisodes)).Select(_ => _environments.Make(o.TaskId)).ToArray();
            try
            {
                var context = new LearnerContext(trainEnvironment.ObservationSpace, trainEnvironment.ActionSpace, seeds, trainEnvironment.Spec.MaxEpisodeSteps, o.TaskId)
                {
                    Device = TorchSharp.torch.device(o.Device),
                };
                dataset.EnsureMatches(context.ObservationSpace.Dimension, context.ActionSpace.Dimension, $"Marvel pipeline (task '{o.TaskId}')");
                run.WriteJson(run.OptionsPath, DescribeRun(dataset));
                run.WriteOnline();
                run.WriteEvaluations();
                run.WriteStatus("running", stage);

                // 1. Offline training, or the loaded artifact.
                HandoverArtifact artifact;
                if (_offlineFactory is not null)
                {
                    stage = MarvelPipelineStages.Offline;
                    run.WriteStatus("running", stage);
                    using var offline = _offlineFactory(context with { Seeds = seeds.Fork("offline") })
                        ?? throw new InvalidOperationException("Marvel pipeline: the offline learner factory returned null.");
                    offline.Attach(dataset);
                    offline.Train(o.OfflineSteps, progress, o.OfflineReportEvery, cancellationToken);
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
                var bounds = QBounds.From(dataset, artifact.Manifest, o.QDivergenceFactor);

                // 2. Value alignment on the offline dataset.
                stage = MarvelPipelineStages.Alignment;
                run.WriteStatus("running", stage);
                cancellationToken.ThrowIfCancellationRequested();
                var aligned = _aligner.Align(artifact, dataset, context with { Seeds = seeds.Fork("alignment") }, progress, cancellationToken);
                aligned.Artifact.Save(run.AlignedPath);
                bounds.Check(aligned.FinalMetrics, "reward_target", "cost_target", MarvelPipelineStages.Alignment, aligned.Steps);

                // 3. Online finetuning with evaluation at 0, every EvalEvery iterations and after the last one.
                stage = MarvelPipelineStages.Online;
                run.WriteStatus("running", stage);
                online = _onlineFactory(context with { Seeds = seeds.Fork("online") }, aligned.Artifact)
                    ?? throw new InvalidOperationException("Marvel pipeline: the online learner factory returned null.");
                online.InitializeFrom(aligned.Artifact, o.HandoverLoad);
                ulong evalSeed = seeds.Derive("eval");
                Evaluate(run, online, evalEnvironments, evalSeed, 0, onlineState, progress, cancellationToken);
                for (int it = 0; it < o.OnlineIterations; it++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var r = online.RunIteration(trainEnvironment, _controller, cancellationToken);
                    iterationsDone = it + 1;
                    var row = onlineState.Add(iterationsDone, r, o.CostLimit);
                    run.AppendOnline(row);
                    progress?.Report(new TrainingProgress(MarvelPipelineStages.Online, iterationsDone, o.OnlineIterations, row));
                    bounds.Check(r.Metrics, "reward_q", "cost_q", MarvelPipelineStages.Online, iterationsDone);
                    if (iterationsDone % o.EvalEvery == 0 || iterationsDone == o.OnlineIterations)
                        Evaluate(run, online, evalEnvironments, evalSeed, iterationsDone, onlineState, progress, cancellationToken);
                    if (o.CheckpointEvery > 0 && iterationsDone % o.CheckpointEvery == 0)
                        WriteCheckpoint(run, online, iterationsDone, onlineState);
                }

                var evaluations = run.Evaluations;
                var result = new MarvelRunResult(run.Root, artifact.Manifest.Algorithm, online.Algorithm, evaluations[0], evaluations[^1], evaluations.ToArray(),
                    iterationsDone, onlineState.EnvironmentSteps, onlineState.Episodes, onlineState.CumulativeViolation,
                    MarvelRunResult.Auc(evaluations, e => e.MeanReturn), MarvelRunResult.Auc(evaluations, e => e.NormalizedReward),
                    aligned.Steps, _controller.Lambda, clock.Elapsed);
                run.WriteJson(run.ResultPath, Summarize(result));
                run.WriteStatus("completed", stage);
                return result;
            }
            finally
            {
                foreach (var e in evalEnvironments) e.Dispose();
            }
        }
        catch (TrainingDivergedException e)
        {
            run.WriteStatus("diverged", stage, e.Message);
            throw new TrainingDivergedException(stage, e, $"The metrics so far are in '{run.Root}'.");
        }
        catch (OperationCanceledException e)
        {
            if (online is not null && o.CheckpointEvery > 0 && iterationsDone > 0)
                WriteCheckpoint(run, online, iterationsDone, onlineState);
            run.WriteStatus("cancelled", stage, e.Message);
            throw;
        }
        finally
        {
            online?.Dispose();
        }
    }

    private void Evaluate(RunDirectory run, IOnlineSafeLearner learner, IReadOnlyList<IEnvironment> environments, ulong evalSeed, long iteration,
        OnlineTotals totals, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        int index = run.Evaluations.Count;
        var result = SeededEvaluator.Evaluate(learner.Policy, environments, _options.EvalEpisodes, _options.CostLimit, evalSeed, index, cancellationToken);
        run.AppendEvaluation(new EvaluationPoint(index, iteration, totals.EnvironmentSteps, result));
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

    /// <summary>Writes <c>checkpoints/iteration-N/</c>: the online learner's export, the controller state and the run counters.</summary>
    /// <remarks>Not yet a bit-identical resume point: replay buffer, environment and generator states are not included.</remarks>
    private void WriteCheckpoint(RunDirectory run, IOnlineSafeLearner learner, long iteration, OnlineTotals totals)
    {
        var learnerArtifact = learner.ExportHandover();
        AtomicFile.WriteDirectory(run.CheckpointPath(iteration), temp =>
        {
            learnerArtifact.Save(Path.Combine(temp, "learner"));
            File.WriteAllText(Path.Combine(temp, "controller.json"), System.Text.Json.JsonSerializer.Serialize(_controller.GetState(), RunDirectory.Json));
            File.WriteAllText(Path.Combine(temp, "state.json"), System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, double>
            {
                ["iteration"] = iteration,
                ["environment_steps"] = totals.EnvironmentSteps,
                ["episodes"] = totals.Episodes,
                ["cumulative_violation"] = totals.CumulativeViolation,
                ["evaluations"] = run.Evaluations.Count,
            }, RunDirectory.Json));
        });
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
        ["normalized_reward_gain"] = r.NormalizedRewardGain,
        ["cumulative_violation"] = r.CumulativeViolation,
        ["reward_auc"] = r.RewardAuc,
        ["normalized_reward_auc"] = r.NormalizedRewardAuc,
        ["online_iterations"] = r.OnlineIterations,
        ["online_environment_steps"] = r.OnlineEnvironmentSteps,
        ["online_episodes"] = r.OnlineEpisodes,
        ["alignment_steps"] = r.AlignmentSteps,
        ["final_lambda"] = r.FinalLambda,
        ["elapsed_seconds"] = r.Elapsed.TotalSeconds,
    };

    /// <summary>Running totals of the online stage and the construction of an <c>online.csv</c> row.</summary>
    private sealed class OnlineTotals
    {
        public long EnvironmentSteps { get; private set; }
        public long Episodes { get; private set; }
        public double CumulativeViolation { get; private set; }

        public Dictionary<string, double> Add(long iteration, OnlineIterationResult r, double costLimit)
        {
            EnvironmentSteps = r.EnvironmentSteps;
            Episodes += r.Episodes.Count;
            foreach (var e in r.Episodes) CumulativeViolation += Math.Max(0, e.Cost - costLimit);
            var row = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["iteration"] = iteration,
                ["environment_steps"] = r.EnvironmentSteps,
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

using Marvel.Plotting;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Marvel.Cli.Configuration;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Alignment;
using Marvel.Core.Data;
using Marvel.Core.Data.Dsrl;
using Marvel.Core.Environments;
using Marvel.Core.Hosting;
using Marvel.Core.Pipeline;
using Microsoft.Extensions.Options;

namespace Marvel.Cli.Running;

/// <summary>What <see cref="PipelineRunner"/> runs and where.</summary>
/// <param name="RunDirectory">The run folder.</param>
/// <param name="Artifact">Start from this handover artifact folder instead of training offline (<c>finetune</c>).</param>
/// <param name="Identity">Extra fields of <c>run.json</c> (sweep name, index, axis values).</param>
/// <param name="Force">Rerun a complete run.</param>
internal sealed record RunRequest(string RunDirectory, string? Artifact = null, IReadOnlyDictionary<string, object?>? Identity = null, bool Force = false);

/// <summary>The outcome of one run request.</summary>
internal sealed record RunOutcome(bool Skipped, MarvelRunResult? Result);

/// <summary>The outcome of one request of a seed batch: its outcome, or the failure <c>RunAsync</c> would have thrown for it.</summary>
internal sealed record BatchRunOutcome(RunOutcome? Outcome, Exception? Failure);

/// <summary>A request checked and set up, with its composed pipeline: what <see cref="PipelineRunner"/> runs and then finishes.</summary>
internal sealed record PreparedRun(CliConfiguration Config, string RunDirectory, bool Resume, MarvelPipeline Pipeline, OfflineDataset Dataset, string TaskId,
    IProgress<TrainingProgress>? TensorBoard, IProgress<TrainingProgress> Sink);

/// <summary>Runs one pipeline into a run folder: the shared body of <c>run</c>, <c>finetune</c> and a sweep's runs.</summary>
internal static class PipelineRunner
{
    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<RunOutcome> RunAsync(CliConfiguration config, RunRequest request, TextWriter output, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        var prepared = Prepare(config, request, output, progress);
        if (prepared is null) return new RunOutcome(true, null);
        var pipeline = prepared.Pipeline;
        try
        {
            MarvelRunResult result;
            if (!prepared.Resume) result = await pipeline.RunAsync(prepared.Dataset, prepared.Sink, cancellationToken).ConfigureAwait(false);
            else
            {
                try
                {
                    result = await pipeline.ResumeAsync(prepared.Dataset, prepared.Sink, cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidOperationException e)
                {
                    throw CannotResume(prepared, e);
                }
            }
            return Finish(prepared, result, output);
        }
        catch (TrainingDivergedException e)
        {
            throw Diverged(prepared, e);
        }
        catch (OperationCanceledException e)
        {
            throw new RunFailedException(DescribeCancellation(prepared.RunDirectory) + " Run the same command again to resume.", e);
        }
    }

    /// <summary>
    /// Runs several requests that differ only in seed as one <see cref="MarvelSeedBatch"/>: each is checked and set up as
    /// <see cref="RunAsync"/> does it (a complete or diverged run is skipped), their pipelines run in one process with the SAC-Lag online
    /// stages in lockstep, and each finished run is finished as <see cref="RunAsync"/> finishes it (Q bias, plots, <c>run.json</c>).
    /// </summary>
    /// <returns>Per request, in order: its outcome, or the failure (<see cref="RunFailedException"/> or <see cref="UsageException"/>) that
    /// <see cref="RunAsync"/> would have thrown for it.</returns>
    /// <exception cref="UsageException">A request's configuration, dataset or device is unusable (checked before anything runs).</exception>
    /// <exception cref="RunFailedException">Cancelled; every started run holds its resume point.</exception>
    public static async Task<IReadOnlyList<BatchRunOutcome>> RunBatchAsync(IReadOnlyList<(CliConfiguration Config, RunRequest Request)> runs, TextWriter output,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var outcomes = new BatchRunOutcome[runs.Count];
        var prepared = new List<(int Index, PreparedRun Run)>();
        for (int i = 0; i < runs.Count; i++)
        {
            if (Prepare(runs[i].Config, runs[i].Request, output, progress) is { } p) prepared.Add((i, p));
            else outcomes[i] = new BatchRunOutcome(new RunOutcome(true, null), null);
        }
        if (prepared.Count == 0) return outcomes;
        var members = prepared.Select(p => new MarvelSeedBatchMember(p.Run.Pipeline, p.Run.Dataset) { Resume = p.Run.Resume, Progress = p.Run.Sink }).ToArray();
        IReadOnlyList<MarvelSeedBatchOutcome> results;
        try
        {
            results = await MarvelSeedBatch.RunAsync(members, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw new UsageException("bad configuration: these runs cannot share a seed batch: " + e.Message, e);
        }
        catch (OperationCanceledException e)
        {
            throw new RunFailedException("the seed batch was cancelled: " + string.Join(" ", prepared.Select(p => DescribeCancellation(p.Run.RunDirectory))) +
                                         " Run the same command again to resume.", e);
        }
        for (int k = 0; k < prepared.Count; k++)
        {
            var (index, run) = prepared[k];
            var result = results[k];
            if (result.RanAlone is { } alone) output.WriteLine($"Run '{run.RunDirectory}': online iterations not batched: {alone}");
            outcomes[index] = result switch
            {
                { Result: { } r } => new BatchRunOutcome(Finish(run, r, output), null),
                { Error: TrainingDivergedException e } => new BatchRunOutcome(null, Diverged(run, e)),
                { Error: InvalidOperationException e } when run.Resume => new BatchRunOutcome(null, CannotResume(run, e)),
                { Error: var e } => new BatchRunOutcome(null, new RunFailedException($"run '{run.RunDirectory}' failed: {e!.Message}", e)),
            };
        }
        return outcomes;
    }

    /// <summary>
    /// Checks <paramref name="request"/> and sets its run up: skips a complete or diverged run (null, with a line saying so), checks the task,
    /// device and dataset before the folder is touched, clears a folder to start over, writes <c>config.json</c> and <c>run.json</c>, and
    /// composes the pipeline.
    /// </summary>
    private static PreparedRun? Prepare(CliConfiguration config, RunRequest request, TextWriter output, IProgress<TrainingProgress>? progress)
    {
        var runDirectory = Path.GetFullPath(request.RunDirectory);
        var status = RunDirectory.ReadStatus(runDirectory);
        if (status.State == RunState.Completed && !request.Force)
        {
            output.WriteLine($"Run '{runDirectory}' is already complete (result.json); skipped. Pass --force to run it again.");
            return null;
        }
        if (status.State == RunState.Diverged && !request.Force)
        {
            output.WriteLine($"Run '{runDirectory}' diverged earlier ({status.Message ?? "see status.json"}); skipped, since the same seed diverges again. " +
                             "Pass --force to start it over.");
            return null;
        }
        bool resume = status.State == RunState.Resumable && !request.Force;
        var run = config.Run;
        // Run:Threads is the tool's name for the pipeline's TorchThreads, which the pipeline applies when it starts.
        var options = config.Pipeline with { RunDirectory = runDirectory, TorchThreads = run.Threads };
        var components = config.Components;
        if (!components.Names(MarvelComponentKind.Environment).Contains(options.TaskId, StringComparer.Ordinal))
            throw new UsageException($"bad configuration: Marvel:Pipeline:TaskId '{options.TaskId}' is not a registered task; registered: " +
                                     $"{string.Join(", ", components.Names(MarvelComponentKind.Environment))}.");
        EnsureDeviceAvailable(options.Device);
        // Inputs are checked before the run folder is touched: a corrupt or mismatched dataset leaves no half-made folder behind.
        var dataset = LoadDataset(config, options.TaskId, output);
        EnsureDatasetFitsTask(components, options.TaskId, dataset, run.Dataset);

        if (!resume && status.State != RunState.Empty) RunResumer.Clear(runDirectory);
        Directory.CreateDirectory(runDirectory);
        if (resume)
            output.WriteLine($"Run '{runDirectory}' was interrupted (stage {status.Stage ?? "setup"}); resuming " +
                             (status.LatestCheckpointIteration is { } it ? $"from the checkpoint of online iteration {it}."
                              : status.AlignmentCheckpointStep is { } calls ? $"from the alignment checkpoint after {calls} calls."
                              : status.OfflineCheckpointStep is { } steps ? $"from the offline checkpoint after {steps} gradient steps."
                              : "after its completed stages."));

        TorchSharp.torch.set_num_threads(run.Threads);
        // A resumed run keeps the configuration it started with; the pipeline refuses to resume under a different one.
        if (!resume || !File.Exists(Path.Combine(runDirectory, "config.json"))) config.WriteResolved(Path.Combine(runDirectory, "config.json"));
        int attempts = WriteIdentity(runDirectory, config, options, request);
        output.WriteLine($"Run '{runDirectory}' (attempt {attempts}): {run.EffectiveLabel} on {options.TaskId}, cost limit " +
                         $"{options.CostLimit.ToString(CultureInfo.InvariantCulture)}, seed {options.Seed}.");

        var artifactPath = EffectiveArtifact(config, request);
        config.Warnings.Writer = output;   // the library's warnings (e.g. an artifact trained for another cost limit) as "warning: …" lines
        MarvelPipeline pipeline;
        try
        {
            pipeline = artifactPath is null
                ? config.PipelineFactory.Create(options, run.Offline, run.Aligner, run.Controller, run.Online)
                : FromArtifact(config, options, LoadArtifact(artifactPath));
        }
        catch (ArgumentException e)
        {
            throw new UsageException("bad configuration: " + e.Message, e);
        }

        IProgress<TrainingProgress>? tensorBoard = run.TensorBoard ? new TensorBoardProgress(Path.Combine(runDirectory, "tensorboard")) : null;
        return new PreparedRun(config, runDirectory, resume, pipeline, dataset, options.TaskId, tensorBoard, new FanOutProgress(tensorBoard, progress));
    }

    /// <summary>After the pipeline returned: the Q-bias measurement and plots when asked, the finish time in <c>run.json</c>.</summary>
    private static RunOutcome Finish(PreparedRun prepared, MarvelRunResult result, TextWriter output)
    {
        var run = prepared.Config.Run;
        if (run.QBias) MeasureQBias(prepared.Config, prepared.RunDirectory, prepared.Dataset, prepared.TaskId, prepared.TensorBoard, output);
        if (run.Plots) DrawPlots(prepared.RunDirectory, output);
        UpdateIdentity(prepared.RunDirectory, "finished_utc", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        return new RunOutcome(false, result);
    }

    private static RunFailedException Diverged(PreparedRun prepared, TrainingDivergedException e) =>
        new($"run '{prepared.RunDirectory}' diverged: {e.Message}", e);

    private static UsageException CannotResume(PreparedRun prepared, InvalidOperationException e) =>
        new($"cannot resume run '{prepared.RunDirectory}': {e.Message} Pass --force to start it over.", e);

    /// <summary>What a rerun will find, by stage: the online, alignment or offline checkpoint, or only the completed stages.</summary>
    private static string DescribeCancellation(string runDirectory)
    {
        var after = RunDirectory.ReadStatus(runDirectory);
        return $"run '{runDirectory}' was cancelled in stage '{after.Stage ?? "setup"}'. {MarvelPipeline.DescribeResumePoint(after)}";
    }

    /// <summary>A CUDA device needs a CUDA backend (TorchSharp-cuda-*) and a GPU; checked before anything runs.</summary>
    private static void EnsureDeviceAvailable(string device)
    {
        if (device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) && !TorchSharp.torch.cuda.is_available())
            throw new UsageException($"bad configuration: Marvel:Pipeline:Device is '{device}', but no CUDA device is usable here (the tool ships the CPU " +
                                     "backend of TorchSharp, or there is no GPU). Use Marvel:Pipeline:Device=cpu.");
    }

    /// <summary>The dataset's observation and action sizes must be the task's; checked before the run folder is made.</summary>
    private static void EnsureDatasetFitsTask(Core.Hosting.IMarvelComponents components, string taskId, OfflineDataset dataset, string? source)
    {
        using var env = components.CreateEnvironment(taskId);
        int obs = env.ObservationSpace.Dimension, act = env.ActionSpace.Dimension;
        if (dataset.ObservationSize != obs || dataset.ActionSize != act)
            throw new UsageException($"Run:Dataset '{(string.IsNullOrEmpty(source) ? "(generated)" : source)}' has observation size {dataset.ObservationSize} and " +
                                     $"action size {dataset.ActionSize}, but task '{taskId}' has {obs} and {act}. Use a dataset of this task or set Marvel:Pipeline:TaskId to the dataset's.");
    }

    /// <summary>
    /// Q bias of the handed-over and the aligned critics against Monte-Carlo rollouts of their own actor (what value
    /// pre-alignment is meant to shrink), into <c>qbias.json</c> and TensorBoard tags <c>qbias/&lt;artifact&gt;/&lt;critic&gt;_*</c>.
    /// </summary>
    private static void MeasureQBias(CliConfiguration config, string runDirectory, OfflineDataset dataset, string taskId, IProgress<TrainingProgress>? tensorBoard,
        TextWriter output)
    {
        var report = new JsonObject();
        foreach (var name in new[] { "handover", "aligned" })
        {
            var path = Path.Combine(runDirectory, name);
            if (!Directory.Exists(path)) continue;
            try
            {
                var q = QBiasDiagnostics.Measure(HandoverArtifact.Load(path), dataset, () => config.Components.CreateEnvironment(taskId),
                    new QBiasOptions { StateCount = config.Run.QBiasStates });
                var scalars = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var (critic, s) in new[] { ("reward", q.Reward), ("cost", q.Cost) })
                {
                    scalars[$"{name}/{critic}_mean_relative_bias"] = s.MeanRelativeBias;
                    scalars[$"{name}/{critic}_mean_absolute_bias"] = s.MeanAbsoluteBias;
                    scalars[$"{name}/{critic}_mean_q"] = s.MeanQ;
                    scalars[$"{name}/{critic}_mean_monte_carlo"] = s.MeanMonteCarlo;
                }
                tensorBoard?.Report(new TrainingProgress("qbias", 0, 0, scalars));
                report[name] = new JsonObject
                {
                    ["reward"] = JsonSerializer.SerializeToNode(q.Reward),
                    ["cost"] = JsonSerializer.SerializeToNode(q.Cost),
                    ["gamma"] = q.Gamma,
                    ["rollout_steps"] = q.RolloutSteps,
                };
                output.WriteLine($"Q bias of {name}/: reward critic {q.Reward.MeanRelativeBias:+0.00;-0.00} (mean relative), cost critic {q.Cost.MeanRelativeBias:+0.00;-0.00}.");
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or InvalidOperationException)
            {
                // A task without settable states, or an artifact without critics: the run stands, the diagnostic is skipped.
                report[name] = new JsonObject { ["skipped"] = e.Message };
                output.WriteLine($"Q bias of {name}/ not measured: {e.Message}");
            }
        }
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "qbias.json"), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    }

    /// <summary>
    /// <c>plots/*.png</c> of the finished run (<see cref="RunPlots"/>), one line naming them. A file it cannot read is reported and
    /// leaves the run as it is: the run completed, and <c>marvel plot</c> draws them again.
    /// </summary>
    private static void DrawPlots(string runDirectory, TextWriter output)
    {
        try
        {
            output.WriteLine(RunPlots.Describe(runDirectory, RunPlots.Write(runDirectory)));
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            output.WriteLine($"Plots of '{runDirectory}' not drawn: {e.Message}");
        }
    }

    /// <summary>The pipeline from a loaded artifact, composed from catalog names like <see cref="MarvelPipelineFactory"/> does.</summary>
    private static MarvelPipeline FromArtifact(CliConfiguration config, MarvelPipelineOptions options, HandoverArtifact artifact)
    {
        var components = config.Components;
        var environments = new EnvironmentRegistry();
        environments.Register(options.TaskId, () => components.CreateEnvironment(options.TaskId));
        var run = config.Run;
        Func<LearnerContext, HandoverArtifact, IOnlineSafeLearner> online = (context, a) => components.CreateOnlineLearner(run.Online, context, a.Manifest);
        return new MarvelPipeline(options, artifact, components.CreateAligner(run.Aligner), components.CreateController(run.Controller), online, environments)
        {
            Logger = config.PipelineLogger,
        };
    }

    /// <summary>Reads <c>Run:Dataset</c>, or generates the task's built-in cost-sweep dataset.</summary>
    public static OfflineDataset LoadDataset(CliConfiguration config, string taskId, TextWriter output)
    {
        var run = config.Run;
        if (!string.IsNullOrEmpty(run.Dataset))
        {
            try
            {
                // A file that names its task (every file 'marvel collect' writes) must be of this task; DSRL's own files name none.
                return TaskSpec(config, taskId) is { } spec ? DsrlFile.ReadForTask(run.Dataset, spec) : DsrlFile.Read(run.Dataset);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                throw new UsageException($"Run:Dataset '{run.Dataset}': {e.Message}", e);
            }
        }
        try
        {
            var dataset = DatasetCollector.GenerateBuiltIn(taskId, run.DatasetEpisodes, run.DatasetSeed);
            output.WriteLine($"Dataset: generated {dataset.Episodes.Count} {taskId} episodes (seed {run.DatasetSeed}).");
            return dataset;
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"Run:Dataset is empty and task '{taskId}' has no built-in dataset generator ({e.Message}). Set Run:Dataset to a DSRL HDF5 file.", e);
        }
    }

    /// <summary>The spec of <paramref name="taskId"/>, or null when the task cannot be made (the run reports that itself, later).</summary>
    private static EnvironmentSpec? TaskSpec(CliConfiguration config, string taskId)
    {
        try
        {
            using var probe = config.Components.CreateEnvironment(taskId);
            return probe.Spec;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>The artifact a run starts from: <c>--artifact</c> of <c>finetune</c>, else <c>Run:Artifact</c>, else none (train offline).</summary>
    private static string? EffectiveArtifact(CliConfiguration config, RunRequest request) =>
        request.Artifact ?? (string.IsNullOrEmpty(config.Run.Artifact) ? null : config.Run.Artifact);

    public static HandoverArtifact LoadArtifact(string path)
    {
        if (!Directory.Exists(path)) throw new UsageException($"--artifact: folder '{path}' does not exist.");
        try
        {
            return HandoverArtifact.Load(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or JsonException)
        {
            throw new UsageException($"--artifact '{path}': {e.Message}", e);
        }
    }

    private static int WriteIdentity(string runDirectory, CliConfiguration config, MarvelPipelineOptions options, RunRequest request)
    {
        var path = Path.Combine(runDirectory, "run.json");
        int attempts = 1;
        if (File.Exists(path))
        {
            try
            {
                if (JsonNode.Parse(File.ReadAllText(path))?["attempts"]?.GetValue<int>() is { } previous) attempts = previous + 1;
            }
            catch (JsonException)
            {
                // A damaged run.json is rewritten.
            }
        }
        var identity = new JsonObject
        {
            ["task"] = options.TaskId,
            ["algorithm"] = config.Run.EffectiveLabel,
            ["cost_limit"] = options.CostLimit,
            ["seed"] = options.Seed,
            ["offline"] = EffectiveArtifact(config, request) is { } artifact ? "artifact:" + Path.GetFullPath(artifact) : config.Run.Offline,
            ["aligner"] = config.Run.Aligner,
            ["controller"] = config.Run.Controller,
            ["online"] = config.Run.Online,
            ["attempts"] = attempts,
            ["started_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["tool_version"] = typeof(PipelineRunner).Assembly.GetName().Version?.ToString(),
        };
        if (request.Identity is not null)
            foreach (var (k, v) in request.Identity) identity[k] = JsonSerializer.SerializeToNode(v);
        AtomicFile.WriteAllText(path, identity.ToJsonString(Indented));
        return attempts;
    }

    private static void UpdateIdentity(string runDirectory, string key, string value)
    {
        var path = Path.Combine(runDirectory, "run.json");
        var node = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        node[key] = value;
        AtomicFile.WriteAllText(path, node.ToJsonString(Indented));
    }

}

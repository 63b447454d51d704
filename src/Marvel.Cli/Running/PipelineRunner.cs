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

/// <summary>Runs one pipeline into a run folder: the shared body of <c>run</c>, <c>finetune</c> and a sweep's runs.</summary>
internal static class PipelineRunner
{
    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<RunOutcome> RunAsync(CliConfiguration config, RunRequest request, TextWriter output, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        var runDirectory = Path.GetFullPath(request.RunDirectory);
        var status = RunDirectory.ReadStatus(runDirectory);
        if (status.State == RunState.Completed && !request.Force)
        {
            output.WriteLine($"Run '{runDirectory}' is already complete (result.json); skipped. Pass --force to run it again.");
            return new RunOutcome(true, null);
        }
        if (status.State == RunState.Diverged && !request.Force)
        {
            output.WriteLine($"Run '{runDirectory}' diverged earlier ({status.Message ?? "see status.json"}); skipped, since the same seed diverges again. " +
                             "Pass --force to start it over.");
            return new RunOutcome(true, null);
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
        try
        {
            var sink = new FanOutProgress(tensorBoard, progress);
            MarvelRunResult result;
            if (!resume) result = await pipeline.RunAsync(dataset, sink, cancellationToken).ConfigureAwait(false);
            else
            {
                try
                {
                    result = await pipeline.ResumeAsync(dataset, sink, cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidOperationException e)
                {
                    throw new UsageException($"cannot resume run '{runDirectory}': {e.Message} Pass --force to start it over.", e);
                }
            }
            if (run.QBias) MeasureQBias(config, runDirectory, dataset, options.TaskId, tensorBoard, output);
            if (run.Plots) DrawPlots(runDirectory, output);
            UpdateIdentity(runDirectory, "finished_utc", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            return new RunOutcome(false, result);
        }
        catch (TrainingDivergedException e)
        {
            throw new RunFailedException($"run '{runDirectory}' diverged: {e.Message}", e);
        }
        catch (OperationCanceledException e)
        {
            // Say what a rerun will find, by stage: the online, alignment or offline checkpoint, or only the completed stages.
            var after = RunDirectory.ReadStatus(runDirectory);
            string where = " " + MarvelPipeline.DescribeResumePoint(after);
            throw new RunFailedException($"run '{runDirectory}' was cancelled in stage '{after.Stage ?? "setup"}'.{where} Run the same command again to resume.", e);
        }
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

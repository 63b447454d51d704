using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Data;
using Marvel.Core.Data.Dsrl;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Policies;
using Marvel.Core.Lagrange;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Pipeline.Datasets;

/// <summary>The outcome of <see cref="FrontierDataset.Generate"/>: the selected dataset, the attributes its file carries, and counts.</summary>
/// <param name="Dataset">The kept episodes, back to back, in the order they were recorded.</param>
/// <param name="Attributes">Task id, recipe "frontier", the options as JSON, library version and seed; write them with the file.</param>
/// <param name="TrainingEpisodes">Episodes the learner finished while training.</param>
/// <param name="CheckpointEpisodes">Episodes of the deterministic and noise-perturbed checkpoint rollouts.</param>
/// <param name="KeptEpisodes">Episodes the grid kept.</param>
/// <param name="EnvironmentSteps">Training transitions plus the transitions of the checkpoint episodes (rollout steps of episodes left unfinished are not counted).</param>
public sealed record FrontierDatasetResult(OfflineDataset Dataset, DsrlFileAttributes Attributes, int TrainingEpisodes, int CheckpointEpisodes,
    int KeptEpisodes, long EnvironmentSteps);

/// <summary>
/// The frontier dataset recipe: datasets made the way DSRL made its own. An online Lagrangian learner (SAC-Lag, or PPO-Lag by
/// <see cref="FrontierDatasetOptions.LearnerKind"/>) trains on the task
/// while its cost limit follows a schedule (<see cref="FrontierDatasetOptions.Schedule"/>); every training episode is kept, and at each
/// checkpoint the current policy adds deterministic and noise-perturbed episodes; then a grid over (episode cost, episode return)
/// with a cap per cell picks episodes until the target size is reached.
/// </summary>
/// <remarks>
/// <para>One seed decides everything: environment resets, the learner's networks and sampling, the random schedule, the checkpoint
/// noise and the grid's draws all come from streams of it. The same task, options, seed and library version give the same file,
/// byte for byte, on the same machine and torch thread count; <see cref="CacheKey"/> names that file.</para>
/// <para>DSRL trained TRPO-Lag for 10 M steps per task; the defaults here train SAC-Lag, which learns these tasks in tens of thousands
/// of steps, for three times the target size (docs/datasets.md, "Frontier datasets").</para>
/// </remarks>
public static class FrontierDataset
{
    /// <summary>The recipe's name, as the files' <see cref="DsrlFileAttributes.Recipe"/> records it.</summary>
    public const string RecipeName = "frontier";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Trains, records and selects a frontier dataset of task <paramref name="taskId"/>.</summary>
    /// <param name="taskId">A task of <paramref name="registry"/>.</param>
    /// <param name="options">The recipe's settings; validated, then copied.</param>
    /// <param name="seed">The one seed of the whole dataset.</param>
    /// <param name="registry">Where the task is found; <see cref="EnvironmentRegistry.Default"/> when null.</param>
    /// <param name="progress">Reports training transitions done of <see cref="FrontierDatasetOptions.TrainingSteps"/> (stage "frontier"),
    /// with the current cost limit, λ and candidate episodes.</param>
    /// <param name="cancellationToken">Checked between iterations and rollout steps.</param>
    /// <returns>The dataset, its file attributes and counts.</returns>
    /// <exception cref="ArgumentException"><paramref name="taskId"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="OptionsValidationException">A field of <paramref name="options"/> is invalid; the message names every bad field.</exception>
    /// <exception cref="KeyNotFoundException">The task is not registered.</exception>
    /// <exception cref="InvalidOperationException">No candidate episode is at most <see cref="FrontierDatasetOptions.MaxEpisodeCost"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static FrontierDatasetResult Generate(string taskId, FrontierDatasetOptions options, ulong seed, EnvironmentRegistry? registry = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(taskId, options, seed, workFolder: null, registry, progress, cancellationToken);

    /// <summary>
    /// <see cref="Generate"/> that survives interruption: at every checkpoint (each <see cref="FrontierDatasetOptions.CheckpointEvery"/>
    /// training transitions) the learner, the training environments, the recorder's unfinished episodes, the counters and the episodes
    /// recorded since the previous checkpoint are written into <paramref name="workFolder"/>; called again with the same folder and
    /// inputs, it continues from the newest checkpoint and returns the same dataset, byte for byte, as an uninterrupted run (same machine
    /// and torch thread count). The folder is not deleted; remove it once the result is stored.
    /// </summary>
    /// <param name="taskId">A task of <paramref name="registry"/>.</param>
    /// <param name="options">The recipe's settings; validated, then copied.</param>
    /// <param name="seed">The one seed of the whole dataset.</param>
    /// <param name="workFolder">The folder of this generation's checkpoints (created when missing). It holds one generation only: a
    /// folder written for another task, options, seed or library version is refused.</param>
    /// <param name="registry">Where the task is found; <see cref="EnvironmentRegistry.Default"/> when null.</param>
    /// <param name="progress">As <see cref="Generate"/>'s; a resumed run reports from where it continues.</param>
    /// <param name="cancellationToken">Checked between iterations and rollout steps; work after the newest checkpoint is lost.</param>
    /// <returns>The dataset, its file attributes and counts (the counts of the whole generation, resumed parts included).</returns>
    /// <exception cref="ArgumentException"><paramref name="taskId"/> or <paramref name="workFolder"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="OptionsValidationException">A field of <paramref name="options"/> is invalid; the message names every bad field.</exception>
    /// <exception cref="KeyNotFoundException">The task is not registered.</exception>
    /// <exception cref="InvalidDataException">The work folder belongs to another generation, or its checkpoint is incomplete or corrupt; the
    /// message says which and how to start over (delete the folder).</exception>
    /// <exception cref="NotSupportedException">The task's environment cannot save its state (<see cref="ICheckpointableEnvironment"/>).</exception>
    /// <exception cref="InvalidOperationException">No candidate episode is at most <see cref="FrontierDatasetOptions.MaxEpisodeCost"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static FrontierDatasetResult GenerateResumable(string taskId, FrontierDatasetOptions options, ulong seed, string workFolder,
        EnvironmentRegistry? registry = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workFolder);
        return Run(taskId, options, seed, workFolder, registry, progress, cancellationToken);
    }

    private static FrontierDatasetResult Run(string taskId, FrontierDatasetOptions options, ulong seed, string? workFolder, EnvironmentRegistry? registry,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        var o = Validated(options);
        registry ??= EnvironmentRegistry.Default;
        var seeds = new SeedStreams(seed);

        using var environment = registry.MakeVector(taskId, o.Environments);
        using var rollouts = registry.MakeVector(taskId, o.Environments);
        if (workFolder is not null && !environment.CanSaveState)
            throw new NotSupportedException($"Frontier dataset of '{environment.Spec.Id}': the task's environment cannot save its state, so the " +
                                            "generation cannot be resumed; implement ICheckpointableEnvironment on it, or call Generate.");
        var recorder = new RecordingVectorEnvironment(environment);
        var spec = environment.Spec;
        var context = new LearnerContext(environment.ObservationSpace, environment.ActionSpace, seeds.Fork("frontier/learner"), spec.MaxEpisodeSteps, spec.Id);
        using ICheckpointableOnlineLearner learner = o.LearnerKind == FrontierLearner.PpoLag
            ? new PpoLagLearner(context, o.PpoLearner ?? FrontierDatasetOptions.DefaultPpoLearner())
            : new SacLagLearner(context, o.Learner);
        long TrainingStepsDone() => learner switch
        {
            SacLagLearner sac => sac.EnvironmentSteps,
            PpoLagLearner ppo => ppo.EnvironmentSteps,
            _ => throw new InvalidOperationException("unreachable: the recipe makes only SAC-Lag and PPO-Lag learners"),
        };

        var work = workFolder is null ? null : new FrontierWorkFolder(workFolder, spec.Id, OptionsJson(o), seed);
        var candidates = new List<RecordedEpisode>();
        var counters = new FrontierCounters { NextCheckpoint = o.CheckpointEvery, Lambda = o.InitialLambda };
        if (work?.TryResume(learner, environment, recorder, candidates) is { } resumed) counters = resumed;
        int savedCandidates = candidates.Count;
        double costLimit = o.CostLimitStart;

        void Checkpoint()
        {
            var episodes = CheckpointRollouts(learner.Policy, rollouts, o, seed, counters.Checkpoint++, cancellationToken);
            counters.CheckpointEpisodes += episodes.Count;
            counters.RolloutSteps += episodes.Sum(e => (long)e.Length);
            candidates.AddRange(episodes);
        }

        while (TrainingStepsDone() < o.TrainingSteps)
        {
            cancellationToken.ThrowIfCancellationRequested();
            costLimit = CostLimitSchedule.At(o, (double)TrainingStepsDone() / o.TrainingSteps, seed);
            // Plain dual ascent keeps only λ, so the controller is rebuilt at each iteration's limit and continues from the last λ.
            var controller = new DualAscentController(new DualAscentOptions
            {
                CostLimit = costLimit, Optimizer = DualAscentOptimizer.Sgd, LearningRate = o.LambdaLearningRate, InitialLambda = counters.Lambda,
            });
            learner.RunIteration(recorder, controller, cancellationToken);
            counters.Lambda = controller.Lambda;
            counters.TrainingEpisodes += recorder.FinishedCount;
            candidates.AddRange(recorder.TakeFinished());
            if (TrainingStepsDone() >= counters.NextCheckpoint && TrainingStepsDone() < o.TrainingSteps)
            {
                Checkpoint();
                counters.NextCheckpoint += o.CheckpointEvery;
                if (work is not null)
                {
                    work.Save(learner, environment, recorder, candidates, savedCandidates, counters);
                    savedCandidates = candidates.Count;
                }
            }
            progress?.Report(new TrainingProgress("frontier", Math.Min(TrainingStepsDone(), o.TrainingSteps), o.TrainingSteps,
                new Dictionary<string, double> { ["cost_limit"] = costLimit, ["lambda"] = counters.Lambda, ["candidate_episodes"] = candidates.Count }));
        }
        Checkpoint(); // the final policy

        var kept = FrontierGrid.Select(candidates.Select(e => (e.Cost, e.Return, e.Length)).ToList(), o, seeds.CreateRandom("frontier/grid"));
        if (kept.Count == 0)
            throw new InvalidOperationException(
                $"Frontier dataset of '{spec.Id}': none of the {candidates.Count} recorded episodes costs at most MaxEpisodeCost = {o.MaxEpisodeCost}. " +
                "Raise MaxEpisodeCost (or set it to null), or train longer so that the learner reaches low costs.");
        var dataset = RecordedEpisode.Concatenate(environment.ObservationSpace.Dimension, environment.ActionSpace.Dimension,
            kept.Select(i => candidates[i]).ToList(), $"frontier dataset of {spec.Id} (seed {seed})");
        var attributes = new DsrlFileAttributes
        {
            TaskId = spec.Id, Recipe = RecipeName, RecipeOptions = OptionsJson(o),
            LibraryVersion = DsrlFileAttributes.CurrentLibraryVersion, Seed = seed,
        };
        return new FrontierDatasetResult(dataset, attributes, counters.TrainingEpisodes, counters.CheckpointEpisodes, kept.Count,
            TrainingStepsDone() + counters.RolloutSteps);
    }

    /// <summary>
    /// The name of the file that <see cref="Generate"/> makes from these inputs: the SHA-256 (hex) of the recipe name, the task id, the
    /// options as JSON, the seed and the library version. Equal keys mean equal files, so a cache can keep one file per key.
    /// </summary>
    /// <param name="taskId">The task id (use the task's <see cref="EnvironmentSpec.Id"/> so that aliases share a key).</param>
    /// <param name="options">The recipe's settings.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>64 lowercase hex digits.</returns>
    /// <exception cref="ArgumentException"><paramref name="taskId"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public static string CacheKey(string taskId, FrontierDatasetOptions options, ulong seed)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        ArgumentNullException.ThrowIfNull(options);
        var text = string.Join('\n', RecipeName, taskId, OptionsJson(options), seed.ToString(CultureInfo.InvariantCulture), DsrlFileAttributes.CurrentLibraryVersion);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Every field of <paramref name="options"/> (the learner's included) as one line of JSON, enums by name.</summary>
    /// <param name="options">The recipe's settings.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public static string OptionsJson(FrontierDatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return JsonSerializer.Serialize(options, Json);
    }

    /// <summary>Reads options back from <see cref="OptionsJson"/>'s form (e.g. a file's <see cref="DsrlFileAttributes.RecipeOptions"/>);
    /// fields the JSON leaves out keep their defaults.</summary>
    /// <param name="json">The JSON object.</param>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    /// <exception cref="JsonException">The text is not a JSON object of these options.</exception>
    public static FrontierDatasetOptions OptionsFromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return JsonSerializer.Deserialize<FrontierDatasetOptions>(json, Json)
               ?? throw new JsonException("The JSON is 'null', not an object of frontier dataset options.");
    }

    /// <summary>Checks every field of <paramref name="options"/> (the learner's too, as "Learner.X") without generating anything.</summary>
    /// <param name="options">The recipe's settings.</param>
    /// <returns>One message per bad field, each naming it ("Property CostBins: must be &gt;= 1, got 0."); empty when all are valid.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public static IReadOnlyList<string> Validate(FrontierDatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new FrontierDatasetOptionsValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, options);
        return result.Failed ? (result.Failures ?? []).ToList() : [];
    }

    /// <summary>The validated copy the recipe works on (lists and the learner's options copied too).</summary>
    private static FrontierDatasetOptions Validated(FrontierDatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new FrontierDatasetOptionsValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, options);
        if (result.Failed) throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(FrontierDatasetOptions), result.Failures);
        return options with
        {
            NoiseStandardDeviations = options.NoiseStandardDeviations.ToArray(), Learner = options.Learner with { },
            PpoLearner = options.PpoLearner is { } ppo ? ppo with { } : null,
        };
    }

    /// <summary>The checkpoint's episodes: <see cref="FrontierDatasetOptions.DeterministicEpisodes"/> of the deterministic action, then
    /// <see cref="FrontierDatasetOptions.NoisyEpisodes"/> per noise level of the deterministic action plus Gaussian noise.</summary>
    private static List<RecordedEpisode> CheckpointRollouts(IPolicy policy, IVectorEnvironment environment, FrontierDatasetOptions options, ulong seed,
        int checkpoint, CancellationToken cancellationToken)
    {
        string at = checkpoint.ToString(CultureInfo.InvariantCulture);
        var plan = new List<CollectionStage>();
        if (options.DeterministicEpisodes > 0) plan.Add(new CollectionStage(policy, options.DeterministicEpisodes, Deterministic: true));
        if (options.NoisyEpisodes > 0)
        {
            var deterministic = new DeterministicPolicy(policy);
            for (int j = 0; j < options.NoiseStandardDeviations.Length; j++)
            {
                ulong noiseSeed = SeedStreams.Derive(seed, $"frontier/noise/{at}/{j.ToString(CultureInfo.InvariantCulture)}");
                plan.Add(new CollectionStage(new NoisyPolicy(deterministic, options.NoiseStandardDeviations[j], noiseSeed), options.NoisyEpisodes));
            }
        }
        return plan.Count == 0 ? [] : DatasetCollector.CollectEpisodes(environment, plan, SeedStreams.Derive(seed, "frontier/checkpoint/" + at), cancellationToken);
    }
}

using System.Diagnostics;
using System.Text.Json;
using Marvel.Core.Alignment;
using Marvel.Core.Data;
using Marvel.Core.Environments;

namespace Marvel.Core.Pipeline.Stages;

/// <summary>The alignment stage's result as <c>alignment.json</c> records it.</summary>
/// <param name="Steps">Gradient steps the aligner took.</param>
/// <param name="RolloutEpisodes">Episodes of the artifact's actor collected for the alignment (0 in runs of earlier versions).</param>
/// <param name="RolloutSteps">Environment steps of those episodes.</param>
/// <param name="RolloutViolation">Σ max(0, C − κ) over those episodes.</param>
internal sealed record AlignmentInfo(long Steps, long RolloutEpisodes, long RolloutSteps, double RolloutViolation)
{
    /// <summary>Reads <c>alignment.json</c> (rollout fields absent: 0).</summary>
    public static AlignmentInfo Read(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        long Long(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        double violation = root.TryGetProperty("rollout_violation", out var x) && x.ValueKind == JsonValueKind.Number ? x.GetDouble() : 0;
        return new AlignmentInfo(root.GetProperty("steps").GetInt64(), Long("rollout_episodes"), Long("rollout_environment_steps"), violation);
    }
}

/// <summary>
/// Value alignment of the handover artifact's critics (seed stream "alignment") on the offline dataset, mixed with
/// <see cref="MarvelPipelineOptions.AlignmentRolloutEpisodes"/> episodes of the artifact's actor when asked; checkpoints in
/// <c>checkpoints/alignment/</c> when the aligner can save them; output <c>aligned/</c> and <c>alignment.json</c>.
/// </summary>
internal sealed class AlignmentStage(IValueAligner aligner, Func<LearnerContext, HandoverArtifact, IOnlineSafeLearner> onlineFactory,
    EnvironmentRegistry environments) : IPipelineStage
{
    public string Name => MarvelPipelineStages.Alignment;

    /// <summary>True when the run directory <paramref name="root"/> holds a complete <c>aligned/</c> and <c>alignment.json</c> (the
    /// latter is written after the former); also what <see cref="RunDirectory.ReadStatus"/> reports.</summary>
    public static bool IsCompleteIn(string root) =>
        File.Exists(Path.Combine(root, "aligned", "manifest.json")) && File.Exists(Path.Combine(root, "alignment.json"));

    public bool IsComplete(PipelineRun run) => IsCompleteIn(run.Folder.Root);

    public void Load(PipelineRun run)
    {
        run.Enter(MarvelPipelineStages.Alignment, quiet: true);
        run.Aligned = HandoverArtifact.Load(run.Folder.AlignedPath);
        run.Alignment = AlignmentInfo.Read(run.Folder.AlignmentInfoPath);
        run.Logger.StageSkipped(MarvelPipelineStages.Alignment, run.Folder.AlignedPath);
    }

    public void Run(PipelineRun run)
    {
        var folder = run.Folder;
        run.Enter(MarvelPipelineStages.Alignment);
        var clock = Stopwatch.StartNew();
        run.Cancellation.ThrowIfCancellationRequested();
        var rollouts = CollectRollouts(run);
        ITransitionSampler data = rollouts is null ? run.Dataset : new MixedTransitionSampler(run.Dataset, rollouts, run.Options.AlignmentRolloutFraction);
        var aligned = Align(run, data, run.Context with { Seeds = run.Seeds.Fork("alignment") });
        aligned.Artifact.Save(folder.AlignedPath);
        Checkpoints(run).Delete();   // aligned/ supersedes them
        run.Bounds.Check(aligned.FinalMetrics, "reward_target", "cost_target", MarvelPipelineStages.Alignment, aligned.Steps);
        var info = new AlignmentInfo(aligned.Steps, rollouts?.Episodes.Count ?? 0, rollouts?.Count ?? 0,
            rollouts is null ? 0 : run.Budget.Violation(rollouts.Episodes.Select(e => e.Cost)));
        folder.WriteJson(folder.AlignmentInfoPath, new Dictionary<string, object?>
        {
            ["steps"] = aligned.Steps,
            ["final_metrics"] = aligned.FinalMetrics,
            ["rollout_episodes"] = info.RolloutEpisodes,
            ["rollout_environment_steps"] = info.RolloutSteps,
            ["rollout_violation"] = info.RolloutViolation,
            ["rollout_mean_cost"] = rollouts is null ? null : rollouts.Episodes.Average(e => e.Cost),
            ["rollout_mean_return"] = rollouts is null ? null : rollouts.Episodes.Average(e => e.Return),
        });
        run.Alignment = info;
        run.Aligned = aligned.Artifact;
        run.Logger.StageCompleted(MarvelPipelineStages.Alignment, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The stage's checkpoint folder, <c>checkpoints/alignment/</c>.</summary>
    private static StageCheckpointFolder Checkpoints(PipelineRun run) => new(run.Folder.AlignmentCheckpointsPath, MarvelPipelineStages.Alignment);

    /// <summary>
    /// <see cref="MarvelPipelineOptions.AlignmentRolloutEpisodes"/> episodes of the artifact's actor, sampled (as online collection acts), on
    /// environments of their own so the training environments' state is untouched; null when none are asked for or the aligner is
    /// <see cref="NoAlignment"/>. The actor is run through a learner of the online factory that takes the artifact over.
    /// </summary>
    private OfflineDataset? CollectRollouts(PipelineRun run)
    {
        var o = run.Options;
        int episodes = o.AlignmentRolloutEpisodes;
        if (episodes == 0 || aligner is NoAlignment) return null;
        var rolloutSeeds = run.Seeds.Fork("alignment-rollouts");
        using var learner = onlineFactory(run.Context with { Seeds = rolloutSeeds }, run.Handover)
            ?? throw new InvalidOperationException("Marvel pipeline: the online learner factory returned null.");
        learner.InitializeFrom(run.Handover, o.HandoverLoad);
        using var environment = environments.MakeVector(o.TaskId, Math.Min(o.EnvironmentCount, episodes));
        return DatasetCollector.Collect(environment, [new CollectionStage(learner.Policy, episodes)], rolloutSeeds.Derive("episodes"),
            cancellationToken: run.Cancellation);
    }

    /// <summary>The alignment, with checkpoints when the aligner can save them and <see cref="MarvelPipelineOptions.AlignmentCheckpointEvery"/>
    /// &gt; 0; on resume from the newest one.</summary>
    private ValueAlignmentResult Align(PipelineRun run, ITransitionSampler data, LearnerContext context)
    {
        var every = run.Options.AlignmentCheckpointEvery;
        var store = Checkpoints(run);
        var latest = run.Resuming ? store.Latest : null;
        if (aligner is not ICheckpointableValueAligner checkpointable || (every == 0 && latest is null))
            return aligner.Align(run.Handover, data, context, run.Progress, run.Cancellation);
        if (latest is { } l) run.Logger.AlignmentResumed(l.Completed);
        // AlignmentCheckpointEvery = 0 with a checkpoint on disk: resume from it, save no more.
        var checkpoints = every > 0
            ? new StageCheckpoints(every, latest is { } a ? Path.Combine(a.Path, StageCheckpointFolder.StateFolder) : null, (calls, write) =>
            {
                store.Save(calls, write);
                run.Logger.CheckpointWritten(MarvelPipelineStages.Alignment, calls, run.Folder.AlignmentCheckpointsPath);
            })
            : new StageCheckpoints(0, Path.Combine(latest!.Value.Path, StageCheckpointFolder.StateFolder), (_, _) => { });
        return checkpointable.Align(run.Handover, data, context, checkpoints, run.Progress, run.Cancellation);
    }
}

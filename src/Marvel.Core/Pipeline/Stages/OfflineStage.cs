using System.Diagnostics;

namespace Marvel.Core.Pipeline.Stages;

/// <summary>
/// Offline training of the injected offline learner (seed stream "offline") for <see cref="MarvelPipelineOptions.OfflineSteps"/>
/// gradient steps, with checkpoints in <c>checkpoints/offline/</c>; its output is the learner's export, which the handover stage saves.
/// A pipeline built from an artifact has no training: the artifact is this stage's output.
/// </summary>
internal sealed class OfflineStage(Func<LearnerContext, IOfflineSafeLearner>? factory, HandoverArtifact? artifact) : IPipelineStage
{
    public string Name => MarvelPipelineStages.Offline;

    /// <summary>Complete once <c>handover/</c> is saved: the artifact there supersedes the offline learner and its checkpoints.</summary>
    public bool IsComplete(PipelineRun run) => HandoverStage.IsCompleteIn(run.Folder.Root);

    public void Load(PipelineRun run) => run.Logger.StageSkipped(MarvelPipelineStages.Offline, run.Folder.HandoverPath);

    public void Run(PipelineRun run)
    {
        if (factory is null)
        {
            run.OfflineExport = artifact!;
            return;
        }
        run.Enter(MarvelPipelineStages.Offline);
        var clock = Stopwatch.StartNew();
        using var offline = factory(run.Context with { Seeds = run.Seeds.Fork("offline") })
            ?? throw new InvalidOperationException("Marvel pipeline: the offline learner factory returned null.");
        offline.Attach(run.Dataset);
        Train(run, offline);
        run.Logger.StageCompleted(MarvelPipelineStages.Offline, clock.Elapsed.TotalSeconds);
        run.Enter(MarvelPipelineStages.Handover, quiet: true);
        run.OfflineExport = offline.ExportHandover();
    }

    /// <summary>
    /// Offline training from step 0, or on resume from the newest offline checkpoint: <see cref="MarvelPipelineOptions.OfflineSteps"/>
    /// <see cref="IOfflineSafeLearner.TrainStep"/> calls with progress every <see cref="MarvelPipelineOptions.OfflineReportEvery"/>, a
    /// checkpoint every <see cref="MarvelPipelineOptions.OfflineCheckpointEvery"/> steps and one on cancellation (checked between steps, so
    /// every checkpoint is an exact resume point).
    /// </summary>
    private static void Train(PipelineRun run, IOfflineSafeLearner learner)
    {
        var o = run.Options;
        var checkpointable = learner as ICheckpointableOfflineLearner;
        if (o.OfflineCheckpointEvery > 0 && checkpointable is null)
            throw new NotSupportedException($"Marvel pipeline: OfflineCheckpointEvery is {o.OfflineCheckpointEvery} but the offline learner '{learner.Algorithm}' " +
                $"({learner.GetType().Name}) does not implement ICheckpointableOfflineLearner. Set OfflineCheckpointEvery = 0 or implement it.");
        var store = Checkpoints(run);
        long step = 0;
        if (run.Resuming && checkpointable is not null && store.Latest is { } latest && latest.Completed <= o.OfflineSteps)
        {
            checkpointable.LoadCheckpoint(Path.Combine(latest.Path, StageCheckpointFolder.StateFolder));
            step = latest.Completed;
            run.Logger.OfflineResumed(learner.Algorithm, step);
        }
        long saved = step;
        void Save()
        {
            store.Save(step, checkpointable!.SaveCheckpoint);
            saved = step;
            run.Logger.CheckpointWritten(MarvelPipelineStages.Offline, step, run.Folder.OfflineCheckpointsPath);
        }
        try
        {
            while (step < o.OfflineSteps)
            {
                run.Cancellation.ThrowIfCancellationRequested();
                var last = learner.TrainStep();
                step++;
                if (run.Progress is not null && (step % o.OfflineReportEvery == 0 || step == o.OfflineSteps))
                    run.Progress.Report(new TrainingProgress(MarvelPipelineStages.Offline, step, o.OfflineSteps, last));
                if (o.OfflineCheckpointEvery > 0 && step % o.OfflineCheckpointEvery == 0 && step < o.OfflineSteps) Save();
            }
        }
        catch (OperationCanceledException) when (o.OfflineCheckpointEvery > 0 && step > 0 && saved != step)
        {
            Save();
            throw;
        }
    }

    /// <summary>The stage's checkpoint folder, <c>checkpoints/offline/</c>.</summary>
    public static StageCheckpointFolder Checkpoints(PipelineRun run) => new(run.Folder.OfflineCheckpointsPath, MarvelPipelineStages.Offline);
}

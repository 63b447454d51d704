namespace Marvel.Core.Pipeline.Stages;

/// <summary>
/// Saves the offline stage's artifact to <c>handover/</c> (after checking that it fits the task) and removes the offline checkpoints it
/// supersedes; on a resume loads it from there. Either way it derives the exploding-Q bounds and warns when the artifact was trained for
/// another cost limit.
/// </summary>
internal sealed class HandoverStage : IPipelineStage
{
    public string Name => MarvelPipelineStages.Handover;

    /// <summary>True when the run directory <paramref name="root"/> holds a complete <c>handover/</c> (the artifact's manifest is written
    /// last); also what <see cref="RunDirectory.ReadStatus"/> reports.</summary>
    public static bool IsCompleteIn(string root) => File.Exists(Path.Combine(root, "handover", "manifest.json"));

    public bool IsComplete(PipelineRun run) => IsCompleteIn(run.Folder.Root);

    public void Load(PipelineRun run)
    {
        run.Enter(MarvelPipelineStages.Handover, quiet: true);
        var artifact = HandoverArtifact.Load(run.Folder.HandoverPath);
        EnsureFits(run, artifact);
        Accept(run, artifact);
    }

    public void Run(PipelineRun run)
    {
        run.Enter(MarvelPipelineStages.Handover, quiet: true);
        var artifact = run.OfflineExport ?? throw new InvalidOperationException("Marvel pipeline: the handover stage ran before the offline stage.");
        EnsureFits(run, artifact);
        artifact.Save(run.Folder.HandoverPath);
        OfflineStage.Checkpoints(run).Delete();   // handover/ supersedes them
        Accept(run, artifact);
    }

    private static void EnsureFits(PipelineRun run, HandoverArtifact artifact) =>
        artifact.EnsureCompatible(run.Context.ObservationSpace.Dimension, run.Context.ActionSpace.Dimension, "Marvel pipeline");

    private static void Accept(PipelineRun run, HandoverArtifact artifact)
    {
        run.Handover = artifact;
        run.Bounds = QDivergenceBounds.From(run.Dataset, artifact.Manifest, run.Options.QDivergenceFactor);
        if (!run.Budget.Agrees(artifact.Manifest.CostLimit))
            run.Logger.CostLimitMismatch(artifact.Manifest.Algorithm, artifact.Manifest.CostLimit, run.Options.CostLimit);
    }
}

using Marvel.Core.Pipeline;

namespace Marvel.Cli.Running;

/// <summary>What a run folder holds.</summary>
public enum RunFolderState
{
    /// <summary>No folder, or a folder where the pipeline has not started (no <c>options.json</c>).</summary>
    Empty,
    /// <summary>Started but not finished (running elsewhere, cancelled, or the process died): resumable from its checkpoints.</summary>
    Incomplete,
    /// <summary><c>result.json</c> exists and <c>status.json</c> says completed.</summary>
    Complete,
    /// <summary>The run stopped on a diverging loss or value; a seeded rerun would diverge again.</summary>
    Diverged,
}

/// <summary>
/// Run-folder state for the tool, on top of the library's <see cref="RunDirectory.ReadStatus"/> (used by <c>sweep</c> to list and
/// count runs), and the clean-up before a forced rerun. What happens to each state is decided in <c>PipelineRunner.RunAsync</c>:
/// a complete run is skipped; an incomplete one is resumed with <see cref="MarvelPipeline.ResumeAsync"/>; a diverged one is
/// skipped unless forced; a forced rerun clears the pipeline's files first.
/// </summary>
public static class RunResumer
{
    /// <summary>The pipeline's files and folders, deleted before a run starts over.</summary>
    private static readonly string[] PipelineOutputs =
        ["status.json", "result.json", "options.json", "alignment.json", "metrics", "handover", "aligned", "checkpoints", "tensorboard", "qbias.json"];

    /// <summary>Reads the state of <paramref name="runDirectory"/>.</summary>
    public static RunFolderState ReadState(string runDirectory) => RunDirectory.ReadStatus(runDirectory).State switch
    {
        RunState.Completed => RunFolderState.Complete,
        RunState.Resumable => RunFolderState.Incomplete,
        RunState.Diverged => RunFolderState.Diverged,
        _ => RunFolderState.Empty,
    };

    /// <summary>Deletes the pipeline's files from <paramref name="runDirectory"/> (a forced rerun); <c>config.json</c> and <c>run.json</c> stay.</summary>
    public static void Clear(string runDirectory)
    {
        foreach (var name in PipelineOutputs)
        {
            var path = Path.Combine(runDirectory, name);
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else if (File.Exists(path)) File.Delete(path);
        }
    }
}

using System.Text.Json;

namespace Marvel.Cli.Running;

/// <summary>What a run folder holds.</summary>
public enum RunFolderState
{
    /// <summary>No folder, or a folder without any pipeline file.</summary>
    Empty,
    /// <summary>Started but not finished (<c>status.json</c> says running, cancelled or diverged, or the process died).</summary>
    Incomplete,
    /// <summary><c>result.json</c> exists and <c>status.json</c> says completed.</summary>
    Complete,
}

/// <summary>
/// The one place that decides how an interrupted run continues. <b>Current behaviour:</b> a complete run is skipped; an
/// incomplete run is restarted from scratch in its folder (its partial pipeline files are deleted first; <c>config.json</c>
/// and the attempt counter in <c>run.json</c> are kept). Checkpoints written by the pipeline are not resumed from yet: the
/// library's resume API is being added separately and will replace <see cref="Prepare"/>'s restart.
/// </summary>
public static class RunResumer
{
    /// <summary>The pipeline's files and folders, deleted before an incomplete run restarts.</summary>
    private static readonly string[] PipelineOutputs =
        ["status.json", "result.json", "options.json", "metrics", "handover", "aligned", "checkpoints", "tensorboard", "qbias.json"];

    /// <summary>Reads the state of <paramref name="runDirectory"/>.</summary>
    public static RunFolderState ReadState(string runDirectory)
    {
        if (!Directory.Exists(runDirectory)) return RunFolderState.Empty;
        string status = Path.Combine(runDirectory, "status.json"), result = Path.Combine(runDirectory, "result.json");
        if (File.Exists(result) && ReadStatus(status) == "completed") return RunFolderState.Complete;
        return File.Exists(status) || File.Exists(result) || Directory.Exists(Path.Combine(runDirectory, "metrics"))
            ? RunFolderState.Incomplete : RunFolderState.Empty;
    }

    /// <summary>The <c>status</c> field of a <c>status.json</c>, or null when it is missing or unreadable.</summary>
    public static string? ReadStatus(string statusPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(statusPath));
            return doc.RootElement.TryGetProperty("status", out var s) ? s.GetString() : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Makes <paramref name="runDirectory"/> ready for a (re)start and says what was there. An incomplete run's pipeline
    /// files are deleted so it restarts from scratch.
    /// </summary>
    public static RunFolderState Prepare(string runDirectory)
    {
        var state = ReadState(runDirectory);
        if (state == RunFolderState.Incomplete)
        {
            foreach (var name in PipelineOutputs)
            {
                var path = Path.Combine(runDirectory, name);
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
                else if (File.Exists(path)) File.Delete(path);
            }
        }
        Directory.CreateDirectory(runDirectory);
        return state;
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Marvel.Core.Abstractions.IO;

namespace Marvel.Core.Pipeline.Stages;

/// <summary>
/// The checkpoints of a stage before the online one, <see cref="OfflineStage"/> (<c>checkpoints/offline/</c>) or <see cref="AlignmentStage"/>
/// (<c>checkpoints/alignment/</c>): folders
/// <c>step-NNNNNNNNNN/</c> written atomically (<see cref="AtomicFile.WriteDirectory"/>) with the stage's own state under <c>state/</c> and,
/// last, <c>stage.json</c> (format, stage, completed units); <c>latest</c> names the newest complete one. Only the newest is kept.
/// </summary>
internal sealed class StageCheckpointFolder
{
    private const int Format = 1;
    private const string MarkerName = "stage.json";
    private const string LatestName = "latest";

    /// <summary>The folder of the stage's own state inside a checkpoint.</summary>
    public const string StateFolder = "state";

    private readonly string _root;
    private readonly string _stage;

    public StageCheckpointFolder(string root, string stage)
    {
        _root = root;
        _stage = stage;
    }

    /// <summary>The newest complete checkpoint's folder and completed units, or null.</summary>
    public (string Path, long Completed)? Latest => Find(_root);

    /// <summary>Reads the newest complete checkpoint under <paramref name="root"/> without a store (for <see cref="RunDirectory.ReadStatus"/>).</summary>
    public static (string Path, long Completed)? Find(string root)
    {
        if (!Directory.Exists(root)) return null;
        var pointer = Path.Combine(root, LatestName);
        var candidates = new List<string>();
        if (File.Exists(pointer))
        {
            var name = File.ReadAllText(pointer).Trim();
            if (name.Length > 0 && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0) candidates.Add(Path.Combine(root, name));
        }
        candidates.AddRange(Directory.EnumerateDirectories(root, "step-*").OrderByDescending(d => Path.GetFileName(d), StringComparer.Ordinal));
        foreach (var folder in candidates)
        {
            var marker = Path.Combine(folder, MarkerName);
            if (!File.Exists(marker)) continue;
            try
            {
                var state = JsonSerializer.Deserialize<Marker>(File.ReadAllText(marker));
                if (state is { Format: Format }) return (folder, state.Completed);
            }
            catch (JsonException)
            {
                // An unreadable marker: that checkpoint is not complete; try the next one.
            }
        }
        return null;
    }

    /// <summary>Writes the checkpoint after <paramref name="completed"/> units: <paramref name="write"/> fills <c>state/</c> of a temporary
    /// folder, the marker goes in last, the folder is renamed into place, <c>latest</c> points at it and older ones are deleted.</summary>
    public void Save(long completed, Action<string> write)
    {
        var path = Path.Combine(_root, "step-" + completed.ToString("D10", CultureInfo.InvariantCulture));
        AtomicFile.WriteDirectory(path, temp =>
        {
            write(Path.Combine(temp, StateFolder));
            File.WriteAllText(Path.Combine(temp, MarkerName), JsonSerializer.Serialize(new Marker(Format, _stage, completed)));
        });
        AtomicFile.WriteAllText(Path.Combine(_root, LatestName), Path.GetFileName(path));
        foreach (var older in Directory.EnumerateDirectories(_root, "step-*").Where(d => !string.Equals(Path.GetFileName(d), Path.GetFileName(path), StringComparison.Ordinal)))
            try { Directory.Delete(older, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Removes the stage's checkpoints (its output is saved, so they are no longer needed).</summary>
    public void Delete()
    {
        try { if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private sealed record Marker(
        [property: JsonPropertyName("format")] int Format,
        [property: JsonPropertyName("stage")] string Stage,
        [property: JsonPropertyName("completed")] long Completed);
}

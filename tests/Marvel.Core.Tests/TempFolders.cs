namespace Marvel.Core.Tests;

/// <summary>Fresh folder paths under the system's temporary folder, all deleted by <see cref="DeleteAll"/> (call it from a
/// <c>[TearDown]</c>). A folder that cannot be deleted (still open elsewhere) is left behind rather than failing the test.</summary>
internal sealed class TempFolders
{
    private readonly string _prefix;
    private readonly List<string> _paths = new();

    /// <param name="prefix">Start of each folder's name, e.g. "marvel-fused-sac", so leftovers say which tests made them.</param>
    public TempFolders(string prefix) => _prefix = prefix;

    /// <summary>A new, not yet existing path (the code under test creates it).</summary>
    public string New()
    {
        var path = Path.Combine(Path.GetTempPath(), _prefix + "-" + Guid.NewGuid().ToString("N"));
        _paths.Add(path);
        return path;
    }

    /// <summary>Deletes every folder handed out so far.</summary>
    public void DeleteAll()
    {
        foreach (var path in _paths)
            try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); } catch (IOException) { }
        _paths.Clear();
    }
}

namespace Marvel.Plotting.Tests;

internal static class TempFolder
{
    /// <summary>A new empty folder under the system's temporary folder; the caller deletes it.</summary>
    public static string Create() => Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "marvel-plotting-tests", Guid.NewGuid().ToString("N"))).FullName;
}

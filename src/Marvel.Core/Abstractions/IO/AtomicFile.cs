namespace Marvel.Core.Abstractions.IO;

/// <summary>
/// Atomic file and folder writes: the content goes to a temporary sibling, is flushed to disk, and is
/// then renamed over the target. A crash or an exception mid-write leaves the previous file intact.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically through <paramref name="write"/>.</summary>
    /// <param name="path">The target file; its folder is created when missing.</param>
    /// <param name="write">Writes the whole content to the stream; it must not close the stream. The stream is
    /// readable, writable and seekable, because some encoders (PureHDF's HDF5 writer among them) read back what
    /// they wrote.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes text atomically (UTF-8, no BOM).</summary>
    public static void WriteAllText(string path, string contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        Write(path, s =>
        {
            using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
            w.Write(contents);
        });
    }

    /// <summary>Writes bytes atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>
    /// Writes a folder atomically: <paramref name="populate"/> fills a temporary sibling folder, which then
    /// replaces <paramref name="path"/>. An existing folder is kept until the new one is complete.
    /// </summary>
    /// <param name="path">The target folder.</param>
    /// <param name="populate">Fills the folder whose path it receives.</param>
    public static void WriteDirectory(string path, Action<string> populate)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(populate);
        var full = Path.GetFullPath(path.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var name = Path.GetFileName(full);
        RecoverDirectory(full);
        var temp = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        var old = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.old");
        Directory.CreateDirectory(temp);
        try
        {
            populate(temp);
            if (Directory.Exists(full))
            {
                Directory.Move(full, old);
                try { Directory.Move(temp, full); }
                catch
                {
                    Directory.Move(old, full);
                    throw;
                }
                TryDeleteDirectory(old);
            }
            else
            {
                Directory.Move(temp, full);
            }
        }
        catch
        {
            TryDeleteDirectory(temp);
            throw;
        }
    }

    /// <summary>
    /// Repairs what an interrupted <see cref="WriteDirectory"/> of <paramref name="path"/> left behind. A process killed between
    /// the swap's two renames leaves no target and the previous copy under <c>.&lt;name&gt;.&lt;guid&gt;.old</c>: that copy is
    /// renamed back. Then every leftover <c>.tmp</c> and <c>.old</c> sibling of this target is deleted. Called at the start of
    /// every folder write and by loaders; it assumes one writer per target at a time.
    /// </summary>
    /// <param name="path">The target folder.</param>
    /// <returns>True when a previous copy was restored.</returns>
    internal static bool RecoverDirectory(string path)
    {
        var full = Path.GetFullPath(path.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var parent = Path.GetDirectoryName(full);
        if (parent is null || !Directory.Exists(parent)) return false;
        var name = Path.GetFileName(full);
        var leftovers = Directory.EnumerateDirectories(parent, $".{name}.*")
            .Where(d => IsLeftover(Path.GetFileName(d), name))
            .ToList();
        if (leftovers.Count == 0) return false;
        bool restored = false;
        if (!Directory.Exists(full))
        {
            var previous = leftovers.Where(d => d.EndsWith(".old", StringComparison.Ordinal))
                .OrderByDescending(Directory.GetLastWriteTimeUtc).FirstOrDefault();
            if (previous is not null)
            {
                Directory.Move(previous, full);
                leftovers.Remove(previous);
                restored = true;
            }
        }
        foreach (var leftover in leftovers) TryDeleteDirectory(leftover);
        return restored;
    }

    // ".<name>.<32 hex digits>.tmp" or ".old", exactly as WriteDirectory names them.
    private static bool IsLeftover(string candidate, string name)
    {
        if (!candidate.StartsWith("." + name + ".", StringComparison.Ordinal)) return false;
        var rest = candidate.AsSpan(name.Length + 2);
        if (rest.Length != 32 + 4 || !(rest.EndsWith(".tmp") || rest.EndsWith(".old"))) return false;
        foreach (var c in rest[..32]) if (!char.IsAsciiHexDigitLower(c)) return false;
        return true;
    }

    private static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void TryDeleteDirectory(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

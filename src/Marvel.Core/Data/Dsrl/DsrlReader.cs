using System.Buffers.Binary;
using System.Globalization;
using PureHDF;
using PureHDF.VOL.Native;

namespace Marvel.Core.Data.Dsrl;

/// <summary>
/// Loads a DSRL HDF5 file in three passes, each failing with a message that names the file and the dataset:
/// the container (empty, not HDF5, truncated), the layout from the headers alone (missing keys, type, rank,
/// rows, widths), then the data. Value checks (finite, non-negative costs, non-empty) are
/// <see cref="OfflineDataset"/>'s.
/// </summary>
internal static class DsrlReader
{
    /// <summary>The 8-byte HDF5 format signature; it sits at byte 0, 512, 1024, 2048, ... of a file.</summary>
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    private const string LayoutHint = "see docs/datasets.md for the layout";

    public static OfflineDataset Read(string path, int? expectedObservationSize, int? expectedActionSize, EnvironmentSpec? expectedTask = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (expectedObservationSize is < 1)
            throw new ArgumentOutOfRangeException(nameof(expectedObservationSize), expectedObservationSize, "An expected observation size must be at least 1.");
        if (expectedActionSize is < 1)
            throw new ArgumentOutOfRangeException(nameof(expectedActionSize), expectedActionSize, "An expected action size must be at least 1.");

        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException(
                $"DSRL file '{full}' does not exist. Check the path, or download the task's file first (docs/datasets.md lists DSRL's files).", full);

        CheckContainer(full);

        using var file = Decode(full, null, () => H5File.OpenRead(full));
        if (expectedTask is not null) CheckTask(ReadAttributes(file, full), expectedTask, full);
        var layout = ReadLayout(file, full, expectedObservationSize, expectedActionSize);

        int obsSize = layout.ObservationSize, actSize = layout.ActionSize;
        var observations = ReadFloats(layout[DsrlSchema.Observations], full);
        var nextObservations = ReadFloats(layout[DsrlSchema.NextObservations], full);
        var actions = ReadFloats(layout[DsrlSchema.Actions], full);
        var rewards = ReadFloats(layout[DsrlSchema.Rewards], full);
        var costs = ReadFloats(layout[DsrlSchema.Costs], full);
        var terminals = ReadFlags(layout[DsrlSchema.Terminals], full);
        var timeouts = ReadFlags(layout[DsrlSchema.Timeouts], full);
        if (rewards.Length > 0 && !terminals.Contains(true) && !timeouts.Contains(true))
            throw new InvalidDataException(
                $"DSRL file '{full}': none of its {rewards.Length} rows has a '{DsrlSchema.Terminals}' or '{DsrlSchema.Timeouts}' flag set, so no episode ever ends " +
                "and the file holds no complete episode (DSRL splits episodes at these flags). Set 'timeouts' to true at the last row of each episode cut by the " +
                $"time limit and 'terminals' at each true end, then write the file again ({LayoutHint}).");

        try
        {
            return new OfflineDataset(obsSize, actSize, observations, actions, rewards, costs, nextObservations, terminals, timeouts, full);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException(
                $"{ex.Message} Fix the data where the file is produced and write it again ({LayoutHint}).", ex);
        }
    }

    /// <summary>The file's own attributes (task id, recipe, options, version, seed); all null for a file without them.</summary>
    public static DsrlFileAttributes ReadAttributes(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"DSRL file '{full}' does not exist. Check the path.", full);
        CheckContainer(full);
        using var file = Decode(full, null, () => H5File.OpenRead(full));
        return ReadAttributes(file, full);
    }

    private static DsrlFileAttributes ReadAttributes(NativeFile file, string path) => new()
    {
        TaskId = ReadText(file, path, DsrlFileAttributes.TaskIdName),
        Recipe = ReadText(file, path, DsrlFileAttributes.RecipeName),
        RecipeOptions = ReadText(file, path, DsrlFileAttributes.RecipeOptionsName),
        LibraryVersion = ReadText(file, path, DsrlFileAttributes.LibraryVersionName),
        Seed = ReadSeed(file, path),
    };

    private static string? ReadText(NativeFile file, string path, string name)
    {
        if (!Decode(path, null, () => file.AttributeExists(name))) return null;
        var attribute = Decode(path, null, () => file.Attribute(name));
        if (attribute.Type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength))
            throw new InvalidDataException($"DSRL file '{path}': attribute '{name}' has type {TypeName(attribute.Type)} but must be a string. " +
                $"Write it as a string, or remove it ({LayoutHint}).");
        return Decode(path, null, () => attribute.Read<string>());
    }

    private static ulong? ReadSeed(NativeFile file, string path)
    {
        const string name = DsrlFileAttributes.SeedName;
        if (!Decode(path, null, () => file.AttributeExists(name))) return null;
        var attribute = Decode(path, null, () => file.Attribute(name));
        if (attribute.Type.Class != H5DataTypeClass.FixedPoint || attribute.Type.Size != 8)
            throw new InvalidDataException($"DSRL file '{path}': attribute '{name}' has type {TypeName(attribute.Type)} but must be uint64. " +
                $"Write it as an unsigned 64-bit integer, or remove it ({LayoutHint}).");
        return Decode(path, null, () => attribute.Read<ulong>());
    }

    /// <summary>Refuses a file whose <c>task_id</c> attribute names another task than <paramref name="task"/> (its id or DSRL id);
    /// a file without the attribute (DSRL's own) passes.</summary>
    private static void CheckTask(DsrlFileAttributes attributes, EnvironmentSpec task, string path)
    {
        if (attributes.TaskId is not { } recorded) return;
        if (string.Equals(recorded, task.Id, StringComparison.Ordinal) || string.Equals(recorded, task.DsrlId, StringComparison.Ordinal)) return;
        throw new InvalidDataException(
            $"DSRL file '{path}' was recorded on task '{recorded}' (its attribute '{DsrlFileAttributes.TaskIdName}'), but task '{task.Id}' was requested. " +
            $"Its observations and costs mean something else on '{task.Id}'. Pass a dataset of '{task.Id}' (e.g. make one with " +
            $"'marvel collect --task {task.Id}'), or run task '{recorded}' with this file.");
    }

    // ---- Pass 1: the container ------------------------------------------------------------------------------

    /// <summary>Rejects empty files, files without the HDF5 signature, and files shorter than their superblock says.</summary>
    private static void CheckContainer(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        long length = stream.Length;
        if (length == 0)
            throw new InvalidDataException(
                $"DSRL file '{path}' is empty (0 bytes). An interrupted download or export leaves such a file; download or export it again.");

        long at = FindSignature(stream, length);
        if (at < 0)
        {
            stream.Position = 0;
            var head = new byte[(int)Math.Min(16, length)];
            stream.ReadExactly(head);
            throw new InvalidDataException(
                $"DSRL file '{path}' is not an HDF5 file: it has no HDF5 signature (it starts with {Printable(head)}). " +
                $"Pass the .hdf5 file of a DSRL task, or write one with h5py or DsrlFile.Write ({LayoutHint}).");
        }

        var end = EndOfFileAddress(stream, at, length);
        if (end is null)
            throw new InvalidDataException(
                $"DSRL file '{path}' is truncated: it ends ({length} bytes) inside its HDF5 superblock. Download or export it again.");
        if (end.Value > length)
            throw new InvalidDataException(
                $"DSRL file '{path}' is truncated: it has {length} bytes but its HDF5 superblock says the data runs to byte {end.Value}. " +
                "The download or export was cut short; get the file again.");
    }

    private static long FindSignature(FileStream stream, long length)
    {
        Span<byte> probe = stackalloc byte[8];
        for (long at = 0; at + 8 <= length; at = at == 0 ? 512 : at * 2)
        {
            stream.Position = at;
            stream.ReadExactly(probe);
            if (probe.SequenceEqual(Signature)) return at;
        }
        return -1;
    }

    /// <summary>
    /// The absolute end of the HDF5 data according to the superblock (its end-of-file address, already absolute), or null
    /// when the file ends inside the superblock. Returns <see cref="long.MinValue"/> (no check) for a superblock
    /// version or an address this parser does not know; the HDF5 decoder then has the last word.
    /// </summary>
    private static long? EndOfFileAddress(FileStream stream, long at, long length)
    {
        // Superblock v0/v1: signature, 5 version bytes, offset size at +13, length size at +14, then K values and
        // flags up to +24 (v0) or +28 (v1); then base, free-space, end-of-file and driver addresses.
        // Superblock v2/v3: signature, version, offset size at +9, length size, flags, then base, extension,
        // end-of-file and root addresses from +12.
        var header = new byte[28 + 3 * 8];
        stream.Position = at;
        int got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got < 14) return null;
        byte version = header[8];
        int offsetSize, addresses;
        switch (version)
        {
            case 0: offsetSize = header[13]; addresses = 24; break;
            case 1: offsetSize = header[13]; addresses = 28; break;
            case 2 or 3: offsetSize = header[9]; addresses = 12; break;
            default: return long.MinValue;
        }
        if (offsetSize is not (2 or 4 or 8)) return long.MinValue;
        const int eofField = 2; // base, then free-space (v0/v1) or extension (v2/v3), then end-of-file
        if (got < addresses + (eofField + 1) * offsetSize) return null;
        ulong baseAddress = ReadAddress(header.AsSpan(addresses, offsetSize));
        ulong eof = ReadAddress(header.AsSpan(addresses + eofField * offsetSize, offsetSize));
        ulong undefined = offsetSize == 8 ? ulong.MaxValue : (1UL << (8 * offsetSize)) - 1;
        if (eof == undefined || baseAddress == undefined) return long.MinValue;
        // The end-of-file address is absolute (the HDF5 library writes the relative end plus the base address), so a file
        // with a user block (base address 512, say) must not have its base added a second time. The base is still read
        // above so that an undefined one skips the check.
        return eof > long.MaxValue ? long.MinValue : (long)eof;
    }

    private static ulong ReadAddress(ReadOnlySpan<byte> bytes) => bytes.Length switch
    {
        2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(bytes),
    };

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '.';
        return $"'{new string(chars)}'";
    }

    // ---- Pass 2: the layout, from headers only ---------------------------------------------------------------

    private sealed record Entry(string Key, IH5Dataset Dataset, ulong[] Dimensions, IH5DataType Type);

    private sealed class Layout(Dictionary<string, Entry> entries, int observationSize, int actionSize)
    {
        public Entry this[string key] => entries[key];
        public int ObservationSize { get; } = observationSize;
        public int ActionSize { get; } = actionSize;
    }

    private static Layout ReadLayout(NativeFile file, string path, int? expectedObservationSize, int? expectedActionSize)
    {
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        if (!DsrlSchema.Keys.Any(key => Decode(path, key, () => file.LinkExists(key))))
        {
            var present = Decode(path, null, () => file.Children().Select(c => c.Name).Order(StringComparer.Ordinal).ToArray());
            throw new InvalidDataException(
                $"DSRL file '{path}' holds no transitions: none of the seven DSRL datasets ({string.Join(", ", DsrlSchema.Keys)}) is in it " +
                $"(the file holds: {(present.Length == 0 ? "nothing" : string.Join(", ", present))}). " +
                $"Pass the .hdf5 file of a DSRL task, or write one with DsrlFile.Write ({LayoutHint}).");
        }
        foreach (var key in DsrlSchema.Keys)
        {
            bool exists = Decode(path, key, () => file.LinkExists(key));
            if (!exists)
            {
                var present = Decode(path, null, () => file.Children().Select(c => c.Name).Order(StringComparer.Ordinal).ToArray());
                throw Bad(path, key,
                    $"is missing (the file holds: {(present.Length == 0 ? "nothing" : string.Join(", ", present))})",
                    $"A DSRL file needs all seven root datasets {string.Join(", ", DsrlSchema.Keys)}; write the missing one");
            }
            var item = Decode(path, key, () => file.Get(key));
            if (item is not IH5Dataset dataset)
                throw Bad(path, key, "is a group, not a dataset", "Store it as a dataset at the file's root");
            var dims = Decode(path, key, () => dataset.Space.Dimensions);
            var type = Decode(path, key, () => dataset.Type);
            entries[key] = new Entry(key, dataset, dims, type);
        }

        foreach (var key in new[] { DsrlSchema.Observations, DsrlSchema.NextObservations, DsrlSchema.Actions })
        {
            var e = entries[key];
            CheckFloatType(e, path);
            if (e.Dimensions.Length != 2)
                throw Bad(path, key, $"has rank {e.Dimensions.Length}, shape {Shape(e.Dimensions)}, but must be 2-D (N, {(key == DsrlSchema.Actions ? "actionSize" : "observationSize")})",
                    "Reshape it before writing, e.g. numpy's reshape(N, -1)");
        }
        foreach (var key in DsrlSchema.PerRowKeys)
        {
            var e = entries[key];
            if (key is DsrlSchema.Rewards or DsrlSchema.Costs) CheckFloatType(e, path);
            else CheckFlagType(e, path);
            bool ok = e.Dimensions.Length == 1 || (e.Dimensions.Length == 2 && e.Dimensions[1] == 1);
            if (!ok)
                throw Bad(path, key, $"has shape {Shape(e.Dimensions)} but must be (N,) or (N, 1), one value per transition",
                    "Reshape it before writing, e.g. numpy's reshape(-1)");
        }

        var obs = entries[DsrlSchema.Observations];
        ulong rows = obs.Dimensions[0];
        foreach (var key in DsrlSchema.Keys)
        {
            var e = entries[key];
            if (e.Dimensions[0] != rows)
                throw Bad(path, key, $"has {e.Dimensions[0]} rows but '{DsrlSchema.Observations}' has {rows}",
                    "Every dataset needs one row per transition; export the file again so that all seven agree");
        }

        var next = entries[DsrlSchema.NextObservations];
        if (next.Dimensions[1] != obs.Dimensions[1])
            throw Bad(path, DsrlSchema.NextObservations, $"has {next.Dimensions[1]} columns but '{DsrlSchema.Observations}' has {obs.Dimensions[1]}",
                "Both must hold full observations of the same task");
        if (expectedObservationSize is int eo && obs.Dimensions[1] != (ulong)eo)
            throw Bad(path, DsrlSchema.Observations, $"has {obs.Dimensions[1]} columns but the environment observes {eo} values",
                "Use the dataset recorded for this task, or pair the file with the environment it came from");
        var act = entries[DsrlSchema.Actions];
        if (expectedActionSize is int ea && act.Dimensions[1] != (ulong)ea)
            throw Bad(path, DsrlSchema.Actions, $"has {act.Dimensions[1]} columns but the environment takes {ea} action values",
                "Use the dataset recorded for this task, or pair the file with the environment it came from");

        foreach (var key in new[] { DsrlSchema.Observations, DsrlSchema.Actions })
        {
            var e = entries[key];
            if ((double)e.Dimensions[0] * e.Dimensions[1] > Array.MaxLength || e.Dimensions[1] > int.MaxValue)
                throw Bad(path, key, $"has shape {Shape(e.Dimensions)}, more values than one .NET array holds ({Array.MaxLength})",
                    "Split the dataset into several files");
        }

        return new Layout(entries, checked((int)obs.Dimensions[1]), checked((int)act.Dimensions[1]));
    }

    private static void CheckFloatType(Entry e, string path)
    {
        if (e.Type.Class == H5DataTypeClass.FloatingPoint && e.Type.Size is 4 or 8) return;
        throw Bad(path, e.Key, $"has type {TypeName(e.Type)} but must be float32 or float64",
            "Convert it before writing, e.g. numpy's astype(np.float32)");
    }

    private static void CheckFlagType(Entry e, string path)
    {
        var t = e.Type;
        bool ok = t.Class switch
        {
            H5DataTypeClass.FixedPoint => t.Size is 1 or 2 or 4 or 8,
            H5DataTypeClass.Enumerated => t.Enumeration.BaseType.Class == H5DataTypeClass.FixedPoint && t.Size is 1 or 2 or 4 or 8,
            H5DataTypeClass.FloatingPoint => t.Size is 4 or 8,
            _ => false,
        };
        if (!ok)
            throw Bad(path, e.Key, $"has type {TypeName(t)} but must be bool, an integer type or float (non-zero means true)",
                "Convert it before writing, e.g. numpy's astype(bool)");
    }

    private static string TypeName(IH5DataType t)
    {
        try
        {
            return t.Class switch
            {
                H5DataTypeClass.FixedPoint => $"{(t.FixedPoint.IsSigned ? "int" : "uint")}{t.Size * 8}",
                H5DataTypeClass.FloatingPoint => $"float{t.Size * 8}",
                H5DataTypeClass.Enumerated => $"enum over {TypeName(t.Enumeration.BaseType)}",
                _ => $"{t.Class.ToString().ToLowerInvariant()} ({t.Size} bytes)",
            };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return t.Class.ToString().ToLowerInvariant();
        }
    }

    private static string Shape(ulong[] dims) => dims.Length switch
    {
        0 => "() (a scalar)",
        1 => $"({dims[0]},)",
        _ => $"({string.Join(", ", dims)})",
    };

    // ---- Pass 3: the data ------------------------------------------------------------------------------------

    private static float[] ReadFloats(Entry e, string path)
    {
        if (e.Type.Size == 4) return Decode(path, e.Key, () => ReadAll<float[]>(e));
        var wide = Decode(path, e.Key, () => ReadAll<double[]>(e));
        var narrow = new float[wide.Length];
        for (int i = 0; i < wide.Length; i++) narrow[i] = (float)wide[i];
        return narrow;
    }

    private static bool[] ReadFlags(Entry e, string path)
    {
        if (e.Type.Class == H5DataTypeClass.FloatingPoint)
        {
            var values = e.Type.Size == 4
                ? Decode(path, e.Key, () => ReadAll<float[]>(e)).Select(v => (double)v).ToArray()
                : Decode(path, e.Key, () => ReadAll<double[]>(e));
            var flags = new bool[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                if (double.IsNaN(values[i]))
                    throw Bad(path, e.Key, $"row {i} is NaN; a flag must be a number, non-zero meaning true", "Store it as bool or 0/1");
                flags[i] = values[i] != 0;
            }
            return flags;
        }

        // Integers and enums (h5py's bool is an enum over int8): a value is non-zero iff one of its bytes is,
        // whatever its width, sign or byte order, so the raw bytes suffice.
        int width = (int)e.Type.Size;
        var raw = Decode(path, e.Key, () => ReadAll<byte[]>(e));
        if (raw.Length % width != 0)
            throw Bad(path, e.Key, $"decoded to {raw.Length} bytes, not a multiple of its {width}-byte type", "Export the file again");
        var result = new bool[raw.Length / width];
        for (int i = 0; i < result.Length; i++)
            result[i] = raw.AsSpan(i * width, width).IndexOfAnyExcept((byte)0) >= 0;
        return result;
    }

    /// <summary>
    /// Reads a whole dataset (flat, row-major) with a chunk cache that holds one band of chunks, i.e. the chunks
    /// that share a range of rows.
    /// </summary>
    /// <remarks>
    /// The decoder walks the selection row by row. h5py's automatic chunking splits wide arrays into column strips
    /// (e.g. (15625, 1) for 500 000 × 17 float32), so one row touches a chunk per column. When those chunks exceed
    /// the default 1 MiB cache, every row decompresses them all again: minutes instead of about a second for such
    /// an array (measured with PureHDF 2.2.0). A cache that holds two bands decompresses each chunk once.
    /// </remarks>
    private static T ReadAll<T>(Entry e)
    {
        if (e.Dataset is not NativeDataset native || native.Layout.Class != H5DataLayoutClass.Chunked)
            return e.Dataset.Read<T>();
        var chunks = native.Layout.Chunks;
        var dims = e.Dimensions;
        if (chunks.Length < dims.Length || dims.Length == 0) return e.Dataset.Read<T>();

        ulong chunkBytes = (ulong)e.Type.Size;
        ulong chunksPerBand = 1;
        for (int d = 0; d < dims.Length; d++)
        {
            ulong c = Math.Max(1UL, chunks[d]);
            chunkBytes *= c;
            if (d > 0) chunksPerBand *= (dims[d] + c - 1) / c;
        }
        int slots = (int)Math.Min(1 << 20, Math.Max(521, 2 * chunksPerBand + 1));
        ulong bytes = Math.Max(1UL << 20, 2 * chunksPerBand * chunkBytes);
        return native.Read<T>(new H5DatasetAccess(ChunkCache: new SimpleReadingChunkCache(slots, bytes)));
    }

    // ---- Errors ----------------------------------------------------------------------------------------------

    /// <summary>Runs one call into the HDF5 decoder and turns any failure into an error naming the file and key.</summary>
    private static T Decode<T>(string path, string? key, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var where = key is null ? "" : $" (dataset '{key}')";
            throw new InvalidDataException(
                $"DSRL file '{path}'{where} could not be decoded as HDF5: {ex.Message.TrimEnd('.')}. " +
                "The file is corrupt or uses an HDF5 feature PureHDF does not read; download or export it again.", ex);
        }
    }

    private static InvalidDataException Bad(string path, string key, string problem, string fix) =>
        new(string.Create(CultureInfo.InvariantCulture, $"DSRL file '{path}': dataset '{key}' {problem}. {fix} ({LayoutHint})."));
}

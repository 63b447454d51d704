using Marvel.Core.Abstractions.IO;
using PureHDF;
using PureHDF.Filters;
using PureHDF.VOL.Native;

namespace Marvel.Core.Data.Dsrl;

/// <summary>
/// Writes an <see cref="OfflineDataset"/> in DSRL's layout: float32 arrays, flags as h5py's bool, every dataset
/// chunked and deflate-compressed (HDF5 filter 1, which h5py calls "gzip"), through <see cref="AtomicFile"/>.
/// </summary>
internal static class DsrlWriter
{
    /// <summary>Upper bound on one chunk's uncompressed size (256 KiB): far below HDF5's 4 GiB chunk limit, and small
    /// enough that a reader can decompress a slice of rows without the whole array.</summary>
    private const int ChunkBytes = 1 << 18;

    public static void Write(OfflineDataset dataset, string path, DsrlFileAttributes? attributes = null) => Write(dataset, path, beforeCommit: null, attributes);

    /// <summary>Writes the file; <paramref name="beforeCommit"/> runs after the HDF5 content is in the temporary
    /// file and before it replaces the target (a test seam for failures at the last moment).</summary>
    internal static void Write(OfflineDataset dataset, string path, Action<Stream>? beforeCommit, DsrlFileAttributes? attributes = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentException.ThrowIfNullOrEmpty(path);

        int n = dataset.Count;
        var file = new H5File
        {
            [DsrlSchema.Observations] = Floats(dataset.Observations, n, dataset.ObservationSize, matrix: true),
            [DsrlSchema.NextObservations] = Floats(dataset.NextObservations, n, dataset.ObservationSize, matrix: true),
            [DsrlSchema.Actions] = Floats(dataset.Actions, n, dataset.ActionSize, matrix: true),
            [DsrlSchema.Rewards] = Floats(dataset.Rewards, n, 1, matrix: false),
            [DsrlSchema.Costs] = Floats(dataset.Costs, n, 1, matrix: false),
            [DsrlSchema.Terminals] = Flags(dataset.Terminals),
            [DsrlSchema.Timeouts] = Flags(dataset.Timeouts),
        };
        if (attributes is not null)
        {
            // Scalar attributes of the root group, in a fixed order (the file's bytes follow from its content alone).
            if (attributes.TaskId is { } task) file.Attributes[DsrlFileAttributes.TaskIdName] = task;
            if (attributes.Recipe is { } recipe) file.Attributes[DsrlFileAttributes.RecipeName] = recipe;
            if (attributes.RecipeOptions is { } options) file.Attributes[DsrlFileAttributes.RecipeOptionsName] = options;
            if (attributes.LibraryVersion is { } version) file.Attributes[DsrlFileAttributes.LibraryVersionName] = version;
            if (attributes.Seed is { } seed) file.Attributes[DsrlFileAttributes.SeedName] = seed;
        }

        AtomicFile.Write(path, stream =>
        {
            file.Write(stream);
            beforeCommit?.Invoke(stream);
        });
    }

    private static H5Dataset Floats(ReadOnlySpan<float> values, int rows, int columns, bool matrix)
    {
        uint chunkRows = ChunkRows(rows, columns * sizeof(float));
        return matrix
            ? new H5Dataset(values.ToArray(), chunks: [chunkRows, (uint)columns], fileDims: [(ulong)rows, (ulong)columns], datasetCreation: Deflate())
            : new H5Dataset(values.ToArray(), chunks: [chunkRows], fileDims: [(ulong)rows], datasetCreation: Deflate());
    }

    /// <summary>Flags as the HDF5 enum {FALSE = 0, TRUE = 1}, the encoding h5py maps to and from numpy bool.</summary>
    /// <remarks>h5py stores numpy bool as an enum over int8; PureHDF 2.2.0 cannot encode an sbyte-based enum, so
    /// ours is over uint8. h5py still reads it as numpy bool, since it recognizes bool by the two member names and values.</remarks>
    private static H5Dataset Flags(ReadOnlySpan<bool> values)
    {
        var encoded = new Hdf5Bool[values.Length];
        for (int i = 0; i < values.Length; i++) encoded[i] = values[i] ? Hdf5Bool.TRUE : Hdf5Bool.FALSE;
        return new H5Dataset(encoded, chunks: [ChunkRows(values.Length, 1)], fileDims: [(ulong)values.Length], datasetCreation: Deflate());
    }

    private static uint ChunkRows(int rows, int rowBytes) => (uint)Math.Clamp(ChunkBytes / Math.Max(1, rowBytes), 1, Math.Max(1, rows));

    private static H5DatasetCreation Deflate() => new(Filters: [new H5Filter(DeflateFilter.Id)]);

    /// <summary>h5py's bool encoding; PureHDF names the HDF5 enum members after these.</summary>
#pragma warning disable CA1707, CA1720 // the member names are the on-disk format h5py recognizes
    internal enum Hdf5Bool : byte
    {
        FALSE = 0,
        TRUE = 1,
    }
#pragma warning restore CA1707, CA1720
}

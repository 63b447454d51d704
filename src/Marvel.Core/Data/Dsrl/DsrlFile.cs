namespace Marvel.Core.Data.Dsrl;

/// <summary>
/// Reads and writes offline safe-RL datasets in DSRL's HDF5 layout: seven root datasets
/// (<see cref="DsrlSchema.Keys"/>), one row per transition.
/// </summary>
/// <remarks>
/// <para>Reading accepts what DSRL's own export and h5py produce: float32 or float64 arrays (loaded as float32),
/// per-row arrays of shape (N,) or (N, 1), and flags stored as numpy bool (an HDF5 enum over int8), any integer
/// type or float, where non-zero means true.</para>
/// <para>Writing produces float32 arrays and bool flags as h5py writes them (an HDF5 enum FALSE = 0, TRUE = 1, which
/// h5py reads back as numpy bool), all deflate (gzip) compressed in chunks, and replaces the target atomically.</para>
/// <para>Episodes follow DSRL's rule, see <see cref="OfflineDataset.Episodes"/>. The layout and a guide to bringing
/// your own data are in <c>docs/datasets.md</c>.</para>
/// </remarks>
/// <example>
/// <code>
/// var data = DsrlFile.Read("SafetyBallCircle-v0-80-886.hdf5", expectedObservationSize: 8, expectedActionSize: 2);
/// var small = data.SelectEpisodes(e =&gt; e.Cost &lt;= 20);
/// DsrlFile.Write(small, "BallCircle-cost20.hdf5");
/// </code>
/// </example>
public static class DsrlFile
{
    /// <summary>Loads a DSRL HDF5 file completely, checking its layout before any data is read.</summary>
    /// <param name="path">The .hdf5 file.</param>
    /// <param name="expectedObservationSize">The environment's observation length; when given, the file's must match.</param>
    /// <param name="expectedActionSize">The environment's action length; when given, the file's must match.</param>
    /// <returns>The validated dataset; its <see cref="OfflineDataset.Source"/> is the full path.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An expected size is below 1.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty, truncated, not HDF5 or corrupt; a dataset is
    /// missing or has the wrong type, rank, row count or width; or a value is NaN, infinite or a negative cost.
    /// The message names the file, the dataset and how to fix it. Nothing is returned partly loaded.</exception>
    public static OfflineDataset Read(string path, int? expectedObservationSize = null, int? expectedActionSize = null) =>
        DsrlReader.Read(path, expectedObservationSize, expectedActionSize);

    /// <summary>
    /// Loads a DSRL HDF5 file for task <paramref name="task"/>: as <see cref="Read"/>, and first refuses a file whose
    /// <see cref="DsrlFileAttributes.TaskId"/> names another task. A file without that attribute (DSRL's own) is accepted.
    /// </summary>
    /// <param name="path">The .hdf5 file.</param>
    /// <param name="task">The task the data is meant for; the file's task id must equal its <see cref="EnvironmentSpec.Id"/> or
    /// <see cref="EnvironmentSpec.DsrlId"/>.</param>
    /// <param name="expectedObservationSize">The environment's observation length; when given, the file's must match.</param>
    /// <param name="expectedActionSize">The environment's action length; when given, the file's must match.</param>
    /// <returns>The validated dataset.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="task"/> is null.</exception>
    /// <exception cref="InvalidDataException">The file was recorded on another task (the message names both ids and the fix), or any
    /// failure of <see cref="Read"/>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static OfflineDataset ReadForTask(string path, EnvironmentSpec task, int? expectedObservationSize = null, int? expectedActionSize = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        return DsrlReader.Read(path, expectedObservationSize, expectedActionSize, task);
    }

    /// <summary>Reads the attributes a file carries about its making (task id, recipe and options, library version, seed).</summary>
    /// <param name="path">The .hdf5 file.</param>
    /// <returns>The attributes; every property is null for a file without them, such as DSRL's own.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not readable HDF5, or an attribute has the wrong type.</exception>
    public static DsrlFileAttributes ReadAttributes(string path) => DsrlReader.ReadAttributes(path);

    /// <summary>Writes <paramref name="dataset"/> as a DSRL HDF5 file, replacing <paramref name="path"/> atomically.</summary>
    /// <param name="dataset">The transitions to write.</param>
    /// <param name="path">The target file; its folder is created when missing. An existing file stays intact if the write fails.</param>
    /// <exception cref="ArgumentNullException"><paramref name="dataset"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file system refused the write.</exception>
    public static void Write(OfflineDataset dataset, string path) => DsrlWriter.Write(dataset, path);

    /// <summary>Writes <paramref name="dataset"/> with <paramref name="attributes"/> on the file's root, replacing <paramref name="path"/> atomically.</summary>
    /// <param name="dataset">The transitions to write.</param>
    /// <param name="path">The target file; its folder is created when missing. An existing file stays intact if the write fails.</param>
    /// <param name="attributes">The file's task id, recipe, options, version and seed; null fields are left out.</param>
    /// <exception cref="ArgumentNullException"><paramref name="dataset"/> or <paramref name="attributes"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file system refused the write.</exception>
    public static void Write(OfflineDataset dataset, string path, DsrlFileAttributes attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        DsrlWriter.Write(dataset, path, attributes);
    }
}

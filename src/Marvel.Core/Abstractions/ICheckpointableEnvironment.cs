namespace Marvel.Core.Abstractions;

/// <summary>
/// Optional capability of an <see cref="IEnvironment"/> or <see cref="IVectorEnvironment"/>: write and read back everything that
/// determines its future (simulator state, random generator, step counter, running statistics of wrappers), so a checkpointed run
/// continues bit-identically, also in the middle of an episode.
/// </summary>
/// <remarks>
/// <para>The format is the implementation's own binary layout, read back only by an instance built the same way (same task, same
/// wrappers in the same order). A wrapper writes its own state, then its inner environment's.</para>
/// <para>Wrappers implement this interface whatever they wrap; <see cref="CanSaveState"/> says whether the whole chain supports it.</para>
/// </remarks>
public interface ICheckpointableEnvironment
{
    /// <summary>True when <see cref="SaveState"/> and <see cref="LoadState"/> are supported (for a wrapper: by every environment it wraps).</summary>
    bool CanSaveState { get; }

    /// <summary>Writes the complete state.</summary>
    /// <param name="writer">Receives the state; not closed.</param>
    /// <exception cref="NotSupportedException"><see cref="CanSaveState"/> is false; the message names the environment that lacks support.</exception>
    void SaveState(BinaryWriter writer);

    /// <summary>Restores a state written by <see cref="SaveState"/> of an identically built instance.</summary>
    /// <param name="reader">Positioned at the state; left after it.</param>
    /// <exception cref="InvalidDataException">The state was written by another kind of environment or is truncated.</exception>
    /// <exception cref="NotSupportedException"><see cref="CanSaveState"/> is false.</exception>
    void LoadState(BinaryReader reader);
}

/// <summary>Helpers around <see cref="ICheckpointableEnvironment"/>.</summary>
internal static class EnvironmentState
{
    /// <summary>True when <paramref name="environment"/> (a task, a wrapper chain or a vector) can save and restore its state.</summary>
    public static bool CanSave(object environment) => environment is ICheckpointableEnvironment { CanSaveState: true };

    /// <summary>Writes a tag that <see cref="ReadTag"/> checks, so a state read by the wrong kind of environment fails clearly.</summary>
    public static void WriteTag(this BinaryWriter writer, string tag)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(tag);
    }

    /// <summary>Reads a tag written by <see cref="WriteTag"/> and throws an <see cref="InvalidDataException"/> naming both when it differs.</summary>
    public static void ReadTag(this BinaryReader reader, string expected)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string tag;
        try { tag = reader.ReadString(); }
        catch (EndOfStreamException e) { throw new InvalidDataException($"Environment state ends before the '{expected}' section; the checkpoint is truncated.", e); }
        if (!string.Equals(tag, expected, StringComparison.Ordinal))
            throw new InvalidDataException($"Environment state section is '{tag}' but '{expected}' was expected: the checkpoint was written by a differently built environment.");
    }
}

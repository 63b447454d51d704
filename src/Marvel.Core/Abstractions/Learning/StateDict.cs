using System.Text;

namespace Marvel.Core.Abstractions.Learning;

/// <summary>One named float32 tensor held in managed memory.</summary>
/// <param name="Name">The parameter name, e.g. "net.0.weight".</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Values">Its values, row-major; length = product of <paramref name="Shape"/>.</param>
public sealed record NamedTensor(string Name, long[] Shape, float[] Values)
{
    /// <summary>The shape as text, e.g. "[256, 8]".</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// The parameters (and buffers) of one network, as managed arrays. Holding no native tensors, a state dict
/// can live anywhere (artifacts, checkpoints) without a dispose scope, and compares exactly.
/// </summary>
public sealed class StateDict
{
    private const uint Magic = 0x4453564D; // "MVSD"
    private const int Version = 1;
    private readonly Dictionary<string, NamedTensor> _entries;

    /// <summary>Creates a state dict from its entries (names must be unique).</summary>
    /// <exception cref="ArgumentException">A name repeats or an entry's value count disagrees with its shape.</exception>
    public StateDict(IEnumerable<NamedTensor> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        _entries = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            long count = e.Shape.Aggregate(1L, (a, b) => a * b);
            if (count != e.Values.Length)
                throw new ArgumentException($"State-dict entry '{e.Name}' has shape {e.ShapeText} ({count} values) but {e.Values.Length} values.");
            if (!_entries.TryAdd(e.Name, e))
                throw new ArgumentException($"State-dict entry '{e.Name}' appears twice.");
        }
    }

    /// <summary>The entries, in insertion order.</summary>
    public IReadOnlyCollection<NamedTensor> Entries => _entries.Values;

    /// <summary>Looks up an entry.</summary>
    public bool TryGet(string name, out NamedTensor entry) => _entries.TryGetValue(name, out entry!);

    /// <summary>Total number of scalar values.</summary>
    public long ParameterCount => _entries.Values.Sum(e => (long)e.Values.Length);

    /// <summary>True when both dicts have the same names, shapes and bit-identical values.</summary>
    public bool ContentEquals(StateDict other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._entries.Count != _entries.Count) return false;
        foreach (var (name, e) in _entries)
        {
            if (!other._entries.TryGetValue(name, out var o)) return false;
            if (!e.Shape.AsSpan().SequenceEqual(o.Shape) || !e.Values.AsSpan().SequenceEqual(o.Values)) return false;
        }
        return true;
    }

    /// <summary>Writes the binary form (magic, version, entries with name, shape and little-endian floats).</summary>
    public void WriteTo(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Version);
        w.Write(_entries.Count);
        foreach (var e in _entries.Values)
        {
            w.Write(e.Name);
            w.Write(e.Shape.Length);
            foreach (var d in e.Shape) w.Write(d);
            w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(e.Values.AsSpan()));
        }
    }

    /// <summary>Reads the binary form written by <see cref="WriteTo"/>.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="source">File path or description, for error messages.</param>
    /// <exception cref="InvalidDataException">The content is not a state dict, is of another version, or is truncated.</exception>
    public static StateDict ReadFrom(Stream stream, string source)
    {
        try
        {
            using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            if (r.ReadUInt32() != Magic) throw new InvalidDataException($"'{source}' is not a Marvel state-dict file (bad magic number).");
            int version = r.ReadInt32();
            if (version != Version) throw new InvalidDataException($"'{source}' is a state-dict file of format version {version}; this library reads version {Version}.");
            int count = r.ReadInt32();
            if (count < 0 || count > 1_000_000) throw new InvalidDataException($"'{source}': implausible entry count {count}; the file is corrupt.");
            var list = new List<NamedTensor>(count);
            for (int i = 0; i < count; i++)
            {
                string name = r.ReadString();
                int rank = r.ReadInt32();
                if (rank < 0 || rank > 8) throw new InvalidDataException($"'{source}': entry '{name}' has rank {rank}; the file is corrupt.");
                var shape = new long[rank];
                long n = 1;
                for (int k = 0; k < rank; k++)
                {
                    shape[k] = r.ReadInt64();
                    if (shape[k] < 0) throw new InvalidDataException($"'{source}': entry '{name}' has a negative dimension; the file is corrupt.");
                    n *= shape[k];
                }
                if (n > int.MaxValue) throw new InvalidDataException($"'{source}': entry '{name}' is too large; the file is corrupt.");
                var values = new float[n];
                var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
                int read = 0;
                while (read < bytes.Length)
                {
                    int got = stream.Read(bytes[read..]);
                    if (got == 0) throw new EndOfStreamException();
                    read += got;
                }
                list.Add(new NamedTensor(name, shape, values));
            }
            return new StateDict(list);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"'{source}' ends early: the state-dict file is truncated. Re-save it.", e);
        }
    }
}

using System.Text;

namespace Marvel.Core.Inference;

/// <summary>
/// The few Protocol Buffers encodings an ONNX model needs: varints, length-delimited strings, bytes and nested messages
/// (wire types 0 and 2). Nested messages are written into their own buffer first, so their length prefix is known.
/// </summary>
internal sealed class ProtobufWriter
{
    private const int Varint = 0, LengthDelimited = 2;
    private readonly MemoryStream _buffer = new();

    /// <summary>The bytes written so far.</summary>
    public byte[] ToArray() => _buffer.ToArray();

    /// <summary>An int64/int32/enum field (varint; negative values take ten bytes, as the format says).</summary>
    public ProtobufWriter Int64(int field, long value)
    {
        Tag(field, Varint);
        WriteVarint(unchecked((ulong)value));
        return this;
    }

    /// <summary>A UTF-8 string field.</summary>
    public ProtobufWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field.</summary>
    public ProtobufWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    /// <summary>A nested message field, written by <paramref name="body"/>.</summary>
    public ProtobufWriter Message(int field, Action<ProtobufWriter> body)
    {
        var inner = new ProtobufWriter();
        body(inner);
        return Bytes(field, inner._buffer.GetBuffer().AsSpan(0, (int)inner._buffer.Length));
    }

    private void Tag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _buffer.WriteByte((byte)value);
    }
}

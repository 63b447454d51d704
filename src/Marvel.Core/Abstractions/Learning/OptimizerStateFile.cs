namespace Marvel.Core.Abstractions.Learning;

/// <summary>
/// Structural check of an optimizer state saved by TorchSharp's <c>Optimizer.save_state_dict</c> for Adam or AdamW, without
/// an optimizer at hand: every record is walked and every tensor's bytes must be present, so a truncated or padded file is
/// refused when the artifact loads instead of when a learner restores it.
/// </summary>
/// <remarks>
/// Layout (TorchSharp 0.107): type name (BinaryWriter string); LEB128 group count; LEB128 state count; per group the learning
/// rates (2 doubles), β₁, β₂, ε, weight decay (4 doubles), amsgrad and maximize (2 bools); per parameter the step (Int64),
/// exp_avg and exp_avg_sq, then a bool and, when true, max_exp_avg_sq. A tensor is LEB128 dtype, LEB128 rank, LEB128 sizes,
/// then the raw elements. Other optimizer kinds are left to TorchSharp's own loader.
/// </remarks>
internal static class OptimizerStateFile
{
    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="source"/> and the record when the bytes end early or run on.</summary>
    public static void Check(byte[] bytes, string source)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        using var reader = new BinaryReader(stream);
        string kind;
        try
        {
            kind = reader.ReadString();
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or IOException)
        {
            return; // not a TorchSharp optimizer state we know; TorchSharp's loader has the last word
        }
        if (kind is not ("Adam" or "AdamW")) return;
        string where = "the group and state counts";
        try
        {
            long groups = Leb128(reader), states = Leb128(reader);
            if (groups is < 0 or > 1_000 || states is < 0 or > 1_000_000)
                throw new InvalidDataException($"Optimizer state '{source}' ({kind}) claims {groups} parameter groups and {states} parameter states; the file is corrupt. Export the artifact again.");
            for (long g = 0; g < groups; g++)
            {
                where = $"parameter group {g}";
                for (int i = 0; i < 6; i++) reader.ReadDouble();
                reader.ReadBoolean();
                reader.ReadBoolean();
            }
            for (long p = 0; p < states; p++)
            {
                where = $"the state of parameter {p} (step)";
                reader.ReadInt64();
                where = $"the state of parameter {p} (exp_avg)";
                SkipTensor(reader, source);
                where = $"the state of parameter {p} (exp_avg_sq)";
                SkipTensor(reader, source);
                where = $"the state of parameter {p} (max_exp_avg_sq flag)";
                if (reader.ReadBoolean())
                {
                    where = $"the state of parameter {p} (max_exp_avg_sq)";
                    SkipTensor(reader, source);
                }
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException(
                $"Optimizer state '{source}' is truncated: it ends ({bytes.Length} bytes) inside {where}. The save was cut short; export the artifact again, " +
                "or delete this file to start the optimizer fresh.", e);
        }
        if (stream.Position != bytes.Length)
            throw new InvalidDataException(
                $"Optimizer state '{source}' has {bytes.Length - stream.Position} bytes after its last record; the file is corrupt. Export the artifact again.");
    }

    private static void SkipTensor(BinaryReader reader, string source)
    {
        long dtype = Leb128(reader), rank = Leb128(reader);
        if (rank is < 0 or > 16) throw new InvalidDataException($"Optimizer state '{source}': a tensor of rank {rank}; the file is corrupt. Export the artifact again.");
        long count = 1;
        for (long i = 0; i < rank; i++) count = checked(count * Leb128(reader));
        long bytes = checked(count * ElementSize(dtype, source));
        if (reader.BaseStream.Length - reader.BaseStream.Position < bytes) throw new EndOfStreamException();
        reader.BaseStream.Seek(bytes, SeekOrigin.Current);
    }

    // torch.ScalarType codes: Byte 0, Int8 1, Int16 2, Int32 3, Int64 4, Float16 5, Float32 6, Float64 7, Bool 11, BFloat16 15.
    private static long ElementSize(long dtype, string source) => dtype switch
    {
        0 or 1 or 11 => 1,
        2 or 5 or 15 => 2,
        3 or 6 => 4,
        4 or 7 => 8,
        _ => throw new InvalidDataException($"Optimizer state '{source}': a tensor of unknown dtype code {dtype}; the file is corrupt. Export the artifact again."),
    };

    private static long Leb128(BinaryReader reader)
    {
        long result = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (shift > 56) throw new InvalidDataException("An LEB128 number runs over 8 bytes; the optimizer state is corrupt.");
            long b = reader.ReadByte();
            result |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
        }
    }
}

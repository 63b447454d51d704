namespace Marvel.Core.Abstractions;

/// <summary>
/// Tensors built from managed data by copying it into memory that libtorch allocated. A tensor made over a managed array hands the
/// kernels an address whose alignment changes from call to call, and vectorised kernels then round the last bits differently
/// (found in <c>InferencePolicy</c>, the offline learners' policy and CDT's policy); a copy into libtorch's own, aligned memory gives
/// the same bits every call.
/// </summary>
internal static class TorchInputs
{
    /// <summary>A float32 tensor of <paramref name="shape"/> holding <paramref name="values"/>, on <paramref name="device"/>; it belongs to
    /// the caller's dispose scope.</summary>
    public static Tensor Float32(ReadOnlySpan<float> values, long[] shape, Device device)
    {
        var cpu = empty(shape, ScalarType.Float32);
        cpu.data<float>().CopyFrom(values);
        return device.type == TorchSharp.DeviceType.CPU ? cpu : cpu.to(device);
    }

    /// <summary>An int64 tensor of <paramref name="shape"/> holding <paramref name="values"/>, on <paramref name="device"/>.</summary>
    public static Tensor Int64(ReadOnlySpan<long> values, long[] shape, Device device)
    {
        var cpu = empty(shape, ScalarType.Int64);
        cpu.data<long>().CopyFrom(values);
        return device.type == TorchSharp.DeviceType.CPU ? cpu : cpu.to(device);
    }
}

using System.Runtime.CompilerServices;

namespace Marvel.Core.Networks;

/// <summary>
/// One contiguous buffer for all parameters of a module and one for their gradients, with every parameter (and its
/// <c>.grad</c>) turned into a view of its slice. Elementwise work over the whole network (Adam, <c>zero_grad</c>, Polyak) then
/// runs as a few native calls on the two buffers instead of several per parameter tensor, with the same arithmetic per element.
/// </summary>
/// <remarks>
/// <para>Each slice starts at a multiple of <see cref="AlignmentElements"/> elements (64 bytes), the alignment libtorch gives a
/// tensor of its own, so matrix kernels see the same operand alignment as before and round the same way; the gaps hold zeros
/// and stay zero under Adam and Polyak.</para>
/// <para>The gradients stay views because autograd accumulates into a defined <c>.grad</c> in place and <c>zero_grad</c> zeroes it in
/// place. Anything that replaces a parameter's storage or its <c>.grad</c> (moving the module to another device, <c>set_to_none</c>)
/// detaches it from the buffers; <see cref="IsIntact"/> tells. Flatten after the module reached its device.</para>
/// </remarks>
internal sealed class FlatParameters : IDisposable
{
    /// <summary>Slice alignment in elements (64 bytes of float32).</summary>
    public const int AlignmentElements = 16;

    private static readonly ConditionalWeakTable<nn.Module, FlatParameters> ByModule = new();
    private readonly nn.Module _module;
    private readonly Parameter[] _parameters;
    private readonly long[] _offsets;

    private FlatParameters(nn.Module module, Parameter[] parameters, long[] offsets, Tensor values, Tensor? gradients)
    {
        _module = module;
        _parameters = parameters;
        _offsets = offsets;
        Values = values;
        Gradients = gradients;
    }

    /// <summary>All parameter values, [Length] (gaps between slices included).</summary>
    public Tensor Values { get; }

    /// <summary>All gradients, same layout as <see cref="Values"/>; null when flattened without gradients (a target network).</summary>
    public Tensor? Gradients { get; }

    /// <summary>The parameters in <c>module.parameters()</c> order, each a view of its slice.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The start of each parameter's slice, in <see cref="Parameters"/> order.</summary>
    public IReadOnlyList<long> Offsets => _offsets;

    /// <summary>Elements in each buffer.</summary>
    public long Length => Values.shape[0];

    /// <summary>The buffers of <paramref name="module"/> when it was flattened with <see cref="Flatten"/>, else null.</summary>
    public static FlatParameters? Of(nn.Module module) => ByModule.TryGetValue(module, out var flat) ? flat : null;

    /// <summary>
    /// Moves the parameters of <paramref name="module"/> into one buffer and their gradients into another (values unchanged, gradients
    /// zero) and registers the result for <see cref="Of"/>. Flattening a flattened module returns its existing buffers.
    /// </summary>
    /// <param name="module">The network, already on its device.</param>
    /// <param name="gradients">Also give the gradients one buffer (false for a network that is never trained by gradient, e.g. a Polyak target).</param>
    /// <param name="layout">Where each parameter's slice starts, given the parameters in <c>module.parameters()</c> order (slices must not
    /// overlap); by default each one after the previous, at the next multiple of <see cref="AlignmentElements"/>.</param>
    /// <param name="storage">Supplies the two buffers given their length (zero-filled, 1-D, float32, on the parameters' device; the gradient
    /// buffer only when <paramref name="gradients"/>), e.g. slices of a larger buffer (<see cref="SeedStackedNetwork"/>); fresh buffers when null.
    /// The returned object owns the tensors it was given (disposing a view frees only the view).</param>
    /// <exception cref="ArgumentException">A parameter is not float32, the parameters are on different devices, or there are none.</exception>
    public static FlatParameters Flatten(nn.Module module, bool gradients = true, Func<Parameter[], long[]>? layout = null,
        Func<long, (Tensor Values, Tensor? Gradients)>? storage = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (Of(module) is { } existing) return existing;
        var parameters = module.parameters().ToArray();
        if (parameters.Length == 0) throw new ArgumentException("The module has no parameters to flatten.", nameof(module));
        var dtype = ScalarType.Float32;
        var device = parameters[0].device;
        var offsets = new long[parameters.Length];
        long length = 0;
        for (int i = 0; i < parameters.Length; i++)
        {
            if (parameters[i].dtype != ScalarType.Float32 || parameters[i].device_type != device.type || parameters[i].device_index != device.index)
                throw new ArgumentException("Every parameter of a flattened module must be float32 and on one device.", nameof(module));
            offsets[i] = length;
            length += (parameters[i].numel() + AlignmentElements - 1) / AlignmentElements * AlignmentElements;
        }
        if (layout is not null)
        {
            offsets = layout(parameters);
            length = parameters.Select((p, i) => offsets[i] + p.numel()).Max();
            length = (length + AlignmentElements - 1) / AlignmentElements * AlignmentElements;
        }
        Tensor values;
        Tensor? gradientBuffer;
        if (storage is null)
        {
            values = zeros(new[] { length }, dtype, device).DetachFromDisposeScope();
            gradientBuffer = gradients ? zeros(new[] { length }, dtype, device).DetachFromDisposeScope() : null;
        }
        else
        {
            (values, gradientBuffer) = storage(length);
            if (values.shape.Length != 1 || values.shape[0] != length || (gradients && (gradientBuffer is null || gradientBuffer.shape.Length != 1 || gradientBuffer.shape[0] != length)))
                throw new ArgumentException($"The supplied buffers must be 1-D of length {length}.", nameof(storage));
            if (!gradients) gradientBuffer = null;
        }
        using (no_grad())
        {
            for (int i = 0; i < parameters.Length; i++)
            {
                var p = parameters[i];
                using var slice = values.narrow(0, offsets[i], p.numel());
                using var view = slice.view(p.shape);
                view.copy_(p);
                p.set_(view);
                if (gradientBuffer is null) continue;
                using var gradientSlice = gradientBuffer.narrow(0, offsets[i], p.numel());
                using var gradientView = gradientSlice.view(p.shape);
                p.grad = gradientView;
            }
        }
        var flat = new FlatParameters(module, parameters, offsets, values, gradientBuffer);
        ByModule.AddOrUpdate(module, flat);
        return flat;
    }

    /// <summary>True while every parameter and every gradient is still a view of the buffers (nothing replaced them).</summary>
    public bool IsIntact
    {
        get
        {
            IntPtr valueBase = StorageOf(Values), gradientBase = Gradients is null ? IntPtr.Zero : StorageOf(Gradients);
            long valueStart = Values.storage_offset(), gradientStart = Gradients?.storage_offset() ?? 0;
            for (int i = 0; i < _parameters.Length; i++)
            {
                var p = _parameters[i];
                if (StorageOf(p) != valueBase || p.storage_offset() != valueStart + _offsets[i]) return false;
                if (Gradients is null) continue;
                using var g = p.grad;
                if (g is null || StorageOf(g) != gradientBase || g.storage_offset() != gradientStart + _offsets[i]) return false;
            }
            return true;
        }
    }

    /// <summary>True when <paramref name="other"/> has the same slices (same parameter shapes in the same order).</summary>
    public bool SameLayout(FlatParameters other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Length != Length || other._parameters.Length != _parameters.Length) return false;
        for (int i = 0; i < _parameters.Length; i++)
            if (other._offsets[i] != _offsets[i] || !other._parameters[i].shape.AsSpan().SequenceEqual(_parameters[i].shape)) return false;
        return true;
    }

    /// <summary>True when <paramref name="parameters"/> are exactly <see cref="Parameters"/>, in order.</summary>
    public bool Covers(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count != _parameters.Length) return false;
        for (int i = 0; i < _parameters.Length; i++)
            if (parameters[i].Handle != _parameters[i].Handle) return false;
        return true;
    }

    /// <summary>The flat buffers whose parameters are exactly <paramref name="parameters"/> in order (the optimizer's view), else null.</summary>
    public static FlatParameters? Find(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) return null;
        foreach (var (_, flat) in ByModule)
            if (flat.Covers(parameters)) return flat;
        return null;
    }

    /// <summary>Frees the two buffers (the parameters keep their storage alive as long as they live).</summary>
    public void Dispose()
    {
        ByModule.Remove(_module);
        Values.Dispose();
        Gradients?.Dispose();
    }

    private static IntPtr StorageOf(Tensor t) => t.storage<float>().data_ptr();
}

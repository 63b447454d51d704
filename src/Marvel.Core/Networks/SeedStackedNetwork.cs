namespace Marvel.Core.Networks;

/// <summary>
/// K seeds' copies of one network in one value buffer and one gradient buffer of K·L elements, seed after seed: seed k's
/// <see cref="FlatParameters"/> (length L) are views of slice k, so each seed's network, optimizer and checkpoint work as they do alone,
/// and every parameter also has a stacked view [K, …] across the seeds (stride L) for batched products.
/// </summary>
/// <remarks>
/// <para>The stacked views are leaves for autograd whose gradients are the matching views of the stacked gradient buffer, i.e. the same
/// memory as each seed's own gradients; a loss Σ_k loss_k back-propagated through them leaves in seed k's gradients exactly ∂loss_k/∂θ_k.
/// A 1-D parameter (a bias) [n] is stacked as [K, 1, n] so that it broadcasts over the batch in <c>baddbmm</c>.</para>
/// <para>Seeds join with <see cref="Flatten"/> in any order; every seed's network must have the same layout (same sizes). The stacked views
/// exist once all K seeds have joined.</para>
/// <para>The stacked views are not dense (stride L between seeds), so the first backward pass through them makes libtorch print once per
/// process "grad and param do not obey the gradient layout contract": it then accumulates into the given gradient views in place, which
/// is what is wanted here (a dense gradient of its own would not be the seeds' gradients).</para>
/// </remarks>
internal sealed class SeedStackedNetwork : IDisposable
{
    private readonly FlatParameters?[] _seeds;
    private Tensor[]? _stacked;
    private bool _requiresGrad;

    /// <summary>An empty stack for <paramref name="seeds"/> seeds.</summary>
    /// <param name="seeds">K ≥ 1.</param>
    /// <param name="gradients">Whether the seeds' networks are trained by gradient (false for Polyak targets).</param>
    public SeedStackedNetwork(int seeds, bool gradients)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seeds);
        _seeds = new FlatParameters?[seeds];
        HasGradients = gradients;
    }

    /// <summary>K.</summary>
    public int Seeds => _seeds.Length;

    /// <summary>Whether the stack has a gradient buffer.</summary>
    public bool HasGradients { get; }

    /// <summary>L, the elements of one seed's slice (0 until the first seed joined).</summary>
    public long SeedLength { get; private set; }

    /// <summary>All seeds' parameter values, [K·L].</summary>
    public Tensor? Values { get; private set; }

    /// <summary>All seeds' gradients, [K·L]; null without gradients.</summary>
    public Tensor? Gradients { get; private set; }

    /// <summary>Seed <paramref name="seed"/>'s flat buffers (views of its slice).</summary>
    public FlatParameters Seed(int seed) => _seeds[seed] ?? throw new InvalidOperationException($"Seed {seed} has not joined the stack.");

    /// <summary>Flattens <paramref name="module"/> (seed <paramref name="seed"/>'s copy of the network, on its device) into slice
    /// <paramref name="seed"/> of the stack; its values are unchanged, its gradients zero.</summary>
    /// <exception cref="InvalidOperationException">The seed already joined, or the module's layout differs from the other seeds'.</exception>
    public FlatParameters Flatten(int seed, nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (_seeds[seed] is not null) throw new InvalidOperationException($"Seed {seed} already joined the stack.");
        if (_seeds.FirstOrDefault(x => x is not null) is { } joined)
        {
            var shapes = module.parameters().Select(p => p.shape).ToArray();
            if (shapes.Length != joined.Parameters.Count || shapes.Where((shape, i) => !shape.AsSpan().SequenceEqual(joined.Parameters[i].shape)).Any())
                throw new InvalidOperationException($"Seed {seed}'s network has other parameter shapes than the seeds already stacked; all seeds need the same sizes.");
        }
        var flat = FlatParameters.Flatten(module, HasGradients, storage: length =>
        {
            if (Values is null)
            {
                var device = module.parameters().First().device;
                SeedLength = length;
                Values = zeros(new[] { length * Seeds }, ScalarType.Float32, device).DetachFromDisposeScope();
                Gradients = HasGradients ? zeros(new[] { length * Seeds }, ScalarType.Float32, device).DetachFromDisposeScope() : null;
            }
            else if (length != SeedLength)
                throw new InvalidOperationException($"Seed {seed}'s network has {length} elements but the stack's seeds have {SeedLength}; all seeds need the same sizes.");
            return (Values.narrow(0, seed * length, length).DetachFromDisposeScope(),
                Gradients?.narrow(0, seed * length, length).DetachFromDisposeScope());
        });
        _seeds[seed] = flat;
        return flat;
    }

    /// <summary>Parameter <paramref name="index"/> (in <c>module.parameters()</c> order) of all seeds, [K, …shape] ([K, 1, n] for a 1-D
    /// parameter); a leaf with its gradient in the stacked gradient buffer.</summary>
    /// <exception cref="InvalidOperationException">Some seed has not joined yet.</exception>
    public Tensor Stacked(int index)
    {
        _stacked ??= MakeStacked();
        return _stacked[index];
    }

    /// <summary>The number of parameters of one seed's network.</summary>
    public int ParameterCount => Seed(0).Parameters.Count;

    /// <summary>Switches gradients of the stacked views and of every seed's own parameters on or off (off while a loss must not train
    /// this network, e.g. the critics in the actor step).</summary>
    public void SetRequiresGrad(bool requiresGrad)
    {
        if (!HasGradients) return;
        _stacked ??= MakeStacked();
        if (_requiresGrad == requiresGrad) return;
        foreach (var t in _stacked) t.requires_grad = requiresGrad;
        foreach (var seed in _seeds)
            foreach (var p in seed!.Parameters) p.requires_grad = requiresGrad;
        _requiresGrad = requiresGrad;
    }

    private Tensor[] MakeStacked()
    {
        for (int k = 0; k < Seeds; k++) Seed(k);
        var first = Seed(0);
        var stacked = new Tensor[first.Parameters.Count];
        using var noGrad = no_grad();
        for (int i = 0; i < stacked.Length; i++)
        {
            var shape = first.Parameters[i].shape;
            long[] seedShape = shape.Length == 1 ? [1, shape[0]] : shape;
            var sizes = new long[seedShape.Length + 1];
            var strides = new long[seedShape.Length + 1];
            sizes[0] = Seeds;
            strides[0] = SeedLength;
            long stride = 1;
            for (int d = seedShape.Length - 1; d >= 0; d--)
            {
                sizes[d + 1] = seedShape[d];
                strides[d + 1] = stride;
                stride *= seedShape[d];
            }
            long offset = first.Offsets[i];
            stacked[i] = Values!.as_strided(sizes, strides, offset).DetachFromDisposeScope();
            if (Gradients is null) continue;
            using var gradient = Gradients.as_strided(sizes, strides, offset);
            stacked[i].requires_grad = true;
            stacked[i].grad = gradient;
        }
        _requiresGrad = HasGradients;
        return stacked;
    }

    /// <summary>Frees the stacked views and the two buffers (the seeds' parameters keep the storage alive while they live).</summary>
    public void Dispose()
    {
        if (_stacked is not null) foreach (var t in _stacked) t.Dispose();
        Values?.Dispose();
        Gradients?.Dispose();
    }
}

using static TorchSharp.torch.nn;

namespace Marvel.Core.Networks;

/// <summary>
/// K independent critics Q_k(s, a) = MLP_k([s ‖ a]) (or V_k(s) when the action size is 0).
/// Parameter names: <c>members.0.net.0.weight</c>, …
/// </summary>
public sealed class QEnsemble : Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<Mlp> members;
    private FusedLayers? _fused; // set by Fuse: the members' layers as [K, ·] tensors over the same memory

    /// <summary>Creates the ensemble.</summary>
    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length (0 for a state-value ensemble).</param>
    /// <param name="hiddenSizes">Hidden widths of each member.</param>
    /// <param name="ensembleSize">Number of members K ≥ 1.</param>
    /// <param name="generator">Initialization generator.</param>
    public QEnsemble(int observationSize, int actionSize, IReadOnlyList<int> hiddenSizes, int ensembleSize, Generator? generator = null)
        : base(nameof(QEnsemble))
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ensembleSize);
        var sizes = new[] { observationSize + actionSize }.Concat(hiddenSizes).Append(1).ToArray();
        members = new ModuleList<Mlp>(Enumerable.Range(0, ensembleSize).Select(_ => new Mlp(sizes, Activation.ReLU, Activation.Identity, generator)).ToArray());
        ObservationSize = observationSize;
        ActionSize = actionSize;
        HiddenSizes = hiddenSizes.ToArray();
        EnsembleSize = ensembleSize;
        RegisterComponents();
    }

    /// <summary>Observation length.</summary>
    public int ObservationSize { get; }

    /// <summary>Action length (0 for state values).</summary>
    public int ActionSize { get; }

    /// <summary>Hidden widths.</summary>
    public IReadOnlyList<int> HiddenSizes { get; }

    /// <summary>Members K.</summary>
    public int EnsembleSize { get; }

    /// <summary>True after <see cref="Fuse"/>: the members run as one batched product per layer.</summary>
    internal bool IsFused => _fused is not null;

    /// <summary>
    /// Opt-in (off by default: it rounds differently from the members run one by one): lays the members' parameters out layer by layer
    /// in one <see cref="FlatParameters"/> buffer, so that layer l of all K members is one [K, out, in] weight and one [K, out] bias over the
    /// same memory, and from then on runs each layer for all members as one <c>baddbmm</c>, forward and backward. The members' parameters
    /// keep their names, shapes and order, so state dicts, checkpoints, handover artifacts and Adam states are unchanged in format; their
    /// gradients land in the shared gradient buffer, which the flat Adam steps. Call it once the ensemble is on its device and before its
    /// optimizer is made; a target network is fused with <paramref name="gradients"/> false.
    /// </summary>
    /// <param name="gradients">Give the gradients a buffer (false for a target network that is never trained by gradient).</param>
    /// <returns>The flat buffers (owned by the caller, like those of <see cref="FlatParameters.Flatten"/>).</returns>
    /// <exception cref="InvalidOperationException">The ensemble was already flattened with another layout.</exception>
    internal FlatParameters Fuse(bool gradients = true)
    {
        if (_fused is not null) return _fused.Buffers;
        if (FlatParameters.Of(this) is not null) throw new InvalidOperationException("The ensemble is already flattened member by member; fuse it instead of flattening it.");
        int layers = members[0].parameters().Count() / 2;
        var buffers = FlatParameters.Flatten(this, gradients, LayerMajor);
        _fused = new FusedLayers(buffers, EnsembleSize, layers);
        return buffers;

        // parameters() runs member by member, layer by layer, weight then bias: index (k·L + l)·2 (+ 1). Layer l's weights of all members
        // follow one another, then its biases; each block starts on the buffer's alignment.
        long[] LayerMajor(Parameter[] parameters)
        {
            var offsets = new long[parameters.Length];
            long next = 0;
            for (int l = 0; l < layers; l++)
                for (int part = 0; part < 2; part++)
                {
                    long size = parameters[2 * l + part].numel();
                    for (int k = 0; k < EnsembleSize; k++) offsets[(k * layers + l) * 2 + part] = next + k * size;
                    next += (EnsembleSize * size + FlatParameters.AlignmentElements - 1) / FlatParameters.AlignmentElements * FlatParameters.AlignmentElements;
                }
            return offsets;
        }
    }

    /// <summary>All members' values, [K, batch].</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="actions">[batch, ActionSize]; ignored for a state-value ensemble.</param>
    public override Tensor forward(Tensor observations, Tensor actions)
    {
        using var input = ActionSize > 0 ? cat(new[] { observations, actions }, 1) : observations.alias();
        if (_fused is not null) return _fused.Forward(input, _fused.Buffers.Parameters[0].requires_grad);
        var outputs = new Tensor[EnsembleSize];
        for (int k = 0; k < EnsembleSize; k++) outputs[k] = members[k].forward(input);
        using var stacked = stack(outputs, 0);
        foreach (var o in outputs) o.Dispose();
        return stacked.squeeze(-1);
    }

    /// <summary>Element-wise minimum over members, [batch].</summary>
    public Tensor Min(Tensor observations, Tensor actions)
    {
        using var all = forward(observations, actions);
        return all.min(0).values;
    }

    /// <summary>Mean over members, [batch].</summary>
    public Tensor Mean(Tensor observations, Tensor actions)
    {
        using var all = forward(observations, actions);
        return all.mean(new long[] { 0 });
    }

    /// <summary>Σ_k mean_batch((Q_k(s, a) − y)²): the ensemble's regression loss.</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="actions">[batch, ActionSize].</param>
    /// <param name="target">[batch], no gradient.</param>
    public Tensor Loss(Tensor observations, Tensor actions, Tensor target)
    {
        using var all = forward(observations, actions);
        using var diff = all - target.unsqueeze(0);
        using var perMember = diff.Squared().mean(new long[] { 1 });
        return perMember.sum();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _fused?.Dispose();
            members.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>
    /// The fused layers: per layer a [K, out, in] weight and a [K, out] bias that are views of the flat value buffer and leaves of their
    /// own for autograd, with their gradients views of the flat gradient buffer (the members' gradients are the same memory).
    /// </summary>
    private sealed class FusedLayers : IDisposable
    {
        private readonly Tensor[] _weights;  // [K, out, in]
        private readonly Tensor[] _biases;   // [K, 1, out], broadcast over the batch
        private bool _requiresGrad;

        public FusedLayers(FlatParameters buffers, int members, int layers)
        {
            Buffers = buffers;
            _weights = new Tensor[layers];
            _biases = new Tensor[layers];
            var parameters = buffers.Parameters;
            using var noGrad = no_grad();
            for (int l = 0; l < layers; l++)
            {
                var w = parameters[2 * l];
                var b = parameters[2 * l + 1];
                _weights[l] = Stacked(buffers.Values, buffers.Offsets[2 * l], members, w.shape);
                _biases[l] = Stacked(buffers.Values, buffers.Offsets[2 * l + 1], members, [1, b.shape[0]]);
                if (buffers.Gradients is null) continue;
                using var wg = Stacked(buffers.Gradients, buffers.Offsets[2 * l], members, w.shape);
                using var bg = Stacked(buffers.Gradients, buffers.Offsets[2 * l + 1], members, [1, b.shape[0]]);
                _weights[l].requires_grad = true;
                _biases[l].requires_grad = true;
                _weights[l].grad = wg;
                _biases[l].grad = bg;
            }
            _requiresGrad = buffers.Gradients is not null;
        }

        public FlatParameters Buffers { get; }

        private static Tensor Stacked(Tensor buffer, long offset, int members, long[] memberShape)
        {
            long size = memberShape.Aggregate(1L, (a, x) => a * x);
            using var slice = buffer.narrow(0, offset, members * size);
            return slice.view([members, .. memberShape]).DetachFromDisposeScope();
        }

        /// <summary>[K, batch] values of all members on <paramref name="input"/> [batch, in]; <paramref name="train"/> mirrors the members'
        /// requires_grad (false while the ensemble is frozen or a target).</summary>
        public Tensor Forward(Tensor input, bool train)
        {
            if (Buffers.Gradients is not null && train != _requiresGrad)
            {
                foreach (var t in _weights) t.requires_grad = train;
                foreach (var t in _biases) t.requires_grad = train;
                _requiresGrad = train;
            }
            Tensor h = input.expand(_weights[0].shape[0], input.shape[0], input.shape[1]);
            for (int l = 0; l < _weights.Length; l++)
            {
                using var transposed = _weights[l].transpose(1, 2);
                var z = h.baddbmm(transposed, _biases[l]); // TorchSharp: batch1.baddbmm(batch2, input) = input + batch1 @ batch2
                h.Dispose();
                if (l < _weights.Length - 1)
                {
                    h = z.relu();
                    z.Dispose();
                }
                else h = z;
            }
            using (h) return h.squeeze(-1);
        }

        public void Dispose()
        {
            foreach (var t in _weights) t.Dispose();
            foreach (var t in _biases) t.Dispose();
        }
    }
}

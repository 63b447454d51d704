using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Marvel.Core.Networks;

namespace Marvel.Core.Inference;

/// <summary>
/// One Linear layer y = act(W x + b) of an actor, its weights copied once into managed memory and laid out for a SIMD
/// matrix-vector product with <see cref="Vector{T}"/> of float.
/// </summary>
/// <remarks>
/// <para>Layout: the outputs are padded with zero weights and biases to a multiple of the vector width V and cut into tiles of up
/// to <see cref="TileVectors"/> vectors. Each tile's weights are stored transposed and contiguous, input-major: for input i, the
/// tile's next (width) values are W[o₀ .. o₀ + width, i]. The product then streams each tile's block once from start to end,
/// holding the tile's outputs in registers: acc ← b; for i = 0 … n − 1: acc ← fma(x_i, W[·, i], acc). One row runs two tiles at once
/// (eight independent chains); two rows run one tile at once and read each weight once for both.</para>
/// <para>Every output is therefore one chain of fused multiply-adds in input order, started from its bias. Its value does not
/// depend on the vector width, on the tile it falls in, on the row's position in a batch or on the memory's alignment, so the same
/// observation gives the same bits on every call. It differs from libtorch's matrix product (another summation order) by float
/// rounding only.</para>
/// </remarks>
internal sealed class PackedLinear
{
    /// <summary>The most vectors one tile holds (the accumulators kept in registers).</summary>
    public const int TileVectors = 4;

    private readonly Vector<float>[] _weights;
    private readonly Vector<float>[] _bias;

    /// <summary>Packs a layer from PyTorch's layout.</summary>
    /// <param name="weight">[outputs, inputs] row-major, as <c>nn.Linear.weight</c>.</param>
    /// <param name="bias">[outputs].</param>
    /// <param name="inputs">Input width.</param>
    /// <param name="outputs">Output width.</param>
    /// <param name="after">The activation applied to the outputs (ReLU, Tanh or Identity).</param>
    public PackedLinear(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int inputs, int outputs, Activation after)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
        if (weight.Length != inputs * outputs || bias.Length != outputs)
            throw new ArgumentException($"A {outputs}×{inputs} layer needs {outputs * inputs} weights and {outputs} biases; got {weight.Length} and {bias.Length}.");
        int width = Vector<float>.Count;
        Inputs = inputs;
        Outputs = outputs;
        After = after;
        int vectors = (outputs + width - 1) / width;
        PaddedOutputs = vectors * width;
        _bias = new Vector<float>[vectors];
        var paddedBias = new float[PaddedOutputs];
        bias.CopyTo(paddedBias);
        for (int v = 0; v < vectors; v++) _bias[v] = new Vector<float>(paddedBias, v * width);
        // Tile t covers vectors [t·TileVectors, …) and its block starts at vector (first vector of the tile) · inputs.
        _weights = new Vector<float>[vectors * inputs];
        var lane = new float[width];
        for (int first = 0; first < vectors; first += TileVectors)
        {
            int tile = Math.Min(TileVectors, vectors - first);
            int block = first * inputs;
            for (int i = 0; i < inputs; i++)
                for (int k = 0; k < tile; k++)
                {
                    for (int j = 0; j < width; j++)
                    {
                        int o = (first + k) * width + j;
                        lane[j] = o < outputs ? weight[o * inputs + i] : 0f;
                    }
                    _weights[block + i * tile + k] = new Vector<float>(lane);
                }
        }
    }

    /// <summary>Input width.</summary>
    public int Inputs { get; }

    /// <summary>Output width.</summary>
    public int Outputs { get; }

    /// <summary>Output width padded to a multiple of the vector width: the length <see cref="Forward(ReadOnlySpan{float}, Span{float})"/> writes.</summary>
    public int PaddedOutputs { get; }

    /// <summary>The activation after the product.</summary>
    public Activation After { get; }

    /// <summary>y = act(W x + b) for one input row.</summary>
    /// <param name="input">At least <see cref="Inputs"/> values; the first <see cref="Inputs"/> are read.</param>
    /// <param name="output">At least <see cref="PaddedOutputs"/> values; the first <see cref="PaddedOutputs"/> are written (the padding
    /// with act(0)). Must not overlap <paramref name="input"/>.</param>
    public void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        Check(input, output);
        int n = Inputs, vectors = _bias.Length;
        var y = MemoryMarshal.Cast<float, Vector<float>>(output[..PaddedOutputs]);
        ref float x = ref MemoryMarshal.GetReference(input);
        ref Vector<float> w = ref MemoryMarshal.GetArrayDataReference(_weights);
        int v = 0;
        // Two full tiles at once: eight independent chains, enough to hide the latency of a fused multiply-add.
        for (; v + 2 * TileVectors <= vectors; v += 2 * TileVectors)
        {
            ref Vector<float> p = ref Unsafe.Add(ref w, v * n);
            ref Vector<float> q = ref Unsafe.Add(ref w, (v + TileVectors) * n);
            var a0 = _bias[v];
            var a1 = _bias[v + 1];
            var a2 = _bias[v + 2];
            var a3 = _bias[v + 3];
            var c0 = _bias[v + 4];
            var c1 = _bias[v + 5];
            var c2 = _bias[v + 6];
            var c3 = _bias[v + 7];
            for (int i = 0; i < n; i++)
            {
                var xi = new Vector<float>(Unsafe.Add(ref x, i));
                a0 = Vector.FusedMultiplyAdd(xi, p, a0);
                a1 = Vector.FusedMultiplyAdd(xi, Unsafe.Add(ref p, 1), a1);
                a2 = Vector.FusedMultiplyAdd(xi, Unsafe.Add(ref p, 2), a2);
                a3 = Vector.FusedMultiplyAdd(xi, Unsafe.Add(ref p, 3), a3);
                c0 = Vector.FusedMultiplyAdd(xi, q, c0);
                c1 = Vector.FusedMultiplyAdd(xi, Unsafe.Add(ref q, 1), c1);
                c2 = Vector.FusedMultiplyAdd(xi, Unsafe.Add(ref q, 2), c2);
                c3 = Vector.FusedMultiplyAdd(xi, Unsafe.Add(ref q, 3), c3);
                p = ref Unsafe.Add(ref p, TileVectors);
                q = ref Unsafe.Add(ref q, TileVectors);
            }
            y[v] = a0;
            y[v + 1] = a1;
            y[v + 2] = a2;
            y[v + 3] = a3;
            y[v + 4] = c0;
            y[v + 5] = c1;
            y[v + 6] = c2;
            y[v + 7] = c3;
        }
        for (; v + TileVectors <= vectors; v += TileVectors)
        {
            ref Vector<float> p = ref Unsafe.Add(ref w, v * n);
            var a0 = _bias[v];
            var a1 = _bias[v + 1];
            var a2 = _bias[v + 2];
            var a3 = _bias[v + 3];
            for (int i = 0; i < n; i++)
            {
                var xi = new Vector<float>(Unsafe.Add(ref x, i));
                a0 = Vector.FusedMultiplyAdd(xi, p, a0);
                a1 = Vector.FusedMultiplyAdd(xi, Unsafe.Add(ref p, 1), a1);
                a2 = Vector.FusedMultiplyAdd(xi, Unsafe.Add(ref p, 2), a2);
                a3 = Vector.FusedMultiplyAdd(xi, Unsafe.Add(ref p, 3), a3);
                p = ref Unsafe.Add(ref p, TileVectors);
            }
            y[v] = a0;
            y[v + 1] = a1;
            y[v + 2] = a2;
            y[v + 3] = a3;
        }
        LastTile(ref x, y, v);
        Activate(y, output[..PaddedOutputs], After);
    }

    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, Span{float})"/> for two rows at once, each weight read once for both: the same chains, so
    /// the same bits as two single-row calls.
    /// </summary>
    public void Forward(ReadOnlySpan<float> input0, ReadOnlySpan<float> input1, Span<float> output0, Span<float> output1)
    {
        Check(input0, output0);
        Check(input1, output1);
        int n = Inputs, vectors = _bias.Length;
        var y0 = MemoryMarshal.Cast<float, Vector<float>>(output0[..PaddedOutputs]);
        var y1 = MemoryMarshal.Cast<float, Vector<float>>(output1[..PaddedOutputs]);
        ref float x0 = ref MemoryMarshal.GetReference(input0);
        ref float x1 = ref MemoryMarshal.GetReference(input1);
        ref Vector<float> w = ref MemoryMarshal.GetArrayDataReference(_weights);
        int v = 0;
        for (; v + TileVectors <= vectors; v += TileVectors)
        {
            ref Vector<float> p = ref Unsafe.Add(ref w, v * n);
            var a0 = _bias[v];
            var a1 = _bias[v + 1];
            var a2 = _bias[v + 2];
            var a3 = _bias[v + 3];
            var b0 = a0;
            var b1 = a1;
            var b2 = a2;
            var b3 = a3;
            for (int i = 0; i < n; i++)
            {
                var s = new Vector<float>(Unsafe.Add(ref x0, i));
                var t = new Vector<float>(Unsafe.Add(ref x1, i));
                var w0 = p;
                var w1 = Unsafe.Add(ref p, 1);
                var w2 = Unsafe.Add(ref p, 2);
                var w3 = Unsafe.Add(ref p, 3);
                a0 = Vector.FusedMultiplyAdd(s, w0, a0);
                b0 = Vector.FusedMultiplyAdd(t, w0, b0);
                a1 = Vector.FusedMultiplyAdd(s, w1, a1);
                b1 = Vector.FusedMultiplyAdd(t, w1, b1);
                a2 = Vector.FusedMultiplyAdd(s, w2, a2);
                b2 = Vector.FusedMultiplyAdd(t, w2, b2);
                a3 = Vector.FusedMultiplyAdd(s, w3, a3);
                b3 = Vector.FusedMultiplyAdd(t, w3, b3);
                p = ref Unsafe.Add(ref p, TileVectors);
            }
            y0[v] = a0;
            y0[v + 1] = a1;
            y0[v + 2] = a2;
            y0[v + 3] = a3;
            y1[v] = b0;
            y1[v + 1] = b1;
            y1[v + 2] = b2;
            y1[v + 3] = b3;
        }
        LastTile(ref x0, y0, v);   // at most 3 vectors (the heads' only tile): reading their weights twice costs nothing measurable
        LastTile(ref x1, y1, v);
        Activate(y0, output0[..PaddedOutputs], After);
        Activate(y1, output1[..PaddedOutputs], After);
    }

    // The last, narrower tile (1–3 vectors, starting at vector v): one chain per vector, the same chains as the full tiles.
    private void LastTile(ref float x, Span<Vector<float>> y, int v)
    {
        int n = Inputs, rest = _bias.Length - v;
        ref Vector<float> w = ref MemoryMarshal.GetArrayDataReference(_weights);
        for (int k = 0; k < rest; k++)
        {
            ref Vector<float> p = ref Unsafe.Add(ref w, v * n + k);
            var a = _bias[v + k];
            for (int i = 0; i < n; i++)
            {
                a = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref x, i)), p, a);
                p = ref Unsafe.Add(ref p, rest);
            }
            y[v + k] = a;
        }
    }

    private void Check(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length < Inputs || output.Length < PaddedOutputs)
            throw new ArgumentException($"The layer reads {Inputs} inputs and writes {PaddedOutputs} outputs; got spans of {input.Length} and {output.Length}.");
    }

    private static void Activate(Span<Vector<float>> vectors, Span<float> values, Activation activation)
    {
        switch (activation)
        {
            case Activation.ReLU:
                // Vector.Max propagates NaN, as torch's relu does.
                for (int v = 0; v < vectors.Length; v++) vectors[v] = Vector.Max(vectors[v], Vector<float>.Zero);
                break;
            case Activation.Tanh:
                for (int j = 0; j < values.Length; j++) values[j] = MathF.Tanh(values[j]);
                break;
        }
    }
}

/// <summary>
/// The actor of an artifact as a managed forward pass (<see cref="PackedLinear"/> layers), for <see cref="InferencePolicy"/>:
/// no TorchSharp call and no allocation per observation; the caller brings the scratch memory and, for sampled actions, the noise ε.
/// </summary>
/// <remarks>
/// The same functions as the TorchSharp actors (<see cref="SquashedGaussianActor"/>, <see cref="DeterministicActor"/> with
/// maxAction 1, <see cref="GaussianActor"/>), in float32:
/// <list type="bullet">
/// <item>squashed Gaussian: h = ReLU MLP(s), μ = W_μ h + b_μ; deterministic a = tanh(μ); sampled log σ = clamp(W_σ h + b_σ, −20, 2),
/// u = μ + exp(log σ)·ε, a = tanh(u);</item>
/// <item>deterministic (BC): a = tanh(MLP(s)) in both modes;</item>
/// <item>Gaussian (PPO-Lag): μ = MLP(s) with the descriptor's hidden activation; sampled a = μ + exp(log_std)·ε.</item>
/// </list>
/// </remarks>
internal sealed class ManagedActor
{
    private readonly ActorFamily _family;
    private readonly PackedLinear[] _trunk;
    private readonly PackedLinear _head;
    private readonly PackedLinear? _logStdHead;
    private readonly float[]? _std;
    private readonly int _widest;
    private readonly int _rowScratch;

    private ManagedActor(ActorFamily family, int observationSize, int actionSize, PackedLinear[] trunk, PackedLinear head, PackedLinear? logStdHead, float[]? std)
    {
        _family = family;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        _trunk = trunk;
        _head = head;
        _logStdHead = logStdHead;
        _std = std;
        _widest = trunk.Max(l => l.PaddedOutputs);
        // Per row: the normalized observation, two ping-pong buffers for the hidden layers, μ and log σ; two rows at a time.
        _rowScratch = observationSize + 2 * _widest + 2 * head.PaddedOutputs;
        ScratchLength = 2 * _rowScratch;
    }

    /// <summary>Observation length.</summary>
    public int ObservationSize { get; }

    /// <summary>Action length.</summary>
    public int ActionSize { get; }

    /// <summary>How many floats of scratch memory <see cref="Act"/> needs, whatever the batch.</summary>
    public int ScratchLength { get; }

    /// <summary>Whether sampled actions differ from deterministic ones (false for the BC actor, which has no noise).</summary>
    public bool Samples => _family != ActorFamily.Deterministic;

    /// <summary>Copies and packs the actor's weights.</summary>
    /// <param name="spec">The checked descriptor.</param>
    /// <param name="weights">The actor's state dict.</param>
    /// <param name="receiver">Who asks, for messages.</param>
    /// <exception cref="InvalidDataException">A weight is missing or has another shape than the descriptor needs.</exception>
    public static ManagedActor Create(ActorSpec spec, StateDict weights, string receiver)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(weights);
        var m = spec.Manifest;
        var layers = spec.LinearLayers();
        var hidden = spec.Descriptor.HiddenSizes;
        var trunk = new PackedLinear[layers.Count - 1];
        int inputs = m.ObservationSize;
        for (int i = 0; i < trunk.Length; i++)
        {
            trunk[i] = Linear(weights, layers[i].Prefix, inputs, hidden[i], layers[i].After, receiver);
            inputs = hidden[i];
        }
        // The output layer without its squash: Forward applies tanh after the noise, as the TorchSharp actors do.
        var head = Linear(weights, layers[^1].Prefix, inputs, m.ActionSize, Activation.Identity, receiver);
        PackedLinear? logStdHead = null;
        float[]? std = null;
        if (spec.Family == ActorFamily.SquashedGaussian)
            logStdHead = Linear(weights, "log_std", inputs, m.ActionSize, Activation.Identity, receiver);
        else if (spec.Family == ActorFamily.Gaussian)
            // σ = exp(log_std) once, in float32 as GaussianActor.Sample computes it.
            std = ActorSpec.Weight(weights, "log_std", [m.ActionSize], receiver).Values.Select(MathF.Exp).ToArray();
        return new ManagedActor(spec.Family, m.ObservationSize, m.ActionSize, trunk, head, logStdHead, std);
    }

    private static PackedLinear Linear(StateDict weights, string prefix, int inputs, int outputs, Activation after, string receiver)
    {
        var w = ActorSpec.Weight(weights, prefix + ".weight", [outputs, inputs], receiver);
        var b = ActorSpec.Weight(weights, prefix + ".bias", [outputs], receiver);
        return new PackedLinear(w.Values, b.Values, inputs, outputs, after);
    }

    /// <summary>The raw actions of a batch (before the box mapping): in [−1, 1] for squashed actors, unbounded for Gaussian ones.</summary>
    /// <param name="observations">[batch, ObservationSize] row-major, raw.</param>
    /// <param name="actions">Receives [batch, ActionSize] row-major.</param>
    /// <param name="noise">Empty for the deterministic action; else ε, [batch, ActionSize] standard normal draws.</param>
    /// <param name="normalizer">Applied to each observation first, when not null.</param>
    /// <param name="scratch"><see cref="ScratchLength"/> floats; overwritten. Must not overlap the other spans.</param>
    /// <exception cref="ArgumentException">A span's length does not fit the batch; the message names the expected and the given length.</exception>
    /// <remarks>Rows go through the layers two at a time (each weight read once for both); a row's action has the same bits alone,
    /// paired or in any position of any batch.</remarks>
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, ReadOnlySpan<float> noise, RunningMeanStd? normalizer, Span<float> scratch)
    {
        int o = ObservationSize, a = ActionSize;
        if (observations.Length % o != 0)
            throw new ArgumentException($"Observations have {observations.Length} values, not a multiple of the actor's observation size {o}.", nameof(observations));
        int batch = observations.Length / o;
        if (actions.Length != batch * a)
            throw new ArgumentException($"The action buffer has {actions.Length} values; {batch} observations need {batch * a} ({a} each).", nameof(actions));
        if (!noise.IsEmpty && noise.Length != batch * a)
            throw new ArgumentException($"The noise ε has {noise.Length} values; {batch} observations need {batch * a} (or none for the deterministic action).", nameof(noise));
        if (scratch.Length < ScratchLength)
            throw new ArgumentException($"The actor needs {ScratchLength} floats of scratch; got {scratch.Length}.", nameof(scratch));
        bool sampled = !noise.IsEmpty && _family != ActorFamily.Deterministic;
        var first = scratch[.._rowScratch];
        var second = scratch.Slice(_rowScratch, _rowScratch);
        int row = 0;
        for (; row + 1 < batch; row += 2)
        {
            var x0 = Input(observations.Slice(row * o, o), normalizer, first);
            var x1 = Input(observations.Slice((row + 1) * o, o), normalizer, second);
            ReadOnlySpan<float> h0 = x0, h1 = x1;
            for (int l = 0; l < _trunk.Length; l++)
            {
                Span<float> t0 = Hidden(first, l), t1 = Hidden(second, l);
                _trunk[l].Forward(h0, h1, t0, t1);
                h0 = t0;
                h1 = t1;
            }
            _head.Forward(h0, h1, Mean(first), Mean(second));
            if (sampled && _logStdHead is not null) _logStdHead.Forward(h0, h1, LogStd(first), LogStd(second));
            Finish(first, actions.Slice(row * a, a), sampled ? noise.Slice(row * a, a) : default, sampled);
            Finish(second, actions.Slice((row + 1) * a, a), sampled ? noise.Slice((row + 1) * a, a) : default, sampled);
        }
        if (row < batch)
        {
            ReadOnlySpan<float> h = Input(observations.Slice(row * o, o), normalizer, first);
            for (int l = 0; l < _trunk.Length; l++)
            {
                var t = Hidden(first, l);
                _trunk[l].Forward(h, t);
                h = t;
            }
            _head.Forward(h, Mean(first));
            if (sampled && _logStdHead is not null) _logStdHead.Forward(h, LogStd(first));
            Finish(first, actions.Slice(row * a, a), sampled ? noise.Slice(row * a, a) : default, sampled);
        }
    }

    private ReadOnlySpan<float> Input(ReadOnlySpan<float> observation, RunningMeanStd? normalizer, Span<float> rowScratch)
    {
        if (normalizer is null) return observation;
        var normalized = rowScratch[..ObservationSize];
        normalizer.Normalize(observation, normalized);
        return normalized;
    }

    private Span<float> Hidden(Span<float> rowScratch, int layer) => rowScratch.Slice(ObservationSize + (layer & 1) * _widest, _widest);

    private Span<float> Mean(Span<float> rowScratch) => rowScratch.Slice(ObservationSize + 2 * _widest, _head.PaddedOutputs);

    private Span<float> LogStd(Span<float> rowScratch) => rowScratch.Slice(ObservationSize + 2 * _widest + _head.PaddedOutputs, _head.PaddedOutputs);

    /// <summary>The family's last step, from the heads' outputs in the row's scratch to the raw action.</summary>
    private void Finish(Span<float> rowScratch, Span<float> action, ReadOnlySpan<float> noise, bool sampled)
    {
        var mean = Mean(rowScratch);
        int a = ActionSize;
        switch (_family)
        {
            case ActorFamily.SquashedGaussian when sampled:
                var logStd = LogStd(rowScratch);
                for (int k = 0; k < a; k++)
                {
                    // SampleAction: log σ clamped, σ = exp(log σ), u = μ + (σ·ε) with the product rounded first, a = tanh(u).
                    float sigma = MathF.Exp(Math.Clamp(logStd[k], (float)SquashedGaussianActor.LogStdMin, (float)SquashedGaussianActor.LogStdMax));
                    float scaled = sigma * noise[k];
                    action[k] = MathF.Tanh(mean[k] + scaled);
                }
                break;
            case ActorFamily.Gaussian when sampled:
                for (int k = 0; k < a; k++)
                {
                    float scaled = _std![k] * noise[k];
                    action[k] = mean[k] + scaled;
                }
                break;
            case ActorFamily.Gaussian:
                mean[..a].CopyTo(action);
                break;
            default:
                for (int k = 0; k < a; k++) action[k] = MathF.Tanh(mean[k]);
                break;
        }
    }
}

using System.Globalization;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Networks;

namespace Marvel.Core.Inference;

/// <summary>
/// Writes the deterministic action function of a handover artifact's actor as a standard ONNX model, so the policy runs without
/// libtorch (ONNX Runtime from C#, C++, Python or a browser).
/// </summary>
/// <remarks>
/// <para>The graph (opset 17, IR version 8) takes <c>observation</c>, float32 [batch, ObservationSize], and returns <c>action</c>,
/// float32 [batch, ActionSize], the same action as <see cref="InferencePolicy"/> with <c>deterministic: true</c>:</para>
/// <list type="number">
/// <item>when the artifact carries an observation normalizer: Sub(mean), Div(√(σ² + ε)), Clip(±clip);</item>
/// <item>every Linear layer as Gemm (transB = 1) followed by Relu or Tanh as the actor was built;</item>
/// <item>squashed actors (CPQ, BEAR-Lag, COptiDICE, SAC-Lag, BC): Tanh, then Mul(scale) and Add(offset) with
/// scale = (high − low)/2 and offset = (high + low)/2, i.e. low + (a + 1)/2 · (high − low); Gaussian actors (PPO-Lag):
/// Max(low) and Min(high).</item>
/// </list>
/// <para>The box is the one given, else the one recorded in the artifact; without either, the graph ends at the actor's own
/// output. Coordinates with an infinite bound are passed through unchanged (squashed) or clipped only on their finite side.
/// Model metadata records the algorithm, the task, the actor kind and the library version. Supported actor kinds:
/// <see cref="InferencePolicy.SupportedActorKinds"/>; others (CDT, BCQ-Lag) throw <see cref="NotSupportedException"/>.</para>
/// </remarks>
public static class OnnxExport
{
    /// <summary>The name of the graph's input, float32 [batch, ObservationSize].</summary>
    public const string InputName = "observation";

    /// <summary>The name of the graph's output, float32 [batch, ActionSize].</summary>
    public const string OutputName = "action";

    /// <summary>The ONNX operator set the graph is written for.</summary>
    public const int OpsetVersion = 17;

    private const int IrVersion = 8;
    private const int FloatType = 1;
    private const int IntAttribute = 2;

    /// <summary>Writes the model to <paramref name="path"/> atomically (a crash mid-write leaves any earlier file intact).</summary>
    /// <param name="artifact">The artifact whose actor is written; only its manifest and actor weights are read.</param>
    /// <param name="path">The target file, e.g. <c>policy.onnx</c>.</param>
    /// <param name="actionSpace">The action box, overriding the artifact's recorded one; null to use the recorded one.</param>
    /// <exception cref="NotSupportedException">The actor's kind does not export (CDT's transformer, BCQ-Lag's perturbation actor).</exception>
    /// <exception cref="InvalidDataException">The artifact has no actor, or a weight the actor needs is missing or has the wrong shape.</exception>
    /// <exception cref="ArgumentException"><paramref name="actionSpace"/> has another dimension than the actions.</exception>
    public static void Save(HandoverArtifact artifact, string path, BoxSpace? actionSpace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = ToBytes(artifact, actionSpace);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The model as bytes (an ONNX <c>ModelProto</c>).</summary>
    /// <param name="artifact">The artifact whose actor is written.</param>
    /// <param name="actionSpace">The action box, overriding the artifact's recorded one; null to use the recorded one.</param>
    /// <exception cref="NotSupportedException">The actor's kind does not export (CDT's transformer, BCQ-Lag's perturbation actor).</exception>
    /// <exception cref="InvalidDataException">The artifact has no actor, or a weight the actor needs is missing or has the wrong shape.</exception>
    /// <exception cref="ArgumentException"><paramref name="actionSpace"/> has another dimension than the actions.</exception>
    public static byte[] ToBytes(HandoverArtifact artifact, BoxSpace? actionSpace = null)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        const string receiver = "ONNX export";
        var spec = ActorSpec.Resolve(artifact.Manifest, receiver);
        var box = spec.ActionBox(actionSpace, receiver);
        var weights = artifact.GetNetwork(HandoverRoles.Actor);
        var m = artifact.Manifest;
        var graph = new GraphBuilder();

        string current = InputName;
        if (m.ObservationNormalizer is { } norm)
        {
            if (norm.Mean.Length != m.ObservationSize || norm.Variance.Length != m.ObservationSize)
                throw new InvalidDataException($"{receiver}: the artifact's observation normalizer has {norm.Mean.Length} coordinates, but ObservationSize is {m.ObservationSize}.");
            graph.Initializer("normalizer_mean", [m.ObservationSize], norm.Mean.Select(v => (float)v).ToArray());
            graph.Initializer("normalizer_std", [m.ObservationSize], norm.Variance.Select(v => (float)Math.Sqrt(v + norm.Epsilon)).ToArray());
            graph.Initializer("normalizer_low", [], [(float)-norm.Clip]);
            graph.Initializer("normalizer_high", [], [(float)norm.Clip]);
            current = graph.Node("Sub", [current, "normalizer_mean"], "centered");
            current = graph.Node("Div", [current, "normalizer_std"], "scaled");
            current = graph.Node("Clip", [current, "normalizer_low", "normalizer_high"], "normalized");
        }

        long inputs = m.ObservationSize;
        var layers = spec.LinearLayers();
        for (int i = 0; i < layers.Count; i++)
        {
            var (prefix, after) = layers[i];
            long outputs = i == layers.Count - 1 ? m.ActionSize : spec.Descriptor.HiddenSizes[i];
            var w = ActorSpec.Weight(weights, prefix + ".weight", [outputs, inputs], receiver);
            var b = ActorSpec.Weight(weights, prefix + ".bias", [outputs], receiver);
            string layer = string.Create(CultureInfo.InvariantCulture, $"layer{i}");
            graph.Initializer(layer + "_weight", w.Shape, w.Values);
            graph.Initializer(layer + "_bias", b.Shape, b.Values);
            current = graph.Node("Gemm", [current, layer + "_weight", layer + "_bias"], layer + "_linear", ("transB", 1));
            current = after switch
            {
                Activation.ReLU => graph.Node("Relu", [current], layer + "_relu"),
                Activation.Tanh => graph.Node("Tanh", [current], layer + "_tanh"),
                _ => current,
            };
            inputs = outputs;
        }

        if (box is not null)
        {
            var low = box.Low.ToArray();
            var high = box.High.ToArray();
            if (spec.Squashed)
            {
                // ActionMapping.SquashedToBox: low + (a + 1)/2 · (high − low) = a · scale + offset; infinite bounds pass a through.
                var scale = new float[low.Length];
                var offset = new float[low.Length];
                for (int k = 0; k < low.Length; k++)
                {
                    bool finite = float.IsFinite(low[k]) && float.IsFinite(high[k]);
                    scale[k] = finite ? (float)(0.5 * ((double)high[k] - low[k])) : 1f;
                    offset[k] = finite ? (float)(0.5 * ((double)high[k] + low[k])) : 0f;
                }
                graph.Initializer("action_scale", [low.Length], scale);
                graph.Initializer("action_offset", [low.Length], offset);
                current = graph.Node("Mul", [current, "action_scale"], "action_scaled");
                current = graph.Node("Add", [current, "action_offset"], OutputName);
            }
            else
            {
                graph.Initializer("action_low", [low.Length], low);
                graph.Initializer("action_high", [high.Length], high);
                current = graph.Node("Max", [current, "action_low"], "action_above_low");
                current = graph.Node("Min", [current, "action_high"], OutputName);
            }
        }
        if (current != OutputName) current = graph.Node("Identity", [current], OutputName);

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["algorithm"] = m.Algorithm,
            ["actor_kind"] = spec.Descriptor.Kind,
            ["task"] = m.TaskId ?? "",
            ["observation_size"] = m.ObservationSize.ToString(CultureInfo.InvariantCulture),
            ["action_size"] = m.ActionSize.ToString(CultureInfo.InvariantCulture),
            ["normalizes_observations"] = m.ObservationNormalizer is null ? "false" : "true",
            ["marvel_version"] = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0.0.0",
        };
        return graph.Model(m.ObservationSize, m.ActionSize, metadata);
    }

    /// <summary>Collects nodes and initializers, then writes the <c>ModelProto</c>.</summary>
    private sealed class GraphBuilder
    {
        private readonly List<Action<ProtobufWriter>> _nodes = [];
        private readonly List<Action<ProtobufWriter>> _initializers = [];

        public void Initializer(string name, long[] shape, float[] values)
        {
            var raw = new byte[values.Length * sizeof(float)];
            for (int i = 0; i < values.Length; i++)
                System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * sizeof(float)), values[i]);
            _initializers.Add(t =>
            {
                foreach (var d in shape) t.Int64(1, d);             // TensorProto.dims
                t.Int64(2, FloatType);                              // data_type
                t.String(8, name);                                  // name
                t.Bytes(9, raw);                                    // raw_data, little-endian
            });
        }

        public string Node(string op, string[] inputs, string output, params (string Name, long Value)[] attributes)
        {
            _nodes.Add(n =>
            {
                foreach (var i in inputs) n.String(1, i);           // NodeProto.input
                n.String(2, output);                                // output
                n.String(3, output + "_node");                      // name
                n.String(4, op);                                    // op_type
                foreach (var (name, value) in attributes)
                    n.Message(5, a => a.String(1, name).Int64(3, value).Int64(20, IntAttribute));
            });
            return output;
        }

        public byte[] Model(int observationSize, int actionSize, IReadOnlyDictionary<string, string> metadata)
        {
            var model = new ProtobufWriter()
                .Int64(1, IrVersion)                                // ModelProto.ir_version
                .String(2, "Marvel.Core")                           // producer_name
                .String(3, typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0.0.0")
                .Message(7, g =>                                    // graph
                {
                    foreach (var node in _nodes) g.Message(1, node);
                    g.String(2, "marvel_policy");
                    foreach (var init in _initializers) g.Message(5, init);
                    g.Message(11, v => ValueInfo(v, InputName, observationSize));
                    g.Message(12, v => ValueInfo(v, OutputName, actionSize));
                })
                .Message(8, o => o.String(1, "").Int64(2, OpsetVersion));   // opset_import (default domain)
            foreach (var (key, value) in metadata) model.Message(14, e => e.String(1, key).String(2, value));
            return model.ToArray();
        }

        private static void ValueInfo(ProtobufWriter v, string name, int width)
        {
            v.String(1, name);
            v.Message(2, type => type.Message(1, tensor =>          // TypeProto.tensor_type
            {
                tensor.Int64(1, FloatType);                         // elem_type
                tensor.Message(2, shape =>                          // TensorShapeProto
                {
                    shape.Message(1, d => d.String(2, "batch"));    // dim_param
                    shape.Message(1, d => d.Int64(1, width));       // dim_value
                });
            }));
        }
    }
}

using BenchmarkDotNet.Attributes;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;

namespace Marvel.Benchmarks;

/// <summary>
/// Batch-1 action selection with the actor of a SAC-Lag artifact ([H, H] with H = 128 and 256, BallCircle shapes: 8 observations,
/// 2 actions): the learner's own policy (the baseline), <see cref="InferencePolicy"/> on its managed SIMD backend (the default) and on
/// its TorchSharp backend (deterministic and stochastic each), and the exported ONNX graph in ONNX Runtime (one intra-op thread each).
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    private const int Obs = 8, Act = 2;
    private SacLagLearner _learner = null!;
    private InferencePolicy _policy = null!;
    private InferencePolicy _torchPolicy = null!;
    private InferenceSession _session = null!;
    private DenseTensor<float> _onnxInput = null!;
    private NamedOnnxValue[] _onnxInputs = null!;
    private readonly float[] _observation = new float[Obs];
    private readonly float[] _action = new float[Act];

    /// <summary>The actor's (and critics') hidden width.</summary>
    [Params(128, 256)]
    public int Hidden { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        var context = new LearnerContext(BoxSpace.Uniform(Obs, -1000, 1000), BoxSpace.Uniform(Act, -1, 1), new SeedStreams(1), 200, "BallCircle");
        _learner = new SacLagLearner(context, new SacLagOptions { ActorHiddenSizes = [Hidden, Hidden], CriticHiddenSizes = [Hidden, Hidden] });
        var artifact = _learner.ExportHandover();
        _policy = InferencePolicy.FromArtifact(artifact);
        _torchPolicy = InferencePolicy.FromArtifact(artifact, new InferencePolicyOptions { Backend = InferenceBackend.TorchSharp });
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new InferenceSession(OnnxExport.ToBytes(artifact), options);
        Array.Fill(_observation, 0.3f);
        _onnxInput = new DenseTensor<float>(_observation.ToArray(), [1, Obs]);
        _onnxInputs = [NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, _onnxInput)];
    }

    [Benchmark(Baseline = true)]
    public float LearnerPolicyBatch1Deterministic()
    {
        _learner.Policy.Act(_observation, _action, deterministic: true);
        return _action[0];
    }

    [Benchmark]
    public float ManagedPolicyBatch1Deterministic()
    {
        _policy.Act(_observation, _action, deterministic: true);
        return _action[0];
    }

    [Benchmark]
    public float ManagedPolicyBatch1Stochastic()
    {
        _policy.Act(_observation, _action, deterministic: false);
        return _action[0];
    }

    [Benchmark]
    public float TorchSharpPolicyBatch1Deterministic()
    {
        _torchPolicy.Act(_observation, _action, deterministic: true);
        return _action[0];
    }

    [Benchmark]
    public float TorchSharpPolicyBatch1Stochastic()
    {
        _torchPolicy.Act(_observation, _action, deterministic: false);
        return _action[0];
    }

    [Benchmark]
    public float OnnxRuntimeBatch1()
    {
        using var results = _session.Run(_onnxInputs);
        return results[0].AsEnumerable<float>().First();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _policy.Dispose();
        _torchPolicy.Dispose();
        _learner.Dispose();
    }
}

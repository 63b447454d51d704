using BenchmarkDotNet.Attributes;
using Marvel.Core.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Benchmarks;

/// <summary>
/// One critic regression pass (forward, Σ_k MSE, backward into the weights; no optimizer) of a QEnsemble of K members ([H, H], 8 + 2
/// inputs, batch 256), the members run one by one against the opt-in fused form (one baddbmm per layer for all members).
/// </summary>
[MemoryDiagnoser]
public class FusedEnsembleBenchmarks
{
    private QEnsemble _plain = null!, _fused = null!;
    private FlatParameters _plainBuffers = null!, _fusedBuffers = null!;
    private Tensor _s = null!, _a = null!, _y = null!;

    /// <summary>Members K.</summary>
    [Params(2, 10)]
    public int Members { get; set; }

    /// <summary>Hidden width H.</summary>
    [Params(128, 256)]
    public int Hidden { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        QEnsemble Make() { using var g = new Generator(1); return new QEnsemble(8, 2, [Hidden, Hidden], Members, g); }
        _plain = Make();
        _fused = Make();
        _plainBuffers = FlatParameters.Flatten(_plain);
        _fusedBuffers = _fused.Fuse();
        using var g = new Generator(2);
        _s = randn(new long[] { 256, 8 }, generator: g).DetachFromDisposeScope();
        _a = randn(new long[] { 256, 2 }, generator: g).DetachFromDisposeScope();
        _y = randn(new long[] { 256 }, generator: g).DetachFromDisposeScope();
    }

    [Benchmark(Baseline = true)]
    public void MembersOneByOne()
    {
        using var loss = _plain.Loss(_s, _a, _y);
        loss.backward();
        _plainBuffers.Gradients!.zero_();
    }

    [Benchmark]
    public void Fused()
    {
        using var loss = _fused.Loss(_s, _a, _y);
        loss.backward();
        _fusedBuffers.Gradients!.zero_();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plainBuffers.Dispose(); _fusedBuffers.Dispose();
        _plain.Dispose(); _fused.Dispose();
        _s.Dispose(); _a.Dispose(); _y.Dispose();
    }
}

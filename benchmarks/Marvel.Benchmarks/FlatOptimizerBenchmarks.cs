using BenchmarkDotNet.Attributes;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Benchmarks;

/// <summary>
/// Adam step, zero_grad and Polyak on one twin critic (QEnsemble of 2 members, [256, 256], 8 observations + 2 actions: 12 tensors,
/// 136 k parameters), per tensor against the flat buffers of <see cref="FlatParameters"/> (same arithmetic, bit-identical results).
/// </summary>
[MemoryDiagnoser]
public class FlatOptimizerBenchmarks
{
    private QEnsemble _plain = null!, _plainTarget = null!, _flat = null!, _flatTarget = null!;
    private FlatParameters _flatBuffers = null!, _flatTargetBuffers = null!;
    private optim.Optimizer _plainAdam = null!, _flatAdam = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        QEnsemble Make() { using var g = new Generator(1); return new QEnsemble(8, 2, [256, 256], 2, g); }
        _plain = Make(); _plainTarget = Make(); _flat = Make(); _flatTarget = Make();
        _flatBuffers = FlatParameters.Flatten(_flat);
        _flatTargetBuffers = FlatParameters.Flatten(_flatTarget, gradients: false);
        _plainAdam = KeptScalarOptimizer.Adam(_plain.parameters(), 1e-3);
        _flatAdam = KeptScalarOptimizer.Adam(_flat.parameters(), 1e-3);
        using var x = randn(256, 8);
        using var a = randn(256, 2);
        foreach (var net in new[] { _plain, _flat })
            using (var loss = net.forward(x, a).square().mean()) loss.backward();
    }

    [Benchmark(Baseline = true)]
    public void AdamStepPerTensor() => _plainAdam.step();

    [Benchmark]
    public void AdamStepFlat() => _flatAdam.step();

    [Benchmark]
    public void ZeroGradPerTensor() => _plainAdam.zero_grad();

    [Benchmark]
    public void ZeroGradFlat() => _flatAdam.zero_grad();

    [Benchmark]
    public void PolyakPerTensor() => Polyak.Update(0.005, _plain, _plainTarget);

    [Benchmark]
    public void PolyakFlat() => Polyak.Update(0.005, _flat, _flatTarget);

    [GlobalCleanup]
    public void Cleanup()
    {
        _plainAdam.Dispose(); _flatAdam.Dispose();
        _flatBuffers.Dispose(); _flatTargetBuffers.Dispose();
        _plain.Dispose(); _plainTarget.Dispose(); _flat.Dispose(); _flatTarget.Dispose();
    }
}

using BenchmarkDotNet.Attributes;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Online.SacLag;
using TorchSharp;

namespace Marvel.Benchmarks;

/// <summary>
/// Several seeds in one process (issue 21 item 5): one SAC-Lag gradient step for K seeds, batched (<see cref="SacLagSeedBatch"/>: one
/// baddbmm per layer for all seeds) against K single-seed learners stepped one after another. Shapes of <see cref="SacLagUpdateBenchmarks"/>
/// (batch 256, BallCircle's 8 observations and 2 actions, twin reward critics and one cost critic of the actor's width, fixed α). The
/// target compares Batched at K = 5 with OneByOne at K = 1 (one seed's update).
/// </summary>
[MemoryDiagnoser]
public class SeedBatchBenchmarks
{
    private SacLagSeedBatch _batch = null!;
    private SacLagSeedBatch _perSeedProducts = null!;
    private SacLagLearner[] _singles = null!;
    private TransitionBatch[] _batches = null!;
    private double[] _lambdas = null!;

    /// <summary>Hidden width of every network (128 is the quickstart's size, 256 the reference's).</summary>
    [Params(128, 256)]
    public int Hidden { get; set; }

    /// <summary>Seeds K.</summary>
    [Params(1, 5)]
    public int Seeds { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        var contexts = Enumerable.Range(1, Seeds).Select(k => SacLagBenchSetup.Context((ulong)k)).ToArray();
        var options = SacLagBenchSetup.Options(Hidden);
        _batch = new SacLagSeedBatch(contexts, options, SacLagSeedBatch.Products.Batched);
        _perSeedProducts = new SacLagSeedBatch(contexts, options, SacLagSeedBatch.Products.PerSeed);
        _singles = contexts.Select(c => new SacLagLearner(c, options)).ToArray();
        _batches = Enumerable.Range(0, Seeds).Select(k => SacLagBenchSetup.SampleBatch((ulong)(100 + k))).ToArray();
        _lambdas = Enumerable.Range(0, Seeds).Select(k => 0.1 * (k + 1)).ToArray();
    }

    /// <summary>K single-seed learners, one update each.</summary>
    [Benchmark(Baseline = true)]
    public double OneByOne()
    {
        double sum = 0;
        for (int k = 0; k < _singles.Length; k++) sum += _singles[k].Update(_batches[k], _lambdas[k]).RewardCriticLoss;
        return sum;
    }

    /// <summary>One update of all K seeds with one baddbmm per layer for all seeds (the default).</summary>
    [Benchmark]
    public double Batched() => _batch.Update(_batches, _lambdas)[0].RewardCriticLoss;

    /// <summary>One update of all K seeds: one addmm per seed, everything else batched.</summary>
    [Benchmark]
    public double PerSeedProducts() => _perSeedProducts.Update(_batches, _lambdas)[0].RewardCriticLoss;

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var b in _batches) b.Dispose();
        foreach (var s in _singles) s.Dispose();
        _batch.Dispose();
        _perSeedProducts.Dispose();
    }
}

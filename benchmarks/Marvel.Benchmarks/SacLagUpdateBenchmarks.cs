using BenchmarkDotNet.Attributes;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Benchmarks;

/// <summary>
/// One SAC-Lag gradient step (batch 256, [256, 256] networks, twin reward critics and one cost critic, BallCircle shapes:
/// 8 observations, 2 actions) against a bare chain of the same matrix products, and batch-1 action selection.
/// The update's achieved FLOP rate as a fraction of the bare chain's is MatmulChain / SacLagUpdate (same FLOPs).
/// </summary>
[MemoryDiagnoser]
public class SacLagUpdateBenchmarks
{
    private const int Batch = 256, Hidden = 256, Obs = 8, Act = 2;
    private SacLagLearner _learner = null!;
    private TransitionBatch _batch = null!;
    private List<(Tensor A, Tensor B)> _chain = null!;
    private readonly float[] _observation = new float[Obs];
    private readonly float[] _action = new float[Act];

    /// <summary>Total multiply-add FLOPs of one update's matrix products (2·m·k·n each), printed at setup.</summary>
    public static double UpdateFlops { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        var context = new LearnerContext(BoxSpace.Uniform(Obs, -1000, 1000), BoxSpace.Uniform(Act, -1, 1), new SeedStreams(1), 200, "BallCircle");
        _learner = new SacLagLearner(context, new SacLagOptions
        {
            ActorHiddenSizes = [Hidden, Hidden], CriticHiddenSizes = [Hidden, Hidden], RewardCriticCount = 2,
            CostCriticHiddenSizes = [Hidden, Hidden], CostCriticCount = 1, BatchSize = Batch,
        });
        var random = new RandomSource(2);
        var buffer = new ReplayBuffer(4096, Obs, Act);
        var o = new float[Obs];
        var n = new float[Obs];
        var a = new float[Act];
        for (int i = 0; i < 4096; i++)
        {
            for (int k = 0; k < Obs; k++) { o[k] = (float)random.NextGaussian(); n[k] = (float)random.NextGaussian(); }
            for (int k = 0; k < Act; k++) a[k] = (float)random.NextDouble(-1, 1);
            buffer.Add(o, a, (float)random.NextGaussian(), random.NextDouble() < 0.1 ? 1f : 0f, n, false, i % 200 == 199);
        }
        _batch = buffer.Sample(Batch, random);
        _chain = BuildChain();
        Array.Fill(_observation, 0.3f);
    }

    /// <summary>
    /// The matrix products one update performs. Forward Linear(in→out) at batch B is [B,in]·[in,out]; its backward is
    /// dX = [B,out]·[out,in] (skipped for the first layer, whose input needs no gradient) and dW = [in,B]·[B,out]
    /// (skipped where parameters are frozen).
    /// </summary>
    private static List<(Tensor, Tensor)> BuildChain()
    {
        var shapes = new List<(int M, int K, int N)>();
        (int, int)[] actor = [(Obs, Hidden), (Hidden, Hidden), (Hidden, Act), (Hidden, Act)];
        (int, int)[] critic = [(Obs + Act, Hidden), (Hidden, Hidden), (Hidden, 1)];
        void Forward((int In, int Out)[] layers) { foreach (var (i, o) in layers) shapes.Add((Batch, i, o)); }
        void Backward((int In, int Out)[] layers, bool weights, bool firstInput)
        {
            for (int l = 0; l < layers.Length; l++)
            {
                var (i, o) = layers[l];
                if (l > 0 || firstInput) shapes.Add((Batch, o, i));
                if (weights) shapes.Add((i, Batch, o));
            }
        }
        // 1. Targets (no gradient): actor on s', two target reward critics, one target cost critic.
        Forward(actor);
        for (int c = 0; c < 3; c++) Forward(critic);
        // 2–3. Critic regressions: three critic members forward and backward (weights, no input gradient).
        for (int c = 0; c < 3; c++) { Forward(critic); Backward(critic, weights: true, firstInput: false); }
        // 4. Actor: actor forward, three frozen critics forward, backward through them to the action, then the actor's weights.
        Forward(actor);
        for (int c = 0; c < 3; c++) { Forward(critic); Backward(critic, weights: false, firstInput: true); }
        Backward(actor, weights: true, firstInput: false);
        UpdateFlops = shapes.Sum(s => 2.0 * s.M * s.K * s.N);
        Console.WriteLine($"// SAC-Lag update: {shapes.Count} matrix products, {UpdateFlops / 1e6:F1} MFLOP");
        var g = new Generator(3);
        return shapes.Select(s =>
        {
            var a = randn(new long[] { s.M, s.K }, generator: g);
            var b = randn(new long[] { s.K, s.N }, generator: g);
            a.DetachFromDisposeScope();
            b.DetachFromDisposeScope();
            return (a, b);
        }).ToList();
    }

    [Benchmark(Baseline = true)]
    public void MatmulChain()
    {
        using var scope = NewDisposeScope();
        foreach (var (a, b) in _chain) a.mm(b);
    }

    [Benchmark]
    public SacLagUpdateMetrics SacLagUpdate() => _learner.Update(_batch, 0.1);

    [Benchmark]
    public float ActBatch1Stochastic()
    {
        _learner.Policy.Act(_observation, _action, deterministic: false);
        return _action[0];
    }

    [Benchmark]
    public float ActBatch1Deterministic()
    {
        _learner.Policy.Act(_observation, _action, deterministic: true);
        return _action[0];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batch.Dispose();
        _learner.Dispose();
        foreach (var (a, b) in _chain) { a.Dispose(); b.Dispose(); }
    }
}

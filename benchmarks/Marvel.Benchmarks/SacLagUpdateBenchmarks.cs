using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Abstractions.Learning;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Benchmarks;

/// <summary>
/// One SAC-Lag gradient step (batch 256, [256, 256] networks, twin reward critics and one cost critic, BallCircle shapes:
/// 8 observations, 2 actions) against a bare chain of the same matrix products, and batch-1 action selection.
/// The update's achieved FLOP rate as a fraction of the bare chain's is MatmulChain / SacLagUpdate (same FLOPs); the GFLOP/s column
/// prints both rates. The chain frees every product as soon as it is made, as the update's own graph does with its intermediates, so
/// the allocator reuses the same blocks instead of touching fresh pages (a chain that keeps all outputs alive is slower than the
/// update itself and flatters it).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(FlopColumnConfig))]
public class SacLagUpdateBenchmarks
{
    private const int Batch = SacLagBenchSetup.Batch, Obs = SacLagBenchSetup.Obs, Act = SacLagBenchSetup.Act;
    private SacLagLearner _learner = null!;
    private TransitionBatch _batch = null!;
    private List<(Tensor A, Tensor B)> _chain = null!;
    private readonly float[] _observation = new float[Obs];
    private readonly float[] _action = new float[Act];

    /// <summary>Hidden width of every network (128 is the quickstart's size, 256 the reference's).</summary>
    [Params(128, 256)]
    public int Hidden { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        (_learner, _batch) = SacLagBenchSetup.Create(Hidden);
        _chain = BuildChain(Hidden);
        Array.Fill(_observation, 0.3f);
    }

    /// <summary>Multiply-add FLOPs (2·m·k·n each) of the matrix products of one update at width <paramref name="hidden"/>.</summary>
    public static double UpdateFlops(int hidden) => ChainShapes(hidden).Sum(s => 2.0 * s.M * s.K * s.N);

    /// <summary>
    /// The matrix products one update performs. Forward Linear(in→out) at batch B is [B,in]·[in,out]; its backward is
    /// dX = [B,out]·[out,in] (skipped for the first layer, whose input needs no gradient) and dW = [in,B]·[B,out]
    /// (skipped where parameters are frozen).
    /// </summary>
    private static List<(int M, int K, int N)> ChainShapes(int hidden)
    {
        var shapes = new List<(int M, int K, int N)>();
        (int, int)[] actor = [(Obs, hidden), (hidden, hidden), (hidden, Act), (hidden, Act)];
        (int, int)[] critic = [(Obs + Act, hidden), (hidden, hidden), (hidden, 1)];
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
        return shapes;
    }

    internal static List<(Tensor, Tensor)> BuildChain(int hidden)
    {
        var shapes = ChainShapes(hidden);
        Console.WriteLine($"// SAC-Lag update at hidden {hidden}: {shapes.Count} matrix products, {UpdateFlops(hidden) / 1e6:F1} MFLOP");
        using var g = new Generator(3);
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
        // Each product is freed before the next one is made (the update frees its intermediates as its graph is consumed).
        foreach (var (a, b) in _chain) a.mm(b).Dispose();
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

/// <summary>Adds a GFLOP/s column to <see cref="SacLagUpdateBenchmarks"/>: the matmul FLOPs of one update at the row's width over its mean time
/// (for MatmulChain and SacLagUpdate; empty for the acting rows).</summary>
internal sealed class FlopColumnConfig : ManualConfig
{
    public FlopColumnConfig() => AddColumn(new FlopRateColumn());

    private sealed class FlopRateColumn : IColumn
    {
        public string Id => "GFlopRate";
        public string ColumnName => "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Matrix-product FLOPs of one update (2·m·k·n summed) divided by the mean time";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            string method = benchmarkCase.Descriptor.WorkloadMethod.Name;
            if (method is not (nameof(SacLagUpdateBenchmarks.MatmulChain) or nameof(SacLagUpdateBenchmarks.SacLagUpdate))) return "-";
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is null) return "?";
            int hidden = (int)benchmarkCase.Parameters["Hidden"];
            double seconds = report.ResultStatistics.Mean * 1e-9;
            return (SacLagUpdateBenchmarks.UpdateFlops(hidden) / seconds / 1e9).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}

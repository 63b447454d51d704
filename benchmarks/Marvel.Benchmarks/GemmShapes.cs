using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Benchmarks;

/// <summary>
/// <c>Marvel.Benchmarks --gemm-shapes</c>: libtorch's matrix-product rates (one thread) at the shapes that dominate the CPQ and BEAR-Lag
/// updates, the .NET half of <c>benchmarks/side-by-side/gemm_shapes.py</c> (same shapes, same three products per Linear layer: forward
/// addmm with Wᵀ, weight gradient gyᵀ x, input gradient gy W; and the weight gradient computed transposed, xᵀ gy).
/// </summary>
internal static class GemmShapes
{
    private static readonly (int Rows, int In, int Out)[] Shapes =
        [(5120, 256, 256), (5120, 400, 400), (512, 256, 256), (512, 400, 400), (2560, 64, 64), (256, 64, 64),
         (5120, 10, 256), (5120, 256, 1), (5120, 10, 400), (5120, 400, 4), (512, 10, 256), (512, 256, 1)];

    public static int Run()
    {
        torch.set_num_threads(1);
        var g = new Generator(1);
        foreach (var (rows, fanIn, fanOut) in Shapes)
        {
            using var x = randn(new long[] { rows, fanIn }, generator: g);
            using var w = randn(new long[] { fanOut, fanIn }, generator: g);
            using var b = randn(new long[] { fanOut }, generator: g);
            using var gy = randn(new long[] { rows, fanOut }, generator: g);
            using var wt = w.t();
            using var gyt = gy.t();
            double flop = 2.0 * rows * fanIn * fanOut;
            double fwd = Rate(() => addmm(b, x, wt, 1f, 1f), flop);
            double wgrad = Rate(() => gyt.mm(x), flop);
            double xgrad = Rate(() => gy.mm(w), flop);
            using var xt = x.t();
            double wgradT = Rate(() => xt.mm(gy), flop);   // the same weight gradient, transposed: xᵀ gy = (gyᵀ x)ᵀ
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{rows}x{fanIn}->{fanOut}: forward {fwd:F1}, weight grad {wgrad:F1}, input grad {xgrad:F1}, weight grad transposed {wgradT:F1} GFLOP/s"));
        }
        return 0;
    }

    private static double Rate(Func<Tensor> product, double flop, double seconds = 0.25)
    {
        for (int i = 0; i < 5; i++) product().Dispose();
        long start = Stopwatch.GetTimestamp();
        int n = 0;
        while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
        {
            product().Dispose();
            n++;
        }
        return flop * n / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9;
    }
}

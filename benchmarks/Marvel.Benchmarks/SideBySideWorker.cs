using System.Diagnostics;
using System.Globalization;
using TorchSharp;

namespace Marvel.Benchmarks;

/// <summary>
/// The .NET half of <c>benchmarks/side-by-side/run.py</c>: builds the benchmark's SAC-Lag learner and answers "n" on stdin with the
/// wall and process-CPU milliseconds per update of n updates, so a driver can interleave rounds with the PyTorch worker.
/// </summary>
internal static class SideBySideWorker
{
    /// <summary>Usage: <c>Marvel.Benchmarks --side-by-side [--hidden H]</c>.</summary>
    public static int Run(string[] args)
    {
        int hidden = 256;
        for (int i = 0; i < args.Length - 1; i++)
            if (args[i] == "--hidden") hidden = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
        torch.set_num_threads(1);
        var (learner, batch) = SacLagBenchSetup.Create(hidden);
        using var process = Process.GetCurrentProcess();
        Console.WriteLine($"ready TorchSharp libtorch threads {torch.get_num_threads()}");
        while (Console.ReadLine() is { } line)
        {
            line = line.Trim();
            if (line == "quit") break;
            int n = int.Parse(line, CultureInfo.InvariantCulture);
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            long t0 = Stopwatch.GetTimestamp();
            for (int k = 0; k < n; k++) learner.Update(batch, 0.1);
            double wall = Stopwatch.GetElapsedTime(t0).TotalMilliseconds / n;
            process.Refresh();
            double cpu = (process.TotalProcessorTime - cpu0).TotalMilliseconds / n;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{wall:F4} {cpu:F4}"));
        }
        batch.Dispose();
        learner.Dispose();
        return 0;
    }
}

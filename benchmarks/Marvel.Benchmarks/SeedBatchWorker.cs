using System.Diagnostics;
using System.Globalization;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using Marvel.Core.Lagrange;
using TorchSharp;

namespace Marvel.Benchmarks;

/// <summary>
/// Interleaved timings of several seeds in one process (issue 21 item 5), for a machine too noisy for BenchmarkDotNet's short job:
/// <list type="bullet">
/// <item><c>--seed-batch update [--hidden H] [--rounds R] [--updates N]</c>: one seed's update against five seeds' (one by one, batched with
/// per-seed products, batched with baddbmm), each round running every variant N times in a rotating order; prints per-round process-CPU
/// ratios to the one-seed update and their medians.
/// With <c>--only v</c> it runs variant v (0–4) alone, R × N times, for a profiler.</item>
/// <item><c>--seed-batch online [--hidden H] [--iterations T] [--warmup W]</c>: the quickstart's online stage (SAC-Lag with the safe-finetuning
/// recipe's schedule on BallCircle, 5 environments per seed, offline-data mixing) for one seed, five seeds batched and five seeds one
/// after another; W untimed iterations (the replay warm-up), then T timed ones.</item>
/// </list>
/// </summary>
internal static class SeedBatchWorker
{
    private const int Seeds = 5;

    public static int Run(string[] args)
    {
        int hidden = 128, rounds = 7, updates = 20, iterations = 2, warmup = 6, only = -1;
        for (int i = 0; i < args.Length - 1; i++)
        {
            int Value() => int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--hidden": hidden = Value(); break;
                case "--rounds": rounds = Value(); break;
                case "--updates": updates = Value(); break;
                case "--iterations": iterations = Value(); break;
                case "--warmup": warmup = Value(); break;
                case "--only": only = Value(); break;
            }
        }
        torch.set_num_threads(1);
        string mode = args.Length > 1 ? args[1] : "update";
        return mode == "online" ? Online(hidden, iterations, warmup) : Updates(hidden, rounds, updates, only);
    }

    private static int Updates(int hidden, int rounds, int updates, int only)
    {
        var contexts = Enumerable.Range(1, Seeds).Select(k => SacLagBenchSetup.Context((ulong)k)).ToArray();
        var options = SacLagBenchSetup.Options(hidden);
        var singles = contexts.Select(c => new SacLagLearner(c, options)).ToArray();
        using var perSeed = new SacLagSeedBatch(contexts, options, SacLagSeedBatch.Products.PerSeed);
        using var bmm = new SacLagSeedBatch(contexts, options, SacLagSeedBatch.Products.Batched);
        var batches = Enumerable.Range(0, Seeds).Select(k => SacLagBenchSetup.SampleBatch((ulong)(100 + k))).ToArray();
        var lambdas = Enumerable.Range(0, Seeds).Select(k => 0.1 * (k + 1)).ToArray();
        var chain = SacLagUpdateBenchmarks.BuildChain(hidden);
        (string Name, Action Step)[] variants =
        [
            ("one seed", () => singles[0].Update(batches[0], lambdas[0])),
            ("5 one by one", () => { for (int k = 0; k < Seeds; k++) singles[k].Update(batches[k], lambdas[k]); }),
            ("5 batched, per-seed products", () => perSeed.Update(batches, lambdas)),
            ("5 batched, baddbmm", () => bmm.Update(batches, lambdas)),
            // The yardstick of SacLagUpdateBenchmarks: one seed's matrix products alone, each freed before the next (5× it is the least
            // five seeds' updates can cost on one thread at this GEMM rate).
            ("matmul chain of one seed", () => { using var scope = torch.NewDisposeScope(); foreach (var (a, b) in chain) a.mm(b).Dispose(); }),
        ];
        foreach (var (_, step) in variants) for (int i = 0; i < 20; i++) step();
        if (only >= 0)
        {
            // For a profiler: variant 'only' alone, rounds × updates times.
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < rounds * updates; i++) variants[only].Step();
            Console.WriteLine($"{variants[only].Name}: {clock.Elapsed.TotalMilliseconds / (rounds * updates):F2} ms per update (wall)");
            return 0;
        }
        using var process = Process.GetCurrentProcess();
        var cpu = new double[variants.Length, rounds];
        var wall = new double[variants.Length, rounds];
        for (int r = 0; r < rounds; r++)
        {
            for (int j = 0; j < variants.Length; j++)
            {
                int v = (j + r) % variants.Length;
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < updates; i++) variants[v].Step();
                clock.Stop();
                process.Refresh();
                cpu[v, r] = (process.TotalProcessorTime - cpu0).TotalMilliseconds / updates;
                wall[v, r] = clock.Elapsed.TotalMilliseconds / updates;
            }
        }
        Console.WriteLine($"hidden {hidden}, batch {SacLagBenchSetup.Batch}, {rounds} rounds of {updates} updates; ms per update (CPU), ratio to one seed per round");
        for (int v = 0; v < variants.Length; v++)
        {
            var ratios = Enumerable.Range(0, rounds).Select(r => cpu[v, r] / cpu[0, r]).ToArray();
            var wallRatios = Enumerable.Range(0, rounds).Select(r => wall[v, r] / wall[0, r]).ToArray();
            var times = Enumerable.Range(0, rounds).Select(r => cpu[v, r]).ToArray();
            Console.WriteLine($"{variants[v].Name,-30} CPU {Median(times),7:F2} ms (range {times.Min():F2}-{times.Max():F2})  ratios {string.Join(", ", ratios.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))}  median {Median(ratios):F2} (wall {Median(wallRatios):F2})");
        }
        foreach (var b in batches) b.Dispose();
        foreach (var s in singles) s.Dispose();
        foreach (var (a, b) in chain) { a.Dispose(); b.Dispose(); }
        return 0;
    }

    private static int Online(int hidden, int iterations, int warmup)
    {
        const string task = "BallCircle";
        const double costLimit = 20;
        var dataset = DatasetCollector.GenerateBuiltIn(task, episodes: 200, seed: new SeedStreams(7).Derive("dataset"));
        var options = SacLagOptions.SafeFinetuning();
        options.ActorHiddenSizes = [hidden, hidden];
        options.CriticHiddenSizes = [hidden, hidden];
        options.CostCriticHiddenSizes = [hidden, hidden];
        options.SafeExploration = SafeExploration.None;   // the policy set needs a handed-over actor; the schedule is the recipe's
        options.CriticWarmupSteps = 0;                     // so that the timed iterations step the actor too (the recipe's first 1000 do not)
        using var probe = EnvironmentRegistry.Default.MakeVector(task, 5);
        LearnerContext Context(int seed) => new(probe.ObservationSpace, probe.ActionSpace, new SeedStreams((ulong)(7 + seed)), probe.Spec.MaxEpisodeSteps, task);
        ILagrangeController Controller() => new AdaptivePidLagrangeController(AdaptivePidLagrangeOptions.SafeFinetuning(costLimit));
        Console.WriteLine($"online stage: {task}, hidden {hidden}, {options.UpdatesPerIteration} updates of batch {options.BatchSize} and {options.EpisodesPerIteration} " +
                          $"episodes on 5 environments per iteration per seed; {warmup} untimed iterations, then {iterations} timed");
        using var process = Process.GetCurrentProcess();

        (double Cpu, double Wall) Time(Action<int> iteration)
        {
            for (int i = 0; i < warmup; i++) iteration(i);
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < iterations; i++) iteration(warmup + i);
            process.Refresh();
            return ((process.TotalProcessorTime - cpu0).TotalSeconds / iterations, clock.Elapsed.TotalSeconds / iterations);
        }

        // One seed.
        {
            using var learner = new SacLagLearner(Context(0), options);
            learner.AttachOfflineData(dataset);
            using var env = EnvironmentRegistry.Default.MakeVector(task, 5);
            var controller = Controller();
            var (c, w) = Time(_ => learner.RunIteration(env, controller));
            Console.WriteLine($"one seed                  {c,7:F2} s CPU, {w,7:F2} s wall per iteration (updates so far {learner.Steps})");
        }
        // Five seeds batched.
        {
            using var batch = new SacLagSeedBatch(Enumerable.Range(0, Seeds).Select(Context).ToArray(), options);
            foreach (var seed in batch.Seeds) seed.AttachOfflineData(dataset);
            var envs = Enumerable.Range(0, Seeds).Select(_ => (IVectorEnvironment)EnvironmentRegistry.Default.MakeVector(task, 5)).ToArray();
            var controllers = Enumerable.Range(0, Seeds).Select(_ => Controller()).ToArray();
            var (c, w) = Time(_ => batch.RunIteration(envs, controllers));
            Console.WriteLine($"5 seeds batched           {c,7:F2} s CPU, {w,7:F2} s wall per iteration (updates so far {batch.Seeds[0].Steps})");
            foreach (var e in envs) e.Dispose();
        }
        // Five seeds one after another in this process.
        {
            var learners = Enumerable.Range(0, Seeds).Select(k => new SacLagLearner(Context(k), options)).ToArray();
            foreach (var l in learners) l.AttachOfflineData(dataset);
            var envs = Enumerable.Range(0, Seeds).Select(_ => (IVectorEnvironment)EnvironmentRegistry.Default.MakeVector(task, 5)).ToArray();
            var controllers = Enumerable.Range(0, Seeds).Select(_ => Controller()).ToArray();
            var (c, w) = Time(_ => { for (int k = 0; k < Seeds; k++) learners[k].RunIteration(envs[k], controllers[k]); });
            Console.WriteLine($"5 seeds one by one        {c,7:F2} s CPU, {w,7:F2} s wall per iteration");
            foreach (var e in envs) e.Dispose();
            foreach (var l in learners) l.Dispose();
        }
        return 0;
    }

    private static double Median(double[] values)
    {
        var sorted = values.OrderBy(x => x).ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}

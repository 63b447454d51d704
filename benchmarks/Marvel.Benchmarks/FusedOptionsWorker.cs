using System.Diagnostics;
using System.Globalization;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using TorchSharp;

namespace Marvel.Benchmarks;

/// <summary>
/// Interleaved rounds of <see cref="FusedOptionsBenchmarks"/>' updates: one learner per <see cref="FusedVariant"/> in one process, each
/// round running every variant N updates in a rotating order; prints per-round process-CPU ratios to <see cref="FusedVariant.Plain"/> and
/// their median. On a shared machine the load drifts between BenchmarkDotNet's sequential cases; rounds compare the variants under the
/// same load.
/// </summary>
internal static class FusedOptionsWorker
{
    /// <summary>Usage: <c>Marvel.Benchmarks --fused-rounds [--learner sac-lag|cpq] [--hidden H] [--rounds R] [--updates N]</c>.</summary>
    public static int Run(string[] args)
    {
        int hidden = 256, rounds = 7, updates = 15;
        string learner = "sac-lag";
        for (int i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--hidden") hidden = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (args[i] == "--rounds") rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (args[i] == "--updates") updates = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (args[i] == "--learner") learner = args[i + 1];
        }
        torch.set_num_threads(1);
        var variants = Enum.GetValues<FusedVariant>();
        var steps = new Action[variants.Length];
        var owners = new List<IDisposable>();
        OfflineDataset? dataset = null;
        for (int v = 0; v < variants.Length; v++)
        {
            bool critics = variants[v] is FusedVariant.FusedCritics or FusedVariant.Both;
            bool heads = variants[v] is FusedVariant.FusedHeads or FusedVariant.Both;
            if (learner == "cpq")
            {
                dataset ??= DatasetCollector.GenerateBuiltIn("BallCircle", episodes: 100, seed: 3);
                using var env = EnvironmentRegistry.Default.MakeVector("BallCircle", 1);
                var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(11), env.Spec.MaxEpisodeSteps, "BallCircle");
                var cpq = new CpqLearner(context, new CpqOptions
                {
                    ActorHiddenSizes = [hidden, hidden], CriticHiddenSizes = [hidden, hidden], FusedCriticEnsembles = critics, FusedActorHeads = heads,
                });
                cpq.Attach(dataset);
                steps[v] = () => cpq.TrainStep();
                owners.Add(cpq);
            }
            else
            {
                var (sac, batch) = SacLagBenchSetup.Create(hidden, o => o with { FusedCriticEnsembles = critics, FusedActorHeads = heads });
                steps[v] = () => sac.Update(batch, 0.1);
                owners.Add(sac);
                owners.Add(batch);
            }
        }
        foreach (var step in steps) for (int i = 0; i < 5; i++) step();
        using var process = Process.GetCurrentProcess();
        var cpu = new double[variants.Length, rounds];
        for (int r = 0; r < rounds; r++)
        {
            for (int j = 0; j < variants.Length; j++)
            {
                int v = (j + r) % variants.Length;
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                for (int i = 0; i < updates; i++) steps[v]();
                process.Refresh();
                cpu[v, r] = (process.TotalProcessorTime - cpu0).TotalMilliseconds / updates;
            }
        }
        Console.WriteLine($"{learner}, hidden {hidden}, {rounds} rounds of {updates} updates; ms per update (process CPU), ratio to Plain per round");
        for (int v = 0; v < variants.Length; v++)
        {
            var times = Enumerable.Range(0, rounds).Select(r => cpu[v, r]).ToArray();
            var ratios = Enumerable.Range(0, rounds).Select(r => cpu[v, r] / cpu[0, r]).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{variants[v],-13} CPU {Median(times),7:F2} ms (range {times.Min():F2}-{times.Max():F2})  ratios {string.Join(", ", ratios.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)))}  median {Median(ratios):F3}"));
        }
        foreach (var owner in owners) owner.Dispose();
        return 0;
    }

    private static double Median(double[] values)
    {
        var sorted = values.OrderBy(x => x).ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

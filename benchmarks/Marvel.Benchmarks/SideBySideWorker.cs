using System.Diagnostics;
using System.Globalization;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using TorchSharp;

namespace Marvel.Benchmarks;

/// <summary>
/// The .NET half of <c>benchmarks/side-by-side/run.py</c>: builds the benchmark's SAC-Lag learner and answers "n" on stdin with the
/// wall and process-CPU milliseconds per update of n updates, so a driver can interleave rounds with the PyTorch worker. With
/// <c>--learner cpq|bear-lag|bcq-lag</c> it runs that offline learner's <c>TrainStep</c> on the data of <see cref="OfflineUpdateBenchmarks"/>
/// instead, at its default options or the sizes <c>--net-hidden H1,H2 --vae-hidden V --batch B</c> (CPQ and BEAR-Lag have PyTorch twins,
/// cpq_update.py and bear_lag_update.py; BCQ-Lag is for A/B rounds of two .NET builds).
/// </summary>
internal static class SideBySideWorker
{
    /// <summary>Usage: <c>Marvel.Benchmarks --side-by-side [--hidden H] [--learner sac-lag|cpq|bear-lag|bcq-lag] [--net-hidden H1,H2]
    /// [--vae-hidden V] [--batch B] [--phases]</c>; <c>--phases</c> (CPQ, BEAR-Lag) runs the update through
    /// <see cref="OfflinePhaseReplicas"/> and appends wall ms per phase to each answer.</summary>
    public static int Run(string[] args)
    {
        int hidden = 256;
        string learnerName = "sac-lag";
        int[]? netHidden = null;
        int? vaeHidden = null, batchSize = null;
        bool phases = args.Contains("--phases");
        OfflinePhaseReplicas? replica = null;
        for (int i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--hidden") hidden = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (args[i] == "--learner") learnerName = args[i + 1];
            if (args[i] == "--net-hidden") netHidden = args[i + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            if (args[i] == "--vae-hidden") vaeHidden = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (args[i] == "--batch") batchSize = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
        }
        torch.set_num_threads(1);
        Action update;
        IDisposable owner;
        if (learnerName == "sac-lag")
        {
            var (learner, batch) = SacLagBenchSetup.Create(hidden);
            update = () => learner.Update(batch, 0.1);
            owner = learner;
        }
        else
        {
            var dataset = DatasetCollector.GenerateBuiltIn("BallCircle", episodes: 100, seed: 3);
            using var env = EnvironmentRegistry.Default.MakeVector("BallCircle", 1);
            var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(11), env.Spec.MaxEpisodeSteps, "BallCircle");
            // Sizes not given stay at the options' defaults ([256, 256], VAE 400, batch 512).
            T Sized<T>(T o) where T : VaeCriticLearnerOptions => o with
            {
                ActorHiddenSizes = netHidden ?? o.ActorHiddenSizes, CriticHiddenSizes = netHidden ?? o.CriticHiddenSizes,
                VaeHiddenSize = vaeHidden ?? o.VaeHiddenSize, BatchSize = batchSize ?? o.BatchSize,
            };
            IOfflineSafeLearner Create() => learnerName switch
            {
                "cpq" => new CpqLearner(context, Sized(new CpqOptions())),
                "bear-lag" => new BearLagLearner(context, Sized(new BearLagOptions())),
                "bcq-lag" => new BcqLagLearner(context, Sized(new BcqLagOptions())),
                _ => throw new ArgumentException($"Unknown learner '{learnerName}'."),
            };
            var offline = Create();
            offline.Attach(dataset);
            update = () => offline.TrainStep();
            owner = offline;
            if (phases)
            {
                // The phase clock runs on a copy of the update; first make sure the copy does the learner's work, bit for bit.
                using (var twin = Create())
                {
                    twin.Attach(dataset);
                    OfflinePhaseReplicas.Check(offline, twin, steps: 5);
                }
                replica = OfflinePhaseReplicas.For(offline);
                update = () => replica.Step();
            }
        }
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
            for (int k = 0; k < n; k++) update();
            double wall = Stopwatch.GetElapsedTime(t0).TotalMilliseconds / n;
            process.Refresh();
            double cpu = (process.TotalProcessorTime - cpu0).TotalMilliseconds / n;
            string extra = replica is null ? "" : " " + replica.Take(n);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{wall:F4} {cpu:F4}{extra}"));
        }
        owner.Dispose();
        return 0;
    }
}

// Stress check for the TorchSharp scalar race (docs/known-issues.md): trains one learner (or runs value alignment) on tiny
// BallCircle networks for a fixed time while other threads allocate managed garbage, so collections start on other threads
// while the training thread is inside libtorch. A crash aborts the process (exit 134); a clean run prints "ok" and exits 0.
//   dotnet eng/stress/Marvel.Stress/bin/Release/net10.0/linux-x64/Marvel.Stress.dll <learner> <seconds> [allocating threads = 4]
// learner: Bc BcqLag BearLag Cpq COptiDice Cdt SacLag PpoLag Align
using System.Diagnostics;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Offline.COptiDice;
using Marvel.Core.Algorithms.Offline.Cdt;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Alignment;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Tasks;
using Marvel.Core.Lagrange;

if (args.Length < 2) { Console.Error.WriteLine("usage: Marvel.Stress <Bc|BcqLag|BearLag|Cpq|COptiDice|Cdt|SacLag|PpoLag|Align> <seconds> [threads]"); return 2; }
string learnerName = args[0];
var duration = TimeSpan.FromSeconds(double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
int allocators = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 4;
TorchSharp.torch.set_num_threads(1);

const int Horizon = 40;
var stop = new CancellationTokenSource();
long garbage = 0;
var sink = new byte[64][];   // arrays must escape, or the JIT may allocate them on the stack and make no garbage
var threads = Enumerable.Range(0, allocators).Select(k => new Thread(() =>
{
    long made = 0;
    for (int i = 0; !stop.IsCancellationRequested; i++) { sink[(k * 16 + i) & 63] = new byte[1000]; made += 1000; }
    Interlocked.Add(ref garbage, made);
}) { IsBackground = true }).ToList();
threads.ForEach(t => t.Start());

var clock = Stopwatch.StartNew();
long steps = 0;
var context = Context(7);
var dataset = Dataset(12, 1);
switch (learnerName)
{
    case "SacLag":
    {
        using var learner = new SacLagLearner(context, Tiny(new SacLagOptions { EpisodesPerIteration = 1, UpdatesPerIteration = 20, WarmupSteps = 0 }));
        using var env = new VectorEnvironment(() => new BallCircle(maxEpisodeSteps: Horizon), 1);
        var controller = new PidLagrangeController(new PidLagrangeOptions());
        while (clock.Elapsed < duration) { learner.RunIteration(env, controller); steps++; }
        break;
    }
    case "PpoLag":
    {
        using var learner = new PpoLagLearner(context, Tiny(new PpoLagOptions { StepsPerIteration = 200 }));
        using var env = new VectorEnvironment(() => new BallCircle(maxEpisodeSteps: Horizon), 1);
        var controller = new PidLagrangeController(new PidLagrangeOptions());
        while (clock.Elapsed < duration) { learner.RunIteration(env, controller); steps++; }
        break;
    }
    case "Align":
    {
        using var producer = new BearLagLearner(context, Tiny(new BearLagOptions()));
        producer.Attach(dataset);
        producer.TrainStep();
        var artifact = producer.ExportHandover();
        var aligner = new ValuePreAligner(Tiny(new ValuePreAlignmentOptions { Steps = 50 }));
        while (clock.Elapsed < duration) { aligner.Align(artifact, dataset, context); steps++; }
        break;
    }
    default:
    {
        using IOfflineSafeLearner learner = learnerName switch
        {
            "Bc" => new BcLearner(context, Tiny(new BcOptions())),
            "BcqLag" => new BcqLagLearner(context, Tiny(new BcqLagOptions())),
            "BearLag" => new BearLagLearner(context, Tiny(new BearLagOptions())),
            "Cpq" => new CpqLearner(context, Tiny(new CpqOptions())),
            "COptiDice" => new COptiDiceLearner(context, Tiny(new COptiDiceOptions())),
            "Cdt" => new CdtLearner(context, Tiny(new CdtOptions())),
            _ => throw new ArgumentException($"Unknown learner '{learnerName}'."),
        };
        learner.Attach(dataset);
        while (clock.Elapsed < duration) { learner.TrainStep(); steps++; }
        break;
    }
}
stop.Cancel();
threads.ForEach(t => t.Join());
Console.WriteLine($"ok {learnerName}: {steps} iterations in {clock.Elapsed.TotalSeconds:F0} s, {GC.CollectionCount(0)} gen-0 collections, {garbage / 1_000_000} MB of garbage on {allocators} threads");
return 0;

// Small networks and batches: more native calls per second, so more chances for the race.
static T Tiny<T>(T options) where T : class
{
    foreach (var p in typeof(T).GetProperties().Where(p => p.CanWrite))
    {
        if (p.PropertyType == typeof(int[]) && p.Name.EndsWith("HiddenSizes", StringComparison.Ordinal)) p.SetValue(options, new[] { 32, 32 });
        else if (p.PropertyType == typeof(int) && p.Name == "BatchSize") p.SetValue(options, 64);
        else if (p.PropertyType == typeof(int) && p.Name == "EmbeddingSize") p.SetValue(options, 32);
        else if (p.PropertyType == typeof(int) && p.Name == "Layers") p.SetValue(options, 1);
        else if (p.PropertyType == typeof(int) && p.Name is "MiniBatchSize" or "MinibatchSize") p.SetValue(options, 50);
    }
    return options;
}

static LearnerContext Context(ulong seed)
{
    using var env = new BallCircle(maxEpisodeSteps: Horizon);
    return new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(seed), Horizon, "BallCircle");
}

// Episodes of BallCircle pushed in a random direction with a strength that grows per episode, plus noise.
static OfflineDataset Dataset(int episodes, ulong seed)
{
    using var env = new BallCircle(maxEpisodeSteps: Horizon);
    int obsSize = env.ObservationSpace.Dimension, actSize = env.ActionSpace.Dimension;
    var random = new RandomSource(seed);
    var obs = new List<float>(); var next = new List<float>(); var act = new List<float>();
    var rew = new List<float>(); var cost = new List<float>(); var term = new List<bool>(); var trunc = new List<bool>();
    var o = new float[obsSize]; var n = new float[obsSize]; var a = new float[actSize];
    for (int e = 0; e < episodes; e++)
    {
        env.Reset(seed * 1000 + (ulong)e, o);
        double strength = (double)e / Math.Max(1, episodes - 1), angle = random.NextDouble(0, 2 * Math.PI);
        bool done = false;
        while (!done)
        {
            a[0] = (float)Math.Clamp(strength * Math.Cos(angle) + 0.3 * random.NextGaussian(), -1, 1);
            a[1] = (float)Math.Clamp(strength * Math.Sin(angle) + 0.3 * random.NextGaussian(), -1, 1);
            var r = env.Step(a, n);
            obs.AddRange(o); next.AddRange(n); act.AddRange(a);
            rew.Add((float)r.Reward); cost.Add((float)r.Cost); term.Add(r.Terminated); trunc.Add(r.Truncated);
            n.CopyTo(o, 0);
            done = r.EpisodeEnded;
        }
    }
    return new OfflineDataset(obsSize, actSize, obs.ToArray(), act.ToArray(), rew.ToArray(), cost.ToArray(), next.ToArray(),
        term.ToArray(), trunc.ToArray(), "stress BallCircle");
}

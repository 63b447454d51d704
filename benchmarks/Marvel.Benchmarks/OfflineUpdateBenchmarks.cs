using BenchmarkDotNet.Attributes;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Offline.Cdt;
using Marvel.Core.Algorithms.Offline.COptiDice;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Data;
using Marvel.Core.Environments;

namespace Marvel.Benchmarks;

/// <summary>
/// One gradient update (<see cref="IOfflineSafeLearner.TrainStep"/>) of each offline learner at its default options,
/// i.e. the algorithms spec's default network sizes and batch sizes, on one torch thread:
/// BC [256, 256], batch 512; CPQ, BEAR-Lag and BCQ-Lag actor and critics [256, 256], VAE hidden 400, two critics per
/// group, batch 512; COptiDICE actor and ν/χ [256, 256], batch 512; CDT E = 128, 3 layers, 8 heads, L = 10, batch 2048.
/// The data is a generated BallCircle dataset (100 episodes, 20 000 transitions); one op = one update.
/// </summary>
[MemoryDiagnoser]
public class OfflineUpdateBenchmarks
{
    private OfflineDataset _dataset = null!;
    private IOfflineSafeLearner _learner = null!;

    private void Build(Func<LearnerContext, IOfflineSafeLearner> create)
    {
        TorchSharp.torch.set_num_threads(1);
        _dataset = DatasetCollector.GenerateBuiltIn("BallCircle", episodes: 100, seed: 3);
        using var env = EnvironmentRegistry.Default.MakeVector("BallCircle", 1);
        var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(11), env.Spec.MaxEpisodeSteps, "BallCircle");
        _learner = create(context);
        _learner.Attach(_dataset);
        _learner.TrainStep();   // first update outside the measurement (lazy optimizer state, first allocations)
    }

    [GlobalSetup(Target = nameof(BcUpdate))]
    public void SetupBc() => Build(c => new BcLearner(c));

    [GlobalSetup(Target = nameof(CpqUpdate))]
    public void SetupCpq() => Build(c => new CpqLearner(c));

    [GlobalSetup(Target = nameof(BearLagUpdate))]
    public void SetupBearLag() => Build(c => new BearLagLearner(c));

    [GlobalSetup(Target = nameof(BcqLagUpdate))]
    public void SetupBcqLag() => Build(c => new BcqLagLearner(c));

    [GlobalSetup(Target = nameof(COptiDiceUpdate))]
    public void SetupCOptiDice() => Build(c => new COptiDiceLearner(c));

    [GlobalSetup(Target = nameof(CdtUpdate))]
    public void SetupCdt() => Build(c => new CdtLearner(c));

    [GlobalCleanup]
    public void Cleanup() => _learner?.Dispose();

    [Benchmark(Baseline = true)]
    public IReadOnlyDictionary<string, double> BcUpdate() => _learner.TrainStep();

    [Benchmark]
    public IReadOnlyDictionary<string, double> CpqUpdate() => _learner.TrainStep();

    [Benchmark]
    public IReadOnlyDictionary<string, double> BearLagUpdate() => _learner.TrainStep();

    [Benchmark]
    public IReadOnlyDictionary<string, double> BcqLagUpdate() => _learner.TrainStep();

    [Benchmark]
    public IReadOnlyDictionary<string, double> COptiDiceUpdate() => _learner.TrainStep();

    [Benchmark]
    public IReadOnlyDictionary<string, double> CdtUpdate() => _learner.TrainStep();
}

using BenchmarkDotNet.Attributes;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Data;
using Marvel.Core.Environments;

namespace Marvel.Benchmarks;

/// <summary>Which opt-in fused products of issue 21 a learner runs with.</summary>
public enum FusedVariant
{
    /// <summary>The defaults: each critic member and each actor head its own product.</summary>
    Plain,

    /// <summary><c>FusedCriticEnsembles</c>: one <c>baddbmm</c> per layer for all members of each critic ensemble and its target.</summary>
    FusedCritics,

    /// <summary><c>FusedActorHeads</c>: μ and log σ from one linear product.</summary>
    FusedHeads,

    /// <summary>Both.</summary>
    Both,
}

/// <summary>
/// One gradient update of SAC-Lag (<see cref="SacLagUpdateBenchmarks"/>' learner and batch: BallCircle shapes, [H, H] networks, twin reward
/// critics and one cost critic, batch 256, fixed α) and of CPQ (its defaults except the width H: two reward and two cost critics, VAE 400,
/// batch 512; a generated 100-episode BallCircle dataset) with each fused option on and off; one torch thread.
/// </summary>
[MemoryDiagnoser]
public class FusedOptionsBenchmarks
{
    private SacLagLearner? _sac;
    private TransitionBatch? _batch;
    private CpqLearner? _cpq;

    /// <summary>Hidden width H of every network.</summary>
    [Params(128, 256)]
    public int Hidden { get; set; }

    /// <summary>Which fused products run.</summary>
    [Params(FusedVariant.Plain, FusedVariant.FusedCritics, FusedVariant.FusedHeads, FusedVariant.Both)]
    public FusedVariant Variant { get; set; }

    private bool Critics => Variant is FusedVariant.FusedCritics or FusedVariant.Both;
    private bool Heads => Variant is FusedVariant.FusedHeads or FusedVariant.Both;

    [GlobalSetup(Target = nameof(SacLagUpdate))]
    public void SetupSacLag()
    {
        TorchSharp.torch.set_num_threads(1);
        (_sac, _batch) = SacLagBenchSetup.Create(Hidden, o => o with { FusedCriticEnsembles = Critics, FusedActorHeads = Heads });
        _sac.Update(_batch, 0.1);   // first update outside the measurement (Adam state, first allocations)
    }

    [GlobalSetup(Target = nameof(CpqUpdate))]
    public void SetupCpq()
    {
        TorchSharp.torch.set_num_threads(1);
        var dataset = DatasetCollector.GenerateBuiltIn("BallCircle", episodes: 100, seed: 3);
        using var env = EnvironmentRegistry.Default.MakeVector("BallCircle", 1);
        var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(11), env.Spec.MaxEpisodeSteps, "BallCircle");
        _cpq = new CpqLearner(context, new CpqOptions
        {
            ActorHiddenSizes = [Hidden, Hidden], CriticHiddenSizes = [Hidden, Hidden], FusedCriticEnsembles = Critics, FusedActorHeads = Heads,
        });
        _cpq.Attach(dataset);
        _cpq.TrainStep();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batch?.Dispose();
        _sac?.Dispose();
        _cpq?.Dispose();
    }

    [Benchmark]
    public SacLagUpdateMetrics SacLagUpdate() => _sac!.Update(_batch!, 0.1);

    [Benchmark]
    public IReadOnlyDictionary<string, double> CpqUpdate() => _cpq!.TrainStep();
}

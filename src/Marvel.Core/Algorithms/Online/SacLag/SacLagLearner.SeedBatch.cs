using Marvel.Core.Abstractions.Telemetry;
using Marvel.Core.Algorithms.Online.Loop;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Online.SacLag;

// What SacLagSeedBatch reads and writes of each of its seeds' learners: the batched update replaces Update, everything else (acting,
// the loop, checkpoints, the handover) stays the learner's own.
public sealed partial class SacLagLearner
{
    internal SquashedGaussianActor SeedActor => _actor;
    // Typed as the base optimizer: its step dispatches to the kept-scalar Adam the learner made (KeptScalarOptimizer).
    internal optim.Optimizer SeedActorOptimizer => _actorOptimizer;
    internal optim.Optimizer SeedRewardOptimizer => _rewardOptimizer;
    internal optim.Optimizer SeedCostOptimizer => _costOptimizer;
    internal Parameter? SeedLogAlpha => _logAlpha;
    internal optim.Optimizer? SeedAlphaOptimizer => _alphaOptimizer;
    internal Generator SeedUpdateNoise => _updateNoise;
    internal double SeedTargetEntropy => _targetEntropy;
    internal Device SeedDevice => _device;
    internal (int Observation, int Action) SeedSizes => (_observationSize, _actionSize);
    internal OffPolicyLoop SeedLoop => _loop;
    internal IReadOnlyDictionary<string, double>? SeedLastMetrics => _lastMetrics;
    internal bool SeedDisposed => _disposed;

    /// <summary>The actor's learning rate at this learner's next update (the ramp of <see cref="SacLagOptions.ActorLearningRateRampSteps"/>).</summary>
    internal void SetActorLearningRateForNextUpdate()
    {
        if (_options.ActorLearningRateRampSteps > 0) _actorOptimizer.ParamGroups.First().LearningRate = ActorLearningRateAt(_updates);
    }

    /// <summary>Books a gradient step made for this learner by <see cref="SacLagSeedBatch"/>: counts it and publishes its scalars, as
    /// <see cref="Update"/> does at its end.</summary>
    internal void CompleteBatchedUpdate(SacLagUpdateMetrics metrics)
    {
        _updates++;
        _lastMetrics = metrics.ToDictionary();
        MarvelTelemetry.Publish(Stage, _lastMetrics);
    }
}

/// <summary>Where a <see cref="SacLagLearner"/> built for a <see cref="SacLagSeedBatch"/> puts its networks' flat buffers: seed
/// <paramref name="Seed"/>'s slices of the batch's stacks.</summary>
internal readonly record struct SeedSlot(SeedStackedNetwork[] Stacks, int Seed)
{
    public const int Actor = 0, RewardCritic = 1, RewardTarget = 2, CostCritic = 3, CostTarget = 4, Count = 5;

    /// <summary>Flattens <paramref name="module"/> into the seed's slice of stack <paramref name="network"/>.</summary>
    public FlatParameters Flatten(int network, nn.Module module) => Stacks[network].Flatten(Seed, module);
}

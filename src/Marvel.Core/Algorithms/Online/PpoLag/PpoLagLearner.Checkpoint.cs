using Marvel.Core.Algorithms.Shared;

namespace Marvel.Core.Algorithms.Online.PpoLag;

// Checkpoints of PPO-Lag (ICheckpointableOnlineLearner). The rollout buffer is refilled from scratch every iteration, so between
// iterations the state is the networks, optimizers, generators, the shuffle order and the pending observations.
public sealed partial class PpoLagLearner
{
    private const int CheckpointFormat = 1;

    /// <summary>
    /// Writes the complete learner state into <paramref name="directory"/>: <c>networks/</c> (actor with its log σ, value networks),
    /// <c>optimizers/</c> (Adam moments and step counts), <c>generators/</c> (exploration noise) and <c>learner.json</c> (options, counters,
    /// the shuffle generator's state and the current mini-batch permutation, the pending observations of the collection environments,
    /// episodes not yet fed to the controller).
    /// </summary>
    /// <param name="directory">An empty folder of the learner's own; created when missing.</param>
    public void SaveCheckpoint(string directory)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        LearnerCheckpoint.Save(directory, CheckpointNetworks(), CheckpointOptimizers(), CheckpointGenerators());
        LearnerCheckpoint.WriteState(directory, new PpoLagCheckpointState
        {
            Format = CheckpointFormat,
            OptionsJson = HandoverExport.OptionsJson(_options),
            Updates = _updates,
            GradientSteps = _gradientSteps,
            Iterations = _iterations,
            EnvironmentSteps = _collector.EnvironmentSteps,
            CostLimit = _costLimit,
            EnvironmentResets = _collector.Resets,
            Shuffle = _shuffle.GetState(),
            Permutation = _permutation.ToArray(),
            PendingObservations = _collector.PendingObservations,
            EpisodesSinceControllerUpdate = _feed.Pending.ToArray(),
            LastMetrics = _lastMetrics?.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
        });
    }

    /// <summary>Restores a state written by <see cref="SaveCheckpoint"/>; the next <see cref="RunIteration"/> continues from the saved
    /// pending observations on an environment restored beside it, without a reset.</summary>
    /// <param name="directory">The folder.</param>
    /// <exception cref="InvalidDataException">A file is missing or corrupt, or the checkpoint was written with other options (the first
    /// differing option is named) or network sizes.</exception>
    public void LoadCheckpoint(string directory)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var state = LearnerCheckpoint.ReadState<PpoLagCheckpointState>(Algorithm, directory, CheckpointFormat, x => x.Format, x => x.OptionsJson,
            HandoverExport.OptionsJson(_options), nameof(PpoLagOptions));
        LearnerCheckpoint.Load(Algorithm, directory, CheckpointNetworks(), CheckpointOptimizers(), CheckpointGenerators());
        _shuffle.Restore(state.Shuffle ?? throw new InvalidDataException($"'{directory}': {LearnerCheckpoint.StateFile} has no shuffle generator state."));
        _permutation = state.Permutation ?? [];
        _updates = state.Updates;
        _gradientSteps = state.GradientSteps;
        _iterations = state.Iterations;
        _costLimit = state.CostLimit;
        _collector.Restore(state.PendingObservations, state.EnvironmentResets, state.EnvironmentSteps, directory);
        _feed.Restore(state.EpisodesSinceControllerUpdate);
        _lastMetrics = state.LastMetrics;
        _rollout = null;
    }

    private IEnumerable<(string Name, nn.Module Module)> CheckpointNetworks() =>
        [(HandoverRoles.Actor, _actor), (HandoverRoles.RewardCritic, _rewardCritic), (HandoverRoles.CostCritic, _costCritic)];

    private IEnumerable<(string Name, TorchSharp.Modules.OptimizerHelper Optimizer)> CheckpointOptimizers() =>
        [(HandoverRoles.Actor, _actorOptimizer), (HandoverRoles.RewardCritic, _rewardOptimizer), (HandoverRoles.CostCritic, _costOptimizer)];

    private IEnumerable<(string Name, Generator Generator)> CheckpointGenerators() => [("exploration_noise", _explorationNoise)];

    /// <summary>The scalar part of a PPO-Lag checkpoint (<c>learner.json</c>).</summary>
    private sealed record PpoLagCheckpointState
    {
        public int Format { get; init; }
        public string OptionsJson { get; init; } = "{}";
        public long Updates { get; init; }
        public long GradientSteps { get; init; }
        public long Iterations { get; init; }
        public long EnvironmentSteps { get; init; }
        public double CostLimit { get; init; }
        public int EnvironmentResets { get; init; }
        public RandomSourceState? Shuffle { get; init; }
        public int[]? Permutation { get; init; }
        public float[]? PendingObservations { get; init; }
        public EpisodeSummary[]? EpisodesSinceControllerUpdate { get; init; }
        public Dictionary<string, double>? LastMetrics { get; init; }
    }
}

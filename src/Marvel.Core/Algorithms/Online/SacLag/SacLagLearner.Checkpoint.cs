using Marvel.Core.Algorithms.Online.Loop;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Data;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Online.SacLag;

// Checkpoints of SAC-Lag (ICheckpointableOnlineLearner): everything RunIteration reads, so a resumed run continues bit-identically.
public sealed partial class SacLagLearner
{
    // Format 2: the replay buffer and the stored range hold raw rewards and costs (RewardCostScales scales sampled batches). Format 1 held
    // them multiplied by the scales; dividing them back would not give the raw floats exactly, so a format-1 checkpoint is refused.
    private const int CheckpointFormat = 2;
    private const string ScaledReplayFormatHint =
        "Format 1 stored the replay buffer multiplied by RewardScale and CostScale; format 2 stores raw rewards and costs and scales each sampled batch. " +
        "Rerun the online stage from its start (or from the handover), or resume it with the version that wrote the checkpoint.";

    /// <summary>
    /// Writes the complete learner state into <paramref name="directory"/>: <c>networks/</c> (actor, both critics and both target critics),
    /// <c>optimizers/</c> (Adam moments and step counts of actor, critics and temperature), <c>generators/</c> (the torch generators of
    /// update and exploration noise), <c>replay.bin</c> (the replay buffer with its cursor) and <c>learner.json</c> (options, counters,
    /// log α, the replay sampler's state, the pending observations of the collection environments, episodes not yet fed to the controller).
    /// </summary>
    /// <param name="directory">An empty folder of the learner's own; created when missing.</param>
    public void SaveCheckpoint(string directory)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        LearnerCheckpoint.Save(directory, CheckpointNetworks(), CheckpointOptimizers(), CheckpointGenerators());
        var loop = _loop.Save(directory);
        float? logAlpha = null;
        if (_logAlpha is not null)
        {
            using var cpu = _logAlpha.detach().cpu().to_type(ScalarType.Float32);
            logAlpha = cpu.data<float>()[0];
        }
        var state = new SacLagCheckpointState
        {
            Format = CheckpointFormat,
            Algorithm = Algorithm,
            OptionsJson = HandoverExport.OptionsJson(_options),
            Updates = _updates,
            Iterations = loop.Iterations,
            EnvironmentSteps = loop.EnvironmentSteps,
            CostLimit = loop.CostLimit,
            EnvironmentResets = loop.EnvironmentResets,
            LogAlpha = logAlpha,
            ReplayRandom = loop.ReplayRandom,
            HasReplay = loop.HasReplay,
            PendingObservations = loop.PendingObservations,
            EpisodesSinceControllerUpdate = loop.EpisodesSinceControllerUpdate,
            LastMetrics = _lastMetrics?.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
            StoredRange = loop.StoredRange.ToArray(),
            GuardCharge = loop.GuardCharge,
        };
        LearnerCheckpoint.WriteState(directory, state);
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
        _criticsHandedOver = false; // the checkpoint's critics replace the handed-over ones; they are not checked again
        HandoverCheck = null;
        var statePath = Path.Combine(directory, LearnerCheckpoint.StateFile);
        var state = LearnerCheckpoint.ReadState<SacLagCheckpointState>(Algorithm, directory, CheckpointFormat, x => x.Format, x => x.OptionsJson,
            HandoverExport.OptionsJson(_options), nameof(SacLagOptions), format => format == 1 ? ScaledReplayFormatHint : null);
        LearnerCheckpoint.Load(Algorithm, directory, CheckpointNetworks(), CheckpointOptimizers(), CheckpointGenerators());
        _loop.Load(Algorithm, directory, new OffPolicyLoopState(state.Iterations, state.EnvironmentSteps, state.CostLimit, state.EnvironmentResets,
            state.ReplayRandom, state.HasReplay, state.PendingObservations, state.EpisodesSinceControllerUpdate, StoredRange.FromArray(state.StoredRange),
            state.GuardCharge), statePath);
        if (_logAlpha is not null)
        {
            if (state.LogAlpha is not float logAlpha) throw new InvalidDataException($"'{statePath}' has no log α, but AutoTuneAlpha is on.");
            using var logAlphaScalar = ((double)logAlpha).ToScalar();
            using (no_grad()) _logAlpha.fill_(logAlphaScalar);
        }
        _updates = state.Updates;
        _lastMetrics = state.LastMetrics;
    }

    private IEnumerable<(string Name, nn.Module Module)> CheckpointNetworks()
    {
        yield return (HandoverRoles.Actor, _actor);
        yield return (HandoverRoles.RewardCritic, _rewardCritic);
        yield return ("reward_target", _rewardTarget);
        yield return (HandoverRoles.CostCritic, _costCritic);
        yield return ("cost_target", _costTarget);
        if (_fallbackActor is not null) yield return ("fallback_actor", _fallbackActor); // SafeExploration.PolicySet after InitializeFrom
    }

    private IEnumerable<(string Name, TorchSharp.Modules.OptimizerHelper Optimizer)> CheckpointOptimizers()
    {
        yield return (HandoverRoles.Actor, _actorOptimizer);
        yield return (HandoverRoles.RewardCritic, _rewardOptimizer);
        yield return (HandoverRoles.CostCritic, _costOptimizer);
        if (_alphaOptimizer is not null) yield return ("alpha", _alphaOptimizer);
    }

    private IEnumerable<(string Name, Generator Generator)> CheckpointGenerators() =>
        [("update_noise", _updateNoise), ("exploration_noise", _explorationNoise)];

    /// <summary>The scalar part of a SAC-Lag checkpoint (<c>learner.json</c>).</summary>
    private sealed record SacLagCheckpointState
    {
        public int Format { get; init; }
        public string Algorithm { get; init; } = "";
        public string OptionsJson { get; init; } = "{}";
        public long Updates { get; init; }
        public long Iterations { get; init; }
        public long EnvironmentSteps { get; init; }
        public double CostLimit { get; init; }
        public int EnvironmentResets { get; init; }
        public float? LogAlpha { get; init; }
        public RandomSourceState? ReplayRandom { get; init; }
        public bool HasReplay { get; init; }
        public float[]? PendingObservations { get; init; }
        public EpisodeSummary[]? EpisodesSinceControllerUpdate { get; init; }
        public Dictionary<string, double>? LastMetrics { get; init; }
        public float[]? StoredRange { get; init; }
        public double GuardCharge { get; init; }
    }
}

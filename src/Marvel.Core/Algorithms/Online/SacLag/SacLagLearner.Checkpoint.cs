using System.Text.Json;
using System.Text.Json.Serialization;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Data;
using Marvel.Core.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Core.Algorithms.Online.SacLag;

// Checkpoints of SAC-Lag (ICheckpointableOnlineLearner): everything RunIteration reads, so a resumed run continues bit-identically.
public sealed partial class SacLagLearner
{
    private const int CheckpointFormat = 1;

    private static readonly JsonSerializerOptions CheckpointJson = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Pending observations read from a checkpoint, used instead of a reset by the next <see cref="Attach"/>.</summary>
    private float[]? _restoredObservations;

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
        Directory.CreateDirectory(Path.Combine(directory, "networks"));
        Directory.CreateDirectory(Path.Combine(directory, "optimizers"));
        Directory.CreateDirectory(Path.Combine(directory, "generators"));
        foreach (var (name, module) in CheckpointNetworks())
            using (var f = File.Create(Path.Combine(directory, "networks", name + ".bin"))) ModuleState.ToStateDict(module).WriteTo(f);
        foreach (var (name, optimizer) in CheckpointOptimizers())
            File.WriteAllBytes(Path.Combine(directory, "optimizers", name + ".bin"), ModuleState.SaveOptimizer(optimizer));
        foreach (var (name, generator) in CheckpointGenerators())
        {
            using var state = generator.get_state();
            File.WriteAllBytes(Path.Combine(directory, "generators", name + ".bin"), state.bytes.ToArray());
        }
        if (_replay is not null)
            using (var f = File.Create(Path.Combine(directory, "replay.bin"))) _replay.Save(f);
        float? logAlpha = null;
        if (_logAlpha is not null)
        {
            using var cpu = _logAlpha.detach().cpu();
            logAlpha = cpu.ToSingle();
        }
        var state2 = new SacLagCheckpointState
        {
            Format = CheckpointFormat,
            Algorithm = Algorithm,
            OptionsJson = HandoverExport.OptionsJson(_options),
            Updates = _updates,
            Iterations = _iterations,
            EnvironmentSteps = _environmentSteps,
            CostLimit = _costLimit,
            EnvironmentResets = _environmentResets,
            LogAlpha = logAlpha,
            ReplayRandom = _replayRandom.GetState(),
            HasReplay = _replay is not null,
            PendingObservations = _rollout?.Observations.ToArray() ?? _restoredObservations?.ToArray(),
            EpisodesSinceControllerUpdate = _episodesSinceControllerUpdate.ToArray(),
            LastMetrics = _lastMetrics?.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
        };
        File.WriteAllText(Path.Combine(directory, "learner.json"), JsonSerializer.Serialize(state2, CheckpointJson));
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
        var statePath = Path.Combine(directory, "learner.json");
        if (!File.Exists(statePath))
            throw new InvalidDataException($"SAC-Lag checkpoint '{directory}' has no learner.json; it is not a SAC-Lag checkpoint or its save was interrupted.");
        SacLagCheckpointState state;
        try
        {
            state = JsonSerializer.Deserialize<SacLagCheckpointState>(File.ReadAllText(statePath), CheckpointJson)
                ?? throw new InvalidDataException($"'{statePath}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{statePath}' is not valid SAC-Lag checkpoint JSON: {e.Message}", e);
        }
        if (state.Format != CheckpointFormat)
            throw new InvalidDataException($"'{statePath}' has checkpoint format {state.Format}; this library reads format {CheckpointFormat}.");
        var difference = JsonComparison.FirstDifference(state.OptionsJson, HandoverExport.OptionsJson(_options));
        if (difference is not null)
            throw new InvalidDataException($"SAC-Lag checkpoint '{directory}' was written with other options: SacLagOptions.{difference}. Resume with the options of the checkpointed run.");
        if (state.PendingObservations is not null && state.PendingObservations.Length % _observationSize != 0)
            throw new InvalidDataException($"'{statePath}': {state.PendingObservations.Length} pending observation values are not a multiple of the observation size {_observationSize}.");

        foreach (var (name, module) in CheckpointNetworks())
        {
            var path = RequireFile(directory, "networks", name + ".bin");
            using var f = File.OpenRead(path);
            ModuleState.Load(module, StateDict.ReadFrom(f, path), name);
        }
        foreach (var (name, optimizer) in CheckpointOptimizers())
            ModuleState.LoadOptimizer(optimizer, File.ReadAllBytes(RequireFile(directory, "optimizers", name + ".bin")), name);
        foreach (var (name, generator) in CheckpointGenerators())
        {
            var bytes = File.ReadAllBytes(RequireFile(directory, "generators", name + ".bin"));
            using var t = torch.tensor(bytes, ScalarType.Byte);
            generator.set_state(t);
        }
        if (state.HasReplay)
        {
            _replay ??= new ReplayBuffer(_options.ReplayCapacity, _observationSize, _actionSize);
            var path = RequireFile(directory, "replay.bin");
            using var f = File.OpenRead(path);
            _replay.Load(f, path);
        }
        else _replay = null;
        if (_logAlpha is not null)
        {
            if (state.LogAlpha is not float logAlpha) throw new InvalidDataException($"'{statePath}' has no log α, but AutoTuneAlpha is on.");
            using (no_grad()) _logAlpha.fill_(logAlpha);
        }
        _replayRandom.Restore(state.ReplayRandom ?? throw new InvalidDataException($"'{statePath}' has no replay sampler state."));
        _updates = state.Updates;
        _iterations = state.Iterations;
        _environmentSteps = state.EnvironmentSteps;
        _costLimit = state.CostLimit;
        _environmentResets = state.EnvironmentResets;
        _episodesSinceControllerUpdate.Clear();
        _episodesSinceControllerUpdate.AddRange(state.EpisodesSinceControllerUpdate ?? []);
        _lastMetrics = state.LastMetrics;
        _rollout = null;
        _restoredObservations = state.PendingObservations;
    }

    private IEnumerable<(string Name, nn.Module Module)> CheckpointNetworks() =>
    [
        (HandoverRoles.Actor, _actor), (HandoverRoles.RewardCritic, _rewardCritic), ("reward_target", _rewardTarget),
        (HandoverRoles.CostCritic, _costCritic), ("cost_target", _costTarget),
    ];

    private IEnumerable<(string Name, TorchSharp.Modules.OptimizerHelper Optimizer)> CheckpointOptimizers()
    {
        yield return (HandoverRoles.Actor, _actorOptimizer);
        yield return (HandoverRoles.RewardCritic, _rewardOptimizer);
        yield return (HandoverRoles.CostCritic, _costOptimizer);
        if (_alphaOptimizer is not null) yield return ("alpha", _alphaOptimizer);
    }

    private IEnumerable<(string Name, Generator Generator)> CheckpointGenerators() =>
        [("update_noise", _updateNoise), ("exploration_noise", _explorationNoise)];

    private static string RequireFile(string directory, params string[] parts)
    {
        var path = Path.Combine([directory, .. parts]);
        if (!File.Exists(path)) throw new InvalidDataException($"SAC-Lag checkpoint '{directory}' lacks '{Path.Combine(parts)}'; the checkpoint is incomplete.");
        return path;
    }

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
    }
}

using System.Text.Json.Serialization;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>
/// The one checkpoint of a learner's training state, shared by every offline learner and the value aligner: the owner lists what
/// determines its future (networks with their target copies, optimizers, torch generators, <see cref="RandomSource"/>s, loose tensors
/// such as log α or PID integrals, step counters) once, in its constructor, and <see cref="Save"/> / <see cref="Load"/> write and read
/// all of it. Layout as <see cref="LearnerCheckpoint"/>: <c>networks/</c>, <c>optimizers/</c>, <c>generators/</c>, plus
/// <c>tensors.bin</c> (a <see cref="StateDict"/> of the loose tensors) and <c>learner.json</c> (format, algorithm, options, counters and
/// random-source states).
/// </summary>
/// <remarks>
/// Everything derived from the attached dataset (samplers' tables, start states, value bounds) is not saved: the owner's
/// <c>Attach</c> recomputes it from the same dataset without drawing random numbers. A load checks the format and the options first
/// and names the first option that differs, then loads every part strictly (shapes must match).
/// </remarks>
internal sealed class CheckpointParts
{
    private const int Format = 1;
    private const string TensorsFile = "tensors.bin";

    private readonly string _algorithm;
    private readonly string _optionsJson;
    private readonly string _optionsTypeName;
    private readonly List<(string Name, nn.Module Module)> _networks = new();
    private readonly List<(string Name, TorchSharp.Modules.OptimizerHelper Optimizer)> _optimizers = new();
    private readonly List<(string Name, Generator Generator)> _generators = new();
    private readonly List<(string Name, RandomSource Random)> _randoms = new();
    private readonly List<(string Name, Tensor Tensor)> _tensors = new();
    private readonly List<(string Name, Func<long> Get, Action<long> Set)> _counters = new();

    /// <summary>Creates an empty list of parts.</summary>
    /// <param name="algorithm">The owner's name, for messages and <c>learner.json</c>.</param>
    /// <param name="optionsJson">The owner's options as JSON (<see cref="HandoverExport.OptionsJson{T}"/>); a checkpoint written with
    /// other options is refused.</param>
    /// <param name="optionsTypeName">The options type's name, for the message.</param>
    public CheckpointParts(string algorithm, string optionsJson, string optionsTypeName)
    {
        _algorithm = algorithm;
        _optionsJson = optionsJson;
        _optionsTypeName = optionsTypeName;
    }

    /// <summary>A network (or target copy): its state dict.</summary>
    public CheckpointParts Network(string name, nn.Module module) { _networks.Add((name, module)); return this; }

    /// <summary>An optimizer: moments, step counts and hyper-parameters.</summary>
    public CheckpointParts Optimizer(string name, TorchSharp.Modules.OptimizerHelper optimizer) { _optimizers.Add((name, optimizer)); return this; }

    /// <summary>A torch generator: its state bytes.</summary>
    public CheckpointParts Generator(string name, Generator generator) { _generators.Add((name, generator)); return this; }

    /// <summary>A project random source (e.g. the batch sampler's).</summary>
    public CheckpointParts Random(string name, RandomSource random) { _randoms.Add((name, random)); return this; }

    /// <summary>A float32 tensor outside any module (log α, a PID integral, a raw multiplier parameter); restored in place.</summary>
    public CheckpointParts Tensor(string name, Tensor tensor) { _tensors.Add((name, tensor)); return this; }

    /// <summary>A counter (gradient steps, calls).</summary>
    public CheckpointParts Counter(string name, Func<long> get, Action<long> set) { _counters.Add((name, get, set)); return this; }

    /// <summary>Writes every part into <paramref name="directory"/> (created when missing). Not atomic by itself: the caller writes into a
    /// temporary folder and renames it (<see cref="Abstractions.IO.AtomicFile.WriteDirectory"/>).</summary>
    public void Save(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        LearnerCheckpoint.Save(directory, _networks, _optimizers, _generators);
        var entries = new List<NamedTensor>(_tensors.Count);
        using (var scope = NewDisposeScope())
        {
            foreach (var (name, tensor) in _tensors)
            {
                var cpu = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous();
                entries.Add(new NamedTensor(name, cpu.shape.ToArray(), cpu.data<float>().ToArray()));
            }
        }
        using (var f = File.Create(Path.Combine(directory, TensorsFile))) new StateDict(entries).WriteTo(f);
        LearnerCheckpoint.WriteState(directory, new State
        {
            Format = Format,
            Algorithm = _algorithm,
            OptionsJson = _optionsJson,
            Counters = _counters.ToDictionary(c => c.Name, c => c.Get(), StringComparer.Ordinal),
            Randoms = _randoms.ToDictionary(r => r.Name, r => r.Random.GetState(), StringComparer.Ordinal),
        });
    }

    /// <summary>Restores a state written by <see cref="Save"/> with the same parts and options.</summary>
    /// <exception cref="InvalidDataException">A file or part is missing or corrupt, a shape differs, or the checkpoint was written with other
    /// options (the message names the first one that differs).</exception>
    public void Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var state = LearnerCheckpoint.ReadState<State>(_algorithm, directory, Format, s => s.Format, s => s.OptionsJson, _optionsJson, _optionsTypeName);
        var statePath = Path.Combine(directory, LearnerCheckpoint.StateFile);
        // Check every scalar part before anything is written into the owner.
        foreach (var (name, _, _) in _counters)
            if (state.Counters is null || !state.Counters.ContainsKey(name))
                throw new InvalidDataException($"{_algorithm} checkpoint '{statePath}' has no counter '{name}'; the checkpoint is incomplete.");
        foreach (var (name, _) in _randoms)
            if (state.Randoms is null || !state.Randoms.ContainsKey(name))
                throw new InvalidDataException($"{_algorithm} checkpoint '{statePath}' has no random source '{name}'; the checkpoint is incomplete.");
        var tensorsPath = LearnerCheckpoint.RequireFile(_algorithm, directory, TensorsFile);
        StateDict tensors;
        using (var f = File.OpenRead(tensorsPath)) tensors = StateDict.ReadFrom(f, tensorsPath);
        foreach (var (name, tensor) in _tensors)
        {
            if (!tensors.TryGet(name, out var entry))
                throw new InvalidDataException($"{_algorithm} checkpoint '{tensorsPath}' has no tensor '{name}'; the checkpoint is incomplete.");
            if (!entry.Shape.AsSpan().SequenceEqual(tensor.shape))
                throw new InvalidDataException($"{_algorithm} checkpoint '{tensorsPath}': tensor '{name}' has shape {entry.ShapeText} but the learner's is [{string.Join(", ", tensor.shape)}].");
        }

        LearnerCheckpoint.Load(_algorithm, directory, _networks, _optimizers, _generators);
        using (no_grad())
        {
            foreach (var (name, tensor) in _tensors)
            {
                tensors.TryGet(name, out var entry);
                using var source = torch.tensor(entry.Values, entry.Shape, ScalarType.Float32);
                using var converted = source.to(tensor.dtype, tensor.device);
                tensor.copy_(converted);
            }
        }
        foreach (var (name, random) in _randoms) random.Restore(state.Randoms![name]);
        foreach (var (name, _, set) in _counters) set(state.Counters![name]);
    }

    /// <summary>The scalar part (<c>learner.json</c>).</summary>
    private sealed record State
    {
        [JsonPropertyName("format")] public int Format { get; init; }
        [JsonPropertyName("algorithm")] public string Algorithm { get; init; } = "";
        [JsonPropertyName("options")] public string OptionsJson { get; init; } = "{}";
        [JsonPropertyName("counters")] public Dictionary<string, long>? Counters { get; init; }
        [JsonPropertyName("random_sources")] public Dictionary<string, RandomSourceState>? Randoms { get; init; }
    }
}

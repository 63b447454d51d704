using System.Text.Json;
using System.Text.Json.Serialization;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>
/// The file layout online learners share for <see cref="ICheckpointableOnlineLearner"/>: <c>networks/&lt;name&gt;.bin</c> (state dicts),
/// <c>optimizers/&lt;name&gt;.bin</c>, <c>generators/&lt;name&gt;.bin</c> (torch generator states) and <c>learner.json</c> (the learner's
/// scalar state, with its options for the "written with other options" check).
/// </summary>
internal static class LearnerCheckpoint
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public const string StateFile = "learner.json";

    public static void Save(string directory, IEnumerable<(string Name, nn.Module Module)> networks,
        IEnumerable<(string Name, TorchSharp.Modules.OptimizerHelper Optimizer)> optimizers, IEnumerable<(string Name, Generator Generator)> generators)
    {
        Directory.CreateDirectory(Path.Combine(directory, "networks"));
        Directory.CreateDirectory(Path.Combine(directory, "optimizers"));
        Directory.CreateDirectory(Path.Combine(directory, "generators"));
        foreach (var (name, module) in networks)
            using (var f = File.Create(Path.Combine(directory, "networks", name + ".bin"))) ModuleState.ToStateDict(module).WriteTo(f);
        foreach (var (name, optimizer) in optimizers)
            File.WriteAllBytes(Path.Combine(directory, "optimizers", name + ".bin"), ModuleState.SaveOptimizer(optimizer));
        foreach (var (name, generator) in generators)
        {
            using var state = generator.get_state();
            File.WriteAllBytes(Path.Combine(directory, "generators", name + ".bin"), state.bytes.ToArray());
        }
    }

    public static void Load(string algorithm, string directory, IEnumerable<(string Name, nn.Module Module)> networks,
        IEnumerable<(string Name, TorchSharp.Modules.OptimizerHelper Optimizer)> optimizers, IEnumerable<(string Name, Generator Generator)> generators)
    {
        foreach (var (name, module) in networks)
        {
            var path = RequireFile(algorithm, directory, "networks", name + ".bin");
            using var f = File.OpenRead(path);
            ModuleState.Load(module, StateDict.ReadFrom(f, path), name);
        }
        foreach (var (name, optimizer) in optimizers)
            ModuleState.LoadOptimizer(optimizer, File.ReadAllBytes(RequireFile(algorithm, directory, "optimizers", name + ".bin")), name);
        foreach (var (name, generator) in generators)
        {
            var bytes = File.ReadAllBytes(RequireFile(algorithm, directory, "generators", name + ".bin"));
            using var t = torch.tensor(bytes, ScalarType.Byte);
            generator.set_state(t);
        }
    }

    public static void WriteState<T>(string directory, T state) =>
        File.WriteAllText(Path.Combine(directory, StateFile), JsonSerializer.Serialize(state, Json));

    /// <summary>
    /// Options that change only how the products are computed (the fused ensembles and actor heads of issue 21), not what a checkpoint
    /// holds: the parameters keep their names and shapes, so a checkpoint written with either setting loads with the other (the run then
    /// continues within float32 rounding of the uninterrupted one, not bit for bit).
    /// </summary>
    internal static readonly string[] LayoutOnlyOptions = ["FusedCriticEnsembles", "FusedActorHeads"];

    /// <summary>Reads <c>learner.json</c> and checks its format and options (except <see cref="LayoutOnlyOptions"/>); the message names the first option that differs. A format other
    /// than <paramref name="format"/> is refused with <paramref name="formatHint"/>'s text for it appended (what changed, what to do).</summary>
    public static T ReadState<T>(string algorithm, string directory, int format, Func<T, int> formatOf, Func<T, string> optionsOf, string currentOptionsJson,
        string optionsTypeName, Func<int, string?>? formatHint = null)
    {
        var path = Path.Combine(directory, StateFile);
        if (!File.Exists(path))
            throw new InvalidDataException($"{algorithm} checkpoint '{directory}' has no {StateFile}; it is not a {algorithm} checkpoint or its save was interrupted.");
        T state;
        try
        {
            state = JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"'{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid {algorithm} checkpoint JSON: {e.Message}", e);
        }
        if (formatOf(state) != format)
            throw new InvalidDataException($"'{path}' has checkpoint format {formatOf(state)}; this library reads format {format}." +
                (formatHint?.Invoke(formatOf(state)) is { } hint ? " " + hint : ""));
        var difference = JsonComparison.FirstDifference(optionsOf(state), currentOptionsJson, LayoutOnlyOptions);
        if (difference is not null)
            throw new InvalidDataException($"{algorithm} checkpoint '{directory}' was written with other options: {optionsTypeName}.{difference}. Resume with the options of the checkpointed run.");
        return state;
    }

    public static string RequireFile(string algorithm, string directory, params string[] parts)
    {
        var path = Path.Combine([directory, .. parts]);
        if (!File.Exists(path)) throw new InvalidDataException($"{algorithm} checkpoint '{directory}' lacks '{Path.Combine(parts)}'; the checkpoint is incomplete.");
        return path;
    }
}

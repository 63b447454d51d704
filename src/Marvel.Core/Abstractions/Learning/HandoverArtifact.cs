using System.Text.Json;
using System.Text.Json.Serialization;
using Marvel.Core.Abstractions.IO;

namespace Marvel.Core.Abstractions.Learning;

/// <summary>Well-known network and optimizer roles in a <see cref="HandoverArtifact"/>.</summary>
public static class HandoverRoles
{
    /// <summary>The policy network.</summary>
    public const string Actor = "actor";
    /// <summary>The reward critic (possibly an ensemble).</summary>
    public const string RewardCritic = "reward_critic";
    /// <summary>The cost critic (possibly an ensemble).</summary>
    public const string CostCritic = "cost_critic";
}

/// <summary>Describes a network so a receiver can build a matching module before loading weights.</summary>
/// <param name="Kind">Architecture name, e.g. "SquashedGaussianActor", "QEnsemble".</param>
/// <param name="HiddenSizes">Hidden layer widths.</param>
/// <param name="EnsembleSize">Members in an ensemble (1 for a single network).</param>
/// <param name="Activation">Hidden activation, e.g. "ReLU".</param>
public sealed record NetworkDescriptor(string Kind, int[] HiddenSizes, int EnsembleSize = 1, string Activation = "ReLU");

/// <summary>The manifest of a <see cref="HandoverArtifact"/>: everything about it except the weights.</summary>
public sealed record HandoverManifest
{
    /// <summary>Artifact format version this library writes.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Format version of the artifact.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>Version of Marvel.Core that wrote it.</summary>
    public string LibraryVersion { get; init; } = typeof(HandoverManifest).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>
    /// The runtime that wrote this manifest: Marvel.Core, TorchSharp and libtorch versions, CPU kernel capability (AVX-512, AVX2,
    /// default), torch thread count, processor and OS. Stamped by <see cref="HandoverArtifact.Save"/>; null in artifacts written
    /// before it was recorded. Same-seed runs are bit-identical only where these agree (except processor and OS).
    /// </summary>
    public Dictionary<string, string>? Runtime { get; init; }

    /// <summary>The producing algorithm, e.g. "CPQ".</summary>
    public required string Algorithm { get; init; }

    /// <summary>The task id, e.g. "BallCircle", when known.</summary>
    public string? TaskId { get; init; }

    /// <summary>Observation length.</summary>
    public required int ObservationSize { get; init; }

    /// <summary>Action length.</summary>
    public required int ActionSize { get; init; }

    /// <summary>Undiscounted episode cost limit the producer trained for.</summary>
    public double CostLimit { get; init; }

    /// <summary>Discount factor of the critics.</summary>
    public double Gamma { get; init; } = 0.99;

    /// <summary>Scale applied to rewards before the critics saw them.</summary>
    public double RewardScale { get; init; } = 1.0;

    /// <summary>Scale applied to costs before the critics saw them.</summary>
    public double CostScale { get; init; } = 1.0;

    /// <summary>Root seed of the producing run.</summary>
    public ulong Seed { get; init; }

    /// <summary>Fingerprint of the training dataset (<see cref="OfflineDataset.Fingerprint"/>), when any.</summary>
    public string? DatasetFingerprint { get; init; }

    /// <summary>Gradient steps the producer took.</summary>
    public long TrainingSteps { get; init; }

    /// <summary>Network descriptions by role.</summary>
    public Dictionary<string, NetworkDescriptor> Networks { get; init; } = new();

    /// <summary>The producer's resolved options, as JSON text.</summary>
    public string? OptionsJson { get; init; }

    /// <summary>Multiplier or controller state of the producer, when it has one.</summary>
    public LagrangeControllerState? Lagrange { get; init; }

    /// <summary>
    /// The value aligner that rewrote the critics and their optimizer moments (e.g. "VPA"), or null when the critics and moments are the
    /// producer's own. Online learners use it to tell the aligner's moments, which they keep by default, from the offline learner's
    /// (<see cref="HandoverLoadOptions"/>).
    /// </summary>
    public string? AlignedBy { get; init; }

    /// <summary>Observation normalizer statistics, when observations were normalized.</summary>
    public RunningMeanStdState? ObservationNormalizer { get; init; }

    /// <summary>
    /// Lower bounds of the producer's action box, one per action coordinate, so the actor can act without the task at hand
    /// (<see cref="Inference.InferencePolicy"/>, <see cref="Inference.OnnxExport"/>); null in artifacts written before it was recorded.
    /// </summary>
    public float[]? ActionLow { get; init; }

    /// <summary>Upper bounds of the producer's action box (see <see cref="ActionLow"/>); null in older artifacts.</summary>
    public float[]? ActionHigh { get; init; }
}

/// <summary>
/// Everything that crosses from offline training to online finetuning: the actor, reward and cost critics,
/// their optimizer states, the multiplier or controller state, the observation normalizer, the producer's
/// options and the library version. Held in managed memory; saved as a folder.
/// </summary>
/// <remarks>
/// <para>Folder layout: <c>manifest.json</c>, <c>networks/&lt;role&gt;.bin</c> (state dicts),
/// <c>optimizers/&lt;role&gt;.bin</c> (opaque optimizer states). The folder is written under a temporary name and
/// renamed into place, so an interrupted save never leaves a half-written artifact at the target path.</para>
/// <para>An offline learner exports one, an <see cref="IValueAligner"/> rewrites its critics, an online learner
/// starts from it. No online learner names an offline one.</para>
/// </remarks>
public sealed class HandoverArtifact
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Creates an artifact.</summary>
    /// <exception cref="ArgumentException">A network role has no descriptor in the manifest.</exception>
    public HandoverArtifact(HandoverManifest manifest, IReadOnlyDictionary<string, StateDict> networks, IReadOnlyDictionary<string, byte[]>? optimizerStates = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(networks);
        foreach (var role in networks.Keys)
        {
            if (!manifest.Networks.ContainsKey(role))
                throw new ArgumentException($"Network role '{role}' has weights but no descriptor in the manifest's Networks.", nameof(networks));
            CheckRoleName(role);
        }
        foreach (var role in optimizerStates?.Keys ?? Enumerable.Empty<string>()) CheckRoleName(role);
        Manifest = manifest;
        Networks = new Dictionary<string, StateDict>(networks, StringComparer.Ordinal);
        OptimizerStates = new Dictionary<string, byte[]>(optimizerStates ?? new Dictionary<string, byte[]>(), StringComparer.Ordinal);
    }

    /// <summary>Everything except the weights.</summary>
    public HandoverManifest Manifest { get; }

    /// <summary>Network weights by role (<see cref="HandoverRoles"/>).</summary>
    public IReadOnlyDictionary<string, StateDict> Networks { get; }

    /// <summary>Serialized optimizer states by role.</summary>
    public IReadOnlyDictionary<string, byte[]> OptimizerStates { get; }

    /// <summary>The weights of <paramref name="role"/>.</summary>
    /// <exception cref="InvalidDataException">The artifact has no such network; the message lists the roles it has.</exception>
    public StateDict GetNetwork(string role) => Networks.TryGetValue(role, out var sd)
        ? sd
        : throw new InvalidDataException($"Handover artifact from '{Manifest.Algorithm}' has no '{role}' network. It has: {string.Join(", ", Networks.Keys)}.");

    /// <summary>A copy with some networks or the manifest replaced (e.g. critics rewritten by an aligner).</summary>
    public HandoverArtifact With(HandoverManifest? manifest = null, IReadOnlyDictionary<string, StateDict>? networks = null, IReadOnlyDictionary<string, byte[]>? optimizerStates = null)
    {
        var nets = new Dictionary<string, StateDict>(Networks, StringComparer.Ordinal);
        if (networks is not null) foreach (var (k, v) in networks) nets[k] = v;
        var opts = new Dictionary<string, byte[]>(OptimizerStates, StringComparer.Ordinal);
        if (optimizerStates is not null) foreach (var (k, v) in optimizerStates) opts[k] = v;
        return new HandoverArtifact(manifest ?? Manifest, nets, opts);
    }

    /// <summary>Saves the artifact as a folder, atomically.</summary>
    /// <param name="directory">Target folder; an existing artifact there is replaced only once the new one is complete.</param>
    public void Save(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        AtomicFile.WriteDirectory(directory, temp =>
        {
            Directory.CreateDirectory(Path.Combine(temp, "networks"));
            Directory.CreateDirectory(Path.Combine(temp, "optimizers"));
            foreach (var (role, sd) in Networks)
                using (var f = File.Create(Path.Combine(temp, "networks", role + ".bin"))) sd.WriteTo(f);
            foreach (var (role, bytes) in OptimizerStates)
                File.WriteAllBytes(Path.Combine(temp, "optimizers", role + ".bin"), bytes);
            File.WriteAllText(Path.Combine(temp, "manifest.json"), JsonSerializer.Serialize(Manifest with { Runtime = RuntimeFingerprint.Describe() }, Json));
        });
    }

    /// <summary>Loads an artifact folder written by <see cref="Save"/>.</summary>
    /// <param name="directory">The folder.</param>
    /// <exception cref="InvalidDataException">The folder has no manifest, a newer or older format version, a missing or corrupt network file, or sizes that disagree with the manifest; the message names the file.</exception>
    public static HandoverArtifact Load(string directory) => LoadParts(directory, roles: null, optimizerStates: true);

    /// <summary>
    /// Loads only the networks named in <paramref name="roles"/> (all when null) and the optimizer states only when
    /// <paramref name="optimizerStates"/> is set: an inference policy reads the manifest and the actor, and never opens the
    /// critics' or optimizers' files.
    /// </summary>
    internal static HandoverArtifact LoadParts(string directory, IReadOnlyCollection<string>? roles, bool optimizerStates)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        // A save killed between the two renames of its folder swap leaves the previous copy under '.<name>.<guid>.old'.
        AtomicFile.RecoverDirectory(directory);
        var manifestPath = Path.Combine(directory, "manifest.json");
        if (!File.Exists(manifestPath))
            throw new InvalidDataException($"'{directory}' is not a handover artifact: '{manifestPath}' is missing (an interrupted save leaves no manifest). Point to a folder written by HandoverArtifact.Save.");
        HandoverManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<HandoverManifest>(File.ReadAllText(manifestPath), Json); }
        catch (JsonException e) { throw new InvalidDataException($"'{manifestPath}' is not valid manifest JSON: {e.Message}", e); }
        if (manifest is null) throw new InvalidDataException($"'{manifestPath}' is empty.");
        if (manifest.FormatVersion != HandoverManifest.CurrentFormatVersion)
            throw new InvalidDataException($"'{manifestPath}': artifact format version {manifest.FormatVersion} (written by Marvel.Core {manifest.LibraryVersion}); this library ({typeof(HandoverManifest).Assembly.GetName().Version}) reads format {HandoverManifest.CurrentFormatVersion}. Re-export the artifact with this version.");
        if (manifest.ObservationSize < 1 || manifest.ActionSize < 1)
            throw new InvalidDataException($"'{manifestPath}': ObservationSize and ActionSize must be positive (got {manifest.ObservationSize}, {manifest.ActionSize}).");
        if (manifest.ActionLow is { } low && low.Length != manifest.ActionSize || manifest.ActionHigh is { } high && high.Length != manifest.ActionSize)
            throw new InvalidDataException($"'{manifestPath}': ActionLow and ActionHigh must hold ActionSize = {manifest.ActionSize} bounds each " +
                $"(got {manifest.ActionLow?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} and {manifest.ActionHigh?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}). Re-export the artifact.");
        var networks = new Dictionary<string, StateDict>(StringComparer.Ordinal);
        foreach (var role in manifest.Networks.Keys)
        {
            if (roles is not null && !roles.Contains(role)) continue;
            var path = Path.Combine(directory, "networks", role + ".bin");
            if (!File.Exists(path)) throw new InvalidDataException($"Handover artifact '{directory}': the manifest lists network '{role}' but '{path}' is missing.");
            using var f = File.OpenRead(path);
            var weights = StateDict.ReadFrom(f, path);
            CheckWeights(weights, path, role, manifest);
            networks[role] = weights;
        }
        var optimizers = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var optDir = Path.Combine(directory, "optimizers");
        if (optimizerStates && Directory.Exists(optDir))
            foreach (var file in Directory.EnumerateFiles(optDir, "*.bin"))
            {
                var bytes = File.ReadAllBytes(file);
                OptimizerStateFile.Check(bytes, file);
                optimizers[Path.GetFileNameWithoutExtension(file)] = bytes;
            }
        return new HandoverArtifact(manifest, networks, optimizers);
    }

    // First-layer weight [hidden, inputs] of the network kinds whose input width follows from the manifest's sizes.
    private static readonly Dictionary<string, (string Key, bool TakesAction)> InputLayers = new(StringComparer.Ordinal)
    {
        ["SquashedGaussianActor"] = ("trunk.net.0.weight", false),
        ["GaussianActor"] = ("mean.net.0.weight", false),
        ["DeterministicActor"] = ("pi.net.0.weight", false),
        ["PerturbationActor"] = ("pi.net.0.weight", true),
        ["QEnsemble"] = ("members.0.net.0.weight", true),
    };

    /// <summary>Refuses non-finite weights and weights whose input width contradicts the manifest's ObservationSize/ActionSize.</summary>
    private static void CheckWeights(StateDict weights, string path, string role, HandoverManifest manifest)
    {
        foreach (var entry in weights.Entries)
        {
            int bad = Array.FindIndex(entry.Values, v => !float.IsFinite(v));
            if (bad >= 0)
                throw new InvalidDataException(
                    $"Handover artifact network file '{path}': tensor '{entry.Name}' {entry.ShapeText} holds {entry.Values[bad].ToString(System.Globalization.CultureInfo.InvariantCulture)} " +
                    $"at flat index {bad}; weights must be finite. The producer diverged or the file is corrupt: export the artifact again from a healthy run.");
        }
        if (!manifest.Networks.TryGetValue(role, out var descriptor) || !InputLayers.TryGetValue(descriptor.Kind, out var layer)) return;
        if (!weights.TryGet(layer.Key, out var first) || first.Shape.Length != 2) return;
        long expected = manifest.ObservationSize + (layer.TakesAction ? manifest.ActionSize : 0);
        if (first.Shape[1] != expected)
            throw new InvalidDataException(
                $"Handover artifact network file '{path}': tensor '{layer.Key}' {first.ShapeText} takes {first.Shape[1]} inputs, but a {descriptor.Kind} for the manifest's " +
                $"ObservationSize {manifest.ObservationSize}{(layer.TakesAction ? $" + ActionSize {manifest.ActionSize}" : "")} takes {expected}. " +
                "The manifest and the weights come from different runs; export the artifact again.");
    }

    /// <summary>Throws an <see cref="InvalidDataException"/> unless the artifact fits a task with these sizes.</summary>
    public void EnsureCompatible(int observationSize, int actionSize, string receiver)
    {
        if (Manifest.ObservationSize != observationSize || Manifest.ActionSize != actionSize)
            throw new InvalidDataException($"{receiver}: the handover artifact from '{Manifest.Algorithm}' was trained for observation size {Manifest.ObservationSize} and action size {Manifest.ActionSize}, but this task has {observationSize} and {actionSize}. Use an artifact trained on the same task.");
    }

    private static void CheckRoleName(string role)
    {
        if (string.IsNullOrWhiteSpace(role) || role.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || role.Contains('.'))
            throw new ArgumentException($"Role name '{role}' must be a plain file-name-safe word (no dots or separators).");
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>One network of a handover artifact: its role, its description, the module and its optimizer (if any).</summary>
/// <param name="Role">The role, e.g. <see cref="HandoverRoles.Actor"/>.</param>
/// <param name="Descriptor">What a receiver needs to build a matching module.</param>
/// <param name="Module">The network whose weights are exported.</param>
/// <param name="Optimizer">Its optimizer, whose state is exported too; null for none.</param>
internal readonly record struct HandoverPart(string Role, NetworkDescriptor Descriptor, nn.Module Module, OptimizerHelper? Optimizer);

/// <summary>Builds handover artifacts for every learner, so each states only its networks and its multiplier state.</summary>
internal static class HandoverExport
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The resolved options as JSON text (enums by name), for manifests.</summary>
    public static string OptionsJson<T>(T options) => JsonSerializer.Serialize(options, Json);

    /// <summary>The manifest fields every learner fills; <see cref="HandoverManifest.Networks"/> is set by <see cref="Create"/>.</summary>
    public static HandoverManifest Manifest(string algorithm, LearnerContext context, OfflineDataset? dataset, long steps,
        double costLimit, double gamma, double rewardScale, double costScale, string optionsJson, LagrangeControllerState? lagrange) => new()
    {
        Algorithm = algorithm,
        TaskId = context.TaskId,
        ObservationSize = context.ObservationSpace.Dimension,
        ActionSize = context.ActionSpace.Dimension,
        ActionLow = context.ActionSpace.Low.ToArray(),
        ActionHigh = context.ActionSpace.High.ToArray(),
        CostLimit = costLimit,
        Gamma = gamma,
        RewardScale = rewardScale,
        CostScale = costScale,
        Seed = context.Seeds.RootSeed,
        DatasetFingerprint = dataset?.Fingerprint(),
        TrainingSteps = steps,
        OptionsJson = optionsJson,
        Lagrange = lagrange,
    };

    /// <summary>An artifact holding <paramref name="parts"/>: descriptors in the manifest, weights and optimizer states beside it.</summary>
    public static HandoverArtifact Create(HandoverManifest manifest, params HandoverPart[] parts)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var descriptors = new Dictionary<string, NetworkDescriptor>(StringComparer.Ordinal);
        var weights = new Dictionary<string, StateDict>(StringComparer.Ordinal);
        var optimizers = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            descriptors.Add(part.Role, part.Descriptor);
            weights.Add(part.Role, ModuleState.ToStateDict(part.Module));
            if (part.Optimizer is not null) optimizers.Add(part.Role, ModuleState.SaveOptimizer(part.Optimizer));
        }
        return new HandoverArtifact(manifest with { Networks = descriptors }, weights, optimizers);
    }
}

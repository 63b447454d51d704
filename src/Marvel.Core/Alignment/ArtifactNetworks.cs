using Marvel.Core.Networks;

namespace Marvel.Core.Alignment;

/// <summary>
/// The actor and both critics of a handover artifact, rebuilt from the manifest's <see cref="NetworkDescriptor"/>s and loaded
/// strictly. Shared by <see cref="ValuePreAligner"/> and <see cref="QBiasDiagnostics"/>.
/// </summary>
internal sealed class ArtifactNetworks : IDisposable
{
    /// <summary>The descriptor kind of the actor this layer can rebuild.</summary>
    public const string ActorKind = "SquashedGaussianActor";

    /// <summary>The descriptor kind of the critics this layer can rebuild.</summary>
    public const string CriticKind = "QEnsemble";

    private ArtifactNetworks(SquashedGaussianActor actor, QEnsemble rewardCritic, QEnsemble costCritic,
        NetworkDescriptor rewardDescriptor, NetworkDescriptor costDescriptor)
    {
        Actor = actor;
        RewardCritic = rewardCritic;
        CostCritic = costCritic;
        RewardDescriptor = rewardDescriptor;
        CostDescriptor = costDescriptor;
    }

    /// <summary>The artifact's actor (weights loaded).</summary>
    public SquashedGaussianActor Actor { get; }

    /// <summary>The artifact's reward critic ensemble (weights loaded).</summary>
    public QEnsemble RewardCritic { get; }

    /// <summary>The artifact's cost critic ensemble (weights loaded).</summary>
    public QEnsemble CostCritic { get; }

    /// <summary>The reward critic's descriptor, reused when the aligned critic is exported.</summary>
    public NetworkDescriptor RewardDescriptor { get; }

    /// <summary>The cost critic's descriptor.</summary>
    public NetworkDescriptor CostDescriptor { get; }

    /// <summary>Builds and strictly loads the three networks on <paramref name="device"/>.</summary>
    /// <param name="artifact">The artifact.</param>
    /// <param name="device">Where the networks live.</param>
    /// <param name="receiver">Who asks, for messages (e.g. "Value pre-alignment").</param>
    /// <exception cref="InvalidDataException">A role is missing, its kind is not one this layer can build, or the weights do not fit
    /// the descriptor; the message names the role and kind.</exception>
    public static ArtifactNetworks Load(HandoverArtifact artifact, Device device, string receiver)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        var m = artifact.Manifest;
        var actorDescriptor = Descriptor(artifact, HandoverRoles.Actor, ActorKind, receiver);
        var rewardDescriptor = Descriptor(artifact, HandoverRoles.RewardCritic, CriticKind, receiver);
        var costDescriptor = Descriptor(artifact, HandoverRoles.CostCritic, CriticKind, receiver);
        // Weights are overwritten by the strict load, so the initialization generator does not matter.
        using var staging = new Generator(0);
        SquashedGaussianActor? actor = null;
        QEnsemble? reward = null, cost = null;
        try
        {
            actor = new SquashedGaussianActor(m.ObservationSize, m.ActionSize, actorDescriptor.HiddenSizes, staging);
            reward = new QEnsemble(m.ObservationSize, m.ActionSize, rewardDescriptor.HiddenSizes, rewardDescriptor.EnsembleSize, staging);
            cost = new QEnsemble(m.ObservationSize, m.ActionSize, costDescriptor.HiddenSizes, costDescriptor.EnsembleSize, staging);
            ModuleState.Load(actor, artifact.GetNetwork(HandoverRoles.Actor), HandoverRoles.Actor);
            ModuleState.Load(reward, artifact.GetNetwork(HandoverRoles.RewardCritic), HandoverRoles.RewardCritic);
            ModuleState.Load(cost, artifact.GetNetwork(HandoverRoles.CostCritic), HandoverRoles.CostCritic);
            if (device.type != TorchSharp.DeviceType.CPU)
            {
                actor.to(device);
                reward.to(device);
                cost.to(device);
            }
            return new ArtifactNetworks(actor, reward, cost, rewardDescriptor, costDescriptor);
        }
        catch
        {
            actor?.Dispose();
            reward?.Dispose();
            cost?.Dispose();
            throw;
        }
    }

    /// <summary>A fresh ensemble with the shape of <paramref name="source"/> holding a copy of its weights (a target network).</summary>
    public static QEnsemble CopyOf(QEnsemble source, Device device)
    {
        using var staging = new Generator(0);
        var copy = new QEnsemble(source.ObservationSize, source.ActionSize, source.HiddenSizes, source.EnsembleSize, staging);
        if (device.type != TorchSharp.DeviceType.CPU) copy.to(device);
        Algorithms.Shared.Polyak.Copy(source, copy);
        return copy;
    }

    /// <summary>Turns off gradients for every parameter of <paramref name="module"/> (frozen actor, target critics).</summary>
    public static void Freeze(nn.Module module)
    {
        foreach (var p in module.parameters()) p.requires_grad = false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Actor.Dispose();
        RewardCritic.Dispose();
        CostCritic.Dispose();
    }

    private static NetworkDescriptor Descriptor(HandoverArtifact artifact, string role, string kind, string receiver)
    {
        if (!artifact.Manifest.Networks.TryGetValue(role, out var d))
            throw new InvalidDataException($"{receiver}: the handover artifact from '{artifact.Manifest.Algorithm}' has no '{role}' network. " +
                $"It has: {string.Join(", ", artifact.Manifest.Networks.Keys)}.");
        if (!string.Equals(d.Kind, kind, StringComparison.Ordinal))
            throw new InvalidDataException($"{receiver}: the artifact's '{role}' network is a '{d.Kind}', but only '{kind}' can be rebuilt for this role. " +
                $"Export the artifact from a learner whose {role} is a {kind} (CPQ, SAC-Lag, …).");
        if (d.HiddenSizes is null || d.HiddenSizes.Length == 0 || d.HiddenSizes.Any(h => h < 1) || d.EnsembleSize < 1)
            throw new InvalidDataException($"{receiver}: the artifact's '{role}' descriptor has hidden sizes [{string.Join(", ", d.HiddenSizes ?? [])}] and " +
                $"ensemble size {d.EnsembleSize}; both must be positive.");
        if (!string.Equals(d.Activation, "ReLU", StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{receiver}: the artifact's '{role}' uses activation '{d.Activation}', but {kind} is built with ReLU.");
        return d;
    }
}

using Marvel.Core.Algorithms.Online.SacLag;

namespace Marvel.Core.Pipeline;

/// <summary>
/// Builds <see cref="SacLagOptions"/> that fit a handover artifact, so an offline result (CPQ, BEAR-Lag, …) can be finetuned by
/// <see cref="SacLagLearner"/> without matching network sizes and scales by hand.
/// </summary>
public static class SacLagHandover
{
    /// <summary>
    /// A copy of <paramref name="template"/> whose network sizes, ensemble sizes, γ and reward/cost scales are those of
    /// <paramref name="manifest"/>: actor → <see cref="SacLagOptions.ActorHiddenSizes"/>; reward critic →
    /// <see cref="SacLagOptions.CriticHiddenSizes"/> and <see cref="SacLagOptions.RewardCriticCount"/>; cost critic →
    /// <see cref="SacLagOptions.CostCriticHiddenSizes"/> and <see cref="SacLagOptions.CostCriticCount"/>. Everything else
    /// (learning rates, α, schedule, …) is kept from the template.
    /// </summary>
    /// <param name="manifest">The artifact's manifest.</param>
    /// <param name="template">Online settings to start from; SAC-Lag defaults when null. Not modified.</param>
    /// <returns>New options, ready for <c>new SacLagLearner(context, options)</c> followed by <c>InitializeFrom(artifact)</c>.</returns>
    /// <exception cref="InvalidDataException">The manifest lacks the actor, reward-critic or cost-critic descriptor.</exception>
    public static SacLagOptions MatchArtifact(HandoverManifest manifest, SacLagOptions? template = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var actor = Descriptor(manifest, HandoverRoles.Actor);
        var reward = Descriptor(manifest, HandoverRoles.RewardCritic);
        var cost = Descriptor(manifest, HandoverRoles.CostCritic);
        return (template ?? new SacLagOptions()) with
        {
            ActorHiddenSizes = actor.HiddenSizes.ToArray(),
            CriticHiddenSizes = reward.HiddenSizes.ToArray(),
            RewardCriticCount = reward.EnsembleSize,
            CostCriticHiddenSizes = cost.HiddenSizes.ToArray(),
            CostCriticCount = cost.EnsembleSize,
            Gamma = manifest.Gamma,
            RewardScale = manifest.RewardScale,
            CostScale = manifest.CostScale,
        };
    }

    /// <summary>An online-learner factory for <see cref="MarvelPipeline"/>: SAC-Lag sized from the artifact it will start from.</summary>
    /// <param name="template">Online settings (learning rates, α, schedule); sizes and scales are taken from the artifact. Copied.</param>
    public static Func<LearnerContext, HandoverArtifact, IOnlineSafeLearner> Factory(SacLagOptions? template = null)
    {
        var copy = (template ?? new SacLagOptions()) with { };
        return (context, artifact) => new SacLagLearner(context, MatchArtifact(artifact.Manifest, copy));
    }

    private static NetworkDescriptor Descriptor(HandoverManifest manifest, string role) =>
        manifest.Networks.TryGetValue(role, out var d)
            ? d
            : throw new InvalidDataException($"The handover artifact from '{manifest.Algorithm}' has no '{role}' descriptor (it has: {string.Join(", ", manifest.Networks.Keys)}); SAC-Lag needs actor, reward_critic and cost_critic.");
}

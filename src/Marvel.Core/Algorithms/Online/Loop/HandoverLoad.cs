using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Online.Loop;

/// <summary>
/// The part of <c>InitializeFrom</c> both online learners share: load the artifact's actor (and, when asked, its critics) strictly into
/// staged copies, pick the optimizer moments <see cref="HandoverLoadOptions"/> asks for and check them against the staged parameters,
/// all before the learner changes anything; then <see cref="Swap"/> each staged network into the live one with a rebuilt Adam.
/// </summary>
internal static class HandoverLoad
{
    /// <summary>The optimizer moments to restore, per role; null starts that optimizer fresh.</summary>
    /// <param name="Actor">Adam state of the actor.</param>
    /// <param name="RewardCritic">Adam state of the reward critic.</param>
    /// <param name="CostCritic">Adam state of the cost critic.</param>
    public readonly record struct States(byte[]? Actor, byte[]? RewardCritic, byte[]? CostCritic);

    /// <summary>Loads the staged networks from <paramref name="artifact"/> (each critic only when <see cref="HandoverLoadOptions"/> asks for it)
    /// and returns the checked optimizer states.</summary>
    /// <exception cref="InvalidDataException">A tensor shape or an optimizer state does not match.</exception>
    public static States Stage(HandoverArtifact artifact, HandoverLoadOptions options, nn.Module actor, nn.Module rewardCritic, nn.Module costCritic)
    {
        ModuleState.Load(actor, artifact.GetNetwork(HandoverRoles.Actor), HandoverRoles.Actor);
        if (options.LoadsRewardCritic(artifact.Manifest))
            ModuleState.Load(rewardCritic, artifact.GetNetwork(HandoverRoles.RewardCritic), HandoverRoles.RewardCritic);
        if (options.LoadsCostCritic(artifact.Manifest))
            ModuleState.Load(costCritic, artifact.GetNetwork(HandoverRoles.CostCritic), HandoverRoles.CostCritic);
        bool moments = options.ShouldLoadCriticOptimizerStates(artifact.Manifest);
        var states = new States(
            options.LoadActorOptimizerState ? artifact.OptimizerStates.GetValueOrDefault(HandoverRoles.Actor) : null,
            moments && options.LoadsRewardCritic(artifact.Manifest) ? artifact.OptimizerStates.GetValueOrDefault(HandoverRoles.RewardCritic) : null,
            moments && options.LoadsCostCritic(artifact.Manifest) ? artifact.OptimizerStates.GetValueOrDefault(HandoverRoles.CostCritic) : null);
        KeptScalarOptimizer.CheckAdamState(actor.parameters(), states.Actor, HandoverRoles.Actor);
        KeptScalarOptimizer.CheckAdamState(rewardCritic.parameters(), states.RewardCritic, HandoverRoles.RewardCritic);
        KeptScalarOptimizer.CheckAdamState(costCritic.parameters(), states.CostCritic, HandoverRoles.CostCritic);
        return states;
    }

    /// <summary>Copies the staged weights into <paramref name="live"/> (on <paramref name="device"/>), disposes <paramref name="optimizer"/>
    /// and returns a new Adam over <paramref name="live"/> at <paramref name="learningRate"/> with <paramref name="state"/>'s moments, if any.</summary>
    public static Adam Swap<T>(T staged, T live, Device device, Adam optimizer, double learningRate, byte[]? state, string role) where T : nn.Module
    {
        Polyak.Copy(staged.to(device), live);
        optimizer.Dispose();
        return KeptScalarOptimizer.AdamFrom(live.parameters(), learningRate, state, role);
    }
}

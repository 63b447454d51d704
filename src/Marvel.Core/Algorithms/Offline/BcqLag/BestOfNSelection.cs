using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Offline.BcqLag;

/// <summary>
/// BCQ's action selection (Fujimoto, Meger and Precup 2019, Algorithm 1: a = argmax_{a_j} Q(s, a_j) over N perturbed VAE
/// decodes a_j) with BCQ-Lag's Lagrangian score: of the N candidates of a state, act with the one of highest
/// Q_r(s, a_j) − λ · Q_c(s, a_j).
/// </summary>
/// <remarks>
/// The reductions are the actor loss's (Eq. 3), so the selection ranks candidates by the objective ξ is trained on: Q_r is the
/// minimum over the reward members, Q_c the maximum over the cost members, or the minimum with
/// <see cref="BcqLagOptions.ReferenceOptimisticCostEnsemble"/> (<see cref="EnsembleOps.CostValue"/>). The actor loss's offset
/// −λ · qc_thres is the same for every candidate of a state and is left out. Ties go to the first candidate.
/// </remarks>
internal static class BestOfNSelection
{
    /// <summary>The score Q_r − λ · Q_c of each candidate.</summary>
    /// <param name="rewardValues">Reward members' values, [K_r, rows].</param>
    /// <param name="costValues">Cost members' values, [K_c, rows].</param>
    /// <param name="lambda">λ ≥ 0, a 0-dim tensor on the same device.</param>
    /// <param name="referenceOptimisticCost">Reduce the cost members with the minimum (OSRL) instead of the maximum.</param>
    /// <returns>[rows].</returns>
    public static Tensor Scores(Tensor rewardValues, Tensor costValues, Tensor lambda, bool referenceOptimisticCost)
    {
        using var reward = EnsembleOps.Reduce(rewardValues, EnsembleReduction.Min);
        using var cost = EnsembleOps.CostValue(costValues, referenceOptimisticCost);
        using var penalty = cost * lambda;
        return reward - penalty;
    }

    /// <summary>The highest-scoring candidate of each state.</summary>
    /// <param name="candidates">[states · N, actionSize], state i's candidates in rows i · N … i · N + N − 1.</param>
    /// <param name="scores">[states · N], same order.</param>
    /// <param name="candidatesPerState">N ≥ 1.</param>
    /// <returns>[states, actionSize].</returns>
    public static Tensor Pick(Tensor candidates, Tensor scores, int candidatesPerState)
    {
        long states = scores.shape[0] / candidatesPerState;
        using var perState = scores.view(states, candidatesPerState);
        using var best = perState.argmax(1);
        using var first = arange(TorchScalars.Of(0L), TorchScalars.Of(states * candidatesPerState), TorchScalars.Of(candidatesPerState), ScalarType.Int64, scores.device);
        using var rows = first.add(best, TorchScalars.One);
        return candidates.index_select(0, rows);
    }

    /// <summary>Scores the candidates with both critics and picks the best of each state.</summary>
    /// <param name="rewardCritic">Reward ensemble.</param>
    /// <param name="costCritic">Cost ensemble.</param>
    /// <param name="observations">[states · N, observationSize], each state repeated N times in a row.</param>
    /// <param name="candidates">[states · N, actionSize], same order.</param>
    /// <param name="lambda">λ ≥ 0, a 0-dim tensor.</param>
    /// <param name="candidatesPerState">N ≥ 1.</param>
    /// <param name="referenceOptimisticCost">See <see cref="Scores"/>.</param>
    /// <returns>[states, actionSize].</returns>
    public static Tensor Select(QEnsemble rewardCritic, QEnsemble costCritic, Tensor observations, Tensor candidates, Tensor lambda,
        int candidatesPerState, bool referenceOptimisticCost)
    {
        using var rewardValues = rewardCritic.forward(observations, candidates);
        using var costValues = costCritic.forward(observations, candidates);
        using var scores = Scores(rewardValues, costValues, lambda, referenceOptimisticCost);
        return Pick(candidates, scores, candidatesPerState);
    }
}

namespace Marvel.Core.Algorithms.Shared;

/// <summary>
/// Where an offline Lagrangian learner (BEAR-Lag, BCQ-Lag) measures the discounted cost value Q_c(s, π(s)) that its multiplier
/// holds at the threshold q_thres = <see cref="Abstractions.CostBudget.QCostThreshold"/>(κ, γ, T).
/// </summary>
/// <remarks>
/// Neither choice bounds the undiscounted episode cost exactly; they err in opposite directions (docs/algorithms/bcq-lag.md,
/// bear-lag.md). <see cref="Batch"/> bounds the cost value from every state the data visits, which on data from costly behaviour
/// can stay above q_thres for any policy (the multiplier then only grows). <see cref="EpisodeStarts"/> bounds the constrained
/// MDP's own quantity, the discounted cost from the start, which weighs a cost at step t by γ^t, so a policy whose costs come late
/// in the episode can exceed κ while its start value sits at q_thres.
/// </remarks>
public enum CostConstraintStates
{
    /// <summary>The mean of Q_c at the actor's actions over the training batch's states (OSRL).</summary>
    Batch,

    /// <summary>The mean of Q_c(s₀, π(s₀)) of the acting policy over the dataset's episode start states (up to a batch of them
    /// per update, drawn with replacement when there are more).</summary>
    EpisodeStarts,
}

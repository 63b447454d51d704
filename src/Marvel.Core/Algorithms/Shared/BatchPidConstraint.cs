using Marvel.Core.Lagrange;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>The options of the learners with a <see cref="BatchPidConstraint"/> (BEAR-Lag, BCQ-Lag).</summary>
internal interface IBatchPidCriticOptions : IVaeCriticLearnerOptions, IBatchPidOptions
{
    /// <summary>Reduce the cost ensemble optimistically (OSRL).</summary>
    bool ReferenceOptimisticCostEnsemble { get; }
}

/// <summary>
/// What BEAR-Lag and BCQ-Lag add to their <see cref="VaeCritics"/> (algorithms spec §2–§3): the backups over N sampled next actions
/// with soft clipped double Q, and the per-batch PID multiplier on Q_c measured at the batch or at the dataset's episode start states.
/// </summary>
internal sealed class BatchPidConstraint : IDisposable
{
    private readonly VaeCritics _critics;
    private readonly IBatchPidCriticOptions _options;
    private readonly Device _device;
    private Tensor? _startObservations;

    /// <summary>Creates the PID (set point <paramref name="qCostThreshold"/>) and adds its state to the learner's checkpoint as "pid".</summary>
    public BatchPidConstraint(OfflineLearnerLifecycle life, VaeCritics critics, IBatchPidCriticOptions options, double qCostThreshold)
    {
        _critics = critics;
        _options = options;
        _device = life.Device;
        Pid = life.Owns(new BatchPidLagrangian(options.PidKp, options.PidKi, options.PidKd, qCostThreshold, _device));
        var (integral, previousError, lambda) = Pid.StateTensors;
        life.Checkpoint.Tensor("pid/integral", integral).Tensor("pid/previous_error", previousError).Tensor("pid/lambda", lambda);
        life.Owns(this);
        life.OnAttach(ReadStartStates);
    }

    /// <summary>The per-batch PID multiplier λ.</summary>
    public BatchPidLagrangian Pid { get; }

    /// <summary>Reads the episode start states of the attached dataset (registered with the lifecycle's <c>OnAttach</c>, after the
    /// critics' range of cost values).</summary>
    private void ReadStartStates(OfflineDataset dataset)
    {
        _startObservations?.Dispose();
        _startObservations = OfflineLearning.StartObservations(dataset, _device);
    }

    /// <summary>
    /// Eq. 1–2: the critics' backups over N = <see cref="IVaeCriticOptions.SampleActionCount"/> next actions per state, then one gradient
    /// step of each critic. Reward: soft clipped double Q, max over the N samples; cost: the same with λ on the higher group maximum
    /// (pessimistic; the lower group minimum with <see cref="IBatchPidCriticOptions.ReferenceOptimisticCostEnsemble"/>), or the learner's
    /// <paramref name="costBackup"/>. y_r = r + γ (1 − d) q̂(s′), y_c = c + γ (1 − d) q̂_c(s′), y_c clamped to
    /// <see cref="VaeCritics.CostTargetBounds"/>.
    /// </summary>
    /// <param name="b">The scaled batch.</param>
    /// <param name="nextActions">The learner's next actions at the repeated next observations (runs without gradient).</param>
    /// <param name="costBackup">From (reward, cost) target values at the N samples, the cost backup value per state; null for the
    /// maximum over the samples.</param>
    /// <returns>The reward and cost critic losses.</returns>
    public (Tensor RewardLoss, Tensor CostLoss) CriticSteps(ScaledBatch b, Func<Tensor, Tensor> nextActions, Func<Tensor, Tensor, Tensor>? costBackup = null)
    {
        var o = _options;
        var c = _critics;
        Tensor rewardTarget, costTarget;
        using (no_grad())
        {
            var nextRepeated = b.NextObservations.repeat_interleave(o.SampleActionCount, 0);
            var nextAction = nextActions(nextRepeated);
            var nextRewardAll = c.RewardTarget.forward(nextRepeated, nextAction);
            var nextQ = EnsembleOps.MaxOverSamples(nextRewardAll, o.SampleActionCount, o.DoubleQMix);
            var nextCostAll = c.CostTarget.forward(nextRepeated, nextAction);
            var nextCost = costBackup is null
                ? EnsembleOps.CostMaxOverSamples(nextCostAll, o.SampleActionCount, o.DoubleQMix, o.ReferenceOptimisticCostEnsemble)
                : costBackup(nextRewardAll, nextCostAll);
            rewardTarget = b.Rewards.add(b.RewardContinues.mul(TorchScalars.Of(o.Gamma)) * nextQ, TorchScalars.One);
            costTarget = OfflineLearning.CostTarget(b.Costs, b.CostContinues, nextCost, o.Gamma, c.CostTargetBounds);
        }
        var rewardLoss = c.RewardCritic.Loss(b.Observations, b.Actions, rewardTarget);
        GradientStep.Apply(c.RewardOptimizer, rewardLoss);
        var costLoss = c.CostCritic.Loss(b.Observations, b.Actions, costTarget);
        GradientStep.Apply(c.CostOptimizer, costLoss);
        return (rewardLoss, costLoss);
    }

    /// <summary>Q_c of the actor's actions: the cost members reduced as the actor loss does (max, or min with
    /// <see cref="IBatchPidCriticOptions.ReferenceOptimisticCostEnsemble"/>).</summary>
    public Tensor CostValue(Tensor observations, Tensor actions) =>
        EnsembleOps.CostValue(_critics.CostCritic.forward(observations, actions), _options.ReferenceOptimisticCostEnsemble);

    /// <summary>
    /// The PID step: measures Q_c where <see cref="IBatchPidOptions.ConstraintStates"/> says (the batch's <paramref name="qc"/>, or the
    /// acting policy at the episode start states; an update before Attach knows no start states and uses the batch), moves λ, and
    /// returns the measurement, λ and the actor's penalty mean((Q_c − qc_thres) · λ).
    /// </summary>
    public (Tensor Measured, Tensor Lambda, Tensor Penalty) Constrain(Tensor qc, Func<Tensor, Tensor> actDeterministic)
    {
        var o = _options;
        var measured = o.ConstraintStates == CostConstraintStates.Batch || _startObservations is null
            ? qc
            : OfflineLearning.StartStateCostValues(_startObservations, o.BatchSize, _critics.Noise, actDeterministic, _critics.CostCritic, o.ReferenceOptimisticCostEnsemble);
        var lambda = Pid.Control(measured);
        return (measured, lambda, BatchPidLagrangian.Penalty(qc, Pid.Threshold, lambda));
    }

    /// <summary>Frees the start observations (everything else is the lifecycle's).</summary>
    public void Dispose()
    {
        _startObservations?.Dispose();
        _startObservations = null;
    }
}

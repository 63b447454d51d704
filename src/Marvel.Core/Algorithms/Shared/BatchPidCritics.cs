using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Networks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>The options of the learners built on <see cref="BatchPidCritics"/> (BEAR-Lag, BCQ-Lag).</summary>
internal interface IBatchPidCriticOptions : IOfflineOptions, IScaledOfflineOptions, IDiscountedOfflineOptions, IVaeCriticOptions, IBatchPidOptions
{
    /// <summary>Merge time-limit truncations into done.</summary>
    bool TreatTimeoutAsTerminal { get; }

    /// <summary>The cost backup ignores done.</summary>
    bool ReferenceCostBackupIgnoresDone { get; }

    /// <summary>Reduce the cost ensemble optimistically (OSRL).</summary>
    bool ReferenceOptimisticCostEnsemble { get; }

    /// <summary>Leave the cost target unclamped (OSRL).</summary>
    bool ReferenceUnboundedCostTarget { get; }
}

/// <summary>
/// The critic side BEAR-Lag and BCQ-Lag share (algorithms spec §2–§3), held by the learner: the behaviour VAE, the grouped reward and
/// cost ensembles with their target copies and optimizers, the per-batch PID multiplier on Q_c, and what <see cref="Attach"/> reads
/// from the dataset (the range of cost values and the episode start states). The learner keeps its actor and its actor loss.
/// </summary>
/// <remarks>
/// Created inside the learner's "init" generator block right after its actor and target actor, so the parameter draws keep their order:
/// reward critic, reward target, cost critic, cost target, VAE. Everything it creates is registered with the learner's
/// <see cref="OfflineLearnerLifecycle"/> (checkpoint and disposal); the torch generator "noise" is the learner's stream of that name.
/// </remarks>
internal sealed class BatchPidCritics : IDisposable
{
    private readonly IBatchPidCriticOptions _options;
    private readonly Device _device;
    private Tensor? _startObservations;

    /// <summary>Builds and registers the networks, optimizers, PID and the "noise" generator.</summary>
    /// <param name="life">The learner's lifecycle; everything is registered with it.</param>
    /// <param name="seeds">The learner's seed streams (for "noise").</param>
    /// <param name="init">The learner's "init" generator, after its actors.</param>
    /// <param name="options">The learner's resolved options.</param>
    /// <param name="observationSize">|S|.</param>
    /// <param name="actionSize">|A|.</param>
    /// <param name="maxAction">The action bound m of the VAE's decoder.</param>
    /// <param name="qCostThreshold">qc_thres, the PID's set point and the offset of the penalty.</param>
    public BatchPidCritics(OfflineLearnerLifecycle life, Abstractions.Seeding.SeedStreams seeds, Generator init, IBatchPidCriticOptions options,
        int observationSize, int actionSize, double maxAction, double qCostThreshold)
    {
        _options = options;
        _device = life.Device;
        int obs = observationSize, act = actionSize;
        int rewardNets = 2 * options.RewardCriticsPerGroup, costNets = 2 * options.CostCriticsPerGroup;
        RewardCritic = life.Network("reward_critic", OfflineLearning.To(new QEnsemble(obs, act, options.CriticHiddenSizes, rewardNets, init), _device));
        RewardTarget = life.Network("reward_target", OfflineLearning.To(new QEnsemble(obs, act, options.CriticHiddenSizes, rewardNets, init), _device));
        CostCritic = life.Network("cost_critic", OfflineLearning.To(new QEnsemble(obs, act, options.CriticHiddenSizes, costNets, init), _device));
        CostTarget = life.Network("cost_target", OfflineLearning.To(new QEnsemble(obs, act, options.CriticHiddenSizes, costNets, init), _device));
        Vae = life.Network("vae", OfflineLearning.To(new ConditionalVae(obs, act, options.VaeHiddenSize, 2 * act, maxAction, init), _device));
        Polyak.Copy(RewardCritic, RewardTarget);
        Polyak.Copy(CostCritic, CostTarget);
        RewardOptimizer = life.Optimizer("reward_critic", OfflineLearning.Adam(RewardCritic, options.CriticLearningRate));
        CostOptimizer = life.Optimizer("cost_critic", OfflineLearning.Adam(CostCritic, options.CriticLearningRate));
        VaeOptimizer = life.Optimizer("vae", OfflineLearning.Adam(Vae, options.VaeLearningRate));
        Pid = life.Owns(new BatchPidLagrangian(options.PidKp, options.PidKi, options.PidKd, qCostThreshold, _device));
        Noise = life.Generator("noise", OfflineLearning.Generator(seeds, "noise", _device));
        life.Owns(this);
    }

    /// <summary>The reward ensemble Q_r (2 groups of <see cref="IBatchPidOptions.RewardCriticsPerGroup"/>).</summary>
    public QEnsemble RewardCritic { get; }

    /// <summary>Target copy of <see cref="RewardCritic"/>.</summary>
    public QEnsemble RewardTarget { get; }

    /// <summary>The cost ensemble Q_c (2 groups of <see cref="IBatchPidOptions.CostCriticsPerGroup"/>).</summary>
    public QEnsemble CostCritic { get; }

    /// <summary>Target copy of <see cref="CostCritic"/>.</summary>
    public QEnsemble CostTarget { get; }

    /// <summary>The behaviour VAE.</summary>
    public ConditionalVae Vae { get; }

    /// <summary>Adam of <see cref="RewardCritic"/>.</summary>
    public Adam RewardOptimizer { get; }

    /// <summary>Adam of <see cref="CostCritic"/>.</summary>
    public Adam CostOptimizer { get; }

    /// <summary>Adam of <see cref="Vae"/>.</summary>
    public Adam VaeOptimizer { get; }

    /// <summary>The per-batch PID multiplier λ; its state is added to the checkpoint by the learner (<see cref="BatchPidLagrangian.AddTo"/>).</summary>
    public BatchPidLagrangian Pid { get; }

    /// <summary>The learner's training noise (seed stream "noise"): VAE, backups and the start-state draw.</summary>
    public Generator Noise { get; }

    /// <summary>The range [min c, max c] · cost scale/(1 − γ) the cost target is clamped to (set by <see cref="Attach"/>; null before).</summary>
    public (double Min, double Max)? CostValueBounds { get; private set; }

    /// <summary>Reads the range of cost values and the episode start states from the attached dataset.</summary>
    public void Attach(OfflineDataset dataset)
    {
        CostValueBounds = OfflineLearning.CostValueBounds(dataset.Costs, _options.CostScale, _options.Gamma);
        _startObservations?.Dispose();
        _startObservations = OfflineLearning.StartObservations(dataset, _device);
    }

    /// <summary>The batch scaled and masked as the options say.</summary>
    public ScaledBatch Scale(TransitionBatch batch) =>
        ScaledBatch.From(batch, _options.RewardScale, _options.CostScale, _options.TreatTimeoutAsTerminal, _options.ReferenceCostBackupIgnoresDone);

    /// <summary>§0.4: one gradient step of the behaviour VAE; returns its loss.</summary>
    public Tensor VaeStep(ScaledBatch b)
    {
        var (loss, _, _) = Vae.Loss(b.Observations, b.Actions, _options.VaeKlWeight, Noise);
        GradientStep.Apply(VaeOptimizer, loss);
        return loss;
    }

    /// <summary>
    /// Eq. 1–2: the critics' backups over N = <see cref="IVaeCriticOptions.SampleActionCount"/> next actions per state, then one gradient
    /// step of each critic. Reward: soft clipped double Q, max over the N samples; cost: the same with λ on the higher group maximum
    /// (pessimistic; the lower group minimum with <see cref="IBatchPidCriticOptions.ReferenceOptimisticCostEnsemble"/>), or the learner's
    /// <paramref name="costBackup"/>. y_r = r + γ (1 − d) q̂(s′), y_c = c + γ (1 − d) q̂_c(s′), y_c clamped to
    /// <see cref="CostValueBounds"/> unless <see cref="IBatchPidCriticOptions.ReferenceUnboundedCostTarget"/> (or before Attach).
    /// </summary>
    /// <param name="b">The scaled batch.</param>
    /// <param name="nextActions">The learner's next actions at the repeated next observations (runs without gradient).</param>
    /// <param name="costBackup">From (reward, cost) target values at the N samples, the cost backup value per state; null for the
    /// maximum over the samples.</param>
    /// <returns>The reward and cost critic losses.</returns>
    public (Tensor RewardLoss, Tensor CostLoss) CriticSteps(ScaledBatch b, Func<Tensor, Tensor> nextActions, Func<Tensor, Tensor, Tensor>? costBackup = null)
    {
        var o = _options;
        Tensor rewardTarget, costTarget;
        using (no_grad())
        {
            var nextRepeated = b.NextObservations.repeat_interleave(o.SampleActionCount, 0);
            var nextAction = nextActions(nextRepeated);
            var nextRewardAll = RewardTarget.forward(nextRepeated, nextAction);
            var nextQ = EnsembleOps.MaxOverSamples(nextRewardAll, o.SampleActionCount, o.DoubleQMix);
            var nextCostAll = CostTarget.forward(nextRepeated, nextAction);
            var nextCost = costBackup is null
                ? EnsembleOps.CostMaxOverSamples(nextCostAll, o.SampleActionCount, o.DoubleQMix, o.ReferenceOptimisticCostEnsemble)
                : costBackup(nextRewardAll, nextCostAll);
            rewardTarget = b.Rewards.add(b.RewardContinues.mul(TorchScalars.Of(o.Gamma)) * nextQ, TorchScalars.One);
            costTarget = OfflineLearning.CostTarget(b.Costs, b.CostContinues, nextCost, o.Gamma, o.ReferenceUnboundedCostTarget ? null : CostValueBounds);
        }
        var rewardLoss = RewardCritic.Loss(b.Observations, b.Actions, rewardTarget);
        GradientStep.Apply(RewardOptimizer, rewardLoss);
        var costLoss = CostCritic.Loss(b.Observations, b.Actions, costTarget);
        GradientStep.Apply(CostOptimizer, costLoss);
        return (rewardLoss, costLoss);
    }

    /// <summary>Q_c of the actor's actions: the cost members reduced as the actor loss does (max, or min with
    /// <see cref="IBatchPidCriticOptions.ReferenceOptimisticCostEnsemble"/>).</summary>
    public Tensor CostValue(Tensor observations, Tensor actions) =>
        EnsembleOps.CostValue(CostCritic.forward(observations, actions), _options.ReferenceOptimisticCostEnsemble);

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
            : OfflineLearning.StartStateCostValues(_startObservations, o.BatchSize, Noise, actDeterministic, CostCritic, o.ReferenceOptimisticCostEnsemble);
        var lambda = Pid.Control(measured);
        return (measured, lambda, BatchPidLagrangian.Penalty(qc, Pid.Threshold, lambda));
    }

    /// <summary>Polyak averaging of both target critics.</summary>
    public void UpdateTargets()
    {
        Polyak.Update(_options.Tau, RewardCritic, RewardTarget);
        Polyak.Update(_options.Tau, CostCritic, CostTarget);
    }

    /// <summary>The handover part of the reward critic.</summary>
    public HandoverPart RewardPart() =>
        new(HandoverRoles.RewardCritic, new("QEnsemble", _options.CriticHiddenSizes.ToArray(), 2 * _options.RewardCriticsPerGroup), RewardCritic, RewardOptimizer);

    /// <summary>The handover part of the cost critic.</summary>
    public HandoverPart CostPart() =>
        new(HandoverRoles.CostCritic, new("QEnsemble", _options.CriticHiddenSizes.ToArray(), 2 * _options.CostCriticsPerGroup), CostCritic, CostOptimizer);

    /// <summary>Frees the start observations (everything else is the lifecycle's).</summary>
    public void Dispose()
    {
        _startObservations?.Dispose();
        _startObservations = null;
    }
}

using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>The options of the learners built on <see cref="VaeCritics"/> (CPQ, BEAR-Lag, BCQ-Lag).</summary>
internal interface IVaeCriticLearnerOptions : IOfflineOptions, IScaledOfflineOptions, IDiscountedOfflineOptions, IVaeCriticOptions
{
    /// <summary>Merge time-limit truncations into done.</summary>
    bool TreatTimeoutAsTerminal { get; }

    /// <summary>The cost backup ignores done.</summary>
    bool ReferenceCostBackupIgnoresDone { get; }

    /// <summary>Leave the cost target unclamped (OSRL).</summary>
    bool ReferenceUnboundedCostTarget { get; }

    /// <summary>Run each ensemble as one batched product per layer (<see cref="QEnsemble.Fuse"/>).</summary>
    bool FusedCriticEnsembles { get; }
}

/// <summary>
/// The value side CPQ, BEAR-Lag and BCQ-Lag share (algorithms spec §0.4, §1–§3), held by the learner: the behaviour VAE, the reward
/// and cost Q ensembles with their target copies and Adams, the training noise, and the range of cost values read from the attached
/// dataset. The learner keeps its actor, its backups' formulas and its losses.
/// </summary>
/// <remarks>
/// Created inside the learner's "init" generator block right after its actor (and target actor), so the parameter draws keep their
/// order: reward critic, reward target, cost critic, cost target, VAE. Everything it creates is registered with the learner's
/// <see cref="OfflineLearnerLifecycle"/> (checkpoint and disposal); the torch generator "noise" is the learner's stream of that name.
/// </remarks>
internal sealed class VaeCritics
{
    private readonly IVaeCriticLearnerOptions _options;
    private readonly int _rewardMembers, _costMembers;
    private readonly ParameterFreeze _onlineCritics;

    /// <summary>Builds and registers the networks, optimizers and the "noise" generator.</summary>
    /// <param name="life">The learner's lifecycle; everything is registered with it.</param>
    /// <param name="seeds">The learner's seed streams (for "noise").</param>
    /// <param name="init">The learner's "init" generator, after its actors.</param>
    /// <param name="options">The learner's resolved options.</param>
    /// <param name="observationSize">|S|.</param>
    /// <param name="actionSize">|A|.</param>
    /// <param name="maxAction">The action bound m of the VAE's decoder.</param>
    /// <param name="rewardMembers">Members of the reward ensemble.</param>
    /// <param name="costMembers">Members of the cost ensemble.</param>
    public VaeCritics(OfflineLearnerLifecycle life, Abstractions.Seeding.SeedStreams seeds, Generator init, IVaeCriticLearnerOptions options,
        int observationSize, int actionSize, double maxAction, int rewardMembers, int costMembers)
    {
        _options = options;
        _rewardMembers = rewardMembers;
        _costMembers = costMembers;
        var device = life.Device;
        int obs = observationSize, act = actionSize;
        RewardCritic = life.Network("reward_critic", OfflineLearning.To(new QEnsemble(obs, act, options.CriticHiddenSizes, rewardMembers, init), device));
        RewardTarget = life.Network("reward_target", OfflineLearning.To(new QEnsemble(obs, act, options.CriticHiddenSizes, rewardMembers, init), device));
        CostCritic = life.Network("cost_critic", OfflineLearning.To(new QEnsemble(obs, act, options.CriticHiddenSizes, costMembers, init), device));
        CostTarget = life.Network("cost_target", OfflineLearning.To(new QEnsemble(obs, act, options.CriticHiddenSizes, costMembers, init), device));
        Vae = life.Network("vae", OfflineLearning.To(new ConditionalVae(obs, act, options.VaeHiddenSize, 2 * act, maxAction, init), device));
        // One buffer per network (bit-identical Adam, zero_grad and Polyak over whole networks); the targets need no gradient buffer. The
        // opt-in fused ensembles are such buffers too, laid out layer by layer for one batched product per layer.
        FlattenCritic(life, RewardCritic, gradients: true);
        FlattenCritic(life, RewardTarget, gradients: false);
        FlattenCritic(life, CostCritic, gradients: true);
        FlattenCritic(life, CostTarget, gradients: false);
        OfflineLearning.Flatten(life, Vae);
        CopyTargets();
        _onlineCritics = new ParameterFreeze(RewardCritic, CostCritic);
        RewardOptimizer = life.Optimizer("reward_critic", OfflineLearning.Adam(RewardCritic, options.CriticLearningRate));
        CostOptimizer = life.Optimizer("cost_critic", OfflineLearning.Adam(CostCritic, options.CriticLearningRate));
        VaeOptimizer = life.Optimizer("vae", OfflineLearning.Adam(Vae, options.VaeLearningRate));
        Noise = life.Generator("noise", OfflineLearning.Generator(seeds, "noise", device));
        life.OnAttach(Attach);
    }

    private void FlattenCritic(OfflineLearnerLifecycle life, QEnsemble critic, bool gradients)
    {
        if (_options.FusedCriticEnsembles) life.Owns(critic.Fuse(gradients));
        else OfflineLearning.Flatten(life, critic, gradients);
    }

    /// <summary>The reward ensemble Q_r.</summary>
    public QEnsemble RewardCritic { get; }

    /// <summary>Target copy of <see cref="RewardCritic"/>.</summary>
    public QEnsemble RewardTarget { get; }

    /// <summary>The cost ensemble Q_c.</summary>
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

    /// <summary>The learner's training noise (seed stream "noise").</summary>
    public Generator Noise { get; }

    /// <summary>The range [min c, max c] · cost scale/(1 − γ) of every policy's cost value (set by <see cref="Attach"/>; null before).</summary>
    public (double Min, double Max)? CostValueBounds { get; private set; }

    /// <summary>The clamp of the cost target: <see cref="CostValueBounds"/>, or none with
    /// <see cref="IVaeCriticLearnerOptions.ReferenceUnboundedCostTarget"/>.</summary>
    public (double Min, double Max)? CostTargetBounds => _options.ReferenceUnboundedCostTarget ? null : CostValueBounds;

    /// <summary>Reads the range of cost values from the attached dataset (registered with the lifecycle's <c>OnAttach</c>).</summary>
    private void Attach(OfflineDataset dataset) =>
        CostValueBounds = OfflineLearning.CostValueBounds(dataset.Costs, _options.CostScale, _options.Gamma);

    /// <summary>The batch scaled and masked as the options say.</summary>
    public ScaledBatch Scale(TransitionBatch batch) =>
        ScaledBatch.From(batch, RewardCostScales.Of(_options), _options.TreatTimeoutAsTerminal, _options.ReferenceCostBackupIgnoresDone);

    /// <summary>§0.4: one gradient step of the behaviour VAE; returns its loss.</summary>
    public Tensor VaeStep(ScaledBatch b)
    {
        var (loss, _, _) = Vae.Loss(b.Observations, b.Actions, _options.VaeKlWeight, Noise);
        GradientStep.Apply(VaeOptimizer, loss);
        return loss;
    }

    /// <summary>Turns gradients off for both online critics until the scope ends (the actor step reads them but must not train them).</summary>
    public ParameterFreeze.Scope FreezeCritics() => _onlineCritics.Freeze();

    /// <summary>Polyak averaging of both target critics at rate τ.</summary>
    public void UpdateTargets()
    {
        Polyak.Update(_options.Tau, RewardCritic, RewardTarget);
        Polyak.Update(_options.Tau, CostCritic, CostTarget);
    }

    /// <summary>Sets both targets to their critics.</summary>
    public void CopyTargets()
    {
        Polyak.Copy(RewardCritic, RewardTarget);
        Polyak.Copy(CostCritic, CostTarget);
    }

    /// <summary>The handover part of the reward critic.</summary>
    public HandoverPart RewardPart() =>
        new(HandoverRoles.RewardCritic, new("QEnsemble", _options.CriticHiddenSizes.ToArray(), _rewardMembers), RewardCritic, RewardOptimizer);

    /// <summary>The handover part of the cost critic.</summary>
    public HandoverPart CostPart() =>
        new(HandoverRoles.CostCritic, new("QEnsemble", _options.CriticHiddenSizes.ToArray(), _costMembers), CostCritic, CostOptimizer);
}

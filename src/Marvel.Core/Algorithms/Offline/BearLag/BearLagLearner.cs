using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Offline.BearLag;

/// <summary>
/// BEAR-Lag: Bootstrapping Error Accumulation Reduction (Kumar et al., NeurIPS 2019) with a cost critic and a
/// per-batch PID Lagrangian penalty, as OSRL's <c>bearl.py</c> (algorithms spec §2).
/// </summary>
/// <remarks>
/// <para>The actor stays on the support of the data through an MMD constraint between its samples and the behaviour
/// VAE's samples, with a dual α; cost enters as λ · (Q_c − qc_thres), λ from a PID on the batch mean of Q_c, and
/// qc_thres = <see cref="CostBudget.QCostThreshold"/>(κ, γ, T).</para>
/// <para>One update: VAE (§0.4); reward critic (Eq. 1); cost critic (Eq. 2); actor with MMD and cost penalty (Eq. 3);
/// dual α (Eq. 4); Polyak averaging of target critics and target actor.</para>
/// </remarks>
public sealed class BearLagLearner : OfflineLearner<BearLagOptions>
{
    /// <summary>The method's name in manifests and messages.</summary>
    public const string Name = "BEAR-Lag";
    private const double LogAlphaMin = -5, LogAlphaMax = 5;

    private readonly double _maxAction;
    private readonly SquashedGaussianActor _actor;
    private readonly SquashedGaussianActor _actorTarget;
    private readonly Adam _actorOptimizer;
    private readonly VaeCritics _critics;
    private readonly BatchPidConstraint _constraint;
    private readonly Tensor _logAlpha;
    private readonly Generator _policyNoise;
    private readonly Func<Tensor, Tensor> _actDeterministic;

    /// <summary>Builds the networks, optimizers and the PID multiplier.</summary>
    /// <param name="options">Settings; copied.</param>
    /// <param name="context">Spaces, device, seeds and the task horizon.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message lists every bad field.</exception>
    /// <exception cref="ArgumentException">The action space is not a symmetric box [−m, m]^d.</exception>
    public BearLagLearner(LearnerContext context, BearLagOptions? options = null)
        : base(Name, context, options, new BearLagOptionsValidator(), "bear-lag",
            static o => o with { ActorHiddenSizes = o.ActorHiddenSizes.ToArray(), CriticHiddenSizes = o.CriticHiddenSizes.ToArray() }, OfflineLearnerLifecycle.EpisodeBudget,
            "vae_loss", "reward_critic_loss", "cost_critic_loss", "actor_loss", "lambda", "alpha", "mmd", "cost_value", "reward_value", "constraint_cost_value")
    {
        _maxAction = OfflineLearning.MaxAction(context.ActionSpace, Name);
        int obs = context.ObservationSpace.Dimension, act = context.ActionSpace.Dimension;

        // §2.3: the only conversion of κ; the PID's set point and the penalty offset.
        QCostThreshold = Budget.CriticThreshold(Settings.Gamma, Settings.CostScale,
            bootstrapsThroughTruncation: !Settings.TreatTimeoutAsTerminal);

        var device = context.Device;
        using (var init = Seeds.CreateTorchGenerator("init"))
        {
            _actor = Life.Network("actor", OfflineLearning.To(new SquashedGaussianActor(obs, act, Settings.ActorHiddenSizes, init), device));
            _actorTarget = Life.Network("actor_target", OfflineLearning.To(new SquashedGaussianActor(obs, act, Settings.ActorHiddenSizes, init), device));
            _critics = new VaeCritics(Life, Seeds, init, Settings, obs, act, _maxAction, 2 * Settings.RewardCriticsPerGroup, 2 * Settings.CostCriticsPerGroup);
        }
        OfflineLearning.FlattenActor(Life, _actor, Settings.FusedActorHeads);
        OfflineLearning.FlattenActor(Life, _actorTarget, Settings.FusedActorHeads, gradients: false);   // same layout: Polyak stays flat
        Polyak.Copy(_actor, _actorTarget);
        _actorOptimizer = Life.Optimizer("actor", OfflineLearning.Adam(_actor, Settings.ActorLearningRate));
        _logAlpha = Life.Tensor("log_alpha", zeros(Array.Empty<long>(), device: device));
        _constraint = new BatchPidConstraint(Life, _critics, Settings, QCostThreshold);
        _policyNoise = Life.Generator("policy", OfflineLearning.Generator(Seeds, "policy", device));
        Policy = Life.Owns(new TorchPolicy(obs, act, device, Act, TorchPolicy.Identity));
        _actDeterministic = observations => Act(observations, deterministic: true);
    }

    /// <summary>Episode length T used for the threshold.</summary>
    public int EpisodeLength => Budget.EpisodeLength;

    /// <summary>qc_thres: the PID's set point for the batch mean of Q_c, and the offset of the penalty.</summary>
    public double QCostThreshold { get; }

    /// <summary>The range [min c, max c] · cost scale/(1 − γ) the cost target is clamped to (set by <see cref="OfflineLearner{TOptions}.Attach(OfflineDataset)"/>; null before,
    /// or with <see cref="VaeCriticLearnerOptions.ReferenceUnboundedCostTarget"/> it is computed but not applied).</summary>
    internal (double Min, double Max)? CostValueBounds => _critics.CostValueBounds;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> TrainStep() => Life.TrainStep(Settings.BatchSize, Update);

    /// <summary>One BEAR-Lag gradient step on <paramref name="batch"/> (unscaled rewards and costs).</summary>
    /// <exception cref="TrainingDivergedException">A loss or logged value is NaN or infinite.</exception>
    internal IReadOnlyDictionary<string, double> Update(TransitionBatch batch)
    {
        using var scope = NewDisposeScope();
        var o = Settings;
        var c = _critics;
        var b = c.Scale(batch);

        // §0.4: behaviour VAE.
        var vaeLoss = c.VaeStep(b);

        // Eq. 1–2: N next actions per state from the target actor; soft clipped double Q, max over the N samples for both critics.
        var (rewardLoss, costLoss) = _constraint.CriticSteps(b, next =>
        {
            var (nextU, _) = _actorTarget.Sample(next, c.Noise);
            return nextU.mul(TorchScalars.Of(_maxAction));
        });

        // Eq. 3: MMD between the actor's and the VAE's pre-tanh samples; Q (min over members) and Q_c (max over members,
        // or min with ReferenceOptimisticCostEnsemble) at the first actor sample;
        // L_π = mean(−Q + α (MMD − ε)) + mean((Q_c − qc_thres) · λ), λ from the PID on mean Q_c (no gradient; ConstraintStates says where).
        // The critics are read but not trained here: their weight gradients are skipped (the next critic step would discard them).
        using var frozen = c.FreezeCritics();
        Tensor vaeRaw;
        using (no_grad()) (_, vaeRaw) = c.Vae.DecodeMultiple(b.Observations, o.MmdSampleCount, c.Noise);
        var (mean, logStd) = _actor.Distribution(b.Observations);
        var noise = randn(new long[] { mean.shape[0], o.MmdSampleCount, mean.shape[1] }, dtype: mean.dtype, device: mean.device, generator: c.Noise);
        var actorRaw = mean.unsqueeze(1).add(logStd.exp().unsqueeze(1) * noise, TorchScalars.One);                  // [batch, M, |A|]
        var mmd = Mmd.Compute(vaeRaw, actorRaw, o.MmdKernel, o.MmdSigma);                        // [batch]
        var firstAction = actorRaw.select(1, 0).tanh().mul(TorchScalars.Of(_maxAction));
        var q = c.RewardCritic.Min(b.Observations, firstAction);
        var qc = _constraint.CostValue(b.Observations, firstAction);
        var (measured, lambda, penalty) = _constraint.Constrain(qc, _actDeterministic);
        var alpha = _logAlpha.exp();
        var support = alpha * (mmd.sub(TorchScalars.Of(o.MmdThreshold)));
        var actorLoss = (Steps >= o.StartUpdatePolicyStep ? (support - q).mean() : support.mean()).add(penalty, TorchScalars.One);
        GradientStep.Apply(_actorOptimizer, actorLoss);
        frozen.Dispose();

        // Eq. 4: log α ← clamp(log α + η_α · α · mean(MMD − ε), −5, 5).
        using (no_grad())
        {
            _logAlpha.add_((alpha * (mmd.detach().sub(TorchScalars.Of(o.MmdThreshold))).mean()).mul(TorchScalars.Of(o.AlphaLearningRate)), TorchScalars.One).clamp_(TorchScalars.Of(LogAlphaMin), TorchScalars.Of(LogAlphaMax));
        }

        c.UpdateTargets();
        Polyak.Update(o.Tau, _actor, _actorTarget);

        return Life.Report(vaeLoss, rewardLoss, costLoss, actorLoss, lambda, _logAlpha.exp(), mmd.mean(), qc.mean(), q.mean(), measured.mean());
    }

    private Tensor Act(Tensor observations, bool deterministic) => _actor.ScaledAction(observations, deterministic, _policyNoise, _maxAction);

    /// <inheritdoc />
    public override HandoverArtifact ExportHandover()
    {
        var o = Settings;
        return Life.Export(Budget.CostLimit, o.Gamma, o.RewardScale, o.CostScale, MultiplierState,
            new(HandoverRoles.Actor, new("SquashedGaussianActor", o.ActorHiddenSizes.ToArray()), _actor, _actorOptimizer),
            _critics.RewardPart(), _critics.CostPart());
    }

    // The PID's state with the MMD dual's log α beside it (reads the device).
    private LagrangeControllerState MultiplierState()
    {
        var pid = _constraint.Pid.GetState();
        return pid with { Scalars = new Dictionary<string, double>(pid.Scalars) { ["mmd_log_alpha"] = _logAlpha.item<float>() } };
    }
}

using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Offline.Cpq;

/// <summary>
/// Constraints Penalized Q-learning (CPQ; Xu, Zhan and Zhu, AAAI 2022), as in OSRL's <c>cpq.py</c> (algorithms spec §1).
/// </summary>
/// <remarks>
/// <para>CPQ treats actions the data does not support as unsafe: a VAE scores sampled policy actions, the cost critic
/// is pushed up on the least likely quarter of them, and both the reward backup and the actor only use reward values
/// where the cost critic stays below the threshold q_thres = <see cref="CostBudget.QCostThreshold"/>(κ, γ, T).
/// The OOD penalty's dual α keeps the OOD cost values above qc_thres = 1.5 · q_thres.</para>
/// <para>One update, in this order: VAE (§0.4); reward critic (Eq. 1); cost critic with OOD penalty (Eq. 2); dual α
/// (Eq. 3); actor (Eq. 4); Polyak averaging of both target critics.</para>
/// </remarks>
public sealed class CpqLearner : OfflineLearner<CpqOptions>
{
    /// <summary>The method's name in manifests and messages.</summary>
    public const string Name = "CPQ";
    private const double LogAlphaMin = -5, LogAlphaMax = 5;

    private readonly LearnerContext _context;
    private readonly double _maxAction;
    private readonly SquashedGaussianActor _actor;
    private readonly VaeCritics _critics;
    private readonly Adam _actorOptimizer;
    private readonly Tensor _logAlpha;
    private readonly Generator _policyNoise;

    /// <summary>Builds the networks and optimizers.</summary>
    /// <param name="options">Settings; copied, so later edits have no effect.</param>
    /// <param name="context">Spaces, device, seeds and the task horizon.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message lists every bad field.</exception>
    /// <exception cref="ArgumentException">The action space is not a symmetric box [−m, m]^d.</exception>
    public CpqLearner(LearnerContext context, CpqOptions? options = null)
        : base(Name, context, options, new CpqOptionsValidator(), "cpq",
            static o => o with { ActorHiddenSizes = o.ActorHiddenSizes.ToArray(), CriticHiddenSizes = o.CriticHiddenSizes.ToArray() }, OfflineLearnerLifecycle.EpisodeBudget,
            "vae_loss", "reward_critic_loss", "cost_critic_loss", "cost_td_loss", "actor_loss", "alpha", "ood_cost_value", "cost_value", "reward_value")
    {
        _context = context;
        _maxAction = OfflineLearning.MaxAction(context.ActionSpace, Name);
        int obs = context.ObservationSpace.Dimension, act = context.ActionSpace.Dimension;

        // §1.3: the only conversion of the episodic budget κ; every comparison below uses these two numbers.
        QThreshold = Budget.CriticThreshold(Settings.Gamma, Settings.CostScale,
            bootstrapsThroughTruncation: !Settings.TreatTimeoutAsTerminal);
        OodThreshold = Settings.OodThresholdScale * QThreshold;

        var device = context.Device;
        using (var init = Seeds.CreateTorchGenerator("init"))
        {
            _actor = Life.Network("actor", OfflineLearning.To(new SquashedGaussianActor(obs, act, Settings.ActorHiddenSizes, init), device));
            _critics = new VaeCritics(Life, Seeds, init, Settings, obs, act, _maxAction, Settings.RewardEnsembleSize, Settings.CostEnsembleSize);
        }
        OfflineLearning.FlattenActor(Life, _actor, Settings.FusedActorHeads);
        _actorOptimizer = Life.Optimizer("actor", OfflineLearning.Adam(_actor, Settings.ActorLearningRate));
        _logAlpha = Life.Tensor("log_alpha", zeros(Array.Empty<long>(), device: device));   // α = 1 at the start (OSRL)
        _policyNoise = Life.Generator("policy", OfflineLearning.Generator(Seeds, "policy", device));
        Policy = Life.Owns(new TorchPolicy(obs, act, device, Act, TorchPolicy.Identity));
    }

    /// <summary>Episode length T used for the threshold.</summary>
    public int EpisodeLength => Budget.EpisodeLength;

    /// <summary>q_thres: the bound on Q_c used in the reward backup mask and the actor mask.</summary>
    public double QThreshold { get; }

    /// <summary>qc_thres = OodThresholdScale · q_thres: the level the OOD cost values are held above.</summary>
    public double OodThreshold { get; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> TrainStep() => Life.TrainStep(Settings.BatchSize, Update);

    /// <summary>One CPQ gradient step on <paramref name="batch"/> (unscaled rewards and costs).</summary>
    /// <exception cref="TrainingDivergedException">A loss or logged value is NaN or infinite.</exception>
    internal IReadOnlyDictionary<string, double> Update(TransitionBatch batch)
    {
        using var scope = NewDisposeScope();
        var o = Settings;
        var b = _critics.Scale(batch);

        // §0.4: the behaviour VAE, used only to score sampled actions as in or out of distribution.
        var vaeLoss = _critics.VaeStep(b);

        // Eq. 1: y_r = r + γ (1 − d) · 1[Q̄_c(s′, a′) ≤ q_thres] · min_k Q̄_k(s′, a′), a′ ~ π(·|s′) from the current actor.
        Tensor rewardTarget;
        using (no_grad())
        {
            var nextAction = SampleAction(b.NextObservations, _critics.Noise);
            var nextQ = _critics.RewardTarget.Min(b.NextObservations, nextAction);
            var nextCost = EnsembleOps.Reduce(_critics.CostTarget.forward(b.NextObservations, nextAction), o.CostEnsembleReduction);
            rewardTarget = RewardTarget(b.Rewards, b.RewardContinues, nextQ, nextCost, QThreshold, o.Gamma);
        }
        var rewardLoss = _critics.RewardCritic.Loss(b.Observations, b.Actions, rewardTarget);
        GradientStep.Apply(_critics.RewardOptimizer, rewardLoss);

        // Eq. 2: y_c = c + γ (1 − d) · Q̄_c(s′, a″) with a fresh a″ ~ π(·|s′), plus the OOD penalty −α (mean Q_c^ood − qc_thres).
        Tensor costTarget;
        using (no_grad())
        {
            var nextAction = SampleAction(b.NextObservations, _critics.Noise);
            var nextCost = EnsembleOps.Reduce(_critics.CostTarget.forward(b.NextObservations, nextAction), o.CostEnsembleReduction);
            // The Bellman operator maps [min, max]·1/(1 − γ) into itself; clamping keeps the OOD push and the bootstrapping through
            // the actor's own (unseen) actions from inflating the cost values beyond any policy's (see docs/algorithms/cpq.md).
            costTarget = OfflineLearning.CostTarget(b.Costs, b.CostContinues, nextCost, o.Gamma, _critics.CostTargetBounds);
        }
        var oodValue = OodCostValue(b.Observations).mean();
        var alpha = _logAlpha.exp();
        var costTdLoss = _critics.CostCritic.Loss(b.Observations, b.Actions, costTarget);
        var costLoss = costTdLoss - alpha * (oodValue.sub(TorchScalars.Of(OodThreshold)));
        GradientStep.Apply(_critics.CostOptimizer, costLoss);

        // Eq. 3: α grows while OOD cost values are below qc_thres. Default: projected dual ascent on α,
        // α ← clamp(α + η_α (qc_thres − mean Q_c^ood), e⁻⁵, e⁵); reference: log α ← clamp(log α + η_α α (…), −5, 5).
        using (no_grad())
        {
            _logAlpha.copy_(NextLogAlpha(_logAlpha, oodValue.detach(), OodThreshold, o.AlphaLearningRate, o.ReferenceMultiplicativeDualStep));
        }

        // Eq. 4: L_π = −mean(1[Q_c(s, ã) ≤ q_thres] · min_k Q_k(s, ã)), ã = tanh(μ + σ ε) · maxAction (reparameterised, no entropy).
        // The critics are read but not trained here: their weight gradients are skipped (the next critic step would discard them).
        using var frozen = _critics.FreezeCritics();
        var action = SampleAction(b.Observations, _critics.Noise);
        var q = _critics.RewardCritic.Min(b.Observations, action);
        var qc = EnsembleOps.Reduce(_critics.CostCritic.forward(b.Observations, action), o.CostEnsembleReduction);
        var actorLoss = ActorLoss(q, qc, QThreshold, o.UnsafeCostDescentWeight);
        GradientStep.Apply(_actorOptimizer, actorLoss);
        frozen.Dispose();

        _critics.UpdateTargets();

        // The one host read of the update; it also stops on NaN/Inf.
        return Life.Report(vaeLoss, rewardLoss, costLoss, costTdLoss, actorLoss, _logAlpha.exp(), oodValue, qc.mean(), q.mean());
    }

    /// <summary>Eq. 3 as a pure function: the next log α after one dual step on α·(threshold − ood), clamped to log α ∈ [−5, 5].</summary>
    /// <param name="logAlpha">Current log α (0-dim).</param>
    /// <param name="oodValue">Mean gated OOD cost value (0-dim).</param>
    /// <param name="threshold">qc_thres.</param>
    /// <param name="learningRate">η_α.</param>
    /// <param name="multiplicative">OSRL's step η_α·α·(…) in log α; otherwise projected ascent on α itself, α + η_α·(…).</param>
    internal static Tensor NextLogAlpha(Tensor logAlpha, Tensor oodValue, double threshold, double learningRate, bool multiplicative)
    {
        using var alpha = logAlpha.exp();
        using var gap = oodValue.neg().add_(TorchScalars.Of(threshold), TorchScalars.One);
        if (multiplicative) return (logAlpha.add((alpha * gap).mul(TorchScalars.Of(learningRate)), TorchScalars.One)).clamp_(TorchScalars.Of(LogAlphaMin), TorchScalars.Of(LogAlphaMax));
        using var next = (alpha.add(gap.mul(TorchScalars.Of(learningRate)), TorchScalars.One)).clamp_(TorchScalars.Of(Math.Exp(LogAlphaMin)), TorchScalars.Of(Math.Exp(LogAlphaMax)));
        return next.log();
    }

    /// <summary>Eq. 1 as a pure function: y = r + γ · continues · 1[Q_c′ ≤ threshold] · Q′.</summary>
    /// <param name="rewards">[batch], scaled.</param>
    /// <param name="continues">[batch], 1 − done.</param>
    /// <param name="nextQ">[batch].</param>
    /// <param name="nextCost">[batch].</param>
    /// <param name="threshold">q_thres.</param>
    /// <param name="gamma">γ.</param>
    internal static Tensor RewardTarget(Tensor rewards, Tensor continues, Tensor nextQ, Tensor nextCost, double threshold, double gamma)
    {
        using var safe = nextCost.le(TorchScalars.Of(threshold)).to_type(nextQ.dtype);
        using var gated = safe * nextQ * continues;
        return rewards.add(gated.mul(TorchScalars.Of(gamma)), TorchScalars.One);
    }

    /// <summary>
    /// Eq. 4 as a pure function: −mean(1[Q_c ≤ threshold] · Q), plus w·mean(1[Q_c &gt; threshold] · Q_c) when
    /// <paramref name="unsafeCostDescentWeight"/> w &gt; 0 (<see cref="CpqOptions.UnsafeCostDescentWeight"/>); the masks carry no gradient.
    /// </summary>
    internal static Tensor ActorLoss(Tensor q, Tensor qc, double threshold, double unsafeCostDescentWeight = 0)
    {
        using var safe = qc.detach().le(TorchScalars.Of(threshold)).to_type(q.dtype);
        using var gated = safe * q;
        var loss = gated.mean().neg();
        if (unsafeCostDescentWeight <= 0) return loss;
        using var unsafeMask = TorchScalars.Minus(1, safe);
        using var unsafeCost = unsafeMask * qc;
        using var descent = unsafeCost.mean().mul(TorchScalars.Of(unsafeCostDescentWeight));
        using (loss) return loss.add(descent, TorchScalars.One);
    }

    /// <summary>
    /// The OOD gate of Eq. 2. With KL_j the VAE's KL of sampled action j and g_j = 1[KL_j ≥ quantile_q(all KL)] (the quantile over all
    /// N · batch values, linear interpolation), the per-state values v(s) whose batch mean is the OOD cost value. Over all samples
    /// (OSRL): v(s) = (1/N) Σ_j g_j · Q_c(s, a_j), so the batch mean is Σ g·Q_c / (N · batch). Over the gated samples (the default):
    /// v(s) = Σ_j g_j · Q_c(s, a_j) · batch / Σ g, so the batch mean is Σ g·Q_c / Σ g, the mean of Q_c over the OOD actions.
    /// </summary>
    /// <param name="kl">[N, batch].</param>
    /// <param name="costValues">[N, batch].</param>
    /// <param name="quantile">q, 0.75 in CPQ.</param>
    /// <param name="overAllSamples">OSRL's normalisation by N (<see cref="CpqOptions.ReferenceOodMeanOverAllSamples"/>).</param>
    /// <returns>[batch].</returns>
    internal static Tensor GatedOodValue(Tensor kl, Tensor costValues, double quantile, bool overAllSamples = true)
    {
        using var flat = kl.detach().flatten();
        using var q = tensor(quantile, dtype: flat.dtype, device: flat.device);
        using var level = flat.quantile(q, 0);
        using var unlikely = kl.detach().ge(level).to_type(costValues.dtype);
        using var gated = unlikely * costValues;
        if (overAllSamples) return gated.mean(new long[] { 0 });
        using var count = unlikely.sum().clamp_min_(TorchScalars.One);   // ≥ 1 anyway: the largest KL is at or above any quantile
        using var perPair = count.reciprocal().mul(TorchScalars.Of(unlikely.numel()));
        using var sum = gated.sum(new long[] { 0 });
        using var scaled = sum * perPair;
        return scaled.div(TorchScalars.Of(kl.shape[0]));
    }

    // Q_c at N actions per state drawn from the actor's pre-squash Gaussian, gated by the VAE's KL (Eq. 2).
    private Tensor OodCostValue(Tensor observations)
    {
        int n = Settings.SampleActionCount;
        long batch = observations.shape[0];
        int obs = _context.ObservationSpace.Dimension, act = _context.ActionSpace.Dimension;
        Tensor actions, kl;
        using (no_grad())
        {
            var (mean, logStd) = _actor.Distribution(observations);
            var noise = randn(new long[] { n, batch, act }, dtype: mean.dtype, device: mean.device, generator: _critics.Noise);
            var u = mean.unsqueeze(0).add(logStd.exp().unsqueeze(0) * noise, TorchScalars.One);          // [N, batch, |A|]
            // Reference: the pre-tanh samples u themselves (off the action box); fixed: the squashed actions tanh(u) · maxAction.
            actions = Settings.ReferenceOodPenaltyWithoutGradient ? u : u.tanh().mul(TorchScalars.Of(_maxAction));
            var repeated = observations.unsqueeze(0).expand(n, batch, obs);
            var (zMean, zLogStd) = _critics.Vae.Encode(repeated, actions);
            kl = ConditionalVae.KlPerSample(zMean, zLogStd);                        // [N, batch]
        }
        var flatObservations = observations.unsqueeze(0).expand(n, batch, obs).reshape(n * batch, obs);
        var flatActions = actions.reshape(n * batch, act);
        Tensor costValues;
        if (Settings.ReferenceOodPenaltyWithoutGradient)
        {
            using (no_grad())
                costValues = EnsembleOps.Reduce(_critics.CostTarget.forward(flatObservations, flatActions), Settings.CostEnsembleReduction);
        }
        else
        {
            // Every member is pushed up, so the penalty uses their mean.
            costValues = _critics.CostCritic.forward(flatObservations, flatActions).mean(new long[] { 0 });
        }
        return GatedOodValue(kl, costValues.view(n, batch), Settings.OodKlQuantile, Settings.ReferenceOodMeanOverAllSamples);
    }

    private Tensor SampleAction(Tensor observations, Generator generator)
    {
        using var action = _actor.SampleAction(observations, generator);
        return action.mul(TorchScalars.Of(_maxAction));
    }

    private Tensor Act(Tensor observations, bool deterministic) =>
        deterministic ? _actor.Deterministic(observations).mul(TorchScalars.Of(_maxAction)) : SampleAction(observations, _policyNoise);

    /// <inheritdoc />
    public override HandoverArtifact ExportHandover()
    {
        var o = Settings;
        return Life.Export(Budget.CostLimit, o.Gamma, o.RewardScale, o.CostScale, OodDualState,
            new(HandoverRoles.Actor, new("SquashedGaussianActor", o.ActorHiddenSizes.ToArray()), _actor, _actorOptimizer),
            _critics.RewardPart(), _critics.CostPart());
    }

    // The OOD dual α and both thresholds, as the artifact's multiplier state (reads the device).
    private LagrangeControllerState OodDualState()
    {
        double logAlpha = _logAlpha.item<float>();
        return new LagrangeControllerState("CpqOodDual",
            new Dictionary<string, double> { ["log_alpha"] = logAlpha, ["alpha"] = Math.Exp(logAlpha), ["ood_threshold"] = OodThreshold, ["q_threshold"] = QThreshold },
            new Dictionary<string, double[]>());
    }

    /// <summary>Loads actor and critics from an artifact of the same shapes (strict), e.g. to resume or compare.</summary>
    /// <exception cref="InvalidDataException">A network is missing or its shapes differ; the message names the role and key.</exception>
    internal void LoadNetworks(HandoverArtifact artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        artifact.EnsureCompatible(_context.ObservationSpace.Dimension, _context.ActionSpace.Dimension, Name);
        ModuleState.Load(_actor, artifact.GetNetwork(HandoverRoles.Actor), HandoverRoles.Actor);
        ModuleState.Load(_critics.RewardCritic, artifact.GetNetwork(HandoverRoles.RewardCritic), HandoverRoles.RewardCritic);
        ModuleState.Load(_critics.CostCritic, artifact.GetNetwork(HandoverRoles.CostCritic), HandoverRoles.CostCritic);
        _critics.CopyTargets();
    }
}

using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Offline.BcqLag;

/// <summary>
/// BCQ-Lag: batch-constrained Q-learning (Fujimoto, Meger and Precup, ICML 2019) with a cost critic and a per-batch
/// PID Lagrangian penalty, as OSRL's <c>bcql.py</c> (algorithms spec §3).
/// </summary>
/// <remarks>
/// <para>Actions are VAE decodes of the data's behaviour, nudged by at most Φ · m by a perturbation network trained to
/// maximise Q − λ · (Q_c − qc_thres), with qc_thres = <see cref="CostBudget.QCostThreshold"/>(κ, γ, T) and λ from a
/// PID on the batch mean of Q_c.</para>
/// <para>Acting: of N = <see cref="BcqLagOptions.SelectionCandidates"/> perturbed decodes per state, the one of highest
/// Q_r − λ · Q_c (BCQ's best-of-N selection with the Lagrangian score); one sample, as OSRL, with
/// <see cref="BcqLagOptions.ReferenceSingleSampleAction"/>.</para>
/// <para>One update: VAE (§0.4); reward critic (Eq. 1); cost critic (Eq. 2); actor (Eq. 3); Polyak averaging of target
/// critics and target actor.</para>
/// </remarks>
public sealed class BcqLagLearner : OfflineLearner<BcqLagOptions>
{
    /// <summary>The method's name in manifests and messages.</summary>
    public const string Name = "BCQ-Lag";
    /// <summary>Artifact role of the behaviour VAE, which the policy needs to act.</summary>
    public const string VaeRole = "vae";

    private readonly double _maxAction;
    private readonly PerturbationActor _actor;
    private readonly PerturbationActor _actorTarget;
    private readonly Adam _actorOptimizer;
    private readonly VaeCritics _critics;
    private readonly BatchPidConstraint _constraint;
    private readonly Generator _policyNoise;
    private readonly Tensor _selectionLatents;
    private readonly Func<Tensor, Tensor> _actDeterministic;

    /// <summary>Builds the networks, optimizers and the PID multiplier.</summary>
    /// <param name="options">Settings; copied.</param>
    /// <param name="context">Spaces, device, seeds and the task horizon.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message lists every bad field.</exception>
    /// <exception cref="ArgumentException">The action space is not a symmetric box [−m, m]^d.</exception>
    public BcqLagLearner(LearnerContext context, BcqLagOptions? options = null)
        : base(Name, context, options, new BcqLagOptionsValidator(), "bcq-lag",
            static o => o with { ActorHiddenSizes = o.ActorHiddenSizes.ToArray(), CriticHiddenSizes = o.CriticHiddenSizes.ToArray() }, OfflineLearnerLifecycle.EpisodeBudget,
            "vae_loss", "reward_critic_loss", "cost_critic_loss", "actor_loss", "lambda", "cost_value", "reward_value", "constraint_cost_value")
    {
        _maxAction = OfflineLearning.MaxAction(context.ActionSpace, Name);
        int obs = context.ObservationSpace.Dimension, act = context.ActionSpace.Dimension;

        // §3: the only conversion of κ; the PID's set point and the penalty offset.
        QCostThreshold = Budget.CriticThreshold(Settings.Gamma, Settings.CostScale,
            bootstrapsThroughTruncation: !Settings.TreatTimeoutAsTerminal);

        var device = context.Device;
        using (var init = Seeds.CreateTorchGenerator("init"))
        {
            _actor = Life.Network("actor", OfflineLearning.To(new PerturbationActor(obs, act, Settings.ActorHiddenSizes, Settings.Phi, _maxAction, init), device));
            _actorTarget = Life.Network("actor_target", OfflineLearning.To(new PerturbationActor(obs, act, Settings.ActorHiddenSizes, Settings.Phi, _maxAction, init), device));
            _critics = new VaeCritics(Life, Seeds, init, Settings, obs, act, _maxAction, 2 * Settings.RewardCriticsPerGroup, 2 * Settings.CostCriticsPerGroup);
        }
        OfflineLearning.Flatten(Life, _actor);
        OfflineLearning.Flatten(Life, _actorTarget, gradients: false);
        Polyak.Copy(_actor, _actorTarget);
        _actorOptimizer = Life.Optimizer("actor", OfflineLearning.Adam(_actor, Settings.ActorLearningRate));
        _constraint = new BatchPidConstraint(Life, _critics, Settings, QCostThreshold);
        _policyNoise = Life.Generator("policy", OfflineLearning.Generator(Seeds, "policy", device));
        _selectionLatents = Life.Owns(SelectionLatents(Seeds, Settings.SelectionCandidates, _critics.Vae.LatentSize, device));
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

    /// <summary>One BCQ-Lag gradient step on <paramref name="batch"/> (unscaled rewards and costs).</summary>
    /// <exception cref="TrainingDivergedException">A loss or logged value is NaN or infinite.</exception>
    internal IReadOnlyDictionary<string, double> Update(TransitionBatch batch)
    {
        using var scope = NewDisposeScope();
        var o = Settings;
        var c = _critics;
        var b = c.Scale(batch);

        // §0.4: behaviour VAE.
        var vaeLoss = c.VaeStep(b);

        // Eq. 1–2: N next actions per state, a′_j = ξ̄(s′, VAE.decode(s′)); the reward backup takes the maximum over j, the cost
        // backup the candidate the acting rule picks (SelectedCostValue), or the maximum with ReferenceCostBackupMaxOverSamples.
        var (rewardLoss, costLoss) = _constraint.CriticSteps(b,
            next => _actorTarget.forward(next, c.Vae.Decode(next, c.Noise)),
            o.ReferenceCostBackupMaxOverSamples ? null
                : (rewards, costs) => SelectedCostValue(rewards, costs, _constraint.Pid.Lambda, o.SampleActionCount, o.DoubleQMix, o.ReferenceOptimisticCostEnsemble));

        // Eq. 3: a = ξ(s, VAE.decode(s)) (the decode carries no gradient); Q = min over members, Q_c = max over members
        // (min with ReferenceOptimisticCostEnsemble);
        // L_ξ = −mean(Q(s, a)) + mean((Q_c(s, a) − qc_thres) · λ), λ from the PID on mean Q_c (no gradient; ConstraintStates says where).
        // The critics are read but not trained here: their weight gradients are skipped (the next critic step would discard them).
        using var frozen = c.FreezeCritics();
        Tensor decoded;
        using (no_grad()) decoded = c.Vae.Decode(b.Observations, c.Noise);
        var action = _actor.forward(b.Observations, decoded);
        var q = c.RewardCritic.Min(b.Observations, action);
        var qc = _constraint.CostValue(b.Observations, action);
        var (measured, lambda, penalty) = _constraint.Constrain(qc, _actDeterministic);
        var actorLoss = (-q.mean()).add(penalty, TorchScalars.One);
        GradientStep.Apply(_actorOptimizer, actorLoss);
        frozen.Dispose();

        c.UpdateTargets();
        Polyak.Update(o.Tau, _actor, _actorTarget);

        return Life.Report(vaeLoss, rewardLoss, costLoss, actorLoss, lambda, qc.mean(), q.mean(), measured.mean());
    }

    /// <summary>
    /// The cost backup value at the candidate the acting rule picks: of the N sampled next actions of each state, the one of
    /// highest Q_r − λ·Q_c (<see cref="BestOfNSelection.Scores"/>), valued with the cost ensemble's soft-clipped double-Q mix.
    /// </summary>
    /// <param name="rewardValues">[K_r, batch · N], rows grouped by state.</param>
    /// <param name="costValues">[2n, batch · N], same order.</param>
    /// <param name="lambda">λ ≥ 0 (0-dim).</param>
    /// <param name="samplesPerState">N.</param>
    /// <param name="mix">Weight of the pessimistic group in the double-Q mix.</param>
    /// <param name="referenceOptimisticCost">Reduce cost members optimistically (OSRL).</param>
    /// <returns>[batch].</returns>
    internal static Tensor SelectedCostValue(Tensor rewardValues, Tensor costValues, Tensor lambda, int samplesPerState, double mix, bool referenceOptimisticCost)
    {
        using var scores = BestOfNSelection.Scores(rewardValues, costValues, lambda, referenceOptimisticCost);
        using var perState = scores.view(-1, samplesPerState);
        using var best = perState.argmax(1, keepdim: true);
        using var mixed = EnsembleOps.SoftClippedDoubleQ(costValues, mix, pessimisticHigh: !referenceOptimisticCost);
        using var mixedPerState = mixed.view(-1, samplesPerState);
        using var picked = mixedPerState.gather(1, best);
        return picked.squeeze(1);
    }

    // BCQ's selection (Fujimoto et al. 2019, Algorithm 1) with the Lagrangian score: N candidates per state, VAE decodes perturbed
    // by ξ, and the one of highest Q_r − λ · Q_c, the critics reduced as in Eq. 3 and λ the PID's current multiplier (read on the
    // device). The deterministic mode decodes the fixed latents (z = 0 first), so evaluation is reproducible and N = 1 is the
    // single-sample mode; the stochastic mode draws z ~ N(0, I) clipped to ±0.5 for every candidate.
    // ReferenceSingleSampleAction: one candidate, no selection (OSRL).
    private Tensor Act(Tensor observations, bool deterministic)
    {
        var vae = _critics.Vae;
        if (Settings.ReferenceSingleSampleAction)
        {
            var candidate = deterministic
                ? vae.Decode(observations, zeros(new long[] { observations.shape[0], vae.LatentSize }, dtype: observations.dtype, device: observations.device))
                : vae.Decode(observations, _policyNoise);
            return _actor.forward(observations, candidate);
        }
        int n = Settings.SelectionCandidates;
        var repeated = observations.repeat_interleave(n, 0);   // state i's candidates in rows i·N … i·N + N − 1
        var decoded = deterministic
            ? vae.Decode(repeated, _selectionLatents.repeat(observations.shape[0], 1))
            : vae.Decode(repeated, _policyNoise);
        var candidates = _actor.forward(repeated, decoded);
        return BestOfNSelection.Select(_critics.RewardCritic, _critics.CostCritic, repeated, candidates, _constraint.Pid.Lambda, n, Settings.ReferenceOptimisticCostEnsemble);
    }

    // The deterministic mode's N latents, [N, latent]: the prior's mode z = 0, then N − 1 draws of N(0, I) clipped to ±0.5 from
    // the seed stream "selection" (fixed for the learner's life, so an action depends on the observation and the networks only).
    private static Tensor SelectionLatents(SeedStreams seeds, int count, int latentSize, Device device)
    {
        using var scope = NewDisposeScope();
        using var generator = seeds.CreateTorchGenerator("selection");
        var draws = randn(new long[] { count - 1, latentSize }, generator: generator).clamp(TorchScalars.Of(-ConditionalVae.LatentClip), TorchScalars.Of(ConditionalVae.LatentClip));
        var latents = cat(new[] { zeros(1, latentSize), draws }, 0).to(device);
        return latents.DetachFromDisposeScope();
    }

    /// <inheritdoc />
    public override HandoverArtifact ExportHandover()
    {
        var o = Settings;
        return Life.Export(Budget.CostLimit, o.Gamma, o.RewardScale, o.CostScale, _constraint.Pid.GetState,
            new(HandoverRoles.Actor, new("PerturbationActor", o.ActorHiddenSizes.ToArray(), 1, "Tanh"), _actor, _actorOptimizer),
            new(VaeRole, new("ConditionalVae", [o.VaeHiddenSize, o.VaeHiddenSize]), _critics.Vae, _critics.VaeOptimizer),
            _critics.RewardPart(), _critics.CostPart());
    }
}

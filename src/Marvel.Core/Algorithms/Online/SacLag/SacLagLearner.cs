using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Telemetry;
using Marvel.Core.Algorithms.Online.Loop;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Data;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Online.SacLag;

/// <summary>The scalars of one SAC-Lag gradient step (one host read).</summary>
/// <param name="Step">Index of the gradient step (0-based).</param>
/// <param name="RewardCriticLoss">Σ_j mean((Q_j(s, a) − y_r)²).</param>
/// <param name="CostCriticLoss">Σ_k mean((Q_c,k(s, a) − y_c)²).</param>
/// <param name="ActorLoss">mean(α log π(ã|s) − min_j Q_j(s, ã) + λ Q_c(s, ã)) (divided by 1 + λ when configured).</param>
/// <param name="AlphaLoss">−log α · mean(log π + H̄); 0 when α is fixed.</param>
/// <param name="Alpha">The temperature α used by this step.</param>
/// <param name="Lambda">The multiplier λ used by this step.</param>
/// <param name="Entropy">−mean log π(ã|s), an estimate of the policy entropy in nats.</param>
/// <param name="RewardQ">mean_batch min_j Q_j(s, ã).</param>
/// <param name="CostQ">mean_batch Q_c(s, ã).</param>
public readonly record struct SacLagUpdateMetrics(long Step, double RewardCriticLoss, double CostCriticLoss, double ActorLoss, double AlphaLoss,
    double Alpha, double Lambda, double Entropy, double RewardQ, double CostQ)
{
    /// <summary>The scalars by name (snake case, as published on the meter).</summary>
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["reward_critic_loss"] = RewardCriticLoss,
        ["cost_critic_loss"] = CostCriticLoss,
        ["actor_loss"] = ActorLoss,
        ["alpha_loss"] = AlphaLoss,
        ["alpha"] = Alpha,
        ["lambda"] = Lambda,
        ["entropy"] = Entropy,
        ["reward_q"] = RewardQ,
        ["cost_q"] = CostQ,
    };
}

/// <summary>
/// SAC-Lag: soft actor-critic on the Lagrangian max_π E[Q_r − α log π] − λ (E[Q_c] − ·), with a reward-critic ensemble
/// (clipped double Q), cost critics, Polyak target critics, a fixed or tuned temperature α, and λ from an injected
/// <see cref="ILagrangeController"/>. Follows algorithms.md §7.1 (canonical); the reference's quirks of §7.4 are not copied.
/// </summary>
/// <remarks>
/// <para>Per gradient step on (s, a, r, c, s', d): y_r = r + γ(1 − d)(min_j Q̄_j(s', a') − α log π(a'|s')),
/// y_c = c + γ(1 − d) Q̄_c(s', a') with a' ~ π(·|s'); critic regression; actor loss
/// mean(α log π(ã|s) − min_j Q_j(s, ã) + λ Q_c(s, ã)) with the online critics frozen; optional α step on
/// −log α · mean(log π + H̄); Polyak averaging of both target critics. d is the terminated flag (truncation bootstraps
/// unless <see cref="SacLagOptions.TreatTruncationAsTerminal"/>).</para>
/// <para>Drive it step by step with <see cref="Update"/>, or let <see cref="RunIteration"/> collect data, update the controller
/// and run the gradient steps according to <see cref="SacLagOptions.Schedule"/>. The loop behind <see cref="RunIteration"/> (collection,
/// replay, offline-data mixing, warm-up, the policy set, controller feeding) is the library's shared off-policy loop; this class holds the
/// algorithm: networks, optimizers, the update, the handover (SacLagLearner.Handover.cs) and checkpoints (SacLagLearner.Checkpoint.cs).</para>
/// </remarks>
public sealed partial class SacLagLearner : ICheckpointableOnlineLearner, IOfflineDataConsumer, IOffPolicyAgent
{
    /// <summary>The stage tag used for telemetry and <see cref="TrainingDivergedException"/>.</summary>
    public const string Stage = "online/SAC-Lag";

    /// <summary>The network kind written for the actor in handover artifacts.</summary>
    public const string ActorKind = "SquashedGaussianActor";

    /// <summary>The network kind written for the critics in handover artifacts.</summary>
    public const string CriticKind = "QEnsemble";

    private static readonly string[] ScalarNames =
        ["reward_critic_loss", "cost_critic_loss", "actor_loss", "alpha_loss", "alpha", "entropy", "reward_q", "cost_q"];

    private readonly SacLagOptions _options;
    private readonly LearnerContext _context;
    private readonly Device _device;
    private readonly int _observationSize;
    private readonly int _actionSize;
    private readonly double _targetEntropy;

    // Networks, targets and optimizers (replaced as a whole by InitializeFrom).
    private readonly SquashedGaussianActor _actor;
    private readonly QEnsemble _rewardCritic;
    private readonly QEnsemble _rewardTarget;
    private readonly QEnsemble _costCritic;
    private readonly QEnsemble _costTarget;
    private readonly FlatParameters[] _flatNetworks;
    private readonly ParameterFreeze _onlineCritics; // step 5 reads the online critics with their parameters frozen
    private Adam _actorOptimizer;
    private Adam _rewardOptimizer;
    private Adam _costOptimizer;
    private readonly Parameter? _logAlpha;
    private readonly Adam? _alphaOptimizer;
    private readonly Tensor _fixedAlpha;

    // Randomness: every stream derives from LearnerContext.Seeds (the loop's replay sampler and environment seeds too).
    private readonly Generator _updateNoise;
    private readonly Generator _explorationNoise;
    private readonly ulong _criticResetSeed;      // seeds re-initialized critics (its own stream: no other stream moves)

    private readonly TorchPolicy _policy;
    private readonly OffPolicyLoop _loop;         // collection, replay, offline data, warm-up, policy set, controller feeding
    private SquashedGaussianActor? _fallbackActor; // the frozen handed-over actor of SafeExploration.PolicySet
    private bool _criticsHandedOver;              // the critics came from InitializeFrom and have not been checked or replaced since
    private IReadOnlyDictionary<string, double>? _lastMetrics;
    private long _updates;
    private bool _disposed;

    /// <summary>Builds the networks for the context's spaces.</summary>
    /// <param name="context">Spaces, seeds, device and task id.</param>
    /// <param name="options">Settings; copied, so later edits have no effect. Defaults when null.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Some option is invalid; the message lists every bad field.</exception>
    /// <exception cref="TorchNativeLibraryException">TorchSharp's native library cannot load.</exception>
    public SacLagLearner(LearnerContext context, SacLagOptions? options = null)
        : this(context, options, null)
    {
    }

    /// <summary>Builds the networks; with <paramref name="slot"/> their flat buffers are seed <see cref="SeedSlot.Seed"/>'s slices of the
    /// stacks of a <see cref="SacLagSeedBatch"/> (the weights are drawn exactly as without it).</summary>
    internal SacLagLearner(LearnerContext context, SacLagOptions? options, SeedSlot? slot)
    {
        ArgumentNullException.ThrowIfNull(context);
        _options = (options ?? new SacLagOptions()) with { };
        _options.ActorHiddenSizes = _options.ActorHiddenSizes?.ToArray()!;
        _options.CriticHiddenSizes = _options.CriticHiddenSizes?.ToArray()!;
        _options.CostCriticHiddenSizes = _options.CostCriticHiddenSizes?.ToArray()!;
        SacLagOptionsValidator.ThrowIfInvalid(_options);
        TorchNative.EnsureAvailable();

        _context = context;
        _device = _options.Device is null ? context.Device : torch.device(_options.Device);
        _observationSize = context.ObservationSpace.Dimension;
        _actionSize = context.ActionSpace.Dimension;
        _targetEntropy = _options.TargetEntropy ?? -_actionSize;

        var seeds = context.Seeds.Fork("sac-lag");
        using var init = seeds.CreateTorchGenerator("init");
        _actor = new SquashedGaussianActor(_observationSize, _actionSize, _options.ActorHiddenSizes, init).to(_device);
        _rewardCritic = NewRewardCritic(init).to(_device);
        _rewardTarget = NewRewardCritic(init).to(_device);
        _costCritic = NewCostCritic(init).to(_device);
        _costTarget = NewCostCritic(init).to(_device);
        // One buffer per network for parameters (and gradients): Adam, zero_grad and Polyak run over whole networks, bit-identically.
        // The opt-in fused layouts (FusedActorHeads, FusedCriticEnsembles) are such buffers too, laid out for their batched products.
        if (slot is not null && (_options.FusedActorHeads || _options.FusedCriticEnsembles))
            throw new ArgumentException("SacLagSeedBatch stacks the seeds' networks in its own layout; set FusedActorHeads and FusedCriticEnsembles to false.", nameof(options));
        _flatNetworks = slot is { } s
            ? [s.Flatten(SeedSlot.Actor, _actor), s.Flatten(SeedSlot.RewardCritic, _rewardCritic), s.Flatten(SeedSlot.RewardTarget, _rewardTarget),
               s.Flatten(SeedSlot.CostCritic, _costCritic), s.Flatten(SeedSlot.CostTarget, _costTarget)]
            :
            [
                _options.FusedActorHeads ? _actor.FuseHeads() : FlatParameters.Flatten(_actor),
                FlattenCritic(_rewardCritic, gradients: true), FlattenCritic(_rewardTarget, gradients: false),
                FlattenCritic(_costCritic, gradients: true), FlattenCritic(_costTarget, gradients: false),
            ];
        Polyak.Copy(_rewardCritic, _rewardTarget);
        Polyak.Copy(_costCritic, _costTarget);
        FreezeParameters(_rewardTarget);
        FreezeParameters(_costTarget);
        _onlineCritics = new ParameterFreeze(_rewardCritic, _costCritic);
        _actorOptimizer = KeptScalarOptimizer.Adam(_actor.parameters(), _options.ActorLearningRate);
        _rewardOptimizer = KeptScalarOptimizer.Adam(_rewardCritic.parameters(), _options.CriticLearningRate);
        _costOptimizer = KeptScalarOptimizer.Adam(_costCritic.parameters(), _options.CostCriticLearningRate);

        _fixedAlpha = tensor(_options.Alpha, ScalarType.Float32, _device).DetachFromDisposeScope();
        if (_options.AutoTuneAlpha)
        {
            _logAlpha = new Parameter(tensor(Math.Log(_options.Alpha), ScalarType.Float32, _device), requires_grad: true);
            _alphaOptimizer = KeptScalarOptimizer.Adam(new[] { _logAlpha }, _options.AlphaLearningRate);
        }

        _criticResetSeed = seeds.Derive("critic-reset");
        _updateNoise = new Generator(seeds.Derive("update-noise"), _device);
        _explorationNoise = new Generator(seeds.Derive("exploration-noise"), _device);
        var replayRandom = seeds.CreateRandom("replay");
        ulong environmentSeed = seeds.Derive("environment");
        _policy = new TorchPolicy(_observationSize, _actionSize, _device, ActorForward,
            (output, actions) => ActionMapping.SquashedToBox(output, _context.ActionSpace, actions));
        var loop = new OffPolicyLoopSettings(_options.Schedule == SacLagSchedule.EpisodesThenUpdates ? _options.EpisodesPerIteration : null,
            _options.UpdateEveryNSteps, _options.ReplayCapacity, _options.WarmupSteps, _options.UpdatesPerIteration, _options.BatchSize, _options.MiniBatches,
            _options.OfflineDataFraction, _options.RewardScale, _options.CostScale);
        _loop = new OffPolicyLoop(Algorithm, loop, _observationSize, _actionSize, _device, replayRandom, environmentSeed, context);
    }

    /// <inheritdoc />
    public string Algorithm => "SAC-Lag";

    /// <summary>The current policy: deterministic mode tanh(μ(s)), stochastic mode a sample (both mapped onto the action box).</summary>
    public IPolicy Policy => _policy;

    /// <summary>The settings in use (a copy of those given).</summary>
    public SacLagOptions Options => _options with { };

    /// <summary>Gradient steps taken so far.</summary>
    public long Steps => _updates;

    /// <summary>Environment transitions collected by <see cref="RunIteration"/> so far.</summary>
    public long EnvironmentSteps => _loop.EnvironmentSteps;

    /// <summary>Transitions currently in the replay buffer (0 before the first iteration).</summary>
    public int ReplayCount => _loop.Replay?.Count ?? 0;

    /// <summary>The replay buffer of <see cref="RunIteration"/> (null before the first iteration), for tests.</summary>
    internal ReplayBuffer? Replay => _loop.Replay;

    /// <summary>The actor optimizer's learning rate now in effect (for tests of the handover rule D14).</summary>
    internal double ActorLearningRateInUse => _actorOptimizer.ParamGroups.First().LearningRate;

    /// <summary>The actor's learning rate at gradient step <paramref name="update"/> (0-based, counted from the learner's first update) under
    /// <see cref="SacLagOptions.ActorLearningRateRampSteps"/>: k/n of <see cref="SacLagOptions.ActorLearningRate"/> at ramp step k ≤ n.</summary>
    private double ActorLearningRateAt(long update)
    {
        long rampStep = update - _options.CriticWarmupSteps + 1;
        int n = _options.ActorLearningRateRampSteps;
        return rampStep >= n ? _options.ActorLearningRate : _options.ActorLearningRate * rampStep / n;
    }

    /// <summary>The current temperature α (one host read).</summary>
    public double Alpha
    {
        get
        {
            if (_logAlpha is null) return _options.Alpha;
            using var a = _logAlpha.detach().exp().cpu().to_type(ScalarType.Float64);
            return a.data<double>()[0];
        }
    }

    /// <summary>One SAC-Lag gradient step on <paramref name="batch"/> with multiplier <paramref name="lambda"/> (algorithms.md §7.1 steps 1–7).</summary>
    /// <param name="batch">Transitions on the learner's device: observations [B, obs], actions in tanh space [−1, 1] [B, act], rewards and costs
    /// already scaled [B], terminated and truncated flags [B].</param>
    /// <param name="lambda">The Lagrange multiplier λ ≥ 0, e.g. <see cref="ILagrangeController.Lambda"/>.</param>
    /// <returns>The step's losses and diagnostics, read from the device once.</returns>
    /// <exception cref="ArgumentException">The batch's shapes do not match the networks.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite.</exception>
    /// <exception cref="TrainingDivergedException">A loss or value became NaN or infinite; names it and the step.</exception>
    public SacLagUpdateMetrics Update(TransitionBatch batch, double lambda)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        if (!(double.IsFinite(lambda) && lambda >= 0))
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "λ must be finite and >= 0.");
        CheckBatch(batch);
        using var scope = NewDisposeScope();
        var s = batch.Observations;
        var a = batch.Actions;
        var s2 = batch.NextObservations;
        var alpha = _logAlpha is null ? _fixedAlpha : _logAlpha.detach().exp();

        // Steps 1–3: soft Bellman targets from the current actor's a' ~ π(·|s'); per-sample log π(a'|s'); bootstrap unless terminal.
        Tensor rewardTarget, costTarget;
        using (no_grad())
        {
            var (nextAction, nextLogProb) = _actor.Sample(s2, _updateNoise);
            var done = _options.TreatTruncationAsTerminal ? maximum(batch.Terminated, batch.Truncated) : batch.Terminated;
            var continues = done.neg().add(TorchScalars.One, TorchScalars.One).mul(TorchScalars.Of(_options.Gamma));
            rewardTarget = batch.Rewards.add(continues * (_rewardTarget.Min(s2, nextAction) - alpha * nextLogProb), TorchScalars.One);
            costTarget = batch.Costs.add(continues * _costTarget.Mean(s2, nextAction), TorchScalars.One);
            if (_options.BoundedTargets && _loop.StoredRange.Any)
            {
                // Every policy's value lies in [min x, max x]/(1 − γ) over the per-step values x seen (0 included), in the critics' units.
                double horizon = 1.0 / (1.0 - _options.Gamma);
                var (rewardLow, rewardHigh, costLow, costHigh) = _loop.ScaledRange.Bounds(horizon, _device);
                rewardTarget = rewardTarget.clamp(rewardLow, rewardHigh);
                costTarget = costTarget.clamp(costLow, costHigh);
            }
        }

        // Step 4: critic regression (sum of per-member MSE), one Adam step each.
        var rewardLoss = _rewardCritic.Loss(s, a, rewardTarget);
        GradientStep.Apply(_rewardOptimizer, rewardLoss, _options.MaxGradNorm, _rewardCritic.parameters());
        var costLoss = _costCritic.Loss(s, a, costTarget);
        GradientStep.Apply(_costOptimizer, costLoss, _options.MaxGradNorm, _costCritic.parameters());

        // Step 5: actor on the Lagrangian with the ONLINE critics, whose parameters are frozen for this step.
        var frozen = _onlineCritics.Freeze();
        var (action, logProb) = _actor.Sample(s, _updateNoise);
        var rewardQ = _rewardCritic.Min(s, action);
        var costQ = _costCritic.Mean(s, action);
        var actorLoss = ActorLoss(alpha, logProb, rewardQ, costQ, lambda, _options.ActorLossDividedByOnePlusLambda);
        bool updateActor = _updates >= _options.CriticWarmupSteps; // critic warm-up: the actor stays as handed over
        if (updateActor)
        {
            if (_options.ActorLearningRateRampSteps > 0) _actorOptimizer.ParamGroups.First().LearningRate = ActorLearningRateAt(_updates);
            GradientStep.Apply(_actorOptimizer, actorLoss, _options.MaxGradNorm, _actor.parameters());
        }
        frozen.Dispose();

        // Step 6: temperature. Minimising −log α · (log π + H̄) raises α when the entropy −log π is below H̄.
        var logProbDetached = logProb.detach();
        Tensor alphaLoss;
        if (_logAlpha is not null && _alphaOptimizer is not null && updateActor)
        {
            alphaLoss = -(_logAlpha * (logProbDetached.add(TorchScalars.Of(_targetEntropy), TorchScalars.One))).mean();
            GradientStep.Apply(_alphaOptimizer, alphaLoss, null);
        }
        else alphaLoss = zeros(Array.Empty<long>(), ScalarType.Float32, _device);

        // Step 7: Polyak averaging of the target critics.
        Polyak.Update(_options.Tau, _rewardCritic, _rewardTarget);
        Polyak.Update(_options.Tau, _costCritic, _costTarget);

        // One host read per update: logging and the NaN/Inf check share it.
        var values = ScalarReadout.Read(
            [rewardLoss.detach(), costLoss.detach(), actorLoss.detach(), alphaLoss.detach(), alpha.reshape(Array.Empty<long>()),
             logProbDetached.mean().neg(), rewardQ.detach().mean(), costQ.detach().mean()],
            ScalarNames, Stage, _updates, _lastMetrics);
        var metrics = new SacLagUpdateMetrics(_updates, values[0], values[1], values[2], values[3], values[4], lambda, values[5], values[6], values[7]);
        _updates++;
        _lastMetrics = metrics.ToDictionary();
        MarvelTelemetry.Publish(Stage, _lastMetrics);
        return metrics;
    }

    /// <summary>Step 5 as a pure function: mean(α log π(ã|s) − min_j Q_j(s, ã) + λ Q_c(s, ã)), divided by 1 + λ when asked.</summary>
    /// <param name="alpha">α, 0-dim.</param>
    /// <param name="logProb">log π(ã|s), [batch].</param>
    /// <param name="rewardQ">min_j Q_j(s, ã), [batch].</param>
    /// <param name="costQ">Q_c(s, ã), [batch].</param>
    /// <param name="lambda">λ ≥ 0.</param>
    /// <param name="dividedByOnePlusLambda"><see cref="SacLagOptions.ActorLossDividedByOnePlusLambda"/>.</param>
    internal static Tensor ActorLoss(Tensor alpha, Tensor logProb, Tensor rewardQ, Tensor costQ, double lambda, bool dividedByOnePlusLambda)
    {
        // λ changes every update: its scalars are owned here (not cached) and freed after the last native call that reads them.
        using var lambdaScalar = lambda.ToScalar();
        var loss = (alpha * logProb - rewardQ).add(costQ.mul(lambdaScalar), TorchScalars.One).mean();
        if (!dividedByOnePlusLambda) return loss;
        using var onePlusLambda = (1.0 + lambda).ToScalar();
        return loss.div(onePlusLambda);
    }

    /// <summary>
    /// One online iteration per <see cref="SacLagOptions.Schedule"/>: collect with the stochastic actor (truncated transitions keep the
    /// final observation as next observation), update <paramref name="controller"/> from the mean undiscounted episode cost, then run
    /// <see cref="SacLagOptions.UpdatesPerIteration"/> × <see cref="SacLagOptions.MiniBatches"/> gradient steps once the replay buffer
    /// holds <see cref="SacLagOptions.WarmupSteps"/> transitions.
    /// </summary>
    /// <param name="environment">The vector environment; reset on first use (seeded from the learner's seed streams) and continued afterwards.</param>
    /// <param name="controller">Gives λ; fed with mean episode costs in task units.</param>
    /// <param name="cancellationToken">Checked between environment steps and between gradient steps.</param>
    /// <returns>Finished episodes, λ and the mean update scalars (plus the controller's terms, prefixed "controller/").</returns>
    /// <exception cref="ArgumentException">The environment's spaces do not match the learner's.</exception>
    /// <exception cref="TrainingDivergedException">A loss became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public OnlineIterationResult RunIteration(IVectorEnvironment environment, ILagrangeController controller, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(controller);
        return _loop.RunIteration(this, environment, controller, cancellationToken);
    }

    /// <summary>The attached offline transitions as stored (raw rewards and costs, actions in [−1, 1]), for tests.</summary>
    internal ReplayBuffer? OfflineData => _loop.OfflineData;

    /// <summary>The [min, max] of the rewards and costs stored so far in the critics' units (scaled), for tests.</summary>
    internal StoredRange StoredValueRange => _loop.ScaledRange;

    /// <summary>The online reward and cost critics, for tests that need a critic in a given state.</summary>
    internal (TorchSharp.torch.nn.Module Reward, TorchSharp.torch.nn.Module Cost) CriticsForTests => (_rewardCritic, _costCritic);

    /// <summary>The online actor, for tests.</summary>
    internal SquashedGaussianActor ActorForTests => _actor;

    /// <summary>Transitions of the attached offline dataset (0 when none).</summary>
    public int OfflineDataCount => _loop.OfflineData?.Count ?? 0;

    /// <summary>Exports actor, reward critic and cost critic with their Adam states and a manifest (scales, γ, seed, steps, options).</summary>
    public HandoverArtifact ExportHandover()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var manifest = HandoverExport.Manifest(Algorithm, _context, null, _updates, _loop.CostLimit, _options.Gamma, _options.RewardScale, _options.CostScale,
            HandoverExport.OptionsJson(_options), null);
        return HandoverExport.Create(manifest,
            new(HandoverRoles.Actor, new(ActorKind, _options.ActorHiddenSizes.ToArray()), _actor, _actorOptimizer),
            new(HandoverRoles.RewardCritic, new(CriticKind, _options.CriticHiddenSizes.ToArray(), _options.RewardCriticCount), _rewardCritic, _rewardOptimizer),
            new(HandoverRoles.CostCritic, new(CriticKind, _options.CostCriticHiddenSizes.ToArray(), _options.CostCriticCount), _costCritic, _costOptimizer));
    }

    /// <summary>Frees the networks, optimizers and generators.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _policy.Dispose();
        _actorOptimizer.Dispose();
        _rewardOptimizer.Dispose();
        _costOptimizer.Dispose();
        _alphaOptimizer?.Dispose();
        _logAlpha?.Dispose();
        _fixedAlpha.Dispose();
        _actor.Dispose();
        _fallbackActor?.Dispose();
        _loop.Dispose();
        _rewardCritic.Dispose();
        _rewardTarget.Dispose();
        _costCritic.Dispose();
        _costTarget.Dispose();
        foreach (var flat in _flatNetworks) flat.Dispose();
        _updateNoise.Dispose();
        _explorationNoise.Dispose();
    }

    // ---- the loop's agent -------------------------------------------------------------------------------------------

    string IOffPolicyAgent.Stage => Stage;

    void IOffPolicyAgent.Act(float[] observations, int count, float[] actions) => _policy.ActorOutput(observations, count, deterministic: false, actions);

    bool IOffPolicyAgent.HasFallback => _fallbackActor is not null;

    Tensor IOffPolicyAgent.FallbackActions(Tensor observations) => _fallbackActor!.Deterministic(observations);

    Tensor IOffPolicyAgent.RewardValue(Tensor observations, Tensor actions) => _rewardCritic.Min(observations, actions);

    // The charge turns a value difference back into undiscounted cost: (1 − γ)·ΔQ_c is the per-step cost rate the critic expects, ÷ the scale.
    CostGuard? IOffPolicyAgent.CostGuardFor(CostBudget budget) => _options.SafeExploration == SafeExploration.CostGuardedPolicySet
        ? new CostGuard(budget.CriticThreshold(_options.Gamma, _options.CostScale, bootstrapsThroughTruncation: !_options.TreatTruncationAsTerminal),
            _options.CostGuardChargesController ? (1 - _options.Gamma) / _options.CostScale : 0)
        : null;

    Tensor IOffPolicyAgent.CostValue(Tensor observations, Tensor actions) => _costCritic.Mean(observations, actions);

    // The actor's first update is update number CriticWarmupSteps (0-based), so it is unchanged while _updates ≤ CriticWarmupSteps.
    bool IOffPolicyAgent.HoldsLambda => _options.HoldLambdaWhileActorFrozen && _updates <= _options.CriticWarmupSteps;

    long IOffPolicyAgent.UpdateCount => _updates;

    (long FirstActorUpdate, double Cap)? IOffPolicyAgent.CostNeutralLambdaPlan =>
        _options.CostNeutralFirstLambda ? (_options.CriticWarmupSteps, _options.CostNeutralLambdaCap) : null;

    double IOffPolicyAgent.CostNeutralLambda(TransitionBatch batch) => CostNeutralLambda(batch.Observations);

    /// <summary>
    /// λ* = max(0, ⟨g_r, g_c⟩ / ‖g_c‖²) over the actor's parameters, with g_r = ∇θ mean min_j Q_r,j(s, μθ(s)) and g_c = ∇θ mean Q_c(s, μθ(s))
    /// on <paramref name="observations"/> (<see cref="SacLagOptions.CostNeutralFirstLambda"/>); 0 when g_c vanishes. Leaves no gradient behind.
    /// </summary>
    internal double CostNeutralLambda(Tensor observations)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = NewDisposeScope();
        var frozen = _onlineCritics.Freeze();
        try
        {
            var parameters = _actor.parameters().ToArray();
            Tensor[] Gradient(Func<Tensor, Tensor> value)
            {
                _actorOptimizer.zero_grad();
                value(_actor.Deterministic(observations)).mean().backward();
                return parameters.Select(p => p.grad is { } g ? g.detach().clone() : zeros_like(p)).ToArray();
            }
            var costGradient = Gradient(a => _costCritic.Mean(observations, a));
            var rewardGradient = Gradient(a => _rewardCritic.Min(observations, a));
            return CostNeutralLambda(rewardGradient, costGradient);
        }
        finally
        {
            _actorOptimizer.zero_grad();
            frozen.Dispose();
        }
    }

    /// <summary>max(0, ⟨g_r, g_c⟩ / ‖g_c‖²) over matching lists of gradient tensors, in float64; 0 when ‖g_c‖² is 0 or not finite.</summary>
    internal static double CostNeutralLambda(IReadOnlyList<Tensor> rewardGradient, IReadOnlyList<Tensor> costGradient)
    {
        if (rewardGradient.Count != costGradient.Count)
            throw new ArgumentException($"{rewardGradient.Count} reward gradients against {costGradient.Count} cost gradients; they must match.", nameof(costGradient));
        using var scope = NewDisposeScope();
        double dot = 0, norm = 0;
        for (int i = 0; i < costGradient.Count; i++)
        {
            var r = rewardGradient[i].to_type(ScalarType.Float64);
            var c = costGradient[i].to_type(ScalarType.Float64);
            using var d = r.mul(c).sum().cpu();
            using var n = c.mul(c).sum().cpu();
            dot += d.item<double>();
            norm += n.item<double>();
        }
        if (!(norm > 0 && double.IsFinite(norm) && double.IsFinite(dot))) return 0;
        return Math.Max(0, dot / norm);
    }

    IReadOnlyDictionary<string, double> IOffPolicyAgent.Update(TransitionBatch batch, double lambda) => Update(batch, lambda).ToDictionary();

    private Tensor ActorForward(Tensor observations, bool deterministic)
    {
        return deterministic ? _actor.Deterministic(observations) : _actor.SampleAction(observations, _explorationNoise);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private QEnsemble NewRewardCritic(Generator generator) =>
        new(_observationSize, _actionSize, _options.CriticHiddenSizes, _options.RewardCriticCount, generator);

    private QEnsemble NewCostCritic(Generator generator) =>
        new(_observationSize, _actionSize, _options.CostCriticHiddenSizes, _options.CostCriticCount, generator);

    private FlatParameters FlattenCritic(QEnsemble critic, bool gradients) =>
        _options.FusedCriticEnsembles ? critic.Fuse(gradients) : FlatParameters.Flatten(critic, gradients);

    private static void FreezeParameters(nn.Module module)
    {
        foreach (var p in module.parameters()) p.requires_grad = false;
    }


    private void CheckBatch(TransitionBatch batch)
    {
        if (batch.Observations.device_type != _device.type)
            throw new ArgumentException($"SAC-Lag update: the batch is on {batch.Observations.device} but the networks are on {_device}. Sample with ReplayBuffer.Sample(..., device).", nameof(batch));
        long b = batch.Observations.shape[0];
        void Expect(Tensor t, string name, params long[] shape)
        {
            if (!t.shape.AsSpan().SequenceEqual(shape))
                throw new ArgumentException($"SAC-Lag update: '{name}' has shape [{string.Join(", ", t.shape)}]; expected [{string.Join(", ", shape)}].", nameof(batch));
        }
        Expect(batch.Observations, nameof(batch.Observations), b, _observationSize);
        Expect(batch.Actions, nameof(batch.Actions), b, _actionSize);
        Expect(batch.Rewards, nameof(batch.Rewards), b);
        Expect(batch.Costs, nameof(batch.Costs), b);
        Expect(batch.NextObservations, nameof(batch.NextObservations), b, _observationSize);
        Expect(batch.Terminated, nameof(batch.Terminated), b);
        Expect(batch.Truncated, nameof(batch.Truncated), b);
    }

}

using System.Globalization;
using System.Text.Json;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Telemetry;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Data;
using Marvel.Core.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

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
/// and run the gradient steps according to <see cref="SacLagOptions.Schedule"/>.</para>
/// </remarks>
public sealed partial class SacLagLearner : ICheckpointableOnlineLearner, IOfflineDataConsumer
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
    private Adam _actorOptimizer;
    private Adam _rewardOptimizer;
    private Adam _costOptimizer;
    private readonly Parameter? _logAlpha;
    private readonly Adam? _alphaOptimizer;
    private readonly Tensor _fixedAlpha;

    // Randomness: every stream derives from LearnerContext.Seeds.
    private readonly Generator _updateNoise;
    private readonly Generator _explorationNoise;
    private readonly RandomSource _replayRandom;
    private readonly ulong _environmentSeed;

    private readonly TorchPolicy _policy;
    private ReplayBuffer? _replay;
    private ReplayBuffer? _offlineData;
    private SquashedGaussianActor? _fallbackActor;   // the frozen handed-over actor of SafeExploration.PolicySet
    private long _fallbackActions, _collectedActions; // per iteration, for the fallback_share metric
    private Tensor? _policySetObservations, _policySetActions;
    private bool _criticsHandedOver;             // the critics came from InitializeFrom and have not been checked or replaced since
    private readonly ulong _criticResetSeed;      // seeds re-initialized critics (its own stream: no other stream moves)
    private StoredRange _storedRange = new();   // [min, max] of the scaled rewards and costs stored (replay and offline data), 0 included
    private MixedTransitionSampler? _mixedSampler;
    private RolloutState? _rollout;
    private readonly List<EpisodeSummary> _episodesSinceControllerUpdate = new();
    private IReadOnlyDictionary<string, double>? _lastMetrics;
    private long _updates;
    private long _iterations;
    private long _environmentSteps;
    private double _costLimit;
    private bool _disposed;

    /// <summary>Builds the networks for the context's spaces.</summary>
    /// <param name="context">Spaces, seeds, device and task id.</param>
    /// <param name="options">Settings; copied, so later edits have no effect. Defaults when null.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Some option is invalid; the message lists every bad field.</exception>
    /// <exception cref="TorchNativeLibraryException">TorchSharp's native library cannot load.</exception>
    public SacLagLearner(LearnerContext context, SacLagOptions? options = null)
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
        Polyak.Copy(_rewardCritic, _rewardTarget);
        Polyak.Copy(_costCritic, _costTarget);
        FreezeParameters(_rewardTarget);
        FreezeParameters(_costTarget);
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
        _replayRandom = seeds.CreateRandom("replay");
        _environmentSeed = seeds.Derive("environment");
        _policy = new TorchPolicy(_observationSize, _actionSize, _device, ActorForward,
            (output, actions) => ActionMapping.SquashedToBox(output, _context.ActionSpace, actions));
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
    public long EnvironmentSteps => _environmentSteps;

    /// <summary>Transitions currently in the replay buffer (0 before the first iteration).</summary>
    public int ReplayCount => _replay?.Count ?? 0;

    /// <summary>The replay buffer of <see cref="RunIteration"/> (null before the first iteration), for tests.</summary>
    internal ReplayBuffer? Replay => _replay;

    /// <summary>The actor optimizer's learning rate now in effect (for tests of the handover rule D14).</summary>
    internal double ActorLearningRateInUse => _actorOptimizer.ParamGroups.First().LearningRate;

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
            if (_options.BoundedTargets && _storedRange.Any)
            {
                // Every policy's value lies in [min x, max x]/(1 − γ) over the per-step values x seen (0 included).
                double horizon = 1.0 / (1.0 - _options.Gamma);
                var (rewardLow, rewardHigh, costLow, costHigh) = _storedRange.Bounds(horizon, _device);
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
        FreezeParameters(_rewardCritic);
        FreezeParameters(_costCritic);
        var (action, logProb) = _actor.Sample(s, _updateNoise);
        var rewardQ = _rewardCritic.Min(s, action);
        var costQ = _costCritic.Mean(s, action);
        var actorLoss = ActorLoss(alpha, logProb, rewardQ, costQ, lambda, _options.ActorLossDividedByOnePlusLambda);
        bool updateActor = _updates >= _options.CriticWarmupSteps; // critic warm-up: the actor stays as handed over
        if (updateActor) GradientStep.Apply(_actorOptimizer, actorLoss, _options.MaxGradNorm, _actor.parameters());
        UnfreezeParameters(_rewardCritic);
        UnfreezeParameters(_costCritic);

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
        var rollout = Attach(environment);
        _replay ??= new ReplayBuffer(_options.ReplayCapacity, _observationSize, _actionSize);
        _costLimit = controller.CostLimit;

        var episodes = new List<EpisodeSummary>();
        double collectionLambda = controller.Lambda;
        _fallbackActions = _collectedActions = 0;
        if (_options.Schedule == SacLagSchedule.EpisodesThenUpdates)
        {
            while (episodes.Count < _options.EpisodesPerIteration)
            {
                cancellationToken.ThrowIfCancellationRequested();
                CollectStep(rollout, episodes, collectionLambda);
            }
        }
        else
        {
            int collected = 0;
            while (collected < _options.UpdateEveryNSteps)
            {
                cancellationToken.ThrowIfCancellationRequested();
                collected += CollectStep(rollout, episodes, collectionLambda);
            }
        }

        // The controller sees the mean undiscounted, unscaled episode cost, once per iteration.
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        _episodesSinceControllerUpdate.AddRange(episodes);
        double lambda = controller.Lambda;
        if (_episodesSinceControllerUpdate.Count > 0)
        {
            double meanCost = _episodesSinceControllerUpdate.Average(e => e.Cost);
            var update = controller.Update(meanCost);
            lambda = update.Lambda;
            metrics["mean_episode_cost"] = meanCost;
            metrics["mean_episode_return"] = _episodesSinceControllerUpdate.Average(e => e.Return);
            foreach (var (name, value) in update.Terms) metrics["controller/" + name] = value;
            _episodesSinceControllerUpdate.Clear();
        }
        PublishEpisodes(episodes, controller.CostLimit);

        int miniBatch = _options.BatchSize / _options.MiniBatches;
        int steps = 0;
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        if (_replay.Count >= Math.Max(_options.WarmupSteps, 1))
        {
            ITransitionSampler sampler = _replay;
            if (_offlineData is not null && _options.OfflineDataFraction > 0)
            {
                if (_mixedSampler is null || !ReferenceEquals(_mixedSampler.Primary, _replay))
                    _mixedSampler = new MixedTransitionSampler(_replay, _offlineData, _options.OfflineDataFraction);
                sampler = _mixedSampler;
            }
            for (int u = 0; u < _options.UpdatesPerIteration; u++)
            {
                using var batch = sampler.Sample(_options.BatchSize, _replayRandom, _device);
                for (int m = 0; m < _options.MiniBatches; m++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    // Rows are i.i.d. draws with replacement, so consecutive slices are already shuffled mini-batches.
                    var slice = Slice(batch, m * miniBatch, miniBatch);
                    foreach (var (name, value) in Update(slice, lambda).ToDictionary())
                        sums[name] = sums.GetValueOrDefault(name) + value;
                    steps++;
                }
            }
        }
        metrics["gradient_steps"] = steps;
        if (_fallbackActor is not null) metrics["fallback_share"] = _collectedActions == 0 ? 0 : (double)_fallbackActions / _collectedActions;
        metrics["environment_steps"] = _environmentSteps;
        MarvelTelemetry.Publish(Stage, metrics); // per-update scalars were published by Update
        foreach (var (name, sum) in sums) metrics[name] = sum / steps;
        metrics["lambda"] = lambda;
        return new OnlineIterationResult(_iterations++, _environmentSteps, episodes, lambda, metrics);
    }

    /// <summary>
    /// Starts from an offline result: loads actor and (optionally) critics strictly, copies the loaded critics into the targets, and
    /// optionally restores optimizer moments (the learning rates always come from these options, marvel.md §4.2 / D14). Optimizers whose
    /// state is not loaded start fresh. Nothing changes unless every requested piece loads.
    /// </summary>
    /// <param name="artifact">The artifact (e.g. from an offline learner or a value aligner).</param>
    /// <param name="options">What to take over; defaults: actor moments yes, critic moments no, critics yes.</param>
    /// <exception cref="InvalidDataException">Sizes, network kinds, hidden widths, ensemble sizes, tensor shapes, optimizer states or reward/cost scales do not match.</exception>
    public void InitializeFrom(HandoverArtifact artifact, HandoverLoadOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(artifact);
        options ??= new HandoverLoadOptions();
        artifact.EnsureCompatible(_observationSize, _actionSize, Algorithm);
        CheckDescriptor(artifact, HandoverRoles.Actor, ActorKind, _options.ActorHiddenSizes, 1, nameof(SacLagOptions.ActorHiddenSizes), null);
        if (options.LoadCritics)
        {
            CheckDescriptor(artifact, HandoverRoles.RewardCritic, CriticKind, _options.CriticHiddenSizes, _options.RewardCriticCount,
                nameof(SacLagOptions.CriticHiddenSizes), nameof(SacLagOptions.RewardCriticCount));
            CheckDescriptor(artifact, HandoverRoles.CostCritic, CriticKind, _options.CostCriticHiddenSizes, _options.CostCriticCount,
                nameof(SacLagOptions.CostCriticHiddenSizes), nameof(SacLagOptions.CostCriticCount));
            CheckScale(artifact.Manifest.RewardScale, _options.RewardScale, "RewardScale");
            CheckScale(artifact.Manifest.CostScale, _options.CostScale, "CostScale");
        }

        // Stage everything in temporaries (weights are overwritten, so the staging generator does not matter), then swap.
        using var staging = new Generator(0);
        using var actor = new SquashedGaussianActor(_observationSize, _actionSize, _options.ActorHiddenSizes, staging);
        using var rewardCritic = NewRewardCritic(staging);
        using var costCritic = NewCostCritic(staging);
        ModuleState.Load(actor, artifact.GetNetwork(HandoverRoles.Actor), HandoverRoles.Actor);
        if (options.LoadCritics)
        {
            ModuleState.Load(rewardCritic, artifact.GetNetwork(HandoverRoles.RewardCritic), HandoverRoles.RewardCritic);
            ModuleState.Load(costCritic, artifact.GetNetwork(HandoverRoles.CostCritic), HandoverRoles.CostCritic);
        }
        byte[]? actorState = options.LoadActorOptimizerState ? artifact.OptimizerStates.GetValueOrDefault(HandoverRoles.Actor) : null;
        byte[]? rewardState = options.ShouldLoadCriticOptimizerStates(artifact.Manifest) ? artifact.OptimizerStates.GetValueOrDefault(HandoverRoles.RewardCritic) : null;
        byte[]? costState = options.ShouldLoadCriticOptimizerStates(artifact.Manifest) ? artifact.OptimizerStates.GetValueOrDefault(HandoverRoles.CostCritic) : null;
        KeptScalarOptimizer.CheckAdamState(actor.parameters(), actorState, HandoverRoles.Actor);
        KeptScalarOptimizer.CheckAdamState(rewardCritic.parameters(), rewardState, HandoverRoles.RewardCritic);
        KeptScalarOptimizer.CheckAdamState(costCritic.parameters(), costState, HandoverRoles.CostCritic);

        // Swap: copy weights in, rebuild targets and optimizers.
        Polyak.Copy(actor.to(_device), _actor);
        if (_options.SafeExploration == SafeExploration.PolicySet)
        {
            using var fallbackInit = new Generator(0);
            _fallbackActor?.Dispose();
            _fallbackActor = new SquashedGaussianActor(_observationSize, _actionSize, _options.ActorHiddenSizes, fallbackInit).to(_device);
            Polyak.Copy(_actor, _fallbackActor);
            FreezeParameters(_fallbackActor);
        }
        _actorOptimizer.Dispose();
        _actorOptimizer = KeptScalarOptimizer.AdamFrom(_actor.parameters(), _options.ActorLearningRate, actorState, HandoverRoles.Actor);
        if (options.LoadCritics)
        {
            Polyak.Copy(rewardCritic.to(_device), _rewardCritic);
            Polyak.Copy(costCritic.to(_device), _costCritic);
            _rewardOptimizer.Dispose();
            _rewardOptimizer = KeptScalarOptimizer.AdamFrom(_rewardCritic.parameters(), _options.CriticLearningRate, rewardState, HandoverRoles.RewardCritic);
            _costOptimizer.Dispose();
            _costOptimizer = KeptScalarOptimizer.AdamFrom(_costCritic.parameters(), _options.CostCriticLearningRate, costState, HandoverRoles.CostCritic);
        }
        Polyak.Copy(_rewardCritic, _rewardTarget);
        Polyak.Copy(_costCritic, _costTarget);
        _criticsHandedOver = options.LoadCritics;
        HandoverCheck = null;
    }

    /// <summary>
    /// Attaches the offline dataset whose transitions make up <see cref="SacLagOptions.OfflineDataFraction"/> of every batch: stored once with
    /// actions mapped from the action box into the actor's [−1, 1] space (clipped there) and rewards and costs multiplied by the learner's
    /// <see cref="SacLagOptions.RewardScale"/> and <see cref="SacLagOptions.CostScale"/>, as online transitions are. Not part of checkpoints:
    /// attach the same dataset again after <see cref="LoadCheckpoint"/> (the pipeline does).
    /// </summary>
    /// <param name="dataset">The offline dataset of the same task.</param>
    /// <exception cref="InvalidDataException">The dataset's sizes differ from the learner's, or it is empty.</exception>
    public void AttachOfflineData(OfflineDataset dataset)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(dataset);
        dataset.EnsureMatches(_observationSize, _actionSize, "SAC-Lag's offline-data mixing");
        if (dataset.Count == 0)
            throw new InvalidDataException($"SAC-Lag's offline-data mixing: the dataset '{dataset.Source}' has no transitions. Attach the offline dataset the artifact was trained on.");
        var buffer = new ReplayBuffer(dataset.Count, _observationSize, _actionSize);
        var squashed = new float[_actionSize];
        float rewardScale = (float)_options.RewardScale, costScale = (float)_options.CostScale;
        bool check = _options.ResetImplausibleCritics && _criticsHandedOver;
        int checkRows = check ? Math.Min(HandoverCheckRows, dataset.Count) : 0;
        var checkObservations = new float[checkRows * _observationSize];
        var checkActions = new float[checkRows * _actionSize];
        var datasetRange = new StoredRange();
        for (int i = 0, next = 0; i < dataset.Count; i++)
        {
            ActionMapping.BoxToSquashed(dataset.Actions.Slice(i * _actionSize, _actionSize), _context.ActionSpace, squashed);
            buffer.Add(dataset.Observations.Slice(i * _observationSize, _observationSize), squashed, dataset.Rewards[i] * rewardScale,
                dataset.Costs[i] * costScale, dataset.NextObservations.Slice(i * _observationSize, _observationSize), dataset.Terminals[i], dataset.Timeouts[i]);
            _storedRange = _storedRange.Include(dataset.Rewards[i] * rewardScale, dataset.Costs[i] * costScale);
            datasetRange = datasetRange.Include(dataset.Rewards[i] * rewardScale, dataset.Costs[i] * costScale);
            if (next < checkRows && i == (int)((long)next * dataset.Count / checkRows))
            {
                dataset.Observations.Slice(i * _observationSize, _observationSize).CopyTo(checkObservations.AsSpan(next * _observationSize));
                squashed.CopyTo(checkActions.AsSpan(next * _actionSize));
                next++;
            }
        }
        _offlineData = buffer;
        _mixedSampler = null;
        if (check)
        {
            HandoverCheck = CheckHandedOverCritics(checkObservations, checkActions, checkRows, datasetRange);
            _criticsHandedOver = false;
        }
    }

    /// <summary>The most dataset rows the handover check of <see cref="SacLagOptions.ResetImplausibleCritics"/> evaluates.</summary>
    public const int HandoverCheckRows = 2048;

    /// <summary>
    /// What the handover check (<see cref="SacLagOptions.ResetImplausibleCritics"/>) found when the dataset was attached; null when it did not
    /// run (option off, critics not handed over, or restored from a checkpoint).
    /// </summary>
    public CriticHandoverCheck? HandoverCheck { get; private set; }

    private CriticHandoverCheck CheckHandedOverCritics(float[] observations, float[] actions, int rows, StoredRange range)
    {
        double horizon = 1.0 / (1.0 - _options.Gamma);
        (double rewardLow, double rewardHigh) = Widened(range.RewardMin * horizon, range.RewardMax * horizon);
        (double costLow, double costHigh) = Widened(range.CostMin * horizon, range.CostMax * horizon);
        double rewardMean, rewardOutside, costMean, costOutside;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var s = tensor(observations, [rows, _observationSize], ScalarType.Float32).to(_device);
            var a = tensor(actions, [rows, _actionSize], ScalarType.Float32).to(_device);
            (rewardMean, rewardOutside) = Summarize(_rewardCritic.Min(s, a).cpu().data<float>().ToArray(), rewardLow, rewardHigh);
            (costMean, costOutside) = Summarize(_costCritic.Mean(s, a).cpu().data<float>().ToArray(), costLow, costHigh);
        }
        bool resetReward = rewardOutside > 0.5, resetCost = costOutside > 0.5;
        if (resetReward || resetCost)
        {
            // The policy set scores actions with these critics, and its fallback is the actor that was trained against the runaway ones:
            // without trustworthy critics there is nothing to fall back on, so collection uses the online actor alone.
            _fallbackActor?.Dispose();
            _fallbackActor = null;
            using var generator = new Generator(_criticResetSeed);
            if (resetReward)
            {
                using var fresh = NewRewardCritic(generator);
                Polyak.Copy(fresh.to(_device), _rewardCritic);
                Polyak.Copy(_rewardCritic, _rewardTarget);
                _rewardOptimizer.Dispose();
                _rewardOptimizer = KeptScalarOptimizer.Adam(_rewardCritic.parameters(), _options.CriticLearningRate);
            }
            if (resetCost)
            {
                using var fresh = NewCostCritic(generator);
                Polyak.Copy(fresh.to(_device), _costCritic);
                Polyak.Copy(_costCritic, _costTarget);
                _costOptimizer.Dispose();
                _costOptimizer = KeptScalarOptimizer.Adam(_costCritic.parameters(), _options.CostCriticLearningRate);
            }
        }
        return new CriticHandoverCheck(rows, rewardLow, rewardHigh, rewardMean, rewardOutside, resetReward, costLow, costHigh, costMean, costOutside, resetCost);

        static (double Low, double High) Widened(double low, double high)
        {
            double margin = 0.5 * (high - low);
            return (low - margin, high + margin);
        }

        static (double Mean, double OutsideShare) Summarize(float[] values, double low, double high)
        {
            double sum = 0;
            int outside = 0;
            foreach (float v in values)
            {
                sum += v;
                if (!(v >= low && v <= high)) outside++; // NaN counts as outside
            }
            return (sum / values.Length, (double)outside / values.Length);
        }
    }

    /// <summary>The attached offline transitions as stored (scaled, actions in [−1, 1]), for tests.</summary>
    internal ReplayBuffer? OfflineData => _offlineData;

    /// <summary>The [min, max] of the scaled rewards and costs stored so far, for tests.</summary>
    internal StoredRange StoredValueRange => _storedRange;

    /// <summary>The online reward and cost critics, for tests that need a critic in a given state.</summary>
    internal (TorchSharp.torch.nn.Module Reward, TorchSharp.torch.nn.Module Cost) CriticsForTests => (_rewardCritic, _costCritic);

    /// <summary>Transitions of the attached offline dataset (0 when none).</summary>
    public int OfflineDataCount => _offlineData?.Count ?? 0;

    /// <summary>Exports actor, reward critic and cost critic with their Adam states and a manifest (scales, γ, seed, steps, options).</summary>
    public HandoverArtifact ExportHandover()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var manifest = HandoverExport.Manifest(Algorithm, _context, null, _updates, _costLimit, _options.Gamma, _options.RewardScale, _options.CostScale,
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
        _policySetObservations?.Dispose();
        _policySetActions?.Dispose();
        _rewardCritic.Dispose();
        _rewardTarget.Dispose();
        _costCritic.Dispose();
        _costTarget.Dispose();
        _updateNoise.Dispose();
        _explorationNoise.Dispose();
    }

    // ---- collection ----------------------------------------------------------------------------------------------

    private sealed class RolloutState(IVectorEnvironment environment, int observationSize, int actionSize)
    {
        public IVectorEnvironment Environment { get; } = environment;
        public float[] Observations { get; } = new float[environment.Count * observationSize];
        public float[] NextObservations { get; } = new float[environment.Count * observationSize];
        public float[] SquashedActions { get; } = new float[environment.Count * actionSize];
        public float[] EnvironmentActions { get; } = new float[environment.Count * actionSize];
        public StepResult[] Results { get; } = new StepResult[environment.Count];
        public List<(int Index, EpisodeSummary Episode)> Finished { get; } = new();
    }

    private int _environmentResets;

    private RolloutState Attach(IVectorEnvironment environment)
    {
        if (_rollout is not null && ReferenceEquals(_rollout.Environment, environment)) return _rollout;
        if (environment.ObservationSpace.Dimension != _observationSize || environment.ActionSpace.Dimension != _actionSize)
            throw new ArgumentException($"SAC-Lag was built for observation size {_observationSize} and action size {_actionSize}, but environment " +
                $"'{environment.Spec.Id}' has {environment.ObservationSpace.Dimension} and {environment.ActionSpace.Dimension}. Build the learner from this task's spaces.",
                nameof(environment));
        var rollout = new RolloutState(environment, _observationSize, _actionSize);
        if (_restoredObservations is not null)
        {
            // Resumed from a checkpoint: the environment was restored beside the learner; continue from its pending observations.
            if (_restoredObservations.Length != rollout.Observations.Length)
                throw new ArgumentException($"SAC-Lag: the checkpoint holds pending observations of {_restoredObservations.Length / _observationSize} environments but " +
                    $"'{environment.Spec.Id}' has {environment.Count}. Resume with the same number of environments.", nameof(environment));
            _restoredObservations.CopyTo(rollout.Observations, 0);
            _restoredObservations = null;
        }
        else
        {
            ulong seed = SeedStreams.Derive(_environmentSeed, "reset/" + (_environmentResets++).ToString(CultureInfo.InvariantCulture));
            environment.Reset(seed, rollout.Observations);
        }
        _rollout = rollout;
        return rollout;
    }

    /// <summary>One vector step with the stochastic actor (or the policy set); stores every transition; returns the number of transitions.</summary>
    private int CollectStep(RolloutState r, List<EpisodeSummary> episodes, double lambda)
    {
        var env = r.Environment;
        int n = env.Count;
        _policy.ActorOutput(r.Observations, n, deterministic: false, r.SquashedActions);
        if (_fallbackActor is not null) ChoosePolicySetActions(r.Observations, r.SquashedActions, n, lambda);
        ActionMapping.SquashedToBox(r.SquashedActions, env.ActionSpace, r.EnvironmentActions);
        r.Finished.Clear();
        env.Step(r.EnvironmentActions, r.NextObservations, r.Results, r.Finished);
        float rewardScale = (float)_options.RewardScale, costScale = (float)_options.CostScale;
        for (int i = 0; i < n; i++)
        {
            var result = r.Results[i];
            // After an episode ends the returned row is the next episode's first observation; bootstrap from the final one.
            var next = result.EpisodeEnded ? env.FinalObservation(i) : r.NextObservations.AsSpan(i * _observationSize, _observationSize);
            _replay!.Add(r.Observations.AsSpan(i * _observationSize, _observationSize), r.SquashedActions.AsSpan(i * _actionSize, _actionSize),
                (float)result.Reward * rewardScale, (float)result.Cost * costScale, next, result.Terminated, result.Truncated);
            _storedRange = _storedRange.Include((float)result.Reward * rewardScale, (float)result.Cost * costScale);
        }
        foreach (var (_, episode) in r.Finished) episodes.Add(episode);
        r.NextObservations.CopyTo(r.Observations, 0);
        _environmentSteps += n;
        return n;
    }

    /// <summary>
    /// SafeExploration.PolicySet: replaces each row of <paramref name="actions"/> (the online actor's samples) by the frozen handed-over
    /// actor's deterministic action where that one scores higher under min_j Q_r − λ·Q_c of the current critics.
    /// </summary>
    private void ChoosePolicySetActions(float[] observations, float[] actions, int n, double lambda)
    {
        // Inputs live in memory libtorch allocated (not over managed arrays, whose GC-dependent alignment changes how CPU kernels round).
        if (_policySetObservations is null || _policySetObservations.shape[0] != n)
        {
            _policySetObservations?.Dispose();
            _policySetActions?.Dispose();
            _policySetObservations = zeros(n, _observationSize, ScalarType.Float32).DetachFromDisposeScope();
            _policySetActions = zeros(n, _actionSize, ScalarType.Float32).DetachFromDisposeScope();
        }
        _policySetObservations.data<float>().CopyFrom(observations.AsSpan(0, n * _observationSize));
        _policySetActions!.data<float>().CopyFrom(actions.AsSpan(0, n * _actionSize));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var s = _device.type == DeviceType.CPU ? _policySetObservations : _policySetObservations.to(_device);
        var online = _device.type == DeviceType.CPU ? _policySetActions : _policySetActions.to(_device);
        var fallback = _fallbackActor!.Deterministic(s);
        var lambdaTensor = tensor(lambda, ScalarType.Float32, _device);
        var onlineScore = _rewardCritic.Min(s, online).sub(_costCritic.Mean(s, online).mul(lambdaTensor));
        var fallbackScore = _rewardCritic.Min(s, fallback).sub(_costCritic.Mean(s, fallback).mul(lambdaTensor));
        var useFallback = fallbackScore.gt(onlineScore);
        var chosen = where(useFallback.unsqueeze(1), fallback, online).cpu();
        chosen.data<float>().CopyTo(actions.AsSpan(0, n * _actionSize));
        using var count = useFallback.sum().cpu();
        _fallbackActions += count.data<long>()[0];
        _collectedActions += n;
    }

    private Tensor ActorForward(Tensor observations, bool deterministic)
    {
        return deterministic ? _actor.Deterministic(observations) : _actor.SampleAction(observations, _explorationNoise);
    }

    private static void PublishEpisodes(List<EpisodeSummary> episodes, double costLimit)
    {
        var tag = new KeyValuePair<string, object?>("stage", Stage);
        foreach (var e in episodes)
        {
            MarvelTelemetry.EpisodeReturn.Record(e.Return, tag);
            MarvelTelemetry.EpisodeCost.Record(e.Cost, tag);
            MarvelTelemetry.EpisodeLength.Record(e.Length, tag);
            MarvelTelemetry.OnlineViolation.Add(Math.Max(0, e.Cost - costLimit), tag);
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private QEnsemble NewRewardCritic(Generator generator) =>
        new(_observationSize, _actionSize, _options.CriticHiddenSizes, _options.RewardCriticCount, generator);

    private QEnsemble NewCostCritic(Generator generator) =>
        new(_observationSize, _actionSize, _options.CostCriticHiddenSizes, _options.CostCriticCount, generator);

    private static void FreezeParameters(nn.Module module)
    {
        foreach (var p in module.parameters()) p.requires_grad = false;
    }

    private static void UnfreezeParameters(nn.Module module)
    {
        foreach (var p in module.parameters()) p.requires_grad = true;
    }

    private static TransitionBatch Slice(TransitionBatch batch, int start, int length) => new(
        batch.Observations.narrow(0, start, length), batch.Actions.narrow(0, start, length), batch.Rewards.narrow(0, start, length),
        batch.Costs.narrow(0, start, length), batch.NextObservations.narrow(0, start, length), batch.Terminated.narrow(0, start, length),
        batch.Truncated.narrow(0, start, length));

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

    private static void CheckDescriptor(HandoverArtifact artifact, string role, string kind, int[] hidden, int ensemble, string hiddenOption, string? ensembleOption)
    {
        if (!artifact.Manifest.Networks.TryGetValue(role, out var d))
            throw new InvalidDataException($"SAC-Lag: the handover artifact from '{artifact.Manifest.Algorithm}' has no '{role}' network. It has: {string.Join(", ", artifact.Manifest.Networks.Keys)}.");
        if (!string.Equals(d.Kind, kind, StringComparison.Ordinal))
            throw new InvalidDataException($"SAC-Lag: the artifact's '{role}' is a '{d.Kind}', but SAC-Lag needs a '{kind}'.");
        if (!d.HiddenSizes.AsSpan().SequenceEqual(hidden))
            throw new InvalidDataException($"SAC-Lag: the artifact's '{role}' has hidden sizes [{string.Join(", ", d.HiddenSizes)}] but {hiddenOption} is [{string.Join(", ", hidden)}]. Set {hiddenOption} to the artifact's sizes.");
        if (ensembleOption is not null && d.EnsembleSize != ensemble)
            throw new InvalidDataException($"SAC-Lag: the artifact's '{role}' has {d.EnsembleSize} members but {ensembleOption} is {ensemble}. Set {ensembleOption} to {d.EnsembleSize}.");
    }

    private void CheckScale(double artifactScale, double ownScale, string name)
    {
        if (Math.Abs(artifactScale - ownScale) > 1e-12 * Math.Max(1, Math.Abs(ownScale)))
            throw new InvalidDataException($"SAC-Lag: the artifact's critics were trained with {name} {artifactScale.ToString(CultureInfo.InvariantCulture)} but this learner uses " +
                $"{ownScale.ToString(CultureInfo.InvariantCulture)}, so their values are on another scale. Set SacLagOptions.{name} to match, or pass HandoverLoadOptions.LoadCritics = false.");
    }
}

/// <summary>Running [min, max] of the scaled per-step rewards and costs a learner has stored, 0 included (a value, so checkpoints copy it).</summary>
internal readonly record struct StoredRange(bool Any, float RewardMin, float RewardMax, float CostMin, float CostMax)
{
    public StoredRange Include(float reward, float cost) => Any
        ? new(true, Math.Min(RewardMin, reward), Math.Max(RewardMax, reward), Math.Min(CostMin, cost), Math.Max(CostMax, cost))
        : new(true, Math.Min(0f, reward), Math.Max(0f, reward), Math.Min(0f, cost), Math.Max(0f, cost));

    /// <summary>The value bounds [min, max]·horizon for rewards and costs as scalar tensors on <paramref name="device"/>.</summary>
    public (Tensor RewardLow, Tensor RewardHigh, Tensor CostLow, Tensor CostHigh) Bounds(double horizon, Device device) =>
        (tensor(RewardMin * horizon, ScalarType.Float32, device), tensor(RewardMax * horizon, ScalarType.Float32, device),
         tensor(CostMin * horizon, ScalarType.Float32, device), tensor(CostMax * horizon, ScalarType.Float32, device));
}

using System.Globalization;
using System.Text.Json;
using Marvel.Core.Abstractions.Telemetry;
using Marvel.Core.Algorithms.Online.Loop;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Data;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Online.PpoLag;

/// <summary>The scalars of one PPO-Lag policy update (all epochs over one rollout).</summary>
/// <param name="Step">Index of the update (0-based).</param>
/// <param name="ActorLoss">Mean clipped-surrogate loss over the mini-batch steps.</param>
/// <param name="RewardCriticLoss">Mean MSE (+ L2) of the reward value network.</param>
/// <param name="CostCriticLoss">Mean MSE (+ L2) of the cost value network.</param>
/// <param name="Entropy">Policy entropy after the update, in nats.</param>
/// <param name="Kl">KL(π_old ‖ π) over the rollout after the last epoch.</param>
/// <param name="ClipFraction">Mean fraction of rows whose ratio left [1 − ε, 1 + ε].</param>
/// <param name="Lambda">The multiplier λ used.</param>
/// <param name="Epochs">Epochs run (fewer than configured when the KL target stopped them).</param>
/// <param name="GradientSteps">Mini-batch steps run.</param>
public readonly record struct PpoLagUpdateMetrics(long Step, double ActorLoss, double RewardCriticLoss, double CostCriticLoss, double Entropy,
    double Kl, double ClipFraction, double Lambda, int Epochs, int GradientSteps)
{
    /// <summary>The scalars by name (snake case, as published on the meter).</summary>
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["actor_loss"] = ActorLoss,
        ["reward_critic_loss"] = RewardCriticLoss,
        ["cost_critic_loss"] = CostCriticLoss,
        ["entropy"] = Entropy,
        ["kl"] = Kl,
        ["clip_fraction"] = ClipFraction,
        ["lambda"] = Lambda,
        ["epochs"] = Epochs,
        ["gradient_steps"] = GradientSteps,
    };
}

/// <summary>
/// PPO-Lag: on-policy PPO with a Lagrangian cost penalty (algorithms.md §8). A state-independent-σ Gaussian actor, reward and cost
/// value networks, GAE for both advantages, and a clipped surrogate on the combined advantage (A_r − λA_c)/(1 + λ) (OmniSafe) or
/// FSRL's form; λ comes from an injected <see cref="ILagrangeController"/>.
/// </summary>
/// <remarks>
/// Drive it step by step with <see cref="Collect"/> and <see cref="Update"/>, or call <see cref="RunIteration"/> (collect, update the
/// controller once from the finished episodes' mean cost, update the networks).
/// </remarks>
public sealed partial class PpoLagLearner : ICheckpointableOnlineLearner
{
    /// <summary>The stage tag used for telemetry and <see cref="TrainingDivergedException"/>.</summary>
    public const string Stage = "online/PPO-Lag";

    /// <summary>The network kind written for the actor in handover artifacts.</summary>
    public const string ActorKind = "GaussianActor";

    /// <summary>The network kind written for the value networks in handover artifacts.</summary>
    public const string CriticKind = "ValueMlp";

    private static readonly string[] EpochScalarNames = ["kl", "actor_loss", "reward_critic_loss", "cost_critic_loss", "clip_fraction", "entropy"];

    private readonly PpoLagOptions _options;
    private readonly LearnerContext _context;
    private readonly Device _device;
    private readonly int _observationSize;
    private readonly int _actionSize;

    private readonly GaussianActor _actor;
    private readonly Mlp _rewardCritic;
    private readonly Mlp _costCritic;
    private Adam _actorOptimizer;
    private Adam _rewardOptimizer;
    private Adam _costOptimizer;

    private readonly Generator _explorationNoise;
    private readonly RandomSource _shuffle;
    private readonly TorchPolicy _policy;

    private readonly EpisodeCollector _collector; // the environments' pending observations, seeded resets, transition count
    private readonly ControllerFeed _feed;
    private RolloutBuffer? _rollout;
    private float[] _packed = [];
    private float[] _environmentActions = [];
    private int[] _permutation = [];
    private IReadOnlyDictionary<string, double>? _lastMetrics;
    private long _updates;
    private long _gradientSteps;
    private long _iterations;
    private double _costLimit;
    private bool _disposed;

    /// <summary>Builds the networks for the context's spaces.</summary>
    /// <param name="context">Spaces, seeds, device and task id.</param>
    /// <param name="options">Settings; copied, so later edits have no effect. Defaults when null.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Some option is invalid; the message lists every bad field.</exception>
    /// <exception cref="TorchNativeLibraryException">TorchSharp's native library cannot load.</exception>
    public PpoLagLearner(LearnerContext context, PpoLagOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        _options = (options ?? new PpoLagOptions()) with { };
        _options.ActorHiddenSizes = _options.ActorHiddenSizes?.ToArray()!;
        _options.CriticHiddenSizes = _options.CriticHiddenSizes?.ToArray()!;
        PpoLagOptionsValidator.ThrowIfInvalid(_options);
        TorchNative.EnsureAvailable();

        _context = context;
        _feed = new ControllerFeed(context);
        _device = _options.Device is null ? context.Device : torch.device(_options.Device);
        _observationSize = context.ObservationSpace.Dimension;
        _actionSize = context.ActionSpace.Dimension;

        var seeds = context.Seeds.Fork("ppo-lag");
        using var init = seeds.CreateTorchGenerator("init");
        _actor = new GaussianActor(_observationSize, _actionSize, _options.ActorHiddenSizes, _options.Activation, _options.InitialLogStd, init).to(_device);
        _rewardCritic = NewValueNetwork(init).to(_device);
        _costCritic = NewValueNetwork(init).to(_device);
        _actorOptimizer = KeptScalarOptimizer.Adam(_actor.parameters(), _options.ActorLearningRate);
        _rewardOptimizer = KeptScalarOptimizer.Adam(_rewardCritic.parameters(), _options.CriticLearningRate);
        _costOptimizer = KeptScalarOptimizer.Adam(_costCritic.parameters(), _options.CriticLearningRate);

        _explorationNoise = new Generator(seeds.Derive("exploration-noise"), _device);
        _shuffle = seeds.CreateRandom("shuffle");
        _collector = new EpisodeCollector(Algorithm, _observationSize, _actionSize, seeds.Derive("environment"));
        _policy = new TorchPolicy(_observationSize, _actionSize, _device, ActorForward,
            (output, actions) => ActionMapping.ClipToBox(output, _context.ActionSpace, actions));
    }

    /// <inheritdoc />
    public string Algorithm => "PPO-Lag";

    /// <summary>The current policy: deterministic mode μ(s), stochastic mode a sample; both clipped to the action box.</summary>
    public IPolicy Policy => _policy;

    /// <summary>The settings in use (a copy of those given).</summary>
    public PpoLagOptions Options => _options with { };

    /// <summary>Policy updates (one per rollout) so far.</summary>
    public long Updates => _updates;

    /// <summary>Environment transitions collected so far.</summary>
    public long EnvironmentSteps => _collector.EnvironmentSteps;

    /// <summary>
    /// Fills the learner's rollout buffer with ⌈StepsPerIteration / N⌉ vector steps of the stochastic policy, continuing the environment's
    /// episodes across calls (it is reset, from the learner's seed streams, only the first time it is seen). Truncated episodes bootstrap
    /// from V(final observation); the rollout's last states from V(current observation).
    /// </summary>
    /// <param name="environment">The vector environment.</param>
    /// <param name="episodes">Receives the episodes that finished, if not null.</param>
    /// <param name="cancellationToken">Checked between environment steps.</param>
    /// <returns>The filled buffer (owned by the learner; valid until the next call).</returns>
    /// <exception cref="ArgumentException">The environment's spaces do not match the learner's.</exception>
    public RolloutBuffer Collect(IVectorEnvironment environment, ICollection<EpisodeSummary>? episodes = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(environment);
        var rollout = Attach(environment);
        rollout.Clear();
        int n = environment.Count;
        var pendingTruncated = new List<int>();
        var scales = new RewardCostScales(_options.RewardScale, _options.CostScale);   // GAE reads the rollout whole: steps enter it scaled
        for (int t = 0; t < rollout.StepsPerEnvironment; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // One forward and one host read per vector step: action, log π, V_r, V_c.
            Evaluate(_collector.Observations, n, sample: true);
            int width = _actionSize + 3;
            for (int i = 0; i < n; i++)
                ActionMapping.ClipToBox(_packed.AsSpan(i * width, _actionSize), environment.ActionSpace, _environmentActions.AsSpan(i * _actionSize, _actionSize));
            _collector.Step(_environmentActions);
            pendingTruncated.Clear();
            for (int i = 0; i < n; i++)
            {
                var row = _packed.AsSpan(i * width, width);
                var result = _collector.Results[i];
                rollout.Add(i, _collector.Observations.AsSpan(i * _observationSize, _observationSize), row[.._actionSize], row[_actionSize],
                    scales.Reward(result.Reward), scales.Cost(result.Cost), row[_actionSize + 1], row[_actionSize + 2],
                    result.Terminated, result.Truncated);
                if (result.Truncated && !result.Terminated) pendingTruncated.Add(i);
            }
            if (pendingTruncated.Count > 0) BootstrapFinalObservations(environment, rollout, pendingTruncated);
            _collector.Advance(episodes);
        }
        // The rollout ends mid-episode: bootstrap from the current observations of environments whose last step did not end.
        Evaluate(_collector.Observations, n, sample: false);
        for (int i = 0; i < n; i++)
            if (!_collector.Results[i].EpisodeEnded)
                rollout.SetBootstrap(i, _packed[i * (_actionSize + 3) + _actionSize + 1], _packed[i * (_actionSize + 3) + _actionSize + 2]);
        return rollout;
    }

    /// <summary>
    /// One PPO-Lag policy update on a full rollout: GAE (γ, λ_GAE, λ_c), advantage normalisation, then up to
    /// <see cref="PpoLagOptions.UpdateEpochs"/> shuffled passes of mini-batch steps (reward critic, cost critic, actor), stopping after an
    /// epoch whose KL(π_old ‖ π) exceeds <see cref="PpoLagOptions.TargetKl"/>. One host read per epoch (KL and running loss sums).
    /// </summary>
    /// <param name="rollout">A full buffer, e.g. from <see cref="Collect"/>.</param>
    /// <param name="lambda">The Lagrange multiplier λ ≥ 0.</param>
    /// <exception cref="ArgumentException">The buffer's sizes differ from the networks'.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite.</exception>
    /// <exception cref="InvalidOperationException">The buffer is not full or lacks a bootstrap value.</exception>
    /// <exception cref="TrainingDivergedException">A loss or the KL became NaN or infinite.</exception>
    public PpoLagUpdateMetrics Update(RolloutBuffer rollout, double lambda)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(rollout);
        if (!(double.IsFinite(lambda) && lambda >= 0))
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "λ must be finite and >= 0.");
        if (rollout.ObservationSize != _observationSize || rollout.ActionSize != _actionSize)
            throw new ArgumentException($"PPO-Lag: the rollout holds observations of {rollout.ObservationSize} and actions of {rollout.ActionSize} values; the networks expect {_observationSize} and {_actionSize}.", nameof(rollout));
        rollout.ComputeAdvantages(_options.Gamma, _options.GaeLambda, _options.CostGaeLambda);

        using var scope = NewDisposeScope();
        // λ changes every update: these scalars are owned here (not cached) and freed after the last native call.
        using var lambdaScalar = lambda.ToScalar();
        using var onePlusLambda = (1 + lambda).ToScalar();
        int rows = rollout.Capacity;
        var observations = ToDevice(rollout.Observations, rows, _observationSize);
        var actions = ToDevice(rollout.Actions, rows, _actionSize);
        var oldLogProbs = ToDevice(rollout.LogProbs, rows);
        var advantages = ToDevice(rollout.Advantages, rows);
        var costAdvantages = ToDevice(rollout.CostAdvantages, rows);
        var returns = ToDevice(rollout.Returns, rows);
        var costReturns = ToDevice(rollout.CostReturns, rows);
        if (_options.AdvantageNormalization == PpoLagAdvantageNormalization.OmniSafe)
        {
            // §8.3 OmniSafe: standardise A_r over the rollout; only centre A_c.
            advantages = (advantages - advantages.mean()) / (advantages.std().add(TorchScalars.Of(1e-8), TorchScalars.One));
            costAdvantages = costAdvantages - costAdvantages.mean();
        }
        Tensor oldMean, oldLogStd;
        using (no_grad())
        {
            oldMean = _actor.forward(observations);
            oldLogStd = _actor.LogStd.detach().clone();
        }

        var sums = zeros(4, ScalarType.Float32, _device); // actor loss, reward critic loss, cost critic loss, clip fraction
        if (_permutation.Length != rows) _permutation = Enumerable.Range(0, rows).ToArray();
        var indices = new long[rows];
        int epochs = 0, steps = 0;
        double[] read = new double[EpochScalarNames.Length];
        for (int epoch = 0; epoch < _options.UpdateEpochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            Shuffle(_permutation);
            for (int i = 0; i < rows; i++) indices[i] = _permutation[i];
            var order = tensor(indices, ScalarType.Int64).to(_device);
            for (int start = 0; start < rows; start += _options.MiniBatchSize)
            {
                using var stepScope = NewDisposeScope();
                var index = order.narrow(0, start, Math.Min(_options.MiniBatchSize, rows - start));
                var s = observations.index_select(0, index);
                var a = actions.index_select(0, index);

                // §8.5: value regression with OmniSafe's L2 penalty on the critic weights.
                var rewardLoss = ValueLoss(_rewardCritic, s, returns.index_select(0, index));
                GradientStep.Apply(_rewardOptimizer, rewardLoss, _options.MaxGradNorm, _rewardCritic.parameters());
                var costLoss = ValueLoss(_costCritic, s, costReturns.index_select(0, index));
                GradientStep.Apply(_costOptimizer, costLoss, _options.MaxGradNorm, _costCritic.parameters());

                // §8.4: clipped surrogate on the Lagrangian-combined advantage.
                var adv = advantages.index_select(0, index);
                var costAdv = costAdvantages.index_select(0, index);
                if (_options.AdvantageNormalization == PpoLagAdvantageNormalization.PerMiniBatch)
                {
                    adv = (adv - adv.mean()) / (adv.std().add(TorchScalars.Of(1e-8), TorchScalars.One));
                    costAdv = (costAdv - costAdv.mean()) / (costAdv.std().add(TorchScalars.Of(1e-8), TorchScalars.One));
                }
                var ratio = (_actor.LogProb(s, a) - oldLogProbs.index_select(0, index)).exp();
                var clippedRatio = ratio.clamp(TorchScalars.Of(1 - _options.ClipRatio), TorchScalars.Of(1 + _options.ClipRatio));
                var actorLoss = PolicyLoss(ratio, clippedRatio, adv, costAdv, lambda, _options.PolicyLoss);
                if (_options.EntropyCoefficient > 0) actorLoss = actorLoss - _actor.Entropy().mul(TorchScalars.Of(_options.EntropyCoefficient));
                GradientStep.Apply(_actorOptimizer, actorLoss, _options.MaxGradNorm, _actor.parameters());

                var clipFraction = (ratio.detach().sub(TorchScalars.One)).abs().gt(TorchScalars.Of(_options.ClipRatio)).to_type(ScalarType.Float32).mean();
                sums.add_(stack([actorLoss.detach(), rewardLoss.detach(), costLoss.detach(), clipFraction]), TorchScalars.One);
                steps++;
                _gradientSteps++;
            }
            epochs++;

            // KL(π_old ‖ π) of diagonal Gaussians, averaged over the rollout; read with the running sums in one transfer.
            Tensor kl, entropy;
            using (no_grad())
            {
                var mean = _actor.forward(observations);
                var logStd = _actor.LogStd;
                var perCoordinate = (logStd - oldLogStd).add((oldLogStd.mul(TorchScalars.Of(2)).exp().add((oldMean - mean).Squared(), TorchScalars.One)) / logStd.mul(TorchScalars.Of(2)).exp().mul(TorchScalars.Of(2)), TorchScalars.One).sub(TorchScalars.Of(0.5));
                kl = perCoordinate.sum(-1).mean();
                entropy = _actor.Entropy();
            }
            var averages = sums.div(TorchScalars.Of(steps));
            read = ScalarReadout.Read([kl, averages[0], averages[1], averages[2], averages[3], entropy], EpochScalarNames, Stage, _gradientSteps - 1, _lastMetrics);
            if (_options.TargetKl is { } target && read[0] > target) break;
        }

        var metrics = new PpoLagUpdateMetrics(_updates++, read[1], read[2], read[3], read[5], read[0], read[4], lambda, epochs, steps);
        _lastMetrics = metrics.ToDictionary();
        MarvelTelemetry.Publish(Stage, _lastMetrics);
        return metrics;
    }

    /// <summary>
    /// One iteration: <see cref="Collect"/>, update <paramref name="controller"/> once from the mean undiscounted episode cost of the episodes
    /// finished since its last update (none: λ unchanged), then <see cref="Update"/> with its λ.
    /// </summary>
    /// <param name="environment">The vector environment.</param>
    /// <param name="controller">Gives λ; fed with mean episode costs in task units.</param>
    /// <param name="cancellationToken">Checked between environment steps.</param>
    /// <exception cref="TrainingDivergedException">A loss became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public OnlineIterationResult RunIteration(IVectorEnvironment environment, ILagrangeController controller, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(controller);
        var budget = _feed.Budget(controller);
        _costLimit = budget.CostLimit;
        if (_options.LinearLearningRateDecayIterations > 0)
        {
            double fraction = Math.Max(0, 1 - (double)_iterations / _options.LinearLearningRateDecayIterations);
            ModuleState.SetLearningRate(_actorOptimizer, _options.ActorLearningRate * fraction);
        }
        var episodes = new List<EpisodeSummary>();
        var rollout = Collect(environment, episodes, cancellationToken);

        // The controller sees the mean undiscounted, unscaled episode cost, once per iteration.
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        double lambda = _feed.Feed(controller, episodes, metrics);
        ControllerFeed.Publish(Stage, episodes, budget);
        cancellationToken.ThrowIfCancellationRequested();
        var updateMetrics = Update(rollout, lambda).ToDictionary(); // published by Update
        metrics["environment_steps"] = _collector.EnvironmentSteps;
        MarvelTelemetry.Publish(Stage, metrics);
        foreach (var (name, value) in updateMetrics) metrics[name] = value;
        return new OnlineIterationResult(_iterations++, _collector.EnvironmentSteps, episodes, lambda, metrics);
    }

    /// <summary>
    /// Starts from an artifact written by a PPO-Lag learner (a Gaussian actor with state-independent σ and value networks); artifacts of
    /// Q-critic methods do not fit (use SAC-Lag for those). Loading is strict and all-or-nothing; optimizer moments are optional and the
    /// learning rates always come from these options.
    /// </summary>
    /// <exception cref="InvalidDataException">Sizes, kinds, hidden widths, activation, tensor shapes or optimizer states do not match.</exception>
    public void InitializeFrom(HandoverArtifact artifact, HandoverLoadOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(artifact);
        options ??= new HandoverLoadOptions();
        artifact.EnsureCompatible(_observationSize, _actionSize, Algorithm);
        CheckDescriptor(artifact, HandoverRoles.Actor, ActorKind, _options.ActorHiddenSizes, nameof(PpoLagOptions.ActorHiddenSizes));
        if (options.LoadsRewardCritic(artifact.Manifest))
            CheckDescriptor(artifact, HandoverRoles.RewardCritic, CriticKind, _options.CriticHiddenSizes, nameof(PpoLagOptions.CriticHiddenSizes));
        if (options.LoadsCostCritic(artifact.Manifest))
            CheckDescriptor(artifact, HandoverRoles.CostCritic, CriticKind, _options.CriticHiddenSizes, nameof(PpoLagOptions.CriticHiddenSizes));
        using var staging = new Generator(0);
        using var actor = new GaussianActor(_observationSize, _actionSize, _options.ActorHiddenSizes, _options.Activation, 0, staging);
        using var rewardCritic = NewValueNetwork(staging);
        using var costCritic = NewValueNetwork(staging);
        var states = HandoverLoad.Stage(artifact, options, actor, rewardCritic, costCritic);

        _actorOptimizer = HandoverLoad.Swap(actor, _actor, _device, _actorOptimizer, _options.ActorLearningRate, states.Actor, HandoverRoles.Actor);
        if (options.LoadsRewardCritic(artifact.Manifest))
            _rewardOptimizer = HandoverLoad.Swap(rewardCritic, _rewardCritic, _device, _rewardOptimizer, _options.CriticLearningRate, states.RewardCritic, HandoverRoles.RewardCritic);
        if (options.LoadsCostCritic(artifact.Manifest))
            _costOptimizer = HandoverLoad.Swap(costCritic, _costCritic, _device, _costOptimizer, _options.CriticLearningRate, states.CostCritic, HandoverRoles.CostCritic);
    }

    /// <summary>Exports actor, reward and cost value networks with their Adam states and a manifest.</summary>
    public HandoverArtifact ExportHandover()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string activation = _options.Activation.ToString();
        var manifest = HandoverExport.Manifest(Algorithm, _context, null, _gradientSteps, _costLimit, _options.Gamma, _options.RewardScale, _options.CostScale,
            HandoverExport.OptionsJson(_options), null);
        return HandoverExport.Create(manifest,
            new(HandoverRoles.Actor, new(ActorKind, _options.ActorHiddenSizes.ToArray(), 1, activation), _actor, _actorOptimizer),
            new(HandoverRoles.RewardCritic, new(CriticKind, _options.CriticHiddenSizes.ToArray(), 1, activation), _rewardCritic, _rewardOptimizer),
            new(HandoverRoles.CostCritic, new(CriticKind, _options.CriticHiddenSizes.ToArray(), 1, activation), _costCritic, _costOptimizer));
    }

    /// <summary>Frees the networks, optimizers and generators.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _policy.Dispose();
        _inputCache?.Dispose();
        _actorOptimizer.Dispose();
        _rewardOptimizer.Dispose();
        _costOptimizer.Dispose();
        _actor.Dispose();
        _rewardCritic.Dispose();
        _costCritic.Dispose();
        _explorationNoise.Dispose();
    }

    // ---- collection helpers ------------------------------------------------------------------------------------------

    private Tensor? _inputCache;

    private RolloutBuffer Attach(IVectorEnvironment environment)
    {
        if (_collector.IsAttached(environment) && _rollout is not null) return _rollout;
        _collector.Attach(environment);
        int n = environment.Count;
        int steps = (_options.StepsPerIteration + n - 1) / n;
        _rollout = new RolloutBuffer(steps, n, _observationSize, _actionSize);
        _packed = new float[n * (_actionSize + 3)];
        _environmentActions = new float[n * _actionSize];
        return _rollout;
    }

    /// <summary>Writes [action (or μ) | log π | V_r | V_c] per row of <paramref name="observations"/> into <see cref="_packed"/>.</summary>
    private void Evaluate(ReadOnlySpan<float> observations, int batch, bool sample)
    {
        if (_inputCache is null || _inputCache.shape[0] != batch)
        {
            _inputCache?.Dispose();
            _inputCache = zeros(batch, _observationSize).DetachFromDisposeScope();
        }
        _inputCache.data<float>().CopyFrom(observations);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = _device.type == DeviceType.CPU ? _inputCache : _inputCache.to(_device);
        Tensor action, logProb;
        if (sample) (action, logProb) = _actor.Sample(input, _explorationNoise);
        else (action, logProb) = (_actor.forward(input), zeros(batch, device: _device));
        var packed = cat([action, logProb.unsqueeze(1), _rewardCritic.forward(input), _costCritic.forward(input)], 1).cpu();
        if (_packed.Length < batch * (_actionSize + 3)) _packed = new float[batch * (_actionSize + 3)];
        packed.data<float>().CopyTo(_packed.AsSpan(0, batch * (_actionSize + 3)));
    }

    private void BootstrapFinalObservations(IVectorEnvironment environment, RolloutBuffer rollout, List<int> truncated)
    {
        var finals = new float[truncated.Count * _observationSize];
        for (int k = 0; k < truncated.Count; k++)
            environment.FinalObservation(truncated[k]).CopyTo(finals.AsSpan(k * _observationSize, _observationSize));
        Evaluate(finals, truncated.Count, sample: false);
        for (int k = 0; k < truncated.Count; k++)
            rollout.SetBootstrap(truncated[k], _packed[k * (_actionSize + 3) + _actionSize + 1], _packed[k * (_actionSize + 3) + _actionSize + 2]);
    }

    private Tensor ActorForward(Tensor observations, bool deterministic)
    {
        if (deterministic) return _actor.forward(observations);
        var (action, _) = _actor.Sample(observations, _explorationNoise);
        return action;
    }

    // ---- update helpers ----------------------------------------------------------------------------------------------

    /// <summary>
    /// §8.4 as a pure function. OmniSafe: −mean(min(ρÂ, clip(ρ)Â)) with Â = (A_r − λA_c)/(1 + λ). FSRL:
    /// (−mean(min(ρA_r, clip(ρ)A_r)) + λ·mean(ρA_c))/(1 + λ), the cost surrogate unclipped.
    /// </summary>
    /// <param name="ratio">ρ = π_θ(a|s)/π_old(a|s), [batch].</param>
    /// <param name="clippedRatio">clip(ρ, 1 − ε, 1 + ε), [batch].</param>
    /// <param name="advantages">A_r, [batch].</param>
    /// <param name="costAdvantages">A_c, [batch].</param>
    /// <param name="lambda">λ ≥ 0.</param>
    /// <param name="form">Which loss.</param>
    internal static Tensor PolicyLoss(Tensor ratio, Tensor clippedRatio, Tensor advantages, Tensor costAdvantages, double lambda, PpoLagPolicyLoss form)
    {
        // λ changes every update: its scalars are owned here (not cached) and freed after the last native call that reads them.
        using var lambdaScalar = lambda.ToScalar();
        using var onePlusLambda = (1.0 + lambda).ToScalar();
        if (form == PpoLagPolicyLoss.OmniSafe)
        {
            var combined = (advantages - costAdvantages.mul(lambdaScalar)).div(onePlusLambda);
            return -minimum(ratio * combined, clippedRatio * combined).mean();
        }
        return (-minimum(ratio * advantages, clippedRatio * advantages).mean()).add((ratio * costAdvantages).mean().mul(lambdaScalar), TorchScalars.One).div(onePlusLambda);
    }

    private Tensor ValueLoss(Mlp critic, Tensor observations, Tensor target)
    {
        var loss = (critic.forward(observations).squeeze(-1) - target).Squared().mean();
        if (_options.CriticL2Coefficient > 0)
        {
            foreach (var p in critic.parameters()) loss = loss.add(p.Squared().sum().mul(TorchScalars.Of(_options.CriticL2Coefficient)), TorchScalars.One);
        }
        return loss;
    }

    private Tensor ToDevice(ReadOnlySpan<float> values, params long[] shape) => TorchInputs.Float32(values, shape, _device);

    private void Shuffle(int[] values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = _shuffle.NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    private Mlp NewValueNetwork(Generator generator) =>
        new(new[] { _observationSize }.Concat(_options.CriticHiddenSizes).Append(1).ToArray(), _options.Activation, Activation.Identity, generator);

    private void CheckDescriptor(HandoverArtifact artifact, string role, string kind, int[] hidden, string hiddenOption)
    {
        if (!artifact.Manifest.Networks.TryGetValue(role, out var d))
            throw new InvalidDataException($"PPO-Lag: the handover artifact from '{artifact.Manifest.Algorithm}' has no '{role}' network. It has: {string.Join(", ", artifact.Manifest.Networks.Keys)}.");
        if (!string.Equals(d.Kind, kind, StringComparison.Ordinal))
            throw new InvalidDataException($"PPO-Lag: the artifact's '{role}' is a '{d.Kind}', but PPO-Lag needs a '{kind}'. Artifacts of Q-critic methods fit SAC-Lag; pass LoadCritics = false to take only a Gaussian actor.");
        if (!d.HiddenSizes.AsSpan().SequenceEqual(hidden))
            throw new InvalidDataException($"PPO-Lag: the artifact's '{role}' has hidden sizes [{string.Join(", ", d.HiddenSizes)}] but {hiddenOption} is [{string.Join(", ", hidden)}]. Set {hiddenOption} to the artifact's sizes.");
        if (!string.Equals(d.Activation, _options.Activation.ToString(), StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"PPO-Lag: the artifact's '{role}' uses activation '{d.Activation}' but Activation is '{_options.Activation}'.");
    }
}

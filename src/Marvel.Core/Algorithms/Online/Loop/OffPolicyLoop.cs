using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Abstractions.Telemetry;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Data;

namespace Marvel.Core.Algorithms.Online.Loop;

/// <summary>
/// What an off-policy learner gives <see cref="OffPolicyLoop"/>: actions in its actor's [−1, 1] space (mapped onto the action box by the
/// loop), its critics' values (for the policy set's scores and cost guard), and one gradient step on a batch. The learner keeps its networks,
/// optimizers and generators.
/// </summary>
internal interface IOffPolicyAgent
{
    /// <summary>The telemetry stage, e.g. "online/SAC-Lag".</summary>
    string Stage { get; }

    /// <summary>Writes a stochastic action in [−1, 1] for each of the first <paramref name="count"/> rows of <paramref name="observations"/>.</summary>
    void Act(float[] observations, int count, float[] actions);

    /// <summary>Whether a fallback policy is kept for the policy set (the loop then lets it act where it scores higher).</summary>
    bool HasFallback { get; }

    /// <summary>The fallback policy's deterministic actions in [−1, 1] for <paramref name="observations"/> [B, obs] on the learner's device.</summary>
    Tensor FallbackActions(Tensor observations);

    /// <summary>The reward critic's value of each row, min_j Q_r,j(s, a), [B] (in the critic's units); the policy set scores
    /// min_j Q_r,j − λ·<see cref="CostValue"/>.</summary>
    Tensor RewardValue(Tensor observations, Tensor actions);

    /// <summary>Whether the loop should hold λ this iteration: the agent's actor has not been updated yet (it is still the policy it started
    /// with), so a controller fed now would integrate cost its actuator cannot answer (anti-windup). False for agents that never hold.</summary>
    bool HoldsLambda { get; }

    /// <summary>The agent's cost guard for <paramref name="budget"/> (<see cref="CostGuard"/>), or null when it does not guard.</summary>
    CostGuard? CostGuardFor(CostBudget budget);

    /// <summary>The cost critic's value of each row, Q_c(s, a), [B] (in the critic's units).</summary>
    Tensor CostValue(Tensor observations, Tensor actions);

    /// <summary>Gradient steps taken so far.</summary>
    long UpdateCount { get; }

    /// <summary>When the loop raises λ to <see cref="CostNeutralLambda"/> before the actor's first update: that update's number (0-based, in
    /// <see cref="UpdateCount"/>) and the cap on the raised λ; null when it does not.</summary>
    (long FirstActorUpdate, double Cap)? CostNeutralLambdaPlan { get; }

    /// <summary>The smallest λ ≥ 0 at which the actor's gradient step on <paramref name="batch"/>'s states does not, to first order, raise the
    /// cost critic's value of the actor's actions (uncapped; 0 when the cost critic's gradient vanishes).</summary>
    double CostNeutralLambda(TransitionBatch batch);

    /// <summary>One gradient step on <paramref name="batch"/> with multiplier <paramref name="lambda"/>; returns its scalars by name.</summary>
    IReadOnlyDictionary<string, double> Update(TransitionBatch batch, double lambda);
}

/// <summary>
/// A policy set's cost guard. Above <paramref name="Threshold"/> (in the cost critic's units) an online action gives way to a fallback action
/// the cost critic rates lower, whatever the score says. Each such step charges the controller <paramref name="ChargePerValue"/> × (Q_c(s, a_online)
/// − Q_c(s, a_fallback)) of episode cost, spread over the episodes it feeds: the cost the critic expects the online actor would have added,
/// which the executed episodes no longer show. 0 charges nothing.
/// </summary>
internal readonly record struct CostGuard(double Threshold, double ChargePerValue);

/// <summary>The schedule and data settings of an <see cref="OffPolicyLoop"/> (copied from the learner's options).</summary>
/// <param name="EpisodesPerIteration">Episodes to finish per iteration, or null to collect <paramref name="StepsPerIteration"/> transitions.</param>
/// <param name="StepsPerIteration">Transitions per iteration when <paramref name="EpisodesPerIteration"/> is null.</param>
/// <param name="ReplayCapacity">Transitions the replay buffer keeps.</param>
/// <param name="WarmupSteps">Transitions the replay buffer must hold before the first gradient step (at least 1).</param>
/// <param name="UpdatesPerIteration">Batches drawn per iteration.</param>
/// <param name="BatchSize">Rows per batch.</param>
/// <param name="MiniBatches">Gradient steps per batch (consecutive slices of it).</param>
/// <param name="OfflineDataFraction">Share of each batch drawn from the attached offline data.</param>
/// <param name="RewardScale">Factor on the rewards of every sampled batch (the replay stores them raw).</param>
/// <param name="CostScale">Factor on the costs of every sampled batch (the replay stores them raw).</param>
internal sealed record OffPolicyLoopSettings(int? EpisodesPerIteration, int StepsPerIteration, int ReplayCapacity, int WarmupSteps, int UpdatesPerIteration,
    int BatchSize, int MiniBatches, double OfflineDataFraction, double RewardScale, double CostScale)
{
    /// <summary>The scales as the one scaler applies them.</summary>
    public RewardCostScales Scales => new(RewardScale, CostScale);
}

/// <summary>
/// The off-policy training loop, shared by off-policy learners: collection on a vector environment (episodes continue across iterations,
/// a truncated transition keeps the final observation as next observation), the replay buffer, offline-data mixing, warm-up before the
/// first update, the policy set's choice between the online and the fallback action, feeding the controller once per iteration, the
/// iteration's metrics, and the loop's part of a checkpoint. The learner (<see cref="IOffPolicyAgent"/>) keeps its update and its state.
/// </summary>
internal sealed class OffPolicyLoop : IDisposable
{
    private readonly OffPolicyLoopSettings _settings;
    private readonly int _observationSize;
    private readonly int _actionSize;
    private readonly Device _device;
    private readonly RandomSource _replayRandom;
    private readonly EpisodeCollector _collector;
    private readonly ControllerFeed _feed;
    private ReplayBuffer? _replay;
    private ReplayBuffer? _offlineData;
    private MixedTransitionSampler? _mixedSampler;
    private float[] _squashedActions = [];
    private float[] _environmentActions = [];
    private Tensor? _policySetObservations, _policySetActions; // libtorch-owned inputs of the policy-set scoring
    private long _fallbackActions, _collectedActions, _guardedActions; // per iteration, for the fallback_share and cost_guard_share metrics
    private double _guardCharge;      // episode cost the cost guard charges the controller, until the next iteration that feeds it (CostGuard)
    private long _iterations;

    /// <summary>Creates the loop of one learner.</summary>
    /// <param name="algorithm">The learner's name, for messages.</param>
    /// <param name="settings">Schedule and data settings.</param>
    /// <param name="observationSize">Observation size.</param>
    /// <param name="actionSize">Action size.</param>
    /// <param name="device">Where batches are sampled to.</param>
    /// <param name="replayRandom">Draws the replay rows (owned by the learner's seed streams; its state is part of the checkpoint).</param>
    /// <param name="environmentSeed">Root of the environment reset seeds.</param>
    /// <param name="context">The learner's context, whose run budget every controller must agree with; null without a run (tests).</param>
    public OffPolicyLoop(string algorithm, OffPolicyLoopSettings settings, int observationSize, int actionSize, Device device, RandomSource replayRandom,
        ulong environmentSeed, LearnerContext? context = null)
    {
        _feed = new ControllerFeed(context);
        _settings = settings;
        _observationSize = observationSize;
        _actionSize = actionSize;
        _device = device;
        _replayRandom = replayRandom;
        _collector = new EpisodeCollector(algorithm, observationSize, actionSize, environmentSeed);
    }

    /// <summary>The replay buffer (null before the first iteration).</summary>
    public ReplayBuffer? Replay => _replay;

    /// <summary>The attached offline transitions as stored (raw rewards and costs, actions in [−1, 1]), or null.</summary>
    public ReplayBuffer? OfflineData => _offlineData;

    /// <summary>[min, max] of the raw rewards and costs stored so far (replay and offline data), 0 included; part of the checkpoint.</summary>
    public StoredRange StoredRange { get; private set; }

    /// <summary><see cref="StoredRange"/> in the critics' units (scaled as sampled batches are).</summary>
    public StoredRange ScaledRange => _settings.Scales.Apply(StoredRange);

    /// <summary>Environment transitions collected so far.</summary>
    public long EnvironmentSteps => _collector.EnvironmentSteps;

    /// <summary>Episode cost the cost guard has charged and not yet fed to the controller (<see cref="CostGuard"/>); part of the checkpoint.</summary>
    public double GuardCharge => _guardCharge;

    /// <summary>The cost limit of the controller of the latest iteration.</summary>
    public double CostLimit { get; private set; }

    /// <summary>
    /// One iteration: collect (<see cref="OffPolicyLoopSettings.EpisodesPerIteration"/> episodes, or
    /// <see cref="OffPolicyLoopSettings.StepsPerIteration"/> transitions) with the agent's stochastic actions or the policy set, feed the
    /// controller once, publish the episodes, then <see cref="OffPolicyLoopSettings.UpdatesPerIteration"/> ×
    /// <see cref="OffPolicyLoopSettings.MiniBatches"/> gradient steps once the replay buffer holds the warm-up.
    /// </summary>
    public OnlineIterationResult RunIteration(IOffPolicyAgent agent, IVectorEnvironment environment, ILagrangeController controller, CancellationToken cancellationToken)
    {
        var iteration = BeginIteration(agent, environment, controller, cancellationToken);
        if (iteration.Sampler is not null)
        {
            for (int u = 0; u < _settings.UpdatesPerIteration; u++)
            {
                using var batch = SampleBatch(iteration);
                for (int m = 0; m < _settings.MiniBatches; m++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    Record(iteration, agent.Update(MiniBatch(batch, m), iteration.Lambda));
                }
            }
        }
        return EndIteration(agent, iteration);
    }

    /// <summary>The schedule and data settings.</summary>
    public OffPolicyLoopSettings Settings => _settings;

    /// <summary>
    /// The first part of <see cref="RunIteration"/>: collection, the controller's update and the episodes' telemetry; then, once the replay
    /// buffer holds the warm-up, the sampler of the iteration's batches (and the cost-neutral λ when the agent plans it). The gradient steps
    /// follow with <see cref="SampleBatch"/>, <see cref="MiniBatch"/> and <see cref="Record"/>, and <see cref="EndIteration"/> closes it;
    /// <see cref="RunIteration"/> does exactly this, and a caller that steps several agents' updates together does the same per agent.
    /// </summary>
    public PendingIteration BeginIteration(IOffPolicyAgent agent, IVectorEnvironment environment, ILagrangeController controller, CancellationToken cancellationToken)
    {
        if (_collector.Attach(environment))
        {
            _squashedActions = new float[environment.Count * _actionSize];
            _environmentActions = new float[environment.Count * _actionSize];
        }
        _replay ??= new ReplayBuffer(_settings.ReplayCapacity, _observationSize, _actionSize);
        var budget = _feed.Budget(controller);
        CostLimit = budget.CostLimit;

        var episodes = new List<EpisodeSummary>();
        double collectionLambda = controller.Lambda;
        bool holdLambda = agent.HoldsLambda;   // decided before collection: the episodes below come from an actor no update has changed
        CostGuard? guard = agent.HasFallback ? agent.CostGuardFor(budget) : null;
        _fallbackActions = _collectedActions = _guardedActions = 0;
        if (_settings.EpisodesPerIteration is int episodesPerIteration)
        {
            while (episodes.Count < episodesPerIteration)
            {
                cancellationToken.ThrowIfCancellationRequested();
                CollectStep(agent, episodes, collectionLambda, guard);
            }
        }
        else
        {
            int collected = 0;
            while (collected < _settings.StepsPerIteration)
            {
                cancellationToken.ThrowIfCancellationRequested();
                collected += CollectStep(agent, episodes, collectionLambda, guard);
            }
        }

        // The controller sees the mean undiscounted, unscaled episode cost, once per iteration.
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        bool feeds = episodes.Count > 0 || _feed.Pending.Count > 0;
        double lambda = _feed.Feed(controller, episodes, metrics, _guardCharge, holdLambda);
        if (feeds) _guardCharge = 0;
        ControllerFeed.Publish(agent.Stage, episodes, budget);

        ITransitionSampler? sampler = null;
        if (_replay.Count >= Math.Max(_settings.WarmupSteps, 1))
        {
            sampler = _replay;
            if (_offlineData is not null && _settings.OfflineDataFraction > 0)
            {
                if (_mixedSampler is null || !ReferenceEquals(_mixedSampler.Primary, _replay))
                    _mixedSampler = new MixedTransitionSampler(_replay, _offlineData, _settings.OfflineDataFraction);
                sampler = _mixedSampler;
            }
            lambda = RaiseToCostNeutralLambda(agent, controller, sampler, lambda, metrics);
        }
        return new PendingIteration(episodes, metrics, lambda, sampler, guard);
    }

    /// <summary>The next batch of <paramref name="iteration"/> (<see cref="OffPolicyLoopSettings.BatchSize"/> rows, raw rewards and costs),
    /// drawn with the loop's replay sampler; its <see cref="OffPolicyLoopSettings.MiniBatches"/> slices are the gradient steps' batches.</summary>
    public TransitionBatch SampleBatch(PendingIteration iteration) =>
        (iteration.Sampler ?? throw new InvalidOperationException("The replay buffer is still warming up; this iteration has no batches."))
            .Sample(_settings.BatchSize, _replayRandom, _device);

    /// <summary>
    /// Mini-batch <paramref name="index"/> of <paramref name="batch"/>, scaled. Rows are i.i.d. draws with replacement, so consecutive slices
    /// are already shuffled mini-batches. The one scaling point: the replay and the offline data hold raw rewards and costs; the update sees
    /// them scaled (both halves of a mixed batch once).
    /// </summary>
    public TransitionBatch MiniBatch(TransitionBatch batch, int index)
    {
        int miniBatch = _settings.BatchSize / _settings.MiniBatches;
        return _settings.Scales.Apply(Slice(batch, index * miniBatch, miniBatch));
    }

    /// <summary>Adds one gradient step's scalars to <paramref name="iteration"/>'s means.</summary>
    public static void Record(PendingIteration iteration, IReadOnlyDictionary<string, double> values)
    {
        foreach (var (name, value) in values)
            iteration.Sums[name] = iteration.Sums.GetValueOrDefault(name) + value;
        iteration.Steps++;
    }

    /// <summary>Closes <paramref name="iteration"/>: publishes the loop's metrics and returns the iteration's result.</summary>
    public OnlineIterationResult EndIteration(IOffPolicyAgent agent, PendingIteration iteration)
    {
        var metrics = iteration.Metrics;
        int steps = iteration.Steps;
        metrics["gradient_steps"] = steps;
        if (agent.HasFallback) metrics["fallback_share"] = _collectedActions == 0 ? 0 : (double)_fallbackActions / _collectedActions;
        if (iteration.Guard is not null) metrics["cost_guard_share"] = _collectedActions == 0 ? 0 : (double)_guardedActions / _collectedActions;
        metrics["environment_steps"] = _collector.EnvironmentSteps;
        MarvelTelemetry.Publish(agent.Stage, metrics); // per-update scalars were published by the agent's update
        foreach (var (name, sum) in iteration.Sums) metrics[name] = sum / steps;
        metrics["lambda"] = iteration.Lambda;
        return new OnlineIterationResult(_iterations++, _collector.EnvironmentSteps, iteration.Episodes, iteration.Lambda, metrics);
    }

    /// <summary>
    /// Before the iteration whose gradient steps include the actor's first one, raises the controller's λ to the agent's cost-neutral λ (on one
    /// batch drawn as the updates draw theirs, capped) when that is above <paramref name="lambda"/>; writes controller/cost_neutral_lambda (the
    /// uncapped value). Returns the λ the iteration's updates use.
    /// </summary>
    /// <exception cref="InvalidOperationException">The agent asks for it but the controller cannot be warm-started.</exception>
    private double RaiseToCostNeutralLambda(IOffPolicyAgent agent, ILagrangeController controller, ITransitionSampler sampler, double lambda,
        Dictionary<string, double> metrics)
    {
        if (agent.CostNeutralLambdaPlan is not { } plan) return lambda;
        long first = agent.UpdateCount, steps = (long)_settings.UpdatesPerIteration * _settings.MiniBatches;
        if (plan.FirstActorUpdate < first || plan.FirstActorUpdate >= first + steps) return lambda;
        if (controller is not ILagrangeWarmStart warm)
        {
            throw new InvalidOperationException(
                $"{agent.Stage}: CostNeutralFirstLambda sets λ at the actor's first update, but the controller ({controller.GetType().Name}) cannot " +
                "be warm-started (it does not implement ILagrangeWarmStart). Use the aPID, PID or dual-ascent controller, or turn the option off.");
        }
        using var scope = NewDisposeScope();
        using var batch = sampler.Sample(_settings.BatchSize, _replayRandom, _device);
        double neutral = agent.CostNeutralLambda(_settings.Scales.Apply(batch));
        metrics["controller/cost_neutral_lambda"] = neutral;
        double raised = Math.Min(neutral, plan.Cap);
        if (raised <= lambda) return lambda;
        warm.WarmStart(raised);
        return controller.Lambda;
    }

    /// <summary>
    /// Stores <paramref name="dataset"/> as the offline share of every batch: actions mapped from <paramref name="actionSpace"/> into [−1, 1]
    /// (clipped there), rewards and costs raw, as online transitions are (sampled batches are scaled). Replaces an earlier one.
    /// </summary>
    /// <returns>[min, max] of the dataset's rewards and costs in the critics' units (scaled), 0 included.</returns>
    public StoredRange AttachOfflineData(OfflineDataset dataset, BoxSpace actionSpace)
    {
        var buffer = new ReplayBuffer(dataset.Count, _observationSize, _actionSize);
        var squashed = new float[_actionSize];
        var datasetRange = new StoredRange();
        for (int i = 0; i < dataset.Count; i++)
        {
            ActionMapping.BoxToSquashed(dataset.Actions.Slice(i * _actionSize, _actionSize), actionSpace, squashed);
            buffer.Add(dataset.Observations.Slice(i * _observationSize, _observationSize), squashed, dataset.Rewards[i],
                dataset.Costs[i], dataset.NextObservations.Slice(i * _observationSize, _observationSize), dataset.Terminals[i], dataset.Timeouts[i]);
            StoredRange = StoredRange.Include(dataset.Rewards[i], dataset.Costs[i]);
            datasetRange = datasetRange.Include(dataset.Rewards[i], dataset.Costs[i]);
        }
        _offlineData = buffer;
        _mixedSampler = null;
        return _settings.Scales.Apply(datasetRange);
    }

    /// <summary>One vector step with the agent's stochastic actions (or the policy set); stores every transition; returns the number of transitions.</summary>
    private int CollectStep(IOffPolicyAgent agent, List<EpisodeSummary> episodes, double lambda, CostGuard? guard)
    {
        var env = _collector.Environment!;
        int n = env.Count;
        var observations = _collector.Observations;
        agent.Act(observations, n, _squashedActions);
        if (agent.HasFallback) ChoosePolicySetActions(agent, observations, n, lambda, guard);
        ActionMapping.SquashedToBox(_squashedActions, env.ActionSpace, _environmentActions);
        _collector.Step(_environmentActions);
        for (int i = 0; i < n; i++)
        {
            var result = _collector.Results[i];
            // After an episode ends the returned row is the next episode's first observation; bootstrap from the final one.
            var next = result.EpisodeEnded ? env.FinalObservation(i) : _collector.NextObservations.AsSpan(i * _observationSize, _observationSize);
            _replay!.Add(observations.AsSpan(i * _observationSize, _observationSize), _squashedActions.AsSpan(i * _actionSize, _actionSize),
                (float)result.Reward, (float)result.Cost, next, result.Terminated, result.Truncated);
            StoredRange = StoredRange.Include((float)result.Reward, (float)result.Cost);
        }
        _collector.Advance(episodes);
        return n;
    }

    /// <summary>
    /// The policy set: replaces each row of the online actions by the fallback policy's deterministic action where that one scores higher
    /// under the agent's min_j Q_r − λ·Q_c, and, with a cost guard, also where the cost critic rates the online action above
    /// the guard's threshold and above the fallback's action (charging the guard's cost, <see cref="CostGuard"/>).
    /// </summary>
    private void ChoosePolicySetActions(IOffPolicyAgent agent, float[] observations, int n, double lambda, CostGuard? guard)
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
        _policySetActions!.data<float>().CopyFrom(_squashedActions.AsSpan(0, n * _actionSize));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var s = _device.type == DeviceType.CPU ? _policySetObservations : _policySetObservations.to(_device);
        var online = _device.type == DeviceType.CPU ? _policySetActions : _policySetActions.to(_device);
        var fallback = agent.FallbackActions(s);
        var lambdaTensor = tensor(lambda, ScalarType.Float32, _device);
        // Each critic is evaluated once per action; the score and the cost guard share the cost values.
        var fallbackCost = agent.CostValue(s, fallback);
        var onlineCost = agent.CostValue(s, online);
        var fallbackScore = agent.RewardValue(s, fallback).sub(fallbackCost.mul(lambdaTensor));
        var onlineScore = agent.RewardValue(s, online).sub(onlineCost.mul(lambdaTensor));
        var useFallback = fallbackScore.gt(onlineScore);
        if (guard is { } g)
        {
            using var threshold = g.Threshold.ToScalar();   // disposed here, not finalized on another thread while libtorch reads it
            var guarded = onlineCost.gt(threshold).logical_and(fallbackCost.lt(onlineCost)).logical_and(useFallback.logical_not());
            useFallback = useFallback.logical_or(guarded);
            using var guardedCount = guarded.sum().cpu();
            _guardedActions += guardedCount.data<long>()[0];
            if (g.ChargePerValue > 0)
            {
                using var excess = onlineCost.sub(fallbackCost).mul(guarded).sum().to_type(ScalarType.Float64).cpu();
                _guardCharge += g.ChargePerValue * excess.data<double>()[0];
            }
        }
        var chosen = where(useFallback.unsqueeze(1), fallback, online).cpu();
        chosen.data<float>().CopyTo(_squashedActions.AsSpan(0, n * _actionSize));
        using var count = useFallback.sum().cpu();
        _fallbackActions += count.data<long>()[0];
        _collectedActions += n;
    }

    private static TransitionBatch Slice(TransitionBatch batch, int start, int length) => new(
        batch.Observations.narrow(0, start, length), batch.Actions.narrow(0, start, length), batch.Rewards.narrow(0, start, length),
        batch.Costs.narrow(0, start, length), batch.NextObservations.narrow(0, start, length), batch.Terminated.narrow(0, start, length),
        batch.Truncated.narrow(0, start, length));

    // ---- checkpoint ------------------------------------------------------------------------------------------------

    /// <summary>The file of the replay buffer in a checkpoint folder.</summary>
    public const string ReplayFile = "replay.bin";

    /// <summary>Writes the replay buffer (with its cursor) into <paramref name="directory"/> and returns the loop's scalar state.</summary>
    public OffPolicyLoopState Save(string directory)
    {
        if (_replay is not null)
            using (var f = File.Create(Path.Combine(directory, ReplayFile))) _replay.Save(f);
        return new OffPolicyLoopState(_iterations, _collector.EnvironmentSteps, CostLimit, _collector.Resets, _replayRandom.GetState(), _replay is not null,
            _collector.PendingObservations, _feed.Pending.ToArray(), StoredRange, _guardCharge);
    }

    /// <summary>Restores the loop's part of a checkpoint: the replay buffer from <paramref name="directory"/> and the scalar state; the next
    /// <see cref="RunIteration"/> continues from the pending observations on an environment restored beside the learner.</summary>
    /// <exception cref="InvalidDataException">A file is missing or corrupt.</exception>
    public void Load(string algorithm, string directory, OffPolicyLoopState state, string statePath)
    {
        _guardCharge = state.GuardCharge;
        _collector.Restore(state.PendingObservations, state.EnvironmentResets, state.EnvironmentSteps, statePath);
        if (state.HasReplay)
        {
            _replay ??= new ReplayBuffer(_settings.ReplayCapacity, _observationSize, _actionSize);
            var path = LearnerCheckpoint.RequireFile(algorithm, directory, ReplayFile);
            using var f = File.OpenRead(path);
            _replay.Load(f, path);
        }
        else _replay = null;
        _replayRandom.Restore(state.ReplayRandom ?? throw new InvalidDataException($"'{statePath}' has no replay sampler state."));
        _iterations = state.Iterations;
        CostLimit = state.CostLimit;
        _feed.Restore(state.EpisodesSinceControllerUpdate);
        StoredRange = state.StoredRange;
    }

    /// <summary>Frees the policy set's input tensors.</summary>
    public void Dispose()
    {
        _policySetObservations?.Dispose();
        _policySetActions?.Dispose();
    }
}

/// <summary>An <see cref="OffPolicyLoop"/> iteration between its collection and its end: the finished episodes, the metrics so far, the λ
/// of its gradient steps, the sampler of its batches (null while the replay buffer warms up) and the running sums of the steps' scalars.</summary>
internal sealed class PendingIteration(List<EpisodeSummary> episodes, Dictionary<string, double> metrics, double lambda, ITransitionSampler? sampler, CostGuard? guard)
{
    public List<EpisodeSummary> Episodes { get; } = episodes;
    public Dictionary<string, double> Metrics { get; } = metrics;
    public double Lambda { get; } = lambda;
    public ITransitionSampler? Sampler { get; } = sampler;
    public CostGuard? Guard { get; } = guard;
    public Dictionary<string, double> Sums { get; } = new(StringComparer.Ordinal);
    public int Steps { get; set; }
}

/// <summary>The scalar part of an <see cref="OffPolicyLoop"/>'s checkpoint (the learner writes it into its own state file).</summary>
internal sealed record OffPolicyLoopState(long Iterations, long EnvironmentSteps, double CostLimit, int EnvironmentResets, RandomSourceState? ReplayRandom,
    bool HasReplay, float[]? PendingObservations, EpisodeSummary[]? EpisodesSinceControllerUpdate, StoredRange StoredRange, double GuardCharge = 0);

/// <summary>Running [min, max] of the per-step rewards and costs a learner has stored (raw; <see cref="RewardCostScales.Apply(StoredRange)"/>
/// gives the critics' units), 0 included (a value, so checkpoints copy it).</summary>
internal readonly record struct StoredRange(bool Any, float RewardMin, float RewardMax, float CostMin, float CostMax)
{
    public StoredRange Include(float reward, float cost) => Any
        ? new(true, Math.Min(RewardMin, reward), Math.Max(RewardMax, reward), Math.Min(CostMin, cost), Math.Max(CostMax, cost))
        : new(true, Math.Min(0f, reward), Math.Max(0f, reward), Math.Min(0f, cost), Math.Max(0f, cost));

    /// <summary>The value bounds [min, max]·horizon for rewards and costs as scalar tensors on <paramref name="device"/>.</summary>
    public (Tensor RewardLow, Tensor RewardHigh, Tensor CostLow, Tensor CostHigh) Bounds(double horizon, Device device) =>
        (tensor(RewardMin * horizon, ScalarType.Float32, device), tensor(RewardMax * horizon, ScalarType.Float32, device),
         tensor(CostMin * horizon, ScalarType.Float32, device), tensor(CostMax * horizon, ScalarType.Float32, device));

    /// <summary>The range as [reward min, reward max, cost min, cost max], or null when nothing was stored (the checkpoint's form).</summary>
    public float[]? ToArray() => Any ? [RewardMin, RewardMax, CostMin, CostMax] : null;

    /// <summary>The range from <see cref="ToArray"/>'s form.</summary>
    public static StoredRange FromArray(float[]? values) => values is { Length: 4 } r ? new StoredRange(true, r[0], r[1], r[2], r[3]) : default;
}

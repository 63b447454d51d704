using System.Globalization;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;

namespace Marvel.Core.Alignment;

/// <summary>
/// Marvel's Value Pre-Alignment (VPA, marvel.md §2): before online finetuning, re-fit the reward and cost critics of a handover
/// artifact to the values of the artifact's own, frozen policy π_off by fitted policy evaluation on offline transitions.
/// </summary>
/// <remarks>
/// <para>Offline critics were trained under the offline method's objective (CPQ's out-of-distribution cost penalty and gated reward
/// backup, BEAR-Lag's pessimism) and see few costly transitions, so their values are not what SAC-Lag's Bellman operator expects for
/// the handed-over policy. VPA drives Q_r → Q_r^π_off and Q_c → Q_c^π_off, so finetuning starts from critics that evaluate the
/// policy it starts from.</para>
/// <para>One call draws B transitions (s, a, r, c, s′) and splits them into M mini-batches; on each, with a′ ~ π_off(·|s′) from the
/// frozen actor and Q̄ the target critics (no gradient):
/// y_r = κ_r·r + γ(1 − d)·min_j Q̄_r,j(s′, a′) [− α·log π_off(a′|s′) in Soft mode],
/// y_c = κ_c·c + γ(1 − d)·reduce_k Q̄_c,k(s′, a′);
/// one Adam step on Σ_j mean((Q_r,j(s, a) − y_r)²), one on Σ_k mean((Q_c,k(s, a) − y_c)²), then Polyak averaging of both targets.
/// κ_r, κ_c are the artifact's reward and cost scales, γ its discount, d the terminated flag (truncation bootstraps). No actor or
/// multiplier update, no gradient clipping.</para>
/// <para>The returned artifact holds the aligned critics and their Adam states, and its manifest names this aligner in
/// <see cref="HandoverManifest.AlignedBy"/>, so online learners keep these moments through finetuning by default
/// (<see cref="HandoverLoadOptions.LoadAlignedCriticOptimizerStates"/>, as in the reference); actor and actor optimizer are kept, and
/// the manifest's γ becomes the discount used here.</para>
/// </remarks>
public sealed class ValuePreAligner : ICheckpointableValueAligner
{
    /// <summary>The stage tag of progress reports and <see cref="TrainingDivergedException"/>.</summary>
    public const string Stage = "alignment";

    /// <summary>The name this aligner writes into <see cref="HandoverManifest.AlignedBy"/>.</summary>
    public const string AlignerName = "VPA";

    private const string Receiver = "Value pre-alignment";
    private static readonly string[] ScalarNames = ["reward_critic_loss", "cost_critic_loss", "reward_target", "cost_target"];
    private static readonly double HalfLogTwoPiPlusHalf = 0.5 + 0.5 * Math.Log(2 * Math.PI);

    private readonly ValuePreAlignmentOptions _options;

    /// <summary>Creates the aligner.</summary>
    /// <param name="options">Settings; copied, so later edits have no effect. Defaults when null.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message lists every bad field.</exception>
    public ValuePreAligner(ValuePreAlignmentOptions? options = null)
    {
        _options = (options ?? new ValuePreAlignmentOptions()) with { };
        ValuePreAlignmentOptionsValidator.ThrowIfInvalid(_options);
    }

    /// <summary>The settings in use (a copy).</summary>
    public ValuePreAlignmentOptions Options => _options with { };

    /// <summary>Aligns the critics of <paramref name="artifact"/> to its actor's values on transitions from <paramref name="data"/>.</summary>
    /// <param name="artifact">The offline result: actor a <c>SquashedGaussianActor</c>, critics <c>QEnsemble</c>s. Not modified.</param>
    /// <param name="data">Transitions with actions in the critics' action space (an <see cref="OfflineDataset"/> or a replay buffer); rewards and costs
    /// in task units unless <see cref="ValuePreAlignmentOptions.ApplyArtifactScales"/> is false.</param>
    /// <param name="context">Device and seeds (the stream "vpa" is forked for batches and target actions); its spaces must fit the artifact.</param>
    /// <param name="progress">Receives stage "alignment" reports every <see cref="ValuePreAlignmentOptions.ReportEvery"/> calls.</param>
    /// <param name="cancellationToken">Checked between gradient steps.</param>
    /// <returns>The aligned artifact, the number of gradient steps per critic and the last step's scalars.</returns>
    /// <exception cref="InvalidDataException">The artifact lacks a role, has a network kind other than SquashedGaussianActor/QEnsemble, or weights that do
    /// not fit its descriptors; or its sizes differ from the context's.</exception>
    /// <exception cref="ArgumentException">The data's observation or action size differs from the artifact's.</exception>
    /// <exception cref="InvalidOperationException">The data is empty.</exception>
    /// <exception cref="TrainingDivergedException">A loss or target became NaN or infinite; names it and the step.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between steps; the input artifact is unchanged.</exception>
    public ValueAlignmentResult Align(HandoverArtifact artifact, ITransitionSampler data, LearnerContext context,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        AlignCore(artifact, data, context, null, progress, cancellationToken);

    /// <summary>
    /// As <see cref="Align(HandoverArtifact, ITransitionSampler, LearnerContext, IProgress{TrainingProgress}?, CancellationToken)"/>, saving a
    /// checkpoint every <see cref="StageCheckpoints.Every"/> calls and on cancellation (critics, target critics, both Adam states, the
    /// target-action generator, the batch sampler, the value ranges and the call and step counters), and continuing from
    /// <see cref="StageCheckpoints.ResumeFrom"/> when set. Cancellation is checked between calls only. The result is bit-identical (CPU)
    /// to that of an alignment that was never interrupted.
    /// </summary>
    /// <param name="artifact">The offline result; not modified.</param>
    /// <param name="data">The transitions (the interrupted alignment's, when resuming).</param>
    /// <param name="context">Device and seeds, as for the interrupted alignment.</param>
    /// <param name="checkpoints">Cadence in alignment calls, resume folder and the atomic save.</param>
    /// <param name="progress">Receives stage "alignment" reports.</param>
    /// <param name="cancellationToken">Checked between calls.</param>
    /// <returns>As the other overload.</returns>
    /// <exception cref="InvalidDataException">As the other overload, or the resume folder is incomplete or was written with other options.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between calls, after the checkpoint of the completed calls was saved.</exception>
    public ValueAlignmentResult Align(HandoverArtifact artifact, ITransitionSampler data, LearnerContext context, StageCheckpoints checkpoints,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoints);
        return AlignCore(artifact, data, context, checkpoints, progress, cancellationToken);
    }

    private ValueAlignmentResult AlignCore(HandoverArtifact artifact, ITransitionSampler data, LearnerContext context, StageCheckpoints? checkpoints,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(context);
        var o = _options;
        var manifest = artifact.Manifest;
        artifact.EnsureCompatible(context.ObservationSpace.Dimension, context.ActionSpace.Dimension, Receiver);
        if (data.ObservationSize != manifest.ObservationSize || data.ActionSize != manifest.ActionSize)
            throw new ArgumentException($"{Receiver}: the data has observation size {data.ObservationSize} and action size {data.ActionSize}, but the artifact from " +
                $"'{manifest.Algorithm}' was trained for {manifest.ObservationSize} and {manifest.ActionSize}. Align on data of the same task.", nameof(data));
        if (data.Count == 0) throw new InvalidOperationException($"{Receiver}: the data source is empty; align on the offline dataset or a filled replay buffer.");
        TorchNative.EnsureAvailable();

        double gamma = o.Gamma ?? manifest.Gamma;
        if (!(gamma >= 0 && gamma < 1))
            throw new InvalidDataException($"{Receiver}: the artifact's discount Gamma is {gamma.ToString(CultureInfo.InvariantCulture)}; it must be in [0, 1). Set ValuePreAlignmentOptions.Gamma.");
        double rewardScale = o.ApplyArtifactScales ? manifest.RewardScale : 1.0;
        double costScale = o.ApplyArtifactScales ? manifest.CostScale : 1.0;
        var device = context.Device;

        using var networks = ArtifactNetworks.Load(artifact, device, Receiver);
        using var rewardTarget = ArtifactNetworks.CopyOf(networks.RewardCritic, device);
        using var costTarget = ArtifactNetworks.CopyOf(networks.CostCritic, device);
        ArtifactNetworks.Freeze(networks.Actor);
        ArtifactNetworks.Freeze(rewardTarget);
        ArtifactNetworks.Freeze(costTarget);
        using var fused = o.FusedCriticEnsembles ? new FusedCritics(networks, rewardTarget, costTarget) : null;   // before the optimizers
        using var rewardOptimizer = NewOptimizer(networks.RewardCritic, o.RewardCriticLearningRate, artifact, HandoverRoles.RewardCritic);
        using var costOptimizer = NewOptimizer(networks.CostCritic, o.CostCriticLearningRate, artifact, HandoverRoles.CostCritic);

        var seeds = context.Seeds.Fork("vpa");
        var batches = seeds.CreateRandom("batches");
        using var targetNoise = device.type == DeviceType.CPU ? seeds.CreateTorchGenerator("target-actions") : new Generator(seeds.Derive("target-actions"), device);
        using var step = new AlignmentStep(o, networks, rewardTarget, costTarget, rewardOptimizer, costOptimizer, targetNoise, gamma, rewardScale, costScale, device);

        int miniBatch = o.BatchSize / o.MiniBatches;
        IReadOnlyDictionary<string, double> last = new Dictionary<string, double>(StringComparer.Ordinal);
        long gradientSteps = 0, calls = 0;
        CheckpointParts? parts = null;
        if (checkpoints is not null)
        {
            // Everything a call reads: the frozen actor is the artifact's and is not saved.
            parts = new CheckpointParts(AlignerName, HandoverExport.OptionsJson(o), nameof(ValuePreAlignmentOptions))
                .Network(HandoverRoles.RewardCritic, networks.RewardCritic).Network("reward_target", rewardTarget)
                .Network(HandoverRoles.CostCritic, networks.CostCritic).Network("cost_target", costTarget)
                .Optimizer(HandoverRoles.RewardCritic, rewardOptimizer).Optimizer(HandoverRoles.CostCritic, costOptimizer)
                .Generator("target_actions", targetNoise).Random("batches", batches)
                .Counter("calls", () => calls, v => calls = v).Counter("gradient_steps", () => gradientSteps, v => gradientSteps = v);
            step.AddTo(parts);
            if (checkpoints.ResumeFrom is { } folder) parts.Load(folder);
        }
        // With checkpoints, cancellation is seen only between calls, so every checkpoint is an exact resume point.
        var callToken = checkpoints is null ? cancellationToken : CancellationToken.None;
        try
        {
            while (calls < o.Steps)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using (var scope = NewDisposeScope())
                {
                    var batch = data.Sample(o.BatchSize, batches, device);
                    for (int m = 0; m < o.MiniBatches; m++)
                    {
                        if (m > 0) callToken.ThrowIfCancellationRequested();
                        // Rows are i.i.d. draws with replacement, so consecutive slices are already shuffled mini-batches.
                        last = step.Update(batch, m * miniBatch, miniBatch, gradientSteps, last);
                        gradientSteps++;
                    }
                }
                calls++;
                if (progress is not null && (calls % o.ReportEvery == 0 || calls == o.Steps))
                    progress.Report(new TrainingProgress(Stage, calls, o.Steps, last));
                if (checkpoints is not null && checkpoints.IsDue(calls) && calls < o.Steps) checkpoints.Save(calls, parts!.Save);
            }
        }
        catch (OperationCanceledException) when (checkpoints is not null && calls > 0 && !checkpoints.IsDue(calls))
        {
            checkpoints.Save(calls, parts!.Save);   // the state after `calls` completed calls
            throw;
        }

        var aligned = new Dictionary<string, StateDict>(StringComparer.Ordinal)
        {
            [HandoverRoles.RewardCritic] = ModuleState.ToStateDict(networks.RewardCritic),
            [HandoverRoles.CostCritic] = ModuleState.ToStateDict(networks.CostCritic),
        };
        var optimizerStates = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [HandoverRoles.RewardCritic] = ModuleState.SaveOptimizer(rewardOptimizer),
            [HandoverRoles.CostCritic] = ModuleState.SaveOptimizer(costOptimizer),
        };
        var result = artifact.With(manifest with { Gamma = gamma, AlignedBy = AlignerName }, aligned, optimizerStates);
        return new ValueAlignmentResult(result, gradientSteps, last);
    }

    private Adam NewOptimizer(QEnsemble critic, double learningRate, HandoverArtifact artifact, string role) =>
        KeptScalarOptimizer.AdamFrom(critic.parameters(), learningRate,
            _options.LoadCriticOptimizerStates && artifact.OptimizerStates.TryGetValue(role, out var state) ? state : null, role);

    /// <summary>The flat buffers of <see cref="ValuePreAlignmentOptions.FusedCriticEnsembles"/>: both critics and both targets fused
    /// (<see cref="QEnsemble.Fuse"/>), the targets without gradient buffers.</summary>
    private sealed class FusedCritics(ArtifactNetworks networks, QEnsemble rewardTarget, QEnsemble costTarget) : IDisposable
    {
        private readonly FlatParameters[] _buffers =
            [networks.RewardCritic.Fuse(), networks.CostCritic.Fuse(), rewardTarget.Fuse(gradients: false), costTarget.Fuse(gradients: false)];

        public void Dispose()
        {
            foreach (var buffer in _buffers) buffer.Dispose();
        }
    }

    /// <summary>One mini-batch gradient step of both critics; holds references only, owns nothing.</summary>
    private sealed class AlignmentStep(ValuePreAlignmentOptions options, ArtifactNetworks networks, QEnsemble rewardTarget, QEnsemble costTarget,
        Adam rewardOptimizer, Adam costOptimizer, Generator targetNoise, double gamma, double rewardScale, double costScale, Device device) : IDisposable
    {
        private readonly ValueRange _rewardRange = new(device), _costRange = new(device);

        /// <summary>Lists the running value ranges in a checkpoint.</summary>
        public void AddTo(CheckpointParts parts)
        {
            _rewardRange.AddTo(parts, "reward_range");
            _costRange.AddTo(parts, "cost_range");
        }

        public void Dispose()
        {
            _rewardRange.Dispose();
            _costRange.Dispose();
        }

        public IReadOnlyDictionary<string, double> Update(TransitionBatch batch, int start, int length, long stepIndex, IReadOnlyDictionary<string, double> lastFinite)
        {
            using var scope = NewDisposeScope();
            var s = batch.Observations.narrow(0, start, length);
            var a = batch.Actions.narrow(0, start, length);
            var s2 = batch.NextObservations.narrow(0, start, length);
            var rewards = batch.Rewards.narrow(0, start, length).mul(TorchScalars.Of(rewardScale));
            var costs = batch.Costs.narrow(0, start, length).mul(TorchScalars.Of(costScale));
            var terminated = batch.Terminated.narrow(0, start, length);
            var done = options.TreatTruncationAsTerminal ? maximum(terminated, batch.Truncated.narrow(0, start, length)) : terminated;
            var continues = done.neg().add(TorchScalars.One, TorchScalars.One).mul(TorchScalars.Of(gamma));                        // γ(1 − d)

            // §2.2 step 3: targets from the frozen offline actor and the target critics, no gradient.
            Tensor rewardY, costY;
            using (no_grad())
            {
                Tensor nextAction;
                Tensor? nextLogProb = null;
                if (options.DeterministicTarget) nextAction = networks.Actor.Deterministic(s2);
                else (nextAction, nextLogProb) = networks.Actor.Sample(s2, targetNoise);
                var nextReward = rewardTarget.Min(s2, nextAction);
                var nextCost = EnsembleOps.Reduce(costTarget.forward(s2, nextAction), options.CostEnsembleReduction);
                switch (options.Mode)
                {
                    case ValuePreAlignmentMode.Soft:
                        // §2.4 Soft: per-sample entropy on the reward only.
                        nextReward = nextReward - nextLogProb!.mul(TorchScalars.Of(options.Alpha));
                        break;
                    case ValuePreAlignmentMode.ReferenceEntropy:
                        // §2.3: + 0.1 · mean_batch(h), h = Σ(½ + ½ ln 2π + log σ) − Σ log(1 − a′² + 1e-6), on BOTH targets.
                        var (_, logStd) = networks.Actor.Distribution(s2);
                        var h = (logStd.add(TorchScalars.Of(HalfLogTwoPiPlusHalf), TorchScalars.One)).sum(-1) - (TorchScalars.Minus(1, nextAction.Squared()).add(TorchScalars.Of(1e-6), TorchScalars.One)).log().sum(-1);
                        var bonus = h.mean().mul(TorchScalars.Of(0.1));
                        nextReward = nextReward.add(bonus, TorchScalars.One);
                        nextCost = nextCost.add(bonus, TorchScalars.One);
                        break;
                }
                rewardY = rewards.add(continues * nextReward, TorchScalars.One);
                costY = costs.add(continues * nextCost, TorchScalars.One);
                if (options.Mode == ValuePreAlignmentMode.Plain && !options.ReferenceUnboundedTargets)
                {
                    // Every policy's value lies in [min x, max x]/(1 − γ) over the per-step rewards (costs) x; the ranges grow with each batch.
                    _rewardRange.Include(rewards);
                    _costRange.Include(costs);
                    rewardY = _rewardRange.Clamp(rewardY, gamma);
                    costY = _costRange.Clamp(costY, gamma);
                }
            }

            // §2.2 steps 4–5: regression of every member, one Adam step per critic.
            var rewardLoss = networks.RewardCritic.Loss(s, a, rewardY);
            GradientStep.Apply(rewardOptimizer, rewardLoss);
            var costLoss = networks.CostCritic.Loss(s, a, costY);
            GradientStep.Apply(costOptimizer, costLoss);

            // §2.2 step 6: Polyak averaging after every mini-batch.
            Polyak.Update(options.Tau, networks.RewardCritic, rewardTarget);
            Polyak.Update(options.Tau, networks.CostCritic, costTarget);

            // One host read per step: logging and the NaN/Inf check share it.
            var values = ScalarReadout.Read([rewardLoss.detach(), costLoss.detach(), rewardY.mean(), costY.mean()], ScalarNames, Stage, stepIndex, lastFinite);
            return new Dictionary<string, double>(StringComparer.Ordinal)
            {
                [ScalarNames[0]] = values[0],
                [ScalarNames[1]] = values[1],
                [ScalarNames[2]] = values[2],
                [ScalarNames[3]] = values[3],
            };
        }
    }

    /// <summary>Running [min, max] of per-step values (0 included) kept on the device; no host reads.</summary>
    internal sealed class ValueRange : IDisposable
    {
        private readonly Tensor _min, _max;
        private bool _any;

        /// <summary>An empty range on <paramref name="device"/> (the CPU when null).</summary>
        public ValueRange(Device? device = null)
        {
            _min = zeros(Array.Empty<long>(), device: device ?? CPU).DetachFromDisposeScope();
            _max = zeros(Array.Empty<long>(), device: device ?? CPU).DetachFromDisposeScope();
        }

        /// <summary>Widens the range to cover <paramref name="values"/>.</summary>
        public void Include(Tensor values)
        {
            using var lo = values.min().clamp_max(TorchScalars.Of(0.0));
            using var hi = values.max().clamp_min(TorchScalars.Of(0.0));
            if (!_any)
            {
                _min.copy_(lo);
                _max.copy_(hi);
                _any = true;
            }
            else
            {
                _min.copy_(minimum(_min, lo));
                _max.copy_(maximum(_max, hi));
            }
        }

        /// <summary><paramref name="targets"/> clamped to [min, max]/(1 − γ); unchanged before the first <see cref="Include"/>.</summary>
        public Tensor Clamp(Tensor targets, double gamma)
        {
            if (!_any) return targets;
            double horizon = 1.0 / (1.0 - gamma);
            return targets.clamp(_min.mul(TorchScalars.Of(horizon)), _max.mul(TorchScalars.Of(horizon)));
        }

        /// <summary>Lists the range (both ends and whether it holds anything) in a checkpoint, named "<paramref name="prefix"/>/…".</summary>
        public void AddTo(CheckpointParts parts, string prefix) =>
            parts.Tensor(prefix + "/min", _min).Tensor(prefix + "/max", _max).Counter(prefix + "/any", () => _any ? 1 : 0, v => _any = v != 0);

        public void Dispose()
        {
            _min.Dispose();
            _max.Dispose();
        }
    }
}

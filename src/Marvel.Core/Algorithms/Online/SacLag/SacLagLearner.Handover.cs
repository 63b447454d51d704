using System.Globalization;
using Marvel.Core.Algorithms.Online.Loop;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Data;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Online.SacLag;

// The handover side of SAC-Lag: starting from an offline artifact, attaching the offline dataset, and checking the handed-over critics.
public sealed partial class SacLagLearner
{
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
        if (options.LoadsRewardCritic(artifact.Manifest))
        {
            CheckDescriptor(artifact, HandoverRoles.RewardCritic, CriticKind, _options.CriticHiddenSizes, _options.RewardCriticCount,
                nameof(SacLagOptions.CriticHiddenSizes), nameof(SacLagOptions.RewardCriticCount));
            CheckScale(artifact.Manifest.RewardScale, _options.RewardScale, "RewardScale");
        }
        if (options.LoadsCostCritic(artifact.Manifest))
        {
            CheckDescriptor(artifact, HandoverRoles.CostCritic, CriticKind, _options.CostCriticHiddenSizes, _options.CostCriticCount,
                nameof(SacLagOptions.CostCriticHiddenSizes), nameof(SacLagOptions.CostCriticCount));
            CheckScale(artifact.Manifest.CostScale, _options.CostScale, "CostScale");
        }

        // Stage everything in temporaries (weights are overwritten, so the staging generator does not matter), then swap.
        using var staging = new Generator(0);
        using var actor = new SquashedGaussianActor(_observationSize, _actionSize, _options.ActorHiddenSizes, staging);
        using var rewardCritic = NewRewardCritic(staging);
        using var costCritic = NewCostCritic(staging);
        var states = HandoverLoad.Stage(artifact, options, actor, rewardCritic, costCritic);

        // Swap: copy weights in, rebuild targets and optimizers.
        _actorOptimizer = HandoverLoad.Swap(actor, _actor, _device, _actorOptimizer, _options.ActorLearningRate, states.Actor, HandoverRoles.Actor);
        if (_options.SafeExploration is SafeExploration.PolicySet or SafeExploration.CostGuardedPolicySet)
        {
            using var fallbackInit = new Generator(0);
            _fallbackActor?.Dispose();
            _fallbackActor = new SquashedGaussianActor(_observationSize, _actionSize, _options.ActorHiddenSizes, fallbackInit).to(_device);
            Polyak.Copy(_actor, _fallbackActor);
            FreezeParameters(_fallbackActor);
        }
        if (_options.ResetActorExploration)
            _actor.ResetLogStd(SquashedGaussianActor.LogStdForEntropy(_targetEntropy, _actionSize));
        if (options.LoadsRewardCritic(artifact.Manifest))
            _rewardOptimizer = HandoverLoad.Swap(rewardCritic, _rewardCritic, _device, _rewardOptimizer, _options.CriticLearningRate, states.RewardCritic, HandoverRoles.RewardCritic);
        if (options.LoadsCostCritic(artifact.Manifest))
            _costOptimizer = HandoverLoad.Swap(costCritic, _costCritic, _device, _costOptimizer, _options.CostCriticLearningRate, states.CostCritic, HandoverRoles.CostCritic);
        Polyak.Copy(_rewardCritic, _rewardTarget);
        Polyak.Copy(_costCritic, _costTarget);
        _criticsHandedOver = options.LoadsAnyCritic(artifact.Manifest);
        HandoverCheck = null;
    }

    /// <summary>
    /// Attaches the offline dataset whose transitions make up <see cref="SacLagOptions.OfflineDataFraction"/> of every batch: stored once with
    /// actions mapped from the action box into the actor's [−1, 1] space (clipped there) and rewards and costs raw, as online transitions are;
    /// every sampled batch, online and offline rows together, is multiplied by the learner's <see cref="SacLagOptions.RewardScale"/> and
    /// <see cref="SacLagOptions.CostScale"/> before the update. Not part of checkpoints:
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
        var datasetRange = _loop.AttachOfflineData(dataset, _context.ActionSpace);
        bool check = _options.ResetImplausibleCritics && _criticsHandedOver;
        int checkRows = check ? Math.Min(HandoverCheckRows, dataset.Count) : 0;
        var checkObservations = new float[checkRows * _observationSize];
        var checkActions = new float[checkRows * _actionSize];
        for (int next = 0; next < checkRows; next++)
        {
            // Rows spread evenly over the dataset, actions in the actor's space as stored.
            int i = (int)((long)next * dataset.Count / checkRows);
            dataset.Observations.Slice(i * _observationSize, _observationSize).CopyTo(checkObservations.AsSpan(next * _observationSize));
            ActionMapping.BoxToSquashed(dataset.Actions.Slice(i * _actionSize, _actionSize), _context.ActionSpace, checkActions.AsSpan(next * _actionSize, _actionSize));
        }
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
            var s = TorchInputs.Float32(observations.AsSpan(0, rows * _observationSize), [rows, _observationSize], _device);
            var a = TorchInputs.Float32(actions.AsSpan(0, rows * _actionSize), [rows, _actionSize], _device);
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

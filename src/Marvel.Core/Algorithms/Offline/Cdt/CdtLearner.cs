using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Offline.Cdt;

/// <summary>A batch of training windows for <see cref="CdtLearner"/>; shapes as in <see cref="CdtModel.Predict"/>.</summary>
/// <param name="States">[batch, L, observationSize].</param>
/// <param name="Actions">[batch, L, actionSize].</param>
/// <param name="ReturnsToGo">[batch, L], scaled.</param>
/// <param name="CostsToGo">[batch, L], scaled.</param>
/// <param name="Timesteps">[batch, L], int64.</param>
/// <param name="CostLabels">[batch, L], int64 in {0, 1}: whether the step had a cost.</param>
/// <param name="Mask">[batch, L], float 0/1.</param>
internal sealed record CdtWindows(Tensor States, Tensor Actions, Tensor ReturnsToGo, Tensor CostsToGo, Tensor Timesteps, Tensor CostLabels, Tensor Mask);

/// <summary>
/// A CDT-style constrained decision transformer (Liu et al., ICML 2023), as OSRL's <c>cdt.py</c> (algorithms spec §6), with
/// the return/cost relabelling augmentation as an option (<see cref="CdtOptions.AugmentationFraction"/>, off by default).
/// </summary>
/// <remarks>
/// <para>Trained by maximum likelihood on windows of L steps: the Gaussian action head's log-likelihood plus an
/// entropy bonus with a learned temperature, and a per-step cost classifier (Eq. 1). At evaluation the policy is
/// conditioned on a target return R̂₀ and a target episode cost Ĉ₀ = κ, decremented by the rewards and costs that
/// <see cref="CdtPolicy.Record"/> reports.</para>
/// </remarks>
public sealed class CdtLearner : OfflineLearner<CdtOptions>
{
    /// <summary>The method's name in manifests and messages.</summary>
    public const string Name = "CDT";
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

    private readonly CdtModel _model;
    private readonly AdamW _optimizer;
    private readonly Parameter _logTemperature;
    private readonly Adam _temperatureOptimizer;
    private readonly Generator _dropout;
    private readonly Generator _policyNoise;
    private readonly int _observationSize;
    private readonly int _actionSize;
    private DatasetEpisode[] _episodes = [];
    // What a batch samples: the dataset's episodes, then the relabelled copies (episode index, shift of R̂, shift of Ĉ).
    private (int Episode, float ReturnShift, float CostShift)[] _sources = [];
    private double[] _cumulativeWeights = [];
    private float[] _returnsToGo = [];
    private float[] _costsToGo = [];

    /// <summary>Builds the model and its optimizers.</summary>
    /// <param name="options">Settings; copied.</param>
    /// <param name="context">Spaces, device, seeds and the task horizon.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message lists every bad field.</exception>
    /// <exception cref="ArgumentException">The action space is not a symmetric box [−m, m]^d.</exception>
    public CdtLearner(LearnerContext context, CdtOptions? options = null)
        : base(Name, context, options, new CdtOptionsValidator(), "cdt", static o => o with { }, static (c, o) => c.BudgetFor(o.CostLimit, "CdtOptions.CostLimit"),
            "action_loss", "cost_loss", "loss", "temperature_loss", "temperature", "entropy")
    {
        MaxAction = OfflineLearning.MaxAction(context.ActionSpace, Name);
        _observationSize = context.ObservationSpace.Dimension;
        _actionSize = context.ActionSpace.Dimension;
        EpisodeLength = Settings.EpisodeLength ?? context.EpisodeLength;
        if (EpisodeLength < 1) throw new ArgumentException($"{Name}: the episode length must be at least 1 step (got {EpisodeLength}); set CdtOptions.EpisodeLength or LearnerContext.EpisodeLength.", nameof(context));

        _dropout = Life.Generator("dropout", OfflineLearning.Generator(Seeds, "dropout", context.Device));
        _policyNoise = Life.Generator("policy", OfflineLearning.Generator(Seeds, "policy", context.Device));
        using (var init = Seeds.CreateTorchGenerator("init"))
        {
            _model = Life.Network("model", OfflineLearning.To(new CdtModel(_observationSize, _actionSize, EpisodeLength + Settings.SequenceLength, Settings.EmbeddingSize,
                Settings.Layers, Settings.Heads, Settings.Dropout, Settings.CostTokenOffset, !Settings.ReferenceUnclampedLogStd, init, _dropout), context.Device));
        }
        _optimizer = Life.Optimizer("model", KeptScalarOptimizer.AdamW(_model.parameters(), Settings.LearningRate, Settings.WeightDecay));
        _logTemperature = Life.Tensor("log_temperature", new Parameter(full(Array.Empty<long>(), TorchScalars.Of(Math.Log(Settings.InitialTemperature)), device: context.Device)));
        _temperatureOptimizer = Life.Optimizer("temperature", KeptScalarOptimizer.Adam(new[] { _logTemperature }, Settings.TemperatureLearningRate));
        Policy = new CdtPolicy(this);
    }

    /// <summary>Episode length T: training episodes may not be longer.</summary>
    public int EpisodeLength { get; }

    /// <summary>Relabelled copies added to the attached dataset's episodes by the augmentation (0 before <see cref="Attach"/> and with
    /// <see cref="CdtOptions.AugmentationFraction"/> 0).</summary>
    public int AugmentedEpisodes => _sources.Length - _episodes.Length;

    /// <summary>Bound m of the action box.</summary>
    public double MaxAction { get; }

    internal CdtModel Model => _model;

    internal Device Device => Life.Device;

    internal Generator PolicyNoise => _policyNoise;

    internal int ObservationSize => _observationSize;

    internal int ActionSize => _actionSize;

    /// <summary>Binds the dataset: splits episodes, computes returns- and costs-to-go and the episode sampling weights.</summary>
    /// <exception cref="InvalidDataException">The widths do not match, the dataset has no complete episode, or an episode is longer than <see cref="EpisodeLength"/>.</exception>
    public override void Attach(OfflineDataset dataset) => Life.Attach(dataset, Prepare);

    // Splits the episodes and derives the returns- and costs-to-go and the sampling weights; refuses a dataset without usable episodes.
    private OfflineDataset Prepare(OfflineDataset dataset)
    {
        var episodes = dataset.Episodes.ToArray();
        if (episodes.Length == 0)
            throw new InvalidDataException($"{Name}: dataset '{dataset.Source}' has no complete episode (no terminal or timeout flag); a sequence model needs episodes.");
        var longest = episodes.MaxBy(e => e.Length);
        if (longest.Length > EpisodeLength)
            throw new InvalidDataException($"{Name}: dataset '{dataset.Source}' has an episode of {longest.Length} steps (starting at row {longest.Start}) but EpisodeLength is {EpisodeLength}; set CdtOptions.EpisodeLength to at least {longest.Length}.");
        var returnsToGo = new float[dataset.Count];
        var costsToGo = new float[dataset.Count];
        foreach (var e in episodes)
        {
            double r = 0, c = 0;
            for (int t = e.Length - 1; t >= 0; t--)
            {
                r += dataset.Rewards[e.Start + t];
                c += dataset.Costs[e.Start + t];
                returnsToGo[e.Start + t] = (float)r;
                costsToGo[e.Start + t] = (float)c;
            }
        }
        // Relabelled copies (spec §6.1): planned from the episodes' (cost, return) points by a stream of their own, so re-attaching the
        // same data plans the same copies; a copy is sampled like an episode of cost C*.
        var relabels = CdtAugmentation.Plan(episodes.Select(e => e.Cost).ToArray(), episodes.Select(e => e.Return).ToArray(), Settings,
            Seeds.CreateRandom("augmentation"));
        _sources = [.. episodes.Select((_, i) => (i, 0f, 0f)),
                    .. relabels.Select(x => (x.Episode, (float)(x.TargetReturn - episodes[x.Episode].Return), (float)(x.TargetCost - episodes[x.Episode].Cost)))];
        _cumulativeWeights = SamplingWeights([.. episodes.Select(e => e.Cost), .. relabels.Select(x => x.TargetCost)], Settings.CostWeightedSampling, Settings.CostSamplingOffset);
        _episodes = episodes;
        _returnsToGo = returnsToGo;
        _costsToGo = costsToGo;
        return dataset;
    }

    /// <summary>
    /// Cumulative episode sampling weights: ∝ max(0, offset − C_i) with cost-weighted sampling (uniform when every weight is 0),
    /// uniform otherwise. The last entry is 1.
    /// </summary>
    internal static double[] SamplingWeights(double[] episodeCosts, bool costWeighted, double offset)
    {
        var w = episodeCosts.Select(c => costWeighted ? Math.Max(0, offset - c) : 1.0).ToArray();
        if (w.Sum() <= 0) Array.Fill(w, 1.0);
        double total = w.Sum(), run = 0;
        var cumulative = new double[w.Length];
        for (int i = 0; i < w.Length; i++) cumulative[i] = (run += w[i]) / total;
        cumulative[^1] = 1;
        return cumulative;
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> TrainStep() => Life.TrainStep(dataset => Update(SampleWindows(dataset)));

    /// <summary>One CDT gradient step on a batch of windows.</summary>
    /// <exception cref="TrainingDivergedException">A loss or logged value is NaN or infinite.</exception>
    internal IReadOnlyDictionary<string, double> Update(CdtWindows w)
    {
        using var scope = NewDisposeScope();
        var o = Settings;
        _model.train();

        // Eq. 1: L = −(mean_valid log N(a | μ, σ) + T̄ · mean_valid H[N(μ, σ)]) + w_c · Σ mask · NLL(c_t) / (B · L);
        // both means over valid positions and action dimensions.
        var (mean, logStd, costLogProbs) = _model.Predict(w.States, w.Actions, w.ReturnsToGo, w.CostsToGo, w.Timesteps, w.Mask);
        var z = (w.Actions - mean) / logStd.exp();
        var logLikelihood = (z.Squared().mul(TorchScalars.Of(-0.5)) - logStd).sub(TorchScalars.Of(HalfLogTwoPi));
        var entropy = logStd.add(TorchScalars.Of(0.5 + HalfLogTwoPi), TorchScalars.One);
        var valid = w.Mask.unsqueeze(-1);
        var count = w.Mask.sum().mul(TorchScalars.Of(_actionSize));
        var meanLogLikelihood = (logLikelihood * valid).sum() / count;
        var meanEntropy = (entropy * valid).sum() / count;
        var temperature = _logTemperature.exp();
        var actionLoss = -(meanLogLikelihood.add(temperature.detach() * meanEntropy, TorchScalars.One));
        var costNll = -costLogProbs.gather(-1, w.CostLabels.unsqueeze(-1)).squeeze(-1);
        var costLoss = (costNll * w.Mask).sum().div(TorchScalars.Of((double)w.Mask.numel()));
        var loss = actionLoss.add(costLoss.mul(TorchScalars.Of(o.CostLossWeight)), TorchScalars.One);
        ModuleState.SetLearningRate(_optimizer, o.LearningRate * Math.Min((Steps + 1.0) / o.WarmupSteps, 1.0));
        GradientStep.Apply(_optimizer, loss, o.MaxGradNorm, _model.parameters());

        // Eq. 2: the temperature follows the entropy toward the target −|A|: L_T = T · (mean H − H̄), the bracket without gradient.
        var temperatureLoss = temperature * (meanEntropy.detach().add(TorchScalars.Of(_actionSize), TorchScalars.One));
        GradientStep.Apply(_temperatureOptimizer, temperatureLoss);

        return Life.Report(actionLoss, costLoss, loss, temperatureLoss, _logTemperature.exp(), meanEntropy);
    }

    private CdtWindows SampleWindows(OfflineDataset d)
    {
        int n = Settings.BatchSize, l = Settings.SequenceLength, os = _observationSize, az = _actionSize;
        var states = new float[n * l * os];
        var actions = new float[n * l * az];
        var rtg = new float[n * l];
        var ctg = new float[n * l];
        var time = new long[n * l];
        var labels = new long[n * l];
        var mask = new float[n * l];
        var scales = RewardCostScales.Of(Settings);
        for (int i = 0; i < n; i++)
        {
            var (episode, returnShift, costShift) = _sources[PickEpisode(Life.Batches.NextDouble())];
            var e = _episodes[episode];
            int t0 = Life.Batches.NextInt(e.Length);
            for (int j = 0; j < l; j++)
            {
                int k = i * l + j, t = t0 + j;
                time[k] = t;                       // continues into the padding, as the reference (< T + L)
                if (t >= e.Length) continue;
                int row = e.Start + t;
                d.Observations.Slice(row * os, os).CopyTo(states.AsSpan(k * os));
                d.Actions.Slice(row * az, az).CopyTo(actions.AsSpan(k * az));
                rtg[k] = scales.Reward(_returnsToGo[row] + returnShift);
                ctg[k] = scales.Cost(_costsToGo[row] + costShift);
                labels[k] = d.Costs[row] > 0 ? 1 : 0;
                mask[k] = 1;
            }
        }
        var device = Life.Device;
        return new CdtWindows(
            TorchInputs.Float32(states, [n, l, os], device), TorchInputs.Float32(actions, [n, l, az], device),
            TorchInputs.Float32(rtg, [n, l], device), TorchInputs.Float32(ctg, [n, l], device),
            TorchInputs.Int64(time, [n, l], device), TorchInputs.Int64(labels, [n, l], device), TorchInputs.Float32(mask, [n, l], device));
    }

    private int PickEpisode(double u)
    {
        int index = Array.BinarySearch(_cumulativeWeights, u);
        if (index < 0) index = ~index;
        return Math.Min(index, _cumulativeWeights.Length - 1);
    }

    /// <inheritdoc />
    public override HandoverArtifact ExportHandover()
    {
        var o = Settings;
        return Life.Export(Budget.CostLimit, 1.0, o.RewardScale, o.CostScale, null,
            new HandoverPart(HandoverRoles.Actor, new("CdtModel", [o.EmbeddingSize, o.Layers, o.Heads, o.SequenceLength], 1, "GELU"), _model, _optimizer));
    }
}

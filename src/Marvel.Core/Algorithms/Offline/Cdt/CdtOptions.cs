using Marvel.Core.Algorithms.Shared;

namespace Marvel.Core.Algorithms.Offline.Cdt;

/// <summary>
/// Settings of <see cref="CdtLearner"/> (Constrained Decision Transformer, Liu et al., ICML 2023). Defaults are OSRL's
/// <c>cdt_configs.py</c> (algorithms spec §6.5) with the reference's quirks fixed; <see cref="Reference"/> turns every
/// reproduction switch on. The return/cost relabelling augmentation (the <c>Augmentation*</c> settings) follows spec §6.1.
/// </summary>
public sealed record CdtOptions : IOfflineOptions, IScaledOfflineOptions
{
    /// <summary>Undiscounted episode cost budget κ (cost units per episode, unscaled). Default 10 (OSRL's first BallCircle target).
    /// CDT does not train against κ; it is the initial cost-to-go Ĉ₀ the policy is conditioned on.</summary>
    public double CostLimit { get; set; } = 10.0;

    /// <summary>Initial return-to-go R̂₀ the policy is conditioned on (reward units per episode, unscaled). Default 700 (OSRL BallCircle target).</summary>
    public double TargetReturn { get; set; } = 700.0;

    /// <summary>Episode length T (steps): size of the time-step table (T + SequenceLength rows); null takes <c>LearnerContext.EpisodeLength</c>. Default null.</summary>
    public int? EpisodeLength { get; set; }

    /// <summary>Steps per context window L. Default 10 (OSRL seq_len).</summary>
    public int SequenceLength { get; set; } = 10;

    /// <summary>Token width E. Default 128 (OSRL embedding_dim).</summary>
    public int EmbeddingSize { get; set; } = 128;

    /// <summary>Transformer blocks. Default 3 (OSRL num_layers).</summary>
    public int Layers { get; set; } = 3;

    /// <summary>Attention heads; must divide <see cref="EmbeddingSize"/>. Default 8 (OSRL num_heads).</summary>
    public int Heads { get; set; } = 8;

    /// <summary>Dropout of embeddings, attention weights and residual branches, in [0, 1). Default 0.1 (OSRL, all three).</summary>
    public double Dropout { get; set; } = 0.1;

    /// <summary>AdamW learning rate. Default 1e-4 (OSRL).</summary>
    public double LearningRate { get; set; } = 1e-4;

    /// <summary>AdamW weight decay. Default 1e-4 (OSRL).</summary>
    public double WeightDecay { get; set; } = 1e-4;

    /// <summary>Global gradient-norm clip. Default 0.25 (OSRL).</summary>
    public double MaxGradNorm { get; set; } = 0.25;

    /// <summary>Linear learning-rate warm-up length in updates: factor min((step + 1) / W, 1). Default 500 (OSRL).</summary>
    public int WarmupSteps { get; set; } = 500;

    /// <summary>Windows per gradient step. Default 2048 (OSRL).</summary>
    public int BatchSize { get; set; } = 2048;

    /// <summary>Multiplier of returns-to-go. Default 0.1 (OSRL).</summary>
    public double RewardScale { get; set; } = 0.1;

    /// <summary>Multiplier of costs-to-go. Default 1 (OSRL).</summary>
    public double CostScale { get; set; } = 1.0;

    /// <summary>Weight of the per-step cost classification loss. Default 0.02 (OSRL loss_cost_weight).</summary>
    public double CostLossWeight { get; set; } = 0.02;

    /// <summary>Initial entropy temperature. Default 0.1 (OSRL init_temperature).</summary>
    public double InitialTemperature { get; set; } = 0.1;

    /// <summary>Adam learning rate of log temperature. Default 1e-4 (OSRL).</summary>
    public double TemperatureLearningRate { get; set; } = 1e-4;

    /// <summary>The cost token is this offset minus the cost-to-go (OSRL cost_transform: 50 − Ĉ). Default 50.</summary>
    public double CostTokenOffset { get; set; } = 50;

    /// <summary>Sample episodes with probability ∝ max(0, offset − C). Default true (OSRL cost_sample).</summary>
    public bool CostWeightedSampling { get; set; } = true;

    /// <summary>The offset of <see cref="CostWeightedSampling"/> (OSRL: 70 − C). Default 70.</summary>
    public double CostSamplingOffset { get; set; } = 70;

    /// <summary>Relabelled copies added to the training episodes, as a fraction of the episodes the augmentation grid keeps
    /// (0 turns the augmentation off). Default 0: off. OSRL trains with 0.2 (augment_percent) for 100 000 updates; at the 6 000
    /// updates measured here it raised CDT's costs instead of steering them (docs/algorithms/cdt.md, "Augmentation"), so it is
    /// opt-in until a measurement shows it helping. <see cref="Reference"/> sets 0.2.</summary>
    public double AugmentationFraction { get; set; }

    /// <summary>Cost bins of the augmentation grid over (episode cost, episode return). Default 10 (OSRL).</summary>
    public int AugmentationCostBins { get; set; } = 10;

    /// <summary>Return bins of the augmentation grid. Default 50 (OSRL).</summary>
    public int AugmentationReturnBins { get; set; } = 50;

    /// <summary>At most this many episodes of one grid cell take part (a uniform draw). Default 10 (OSRL).</summary>
    public int AugmentationMaxPerBin { get; set; } = 10;

    /// <summary>Grid cells with fewer episodes than this are left out. Default 3 (OSRL drops cells of 2 or fewer).</summary>
    public int AugmentationMinPerBin { get; set; } = 3;

    /// <summary>Degree of the polynomial fitted to the reward-cost frontier (lowered to the number of distinct frontier costs − 1).
    /// Default 4 (OSRL deg; its per-task configs use 0–4).</summary>
    public int AugmentationPolynomialDegree { get; set; } = 4;

    /// <summary>Largest target return of a relabelled copy (episode return units); null takes the best dataset return plus 15 % of
    /// the dataset's return range. Default null (OSRL sets max_reward by hand per task, 12–13 % above DSRL's best on the Circle tasks).</summary>
    public double? AugmentationMaxReturn { get; set; }

    /// <summary>Target returns start this far above the fitted frontier. Default 1 (OSRL min_reward).</summary>
    public double AugmentationMinReturnAboveFrontier { get; set; } = 1;

    /// <summary>An episode claimed by several targets is replaced, for the later ones, by a kept episode that costs no more and
    /// returns at most this much less. Default 100 (OSRL max_rew_decrease).</summary>
    public double AugmentationMaxReturnDecrease { get; set; } = 100;

    /// <summary>β of the replacement draw, probability ∝ 1 / (distance + β). Default 1 (OSRL beta).</summary>
    public double AugmentationResampleBeta { get; set; } = 1;

    /// <summary>Reproduction switch: leave log σ of the Gaussian head unclamped (OSRL ignores its bounds). Default false (clamped to [−5, 2]).</summary>
    public bool ReferenceUnclampedLogStd { get; set; }

    /// <summary>OSRL's behaviour: every reproduction switch on and its augmentation fraction (0.2); other values as given.</summary>
    public static CdtOptions Reference() => new() { ReferenceUnclampedLogStd = true, AugmentationFraction = 0.2 };
}

using Marvel.Core.Algorithms.Shared;

namespace Marvel.Core.Algorithms.Offline.Cpq;

/// <summary>
/// Settings of <see cref="CpqLearner"/> (Constraints Penalized Q-learning, Xu, Zhan and Zhu, AAAI 2022).
/// Defaults are OSRL's <c>cpq_configs.py</c> (algorithms spec §1.4) with the quirks of the reference fixed;
/// <see cref="Reference"/> turns every reproduction switch on and <see cref="MarvelReference"/> gives the settings
/// that produced Marvel's warm-start checkpoints (Marvel spec §5.3).
/// </summary>
public sealed record CpqOptions : IVaeCriticLearnerOptions
{
    /// <summary>Undiscounted episode cost budget κ (cost units per episode, unscaled). Default 10 (OSRL; Marvel used 40).
    /// CPQ compares discounted cost values with <see cref="Abstractions.CostBudget.QCostThreshold"/>(κ, γ, T).</summary>
    public double CostLimit { get; set; } = 10.0;

    /// <summary>Episode length T (steps) used to convert <see cref="CostLimit"/>; null takes <c>LearnerContext.EpisodeLength</c>. Default null (OSRL sets it per task, §0.5).</summary>
    public int? EpisodeLength { get; set; }

    /// <summary>Discount γ of both critics, in (0, 1). Default 0.99 (OSRL).</summary>
    public double Gamma { get; set; } = 0.99;

    /// <summary>Polyak rate τ of the target critics, in (0, 1]. Default 0.005 (OSRL).</summary>
    public double Tau { get; set; } = 0.005;

    /// <summary>Multiplier applied to dataset rewards before the critics see them. Default 0.1 (OSRL, §0.5).</summary>
    public double RewardScale { get; set; } = 0.1;

    /// <summary>Multiplier applied to dataset costs before the critics see them. Default 1 (OSRL, §0.5).</summary>
    public double CostScale { get; set; } = 1.0;

    /// <summary>Transitions per gradient step. Default 512 (OSRL).</summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>Hidden widths of the actor. Default [256, 256] (OSRL; Marvel [256, 256, 256]).</summary>
    public int[] ActorHiddenSizes { get; set; } = [256, 256];

    /// <summary>Hidden widths of every critic member. Default [256, 256] (OSRL; Marvel [256, 256, 256]).</summary>
    public int[] CriticHiddenSizes { get; set; } = [256, 256];

    /// <summary>Hidden width of the VAE's encoder and decoder layers. Default 400 (OSRL).</summary>
    public int VaeHiddenSize { get; set; } = 400;

    /// <summary>Members of the reward critic ensemble (reduced by min). Default 2 (OSRL num_q).</summary>
    public int RewardEnsembleSize { get; set; } = 2;

    /// <summary>Members of the cost critic ensemble. Default 2 (OSRL num_qc; Marvel 1).</summary>
    public int CostEnsembleSize { get; set; } = 2;

    /// <summary>How the cost ensemble is reduced in the backups and masks. Default <see cref="EnsembleReduction.Mean"/>
    /// (fix: the reference's min is optimistic about cost); <see cref="EnsembleReduction.Min"/> reproduces OSRL.</summary>
    public EnsembleReduction CostEnsembleReduction { get; set; } = EnsembleReduction.Mean;

    /// <summary>Adam learning rate of the actor. Default 1e-4 (OSRL).</summary>
    public double ActorLearningRate { get; set; } = 1e-4;

    /// <summary>Adam learning rate of both critics. Default 1e-3 (OSRL).</summary>
    public double CriticLearningRate { get; set; } = 1e-3;

    /// <summary>Step size of the manual update of log α, the OOD dual variable. Default 1e-4 (OSRL).</summary>
    public double AlphaLearningRate { get; set; } = 1e-4;

    /// <summary>Adam learning rate of the VAE. Default 1e-3 (OSRL).</summary>
    public double VaeLearningRate { get; set; } = 1e-3;

    /// <summary>Weight β of the VAE's KL term. Default 0.5 (OSRL config; the class default 1.5 is overridden there).</summary>
    public double VaeKlWeight { get; set; } = 0.5;

    /// <summary>OOD actions sampled per state for the cost penalty. Default 10 (OSRL sample_action_num).</summary>
    public int SampleActionCount { get; set; } = 10;

    /// <summary>Factor between the reward/actor threshold and the OOD threshold: qc_thres = factor · q_thres. Default 1.5 (OSRL qc_scalar).</summary>
    public double OodThresholdScale { get; set; } = 1.5;

    /// <summary>Quantile of the VAE KL above which a sampled action counts as out of distribution, in (0, 1). Default 0.75 (OSRL, fixed there).</summary>
    public double OodKlQuantile { get; set; } = 0.75;

    /// <summary>Reproduction switch: merge time-limit truncations into done, so the reward backup does not bootstrap at a timeout (DSRL's
    /// TransitionDataset). Default false (truncation bootstraps).</summary>
    public bool TreatTimeoutAsTerminal { get; set; }

    /// <summary>Reproduction switch: the cost backup ignores done, y_c = c + γ·Q̄_c(s′, a′) (OSRL). Default false (multiplied by 1 − done).</summary>
    public bool ReferenceCostBackupIgnoresDone { get; set; }

    /// <summary>Reproduction switch: compute the OOD penalty as OSRL does, without gradient, from the target cost critic at pre-tanh samples,
    /// which makes it a constant in the cost-critic loss. Default false (the online cost critic at tanh-squashed OOD actions, with gradient,
    /// so the penalty raises their cost values as the CPQ paper intends).</summary>
    public bool ReferenceOodPenaltyWithoutGradient { get; set; }

    /// <summary>Reproduction switch: OSRL's multiplicative dual step log α ← log α + η_α·α·(qc_thres − mean Q_c^ood). Its growth rate is
    /// proportional to α, so while the OOD cost values sit below the threshold α runs to the clamp (148) in finite time; harmless when the
    /// penalty has no gradient, but with the gradient (the default) it inflates the cost critic far above its largest possible value.
    /// Default false: projected dual ascent on α itself, α ← clamp(α + η_α·(qc_thres − mean Q_c^ood), e⁻⁵, e⁵).</summary>
    public bool ReferenceMultiplicativeDualStep { get; set; }

    /// <summary>Reproduction switch: leave the cost-critic target y_c unbounded, as OSRL does. Default false: y_c is clamped to
    /// [min c, max c]·cost scale/(1 − γ) with c the dataset's per-step costs, the range of every policy's cost value, which stops the
    /// OOD push and the bootstrapping through the actor's own actions from inflating Q_c without limit.</summary>
    public bool ReferenceUnboundedCostTarget { get; set; }

    /// <summary>Reproduction switch: average the gated OOD cost values over all N sampled actions, (1/N)·Σ_j 1[OOD_j]·Q_c(s, a_j), as
    /// OSRL does. The gate keeps about a quarter of the samples, so the dual then holds the mean over the OOD actions near
    /// 4·qc_thres rather than qc_thres. Default false: the mean over the gated actions only, the expectation under the OOD action
    /// distribution that the CPQ paper constrains.</summary>
    public bool ReferenceOodMeanOverAllSamples { get; set; }

    /// <summary>
    /// Weight w of a cost-descent term for the states the mask calls unsafe: L_π = −mean(1[Q_c ≤ q_thres]·Q) +
    /// w·mean(1[Q_c &gt; q_thres]·Q_c). Default 0, CPQ as published: once every state looks unsafe the hard mask gives the actor no
    /// gradient and the policy stays where the early updates left it (docs/algorithms/cpq.md, "Investigation"). A positive
    /// weight is a departure from the paper that moves those states toward lower cost instead (experimental, ≥ 0).
    /// </summary>
    public double UnsafeCostDescentWeight { get; set; }

    /// <summary>OSRL's behaviour: every reproduction switch on and the cost ensemble reduced by min; other values as given.</summary>
    public static CpqOptions Reference() => new()
    {
        TreatTimeoutAsTerminal = true,
        ReferenceCostBackupIgnoresDone = true,
        ReferenceOodPenaltyWithoutGradient = true,
        ReferenceMultiplicativeDualStep = true,
        ReferenceUnboundedCostTarget = true,
        ReferenceOodMeanOverAllSamples = true,
        CostEnsembleReduction = EnsembleReduction.Min,
    };

    /// <summary>The settings of Marvel's CPQ pre-training (Marvel spec §5.3): <see cref="Reference"/> with κ = 40, 3×256 networks and one cost critic.</summary>
    public static CpqOptions MarvelReference() => Reference() with
    {
        CostLimit = 40,
        ActorHiddenSizes = [256, 256, 256],
        CriticHiddenSizes = [256, 256, 256],
        CostEnsembleSize = 1,
    };
}

using System.Text.Json.Serialization;
using Marvel.Core.Algorithms.Shared;

namespace Marvel.Core.Algorithms.Offline.Cpq;

/// <summary>
/// Settings of <see cref="CpqLearner"/> (Constraints Penalized Q-learning, Xu, Zhan and Zhu, AAAI 2022).
/// Defaults are OSRL's <c>cpq_configs.py</c> (algorithms spec §1.4) with the quirks of the reference fixed;
/// <see cref="Reference"/> turns every reproduction switch on and <see cref="MarvelReference"/> gives the settings
/// that produced Marvel's warm-start checkpoints (Marvel spec §5.3).
/// </summary>
/// <remarks>The settings CPQ shares with BEAR-Lag and BCQ-Lag (κ, T, γ, τ, scales, batch, widths, critic and VAE rates, the timeout, done
/// and unbounded-target switches) are declared once in <see cref="VaeCriticLearnerOptions"/>. Marvel's CPQ used κ = 40 and
/// [256, 256, 256] networks (<see cref="MarvelReference"/>).</remarks>
public sealed record CpqOptions : VaeCriticLearnerOptions, IVaeCriticLearnerOptions
{
    /// <summary>Members of the reward critic ensemble (reduced by min). Default 2 (OSRL num_q).</summary>
    public int RewardEnsembleSize { get; set; } = 2;

    /// <summary>Members of the cost critic ensemble. Default 2 (OSRL num_qc; Marvel 1).</summary>
    public int CostEnsembleSize { get; set; } = 2;

    /// <summary>How the cost ensemble is reduced in the backups and masks. Default <see cref="EnsembleReduction.Mean"/>
    /// (fix: the reference's min is optimistic about cost); <see cref="EnsembleReduction.Min"/> reproduces OSRL.</summary>
    public EnsembleReduction CostEnsembleReduction { get; set; } = EnsembleReduction.Mean;

    /// <summary>Adam learning rate of the actor. Default 1e-4 (OSRL).</summary>
    public double ActorLearningRate { get; set; } = 1e-4;

    /// <summary>
    /// Compute the actor's μ and log σ heads with one linear product over [W_μ; W_σ] (issue 21 item 4) instead of two. Opt-in: the joined
    /// product may round differently (tested to 1e-5 of their scale); the deterministic action, which reads μ alone, is unchanged.
    /// Parameter names, shapes, checkpoints and handover artifacts are the same either way, and a checkpoint written with one setting loads
    /// with the other. Absent from the options JSON while false. Default false.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool FusedActorHeads { get; set; }

    /// <summary>Step size of the manual update of log α, the OOD dual variable. Default 1e-4 (OSRL).</summary>
    public double AlphaLearningRate { get; set; } = 1e-4;

    /// <summary>OOD actions sampled per state for the cost penalty. Default 10 (OSRL sample_action_num).</summary>
    public int SampleActionCount { get; set; } = 10;

    /// <summary>Factor between the reward/actor threshold and the OOD threshold: qc_thres = factor · q_thres. Default 1.5 (OSRL qc_scalar).</summary>
    public double OodThresholdScale { get; set; } = 1.5;

    /// <summary>Quantile of the VAE KL above which a sampled action counts as out of distribution, in (0, 1). Default 0.75 (OSRL, fixed there).</summary>
    public double OodKlQuantile { get; set; } = 0.75;

    /// <summary>Reproduction switch: compute the OOD penalty as OSRL does, without gradient, from the target cost critic at pre-tanh samples,
    /// which makes it a constant in the cost-critic loss. Default false (the online cost critic at tanh-squashed OOD actions, with gradient,
    /// so the penalty raises their cost values as the CPQ paper intends).</summary>
    public bool ReferenceOodPenaltyWithoutGradient { get; set; }

    /// <summary>Reproduction switch: OSRL's multiplicative dual step log α ← log α + η_α·α·(qc_thres − mean Q_c^ood). Its growth rate is
    /// proportional to α, so while the OOD cost values sit below the threshold α runs to the clamp (148) in finite time; harmless when the
    /// penalty has no gradient, but with the gradient (the default) it inflates the cost critic far above its largest possible value.
    /// Default false: projected dual ascent on α itself, α ← clamp(α + η_α·(qc_thres − mean Q_c^ood), e⁻⁵, e⁵).</summary>
    public bool ReferenceMultiplicativeDualStep { get; set; }

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

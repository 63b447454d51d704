using Marvel.Core.Algorithms.Shared;

namespace Marvel.Core.Algorithms.Offline.BcqLag;

/// <summary>
/// Settings of <see cref="BcqLagLearner"/> (BCQ, Fujimoto, Meger and Precup 2019, with a PID Lagrangian cost penalty;
/// OSRL "BCQL"). Defaults are OSRL's <c>bcql_configs.py</c> (algorithms spec §3.3) with the reference's quirks fixed;
/// <see cref="Reference"/> turns every reproduction switch on.
/// </summary>
/// <remarks>The settings BCQ-Lag shares with CPQ and BEAR-Lag (κ, T, γ, τ, scales, batch, widths, critic and VAE rates, the timeout, done
/// and unbounded-target switches) are declared once in <see cref="VaeCriticLearnerOptions"/>. With
/// <see cref="VaeCriticLearnerOptions.ReferenceUnboundedCostTarget"/> and OSRL's backup (the maximum over the sampled next actions of a
/// pessimistic ensemble), the cost critic of the built-in BallCircle run at τ = 0.05 rose past 150 (largest possible value 100) within
/// 8 000 updates and λ past 1 000.</remarks>
public sealed record BcqLagOptions : VaeCriticLearnerOptions, IBatchPidCriticOptions
{
    /// <summary>Networks per group of the double-Q reward critic (two groups). Default 2 (OSRL num_q).</summary>
    public int RewardCriticsPerGroup { get; set; } = 2;

    /// <summary>Networks per group of the double-Q cost critic. Default 2 (OSRL num_qc).</summary>
    public int CostCriticsPerGroup { get; set; } = 2;

    /// <summary>Adam learning rate of the actor. Default 1e-3 (OSRL).</summary>
    public double ActorLearningRate { get; set; } = 1e-3;

    /// <summary>Next actions decoded per state in the critic backups. Default 10 (OSRL sample_action_num).</summary>
    public int SampleActionCount { get; set; } = 10;

    /// <summary>Candidates N per state when acting: N VAE decodes, each perturbed by ξ; the policy acts with the one of highest
    /// Q_r(s, a) − λ · Q_c(s, a) (BCQ's selection, Fujimoto et al. 2019, with the Lagrangian score; λ the PID's current
    /// multiplier, the critics reduced as in the actor loss). The deterministic mode decodes a fixed set of N latents (the prior's
    /// mode z = 0 first, then N − 1 seeded draws of N(0, I) clipped to ±0.5); the stochastic mode draws N fresh ones.
    /// At least 1. Ignored with <see cref="ReferenceSingleSampleAction"/>. Default 10 (the BCQ paper's N).</summary>
    public int SelectionCandidates { get; set; } = 10;

    /// <summary>Weight λ of the pessimistic side of the soft clipped double Q, in [0, 1]: of min(q1, q2) for the reward critic
    /// (q_g the group minima), of max(q1, q2) for the cost critic (q_g the group maxima; min and minima with
    /// <see cref="ReferenceOptimisticCostEnsemble"/>). Default 0.75 (OSRL lmbda).</summary>
    public double DoubleQMix { get; set; } = 0.75;

    /// <summary>Largest perturbation Φ as a fraction of the action bound, in (0, 1]. Default 0.05 (OSRL phi).</summary>
    public double Phi { get; set; } = 0.05;

    /// <summary>Proportional gain of the per-batch PID multiplier. Default 0.1 (OSRL).</summary>
    public double PidKp { get; set; } = 0.1;

    /// <summary>Integral gain of the PID multiplier. Default 0.003 (OSRL).</summary>
    public double PidKi { get; set; } = 0.003;

    /// <summary>Derivative gain of the PID multiplier. Default 0.001 (OSRL).</summary>
    public double PidKd { get; set; } = 0.001;

    /// <summary>Reproduction switch: reduce the cost ensemble optimistically, as OSRL does: the actor's Q_c is the minimum over the
    /// cost members and the cost backup mixes λ·min(q1, q2) + (1 − λ)·max(q1, q2) of the group minima. Default false: pessimistic
    /// about cost, Q_c is the maximum over the members and the backup mixes λ·max(q1, q2) + (1 − λ)·min(q1, q2) of the group
    /// maxima (the reward side keeps the min in both modes). A safe-RL critic must not be optimistic about cost: with the
    /// switch on, BEAR-Lag at κ = 40 learned a Q_c about 20 % under its policy's discounted cost and exceeded the limit.</summary>
    public bool ReferenceOptimisticCostEnsemble { get; set; }

    /// <summary>Reproduction switch: act with a single decoded and perturbed sample per state, with no selection by the critics, as
    /// OSRL's <c>bcql.py</c> does (its deterministic mode decodes z = 0). Default false: best of <see cref="SelectionCandidates"/>
    /// by Q_r − λ · Q_c, as the BCQ paper selects by Q. With one sample the policy is the behaviour data's action plus a nudge of at
    /// most Φ · m whatever λ is; on the built-in BallCircle data it stayed at the data's cost at every κ.</summary>
    public bool ReferenceSingleSampleAction { get; set; }

    /// <summary>Reproduction switch: back the cost critic up with the maximum over the N sampled next actions, as OSRL does, so
    /// Q_c evaluates a continuation that takes the costliest of N behaviour-like actions rather than the one the policy acts
    /// with. Default false: the cost backup uses the candidate the acting rule would pick (highest Q̄_r − λ·Q̄_c with the target
    /// critics and the current λ), so Q_c values the policy that acts. The reward backup keeps BCQ's maximum in both modes.</summary>
    public bool ReferenceCostBackupMaxOverSamples { get; set; }

    /// <summary>Where the PID measures the cost value it holds at qc_thres. Default <see cref="CostConstraintStates.EpisodeStarts"/>:
    /// the mean Q_c(s₀, π(s₀)) of the acting policy at the dataset's episode start states, the constrained MDP's quantity.
    /// <see cref="CostConstraintStates.Batch"/> reproduces OSRL (the batch mean at the actor's single sample); on the built-in
    /// BallCircle data that mean stayed above qc_thres for every policy, λ grew to ≈ 1 000 at every κ and the policy's cost no
    /// longer depended on κ (docs/algorithms/bcq-lag.md). The actor's penalty keeps its batch form in both modes.</summary>
    public CostConstraintStates ConstraintStates { get; set; } = CostConstraintStates.EpisodeStarts;

    /// <summary>OSRL's behaviour: every reproduction switch on; other values as given.</summary>
    public static BcqLagOptions Reference() => new()
    {
        TreatTimeoutAsTerminal = true,
        ReferenceCostBackupIgnoresDone = true,
        ReferenceOptimisticCostEnsemble = true,
        ReferenceSingleSampleAction = true,
        ReferenceUnboundedCostTarget = true,
        ReferenceCostBackupMaxOverSamples = true,
        ConstraintStates = CostConstraintStates.Batch,
    };
}

using Marvel.Core.Algorithms.Shared;

namespace Marvel.Core.Algorithms.Offline.COptiDice;

/// <summary>The f-divergence of COptiDICE's distribution-correction regulariser (algorithms spec §5.1).</summary>
public enum FDivergence
{
    /// <summary>Soft χ²: f(x) = x(log x − 1) + 1 for x &lt; 1, ½(x − 1)² otherwise (OSRL default).</summary>
    SoftChiSquare,
    /// <summary>χ²: f(x) = ½(x − 1)².</summary>
    ChiSquare,
    /// <summary>KL: f(x) = x log x.</summary>
    KullbackLeibler,
}

/// <summary>
/// Settings of <see cref="COptiDiceLearner"/> (COptiDICE, Lee et al., ICLR 2022). Defaults are OSRL's
/// <c>coptidice_configs.py</c> (algorithms spec §5.4) with the reference's quirks fixed; <see cref="Reference"/> turns
/// every reproduction switch on.
/// </summary>
public sealed record COptiDiceOptions : IOfflineOptions, IScaledOfflineOptions, IDiscountedOfflineOptions
{
    /// <summary>Undiscounted episode cost budget κ (cost units per episode, unscaled). Default 10 (OSRL). COptiDICE compares its
    /// (1 − γ)-normalised discounted cost estimate ĉ (a per-step quantity) with (1 − γ)·<see cref="Abstractions.CostBudget.QCostThreshold"/>(κ, γ, T),
    /// the discounted threshold of the other offline methods in the same per-step units (see <see cref="ReferenceDiscountedSumThreshold"/>).</summary>
    public double CostLimit { get; set; } = 10.0;

    /// <summary>Episode length T (steps) used to convert <see cref="CostLimit"/>; null takes <c>LearnerContext.EpisodeLength</c>. Default null.</summary>
    public int? EpisodeLength { get; set; }

    /// <summary>Discount γ, in (0, 1). Default 0.99 (OSRL).</summary>
    public double Gamma { get; set; } = 0.99;

    /// <summary>Multiplier of dataset rewards. Default 0.1 (OSRL).</summary>
    public double RewardScale { get; set; } = 0.1;

    /// <summary>Multiplier of dataset costs. Default 1 (OSRL).</summary>
    public double CostScale { get; set; } = 1.0;

    /// <summary>Transitions per gradient step. Default 512 (OSRL).</summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>Hidden widths of the actor. Default [256, 256] (OSRL).</summary>
    public int[] ActorHiddenSizes { get; set; } = [256, 256];

    /// <summary>Hidden widths of every ν and χ network. Default [256, 256] (OSRL).</summary>
    public int[] ValueHiddenSizes { get; set; } = [256, 256];

    /// <summary>Members of the ν ensemble (reduced by min). Default 2 (OSRL num_nu).</summary>
    public int NuEnsembleSize { get; set; } = 2;

    /// <summary>Members of the χ ensemble (reduced by min). Default 2 (OSRL num_chi).</summary>
    public int ChiEnsembleSize { get; set; } = 2;

    /// <summary>Adam learning rate of the actor. Default 1e-4 (OSRL).</summary>
    public double ActorLearningRate { get; set; } = 1e-4;

    /// <summary>Adam learning rate of ν and χ. Default 1e-4 (OSRL critic_lr).</summary>
    public double CriticLearningRate { get; set; } = 1e-4;

    /// <summary>Adam learning rate of the scalars λ_raw and τ_raw. Default 1e-4 (OSRL scalar_lr).</summary>
    public double ScalarLearningRate { get; set; } = 1e-4;

    /// <summary>Weight α of the f-divergence. Default 0.5 (OSRL alpha).</summary>
    public double Alpha { get; set; } = 0.5;

    /// <summary>The f-divergence. Default <see cref="FDivergence.SoftChiSquare"/> (OSRL f_type "softchi").</summary>
    public FDivergence Divergence { get; set; } = FDivergence.SoftChiSquare;

    /// <summary>KL radius ε of the cost upper bound (χ, τ); 0 disables the bound and uses ĉ = mean(w·c). Default 0.01 (OSRL cost_ub_epsilon).</summary>
    public double CostUpperBoundEpsilon { get; set; } = 0.01;

    /// <summary>Standard deviation of the Gaussian noise added to observations and actions in policy extraction, as a fraction of the
    /// dataset's per-dimension standard deviation. Default 0.1 (fixed in OSRL).</summary>
    public double ExtractionNoiseScale { get; set; } = 0.1;

    /// <summary>Reproduction switch: merge time-limit truncations into done (DSRL's TransitionDataset). Default false.</summary>
    public bool TreatTimeoutAsTerminal { get; set; }

    /// <summary>Reproduction switch: fit the policy's pre-tanh Gaussian to the raw dataset action, as OSRL does, although the policy acts with
    /// tanh of it. Default false (the exact log-density of the squashed policy at the dataset action).</summary>
    public bool ReferencePreTanhBehaviorCloning { get; set; }

    /// <summary>Reproduction switch: compare the per-step cost estimate ĉ with the discounted-sum threshold
    /// <see cref="Abstractions.CostBudget.QCostThreshold"/>(κ, γ, T) itself, as OSRL does. That threshold is 1/(1 − γ) times too large
    /// for ĉ (100× at γ = 0.99): for κ = 20, T = 200 it is 8.66 per step against costs of at most 1 per step, so λ only ever falls and
    /// the constraint never binds. Default false (ĉ ≤ (1 − γ)·q_thres).</summary>
    public bool ReferenceDiscountedSumThreshold { get; set; }

    /// <summary>OSRL's behaviour: every reproduction switch on; other values as given.</summary>
    public static COptiDiceOptions Reference() => new()
    {
        TreatTimeoutAsTerminal = true, ReferencePreTanhBehaviorCloning = true, ReferenceDiscountedSumThreshold = true,
    };
}

using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Online.PpoLag;

/// <summary>How the PPO-Lag policy loss combines the reward and cost advantages (algorithms.md §8.4).</summary>
public enum PpoLagPolicyLoss
{
    /// <summary>OmniSafe PPOLag: clipped surrogate on Â = (A_r − λ A_c)/(1 + λ).</summary>
    OmniSafe,

    /// <summary>FSRL PPOLagrangian: [−mean(min(ρA_r, clip(ρ)A_r)) + λ mean(ρ A_c)]/(1 + λ); the cost surrogate is not clipped.</summary>
    Fsrl,
}

/// <summary>How advantages are normalised before the policy loss (algorithms.md §8.3).</summary>
public enum PpoLagAdvantageNormalization
{
    /// <summary>OmniSafe: over the whole rollout, A_r ← (A_r − mean)/(std + 1e-8), A_c ← A_c − mean (centred only).</summary>
    OmniSafe,

    /// <summary>FSRL: per mini-batch, both standardised, (A − mean)/(std + 1e-8).</summary>
    PerMiniBatch,

    /// <summary>Raw advantages.</summary>
    None,
}

/// <summary>
/// Settings of <see cref="PpoLagLearner"/>. Defaults follow OmniSafe's PPOLag.yaml (algorithms.md §8.6) unless stated.
/// </summary>
public sealed record PpoLagOptions
{
    /// <summary>Hidden widths of the actor's mean network. Default [64, 64] (OmniSafe).</summary>
    public int[] ActorHiddenSizes { get; set; } = [64, 64];

    /// <summary>Hidden widths of the reward and cost value networks. Default [64, 64] (OmniSafe).</summary>
    public int[] CriticHiddenSizes { get; set; } = [64, 64];

    /// <summary>Hidden activation of all networks. Default tanh (OmniSafe; FSRL uses ReLU).</summary>
    public Activation Activation { get; set; } = Activation.Tanh;

    /// <summary>Initial log σ of the state-independent Gaussian. Default 0, i.e. σ = 1 (OmniSafe; FSRL −0.5).</summary>
    public double InitialLogStd { get; set; }

    /// <summary>Environment transitions collected per iteration (summed over the vector environment, rounded up to whole vector steps). Default 20 000 (OmniSafe steps_per_epoch).</summary>
    public int StepsPerIteration { get; set; } = 20_000;

    /// <summary>Discount γ of reward and cost (one γ for both, as OmniSafe's buffer), in [0, 1). Default 0.99.</summary>
    public double Gamma { get; set; } = 0.99;

    /// <summary>GAE λ of the reward advantage, in [0, 1]. Default 0.95.</summary>
    public double GaeLambda { get; set; } = 0.95;

    /// <summary>GAE λ of the cost advantage, in [0, 1]. Default 0.95 (OmniSafe lam_c).</summary>
    public double CostGaeLambda { get; set; } = 0.95;

    /// <summary>PPO clip range ε, in (0, 1). Default 0.2.</summary>
    public double ClipRatio { get; set; } = 0.2;

    /// <summary>Passes over the rollout per iteration (stopped early by <see cref="TargetKl"/>). Default 40 (OmniSafe update_iters).</summary>
    public int UpdateEpochs { get; set; } = 40;

    /// <summary>Rows per mini-batch. Default 64 (OmniSafe).</summary>
    public int MiniBatchSize { get; set; } = 64;

    /// <summary>Adam learning rate of the actor. Default 3e-4 (OmniSafe).</summary>
    public double ActorLearningRate { get; set; } = 3e-4;

    /// <summary>Adam learning rate of both value networks. Default 3e-4 (OmniSafe).</summary>
    public double CriticLearningRate { get; set; } = 3e-4;

    /// <summary>Decay the learning rates linearly to 0 over this many iterations; 0 keeps them constant. Default 0 (OmniSafe decays over its epoch count, which only the caller knows).</summary>
    public int LinearLearningRateDecayIterations { get; set; }

    /// <summary>Stop an iteration's epochs once KL(π_old ‖ π) over the rollout exceeds this; null never stops early. Default 0.02 (OmniSafe).</summary>
    public double? TargetKl { get; set; } = 0.02;

    /// <summary>Weight of the entropy bonus in the policy loss, ≥ 0. Default 0 (OmniSafe).</summary>
    public double EntropyCoefficient { get; set; }

    /// <summary>Weight of the L2 penalty Σ‖θ‖² on the value networks' parameters, ≥ 0. Default 0.001 (OmniSafe use_critic_norm).</summary>
    public double CriticL2Coefficient { get; set; } = 0.001;

    /// <summary>Clip each network's global gradient norm; null for none. Default 40 (OmniSafe).</summary>
    public double? MaxGradNorm { get; set; } = 40;

    /// <summary>The policy-loss form. Default <see cref="PpoLagPolicyLoss.OmniSafe"/>.</summary>
    public PpoLagPolicyLoss PolicyLoss { get; set; } = PpoLagPolicyLoss.OmniSafe;

    /// <summary>The advantage normalisation. Default <see cref="PpoLagAdvantageNormalization.OmniSafe"/>.</summary>
    public PpoLagAdvantageNormalization AdvantageNormalization { get; set; } = PpoLagAdvantageNormalization.OmniSafe;

    /// <summary>Multiplies rewards before the value networks see them (returns are reported unscaled). Default 1 (OmniSafe).</summary>
    public double RewardScale { get; set; } = 1.0;

    /// <summary>Multiplies costs before the value networks see them (the controller sees unscaled episode costs). Default 1.</summary>
    public double CostScale { get; set; } = 1.0;

    /// <summary>Device for the networks, e.g. "cpu", "cuda:0"; null uses the <c>LearnerContext</c>'s device. Default null.</summary>
    public string? Device { get; set; }
}

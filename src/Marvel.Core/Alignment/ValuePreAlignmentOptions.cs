using System.Text.Json.Serialization;
using Marvel.Core.Algorithms.Shared;

namespace Marvel.Core.Alignment;

/// <summary>Which Bellman target <see cref="ValuePreAligner"/> regresses the critics on (marvel.md §2.2–§2.4).</summary>
public enum ValuePreAlignmentMode
{
    /// <summary>Fitted policy evaluation without entropy: y_r = r̃ + γ(1 − d)·min_j Q̄_r,j(s′, a′), y_c = c̃ + γ(1 − d)·Q̄_c(s′, a′).
    /// The form Marvel's reference script runs (§2.2). Default.</summary>
    Plain,

    /// <summary>Soft evaluation of the reward: y_r additionally subtracts α·log π_off(a′|s′) per sample
    /// (<see cref="ValuePreAlignmentOptions.Alpha"/>); the cost target has no entropy term (§2.4).</summary>
    Soft,

    /// <summary>Reproduction of the reference's unused <c>vpa_entropy</c> (§2.3): both targets add γ(1 − d)·0.1·mean_batch(h(s′)),
    /// h = Gaussian entropy − Σ log(1 − a′² + 1e-6) (the reference's mislabelled "log-probability", §8 D3). Do not use for new work.</summary>
    ReferenceEntropy,
}

/// <summary>
/// Settings of <see cref="ValuePreAligner"/> (Marvel's Value Pre-Alignment, marvel.md §2). Defaults are the reference's
/// (§2.2, §5.2): 5000 calls of 256 transitions split into 4 mini-batches of 64, τ = 0.005, Adam learning rates of
/// the BallCircle critics (5e-3, §5.1), no entropy. Set the learning rates to the task's online critic rates (§5.1 table).
/// </summary>
public sealed record ValuePreAlignmentOptions
{
    /// <summary>Alignment calls; each draws <see cref="BatchSize"/> transitions and takes <see cref="MiniBatches"/> gradient steps per critic.
    /// Default 5000 (reference <c>--vpa_steps</c>, i.e. 20 000 gradient steps).</summary>
    public int Steps { get; set; } = 5000;

    /// <summary>Transitions drawn (uniformly, with replacement) per call. Default 256 (reference).</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>Equal mini-batches each call is split into, one gradient step each; must divide <see cref="BatchSize"/>. Default 4 (reference: 4 × 64).</summary>
    public int MiniBatches { get; set; } = 4;

    /// <summary>Polyak rate τ of both target critics, applied after every mini-batch, in (0, 1]. Default 0.005 (reference <c>--tau</c>).</summary>
    public double Tau { get; set; } = 0.005;

    /// <summary>Adam learning rate of the reward critic. Default 5e-3 (reference <c>critic_lr</c> of BallCircle, BallRun, CarCircle, CarRun; §5.1).</summary>
    public double RewardCriticLearningRate { get; set; } = 5e-3;

    /// <summary>Adam learning rate of the cost critic. Default 5e-3 (reference <c>cost_critic_lr</c> of BallCircle and BallRun; CarCircle/CarRun use 8e-3; §5.1).</summary>
    public double CostCriticLearningRate { get; set; } = 5e-3;

    /// <summary>Discount γ in [0, 1); null takes the artifact's <see cref="Abstractions.Learning.HandoverManifest.Gamma"/> (the critics' own discount). Default null.</summary>
    public double? Gamma { get; set; }

    /// <summary>Target form. Default <see cref="ValuePreAlignmentMode.Plain"/> (the form the reference runs).</summary>
    public ValuePreAlignmentMode Mode { get; set; } = ValuePreAlignmentMode.Plain;

    /// <summary>Entropy weight α of <see cref="ValuePreAlignmentMode.Soft"/>, ≥ 0; set it to the online α of the task. Default 1e-3 (BallCircle's α, §5.1).</summary>
    public double Alpha { get; set; } = 1e-3;

    /// <summary>Use the frozen actor's deterministic action a′ = tanh(μ(s′)) in the targets instead of a sample. Only with
    /// <see cref="ValuePreAlignmentMode.Plain"/>. Default false (reference: a sampled action).</summary>
    public bool DeterministicTarget { get; set; }

    /// <summary>How the cost ensemble's members are reduced in the cost target. Default <see cref="EnsembleReduction.Mean"/> (what SAC-Lag
    /// uses online, so the aligned values are the ones finetuning bootstraps from). The reward ensemble always uses the minimum.</summary>
    public EnsembleReduction CostEnsembleReduction { get; set; } = EnsembleReduction.Mean;

    /// <summary>Reproduction switch: cut bootstrapping at time-limit truncations too (d = terminated OR truncated, as the reference). Default false
    /// (d = terminated; a truncated transition still bootstraps).</summary>
    public bool TreatTruncationAsTerminal { get; set; }

    /// <summary>Multiply sampled rewards and costs by the artifact's <see cref="Abstractions.Learning.HandoverManifest.RewardScale"/> and
    /// <see cref="Abstractions.Learning.HandoverManifest.CostScale"/>. Default true: the data is in task units (an <c>OfflineDataset</c>).
    /// Set false for a source that already holds scaled values (e.g. SAC-Lag's replay buffer).</summary>
    public bool ApplyArtifactScales { get; set; } = true;

    /// <summary>Start the critics' Adam moments from the artifact's optimizer states (learning rates still come from these options).
    /// Default false: fresh Adam instances, as the reference (its online critic optimizers load no offline state, §4.2).</summary>
    public bool LoadCriticOptimizerStates { get; set; }

    /// <summary>Reproduction switch: leave the regression targets unbounded, as the reference does. Default false: in
    /// <see cref="ValuePreAlignmentMode.Plain"/> mode each target is clamped to [min x, max x]/(1 − γ) with x the scaled rewards (costs) of
    /// every batch seen so far (0 included), the range of any policy's value. With γ = 0.99 the unbounded fit ran away on BallCircle
    /// (cost Q 962 against a largest possible 100) through bootstrapping at the actor's unseen actions.</summary>
    public bool ReferenceUnboundedTargets { get; set; }

    /// <summary>Report progress every this many calls (and after the last). Default 100.</summary>
    public int ReportEvery { get; set; } = 100;

    /// <summary>
    /// Run both critic ensembles and their targets as one batched product per layer for all members (<c>baddbmm</c>) instead of one product
    /// per member (issue 21 item 2). Opt-in: the batched product sums in another order, so the aligned critics agree with the default within
    /// float32 rounding (tested to 1e-5 of their scale), not bit for bit, and on the CPU measured (docs/benchmarks.md, "Fused critic
    /// ensembles") it was not faster. The aligned artifact and the checkpoints have the same format either way, and a checkpoint written
    /// with one setting loads with the other. Absent from the options JSON while false. Default false.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool FusedCriticEnsembles { get; set; }
}

using System.Text.Json.Serialization;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>
/// The settings CPQ, BEAR-Lag and BCQ-Lag share, declared once: the cost budget and its horizon, the scales, the batch, the widths and
/// learning rates of the critics and the behaviour VAE, and the reproduction switches of their common value side
/// (<see cref="VaeCritics"/>). Each learner's options record derives from it and adds its own settings; configuration keys stay
/// flat (<c>Marvel:Cpq:BatchSize</c> binds this record's <see cref="BatchSize"/>). Defaults are OSRL's, the same for all three.
/// </summary>
public abstract record VaeCriticLearnerOptions
{
    /// <summary>Undiscounted episode cost budget κ (cost units per episode, unscaled). Default 10 (OSRL). The learner compares
    /// discounted cost values with <see cref="Abstractions.CostBudget.QCostThreshold"/>(κ, γ, T).</summary>
    public double CostLimit { get; set; } = 10.0;

    /// <summary>Episode length T (steps) used to convert <see cref="CostLimit"/>; null takes <c>LearnerContext.EpisodeLength</c>.
    /// Default null (OSRL sets it per task).</summary>
    public int? EpisodeLength { get; set; }

    /// <summary>Discount γ of both critics, in (0, 1). Default 0.99 (OSRL).</summary>
    public double Gamma { get; set; } = 0.99;

    /// <summary>Polyak rate τ of the target networks (critics, and the target actor where there is one), in (0, 1]. Default 0.005 (OSRL).</summary>
    public double Tau { get; set; } = 0.005;

    /// <summary>Multiplier of dataset rewards before the critics see them (each sampled batch is scaled). Default 0.1 (OSRL).</summary>
    public double RewardScale { get; set; } = 0.1;

    /// <summary>Multiplier of dataset costs before the critics see them (each sampled batch is scaled). Default 1 (OSRL).</summary>
    public double CostScale { get; set; } = 1.0;

    /// <summary>Transitions per gradient step. Default 512 (OSRL).</summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>Hidden widths of the actor. Default [256, 256] (OSRL).</summary>
    public int[] ActorHiddenSizes { get; set; } = [256, 256];

    /// <summary>Hidden widths of every critic member (ReLU). Default [256, 256] (OSRL).</summary>
    public int[] CriticHiddenSizes { get; set; } = [256, 256];

    /// <summary>Hidden width of the behaviour VAE's encoder and decoder layers. Default 400 (OSRL).</summary>
    public int VaeHiddenSize { get; set; } = 400;

    /// <summary>Adam learning rate of both critics. Default 1e-3 (OSRL).</summary>
    public double CriticLearningRate { get; set; } = 1e-3;

    /// <summary>Adam learning rate of the VAE. Default 1e-3 (OSRL).</summary>
    public double VaeLearningRate { get; set; } = 1e-3;

    /// <summary>Weight β of the VAE's KL term. Default 0.5 (OSRL's configs; its class default 1.5 is overridden there).</summary>
    public double VaeKlWeight { get; set; } = 0.5;

    /// <summary>Reproduction switch: merge time-limit truncations into done, so the reward backup does not bootstrap at a timeout (DSRL's
    /// TransitionDataset). Default false (truncation bootstraps).</summary>
    public bool TreatTimeoutAsTerminal { get; set; }

    /// <summary>Reproduction switch: the cost backup ignores done, y_c = c + γ·Q̄_c(s′, a′) (OSRL). Default false (multiplied by 1 − done).</summary>
    public bool ReferenceCostBackupIgnoresDone { get; set; }

    /// <summary>Reproduction switch: leave the cost-critic target y_c unbounded, as OSRL does. Default false: y_c is clamped to
    /// [min c, max c] · cost scale/(1 − γ) with c the attached dataset's per-step costs (0 included), the range of every policy's cost
    /// value. Nothing else keeps a bootstrapped estimate on weakly supported actions inside that range (an OOD push, bootstrapping
    /// through the actor's own or perturbed actions); the learners' pages give the runs where Q_c ran past its largest possible value.</summary>
    public bool ReferenceUnboundedCostTarget { get; set; }

    /// <summary>
    /// Run the reward and cost ensembles and their targets as one batched product per layer for all members (<c>baddbmm</c>) instead of one
    /// product per member (issue 21 item 2). Opt-in: the batched product sums in another order, so the numbers agree with the default
    /// within float32 rounding (tested to 1e-5 of their scale), not bit for bit, and on the CPU measured (docs/benchmarks.md, "Fused critic
    /// ensembles") it was not faster. Parameter names, shapes, checkpoints and handover artifacts are the same either way, and a checkpoint
    /// written with one setting loads with the other. Absent from the options JSON while false. Default false.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool FusedCriticEnsembles { get; set; }
}

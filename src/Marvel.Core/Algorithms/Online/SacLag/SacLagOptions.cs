using System.Text.Json.Serialization;

namespace Marvel.Core.Algorithms.Online.SacLag;

/// <summary>How <see cref="SacLagLearner.RunIteration"/> interleaves data collection, the multiplier update and gradient steps.</summary>
public enum SacLagSchedule
{
    /// <summary>
    /// Marvel's reference loop (marvel.md §4.4): collect <see cref="SacLagOptions.EpisodesPerIteration"/> whole episodes with the
    /// stochastic actor, update the controller once from their mean episode cost, then run
    /// <see cref="SacLagOptions.UpdatesPerIteration"/> × <see cref="SacLagOptions.MiniBatches"/> gradient steps.
    /// </summary>
    EpisodesThenUpdates,

    /// <summary>
    /// Classic off-policy loop: collect <see cref="SacLagOptions.UpdateEveryNSteps"/> environment transitions, update the controller
    /// with the mean cost of the episodes that finished since its last update (none finished: λ unchanged), then run the gradient steps.
    /// </summary>
    StepBased,
}

/// <summary>How SAC-Lag acts while it collects training data after <see cref="SacLagLearner.InitializeFrom"/>.</summary>
public enum SafeExploration
{
    /// <summary>Act with the online actor alone (the reference).</summary>
    None,

    /// <summary>
    /// A policy set of the online actor and the frozen handed-over actor: in every state both propose an action (the online one sampled,
    /// the handed-over one its deterministic mean) and the learner acts with the one of higher min_j Q_r(s, a) − λ·Q_c(s, a) under its
    /// current critics and multiplier. The handed-over policy stays available as a fallback wherever the online actor is judged worse
    /// under the Lagrangian, so a start within the limit is not abandoned for actions the critics already rate as costlier.
    /// Evaluation and the exported policy are the online actor alone.
    /// </summary>
    PolicySet,

    /// <summary>
    /// <see cref="PolicySet"/> with a cost guard, in the manner of a recovery policy: wherever the cost critic rates the online action above
    /// the budget's per-state threshold (<see cref="Abstractions.CostBudget.CriticThreshold"/>: the discounted value of spending κ/T per
    /// step, in the critic's units) and above the handed-over action, the handed-over action acts, whatever λ is. The plain policy set
    /// compares Q_r − λ·Q_c, so while λ is 0 (a start within the limit holds the controller there) it lets through any action the reward
    /// critic prefers, however costly the cost critic rates it. Elsewhere the policy set decides as it does.
    /// Evaluation and the exported policy are the online actor alone. Measured (docs/results.md, round 7), it did not work with the
    /// recipe's fresh critics: the guard hides the online actor's cost from the replay and the controller, so λ stays at 0 while the online
    /// actor drifts over the limit (BallRun: 4.6× the limit evaluated alone), and a cost critic that never saw the filtered actions cannot
    /// tell them apart; see <see cref="SacLagOptions.CostGuardChargesController"/>. Kept for study, not part of any recipe.
    /// </summary>
    CostGuardedPolicySet,
}

/// <summary>
/// Settings of <see cref="SacLagLearner"/>. Defaults follow Marvel's reference fine-tuning script (algorithms.md §7.2,
/// marvel.md §5.2, command-line defaults where the reference overrides per task); the per-task learning rates and α of
/// marvel.md §5.1 are set by the caller.
/// </summary>
public sealed record SacLagOptions
{
    /// <summary>Hidden widths of the actor trunk. Must equal the handover artifact's. Default [256, 256] (reference net.py).</summary>
    public int[] ActorHiddenSizes { get; set; } = [256, 256];

    /// <summary>Hidden widths of each reward critic. Default [256, 256] (reference online/sac_lag.py).</summary>
    public int[] CriticHiddenSizes { get; set; } = [256, 256];

    /// <summary>Hidden widths of each cost critic. Default [256, 256, 256] (reference online/sac_lag.py).</summary>
    public int[] CostCriticHiddenSizes { get; set; } = [256, 256, 256];

    /// <summary>Number of reward critics; targets and the actor use their element-wise minimum (clipped double Q). Default 2.</summary>
    public int RewardCriticCount { get; set; } = 2;

    /// <summary>Number of cost critics; targets and the actor use their mean. Default 1 (reference).</summary>
    public int CostCriticCount { get; set; } = 1;

    /// <summary>Discount γ of reward and cost critics, in [0, 1). Default 0.99 (reference <c>--discount</c>).</summary>
    public double Gamma { get; set; } = 0.99;

    /// <summary>Polyak rate τ of the target critics, in (0, 1], applied after every gradient step. Default 0.005 (reference <c>--tau</c>).</summary>
    public double Tau { get; set; } = 0.005;

    /// <summary>Transitions drawn from the replay buffer per batch (a reference <c>train()</c> call). Default 256.</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>Gradient steps per drawn batch: the batch is split into this many equal mini-batches (BatchSize must be divisible by it). Default 4 (reference: 256 → 4 × 64).</summary>
    public int MiniBatches { get; set; } = 4;

    /// <summary>Adam learning rate of the actor, per gradient step. Default 1e-5 (reference command-line default; see marvel.md §5.1 per task).</summary>
    public double ActorLearningRate { get; set; } = 1e-5;

    /// <summary>Adam learning rate of the reward critics. Default 5e-4 (reference command-line default).</summary>
    public double CriticLearningRate { get; set; } = 5e-4;

    /// <summary>Adam learning rate of the cost critics. Default 8e-4 (reference command-line default).</summary>
    public double CostCriticLearningRate { get; set; } = 8e-4;

    /// <summary>Entropy temperature α (fixed), or its initial value when <see cref="AutoTuneAlpha"/> is on. Unitless, ≥ 0 (&gt; 0 when tuned). Default 1e-4 (reference command-line default).</summary>
    public double Alpha { get; set; } = 1e-4;

    /// <summary>Tune α by minimising −log α · (log π + H̄) (SAC v2). Default false (Marvel keeps α fixed).</summary>
    public bool AutoTuneAlpha { get; set; }

    /// <summary>Adam learning rate of log α when <see cref="AutoTuneAlpha"/> is on. Default 3e-4 (FSRL sacl_cfg).</summary>
    public double AlphaLearningRate { get; set; } = 3e-4;

    /// <summary>Target entropy H̄ in nats; null means −|A| (the action dimension). Default null.</summary>
    public double? TargetEntropy { get; set; }

    /// <summary>Multiplies rewards before they are stored for the critics (episode returns are reported unscaled). Default 0.1 (reference). In the pipeline (<c>SacLagHandover.MatchArtifact</c>, which the DI registration and <c>MarvelPipelineFactory</c> use) the handover artifact's scale replaces this value, because the handed-over critics were trained at it: set the offline learner's scale instead (a pipeline from <c>MarvelPipelineFactory</c> logs a warning when this value was changed and is not the artifact's).</summary>
    public double RewardScale { get; set; } = 0.1;

    /// <summary>Multiplies costs before they are stored for the critics (the controller always sees unscaled episode costs). Default 1. In the pipeline (<c>SacLagHandover.MatchArtifact</c>, which the DI registration and <c>MarvelPipelineFactory</c> use) the handover artifact's scale replaces this value, because the handed-over critics were trained at it: set the offline learner's scale instead (a pipeline from <c>MarvelPipelineFactory</c> logs a warning when this value was changed and is not the artifact's).</summary>
    public double CostScale { get; set; } = 1.0;

    /// <summary>The rollout schedule. Default <see cref="SacLagSchedule.EpisodesThenUpdates"/> (reference).</summary>
    public SacLagSchedule Schedule { get; set; } = SacLagSchedule.EpisodesThenUpdates;

    /// <summary>Episodes collected per iteration in the reference schedule. Default 5 (reference <c>rollout_num</c>).</summary>
    public int EpisodesPerIteration { get; set; } = 5;

    /// <summary>Batches drawn per iteration (each gives <see cref="MiniBatches"/> gradient steps). Default 5 (reference: 5 <c>train()</c> calls).</summary>
    public int UpdatesPerIteration { get; set; } = 5;

    /// <summary>Environment transitions per iteration in the step-based schedule. Default 50.</summary>
    public int UpdateEveryNSteps { get; set; } = 50;

    /// <summary>No gradient step runs until the replay buffer holds this many transitions. Default 0 (the reference starts after the first iteration's episodes).</summary>
    public int WarmupSteps { get; set; }

    /// <summary>
    /// Critic warm-up: the first this many gradient steps update the critics only (actor and α stay as handed over), so critics taken over
    /// from an offline learner are re-fitted to the start policy's own transitions before the actor follows them. Default 0 (the
    /// reference updates the actor from the first step).
    /// </summary>
    public int CriticWarmupSteps { get; set; }

    /// <summary>
    /// Actor learning-rate ramp: over the first this many actor steps after <see cref="CriticWarmupSteps"/>, the actor's learning rate rises
    /// linearly from <see cref="ActorLearningRate"/>/n to <see cref="ActorLearningRate"/> (step k of the ramp, 1-based, uses k/n of it).
    /// A safe start's controller has seen no cost when the actor starts to move, so λ is 0 and the first full-rate actor steps chase reward
    /// alone; the ramp keeps the policy's first changes small enough for the episode-cost feedback to raise λ before a whole iteration's
    /// episodes are spent over the limit. Default 0 (no ramp, as the reference).
    /// </summary>
    public int ActorLearningRateRampSteps { get; set; }

    /// <summary>
    /// Share of every batch drawn from the offline dataset handed to <see cref="SacLagLearner.AttachOfflineData"/> (the rest from the online
    /// replay buffer), in [0, 1), spread evenly over the batch so every mini-batch carries it. Offline transitions keep the critics anchored on
    /// the data the handed-over critics were fitted to while the replay buffer is still small, as in RLPD-style finetuning. Ignored until a
    /// dataset is attached. Default 0 (the reference mixes no offline data).
    /// </summary>
    public double OfflineDataFraction { get; set; }

    /// <summary>
    /// Clamp the reward and cost targets to [min x, max x]/(1 − γ) over the scaled per-step rewards (costs) x stored so far (0 included):
    /// the range of every policy's value. Handed-over critics that are wrong far from the data (a runaway offline learner's) otherwise
    /// bootstrap the online critics out of any possible range within the first updates (BEAR-Lag starts on CarRun: reward Q 16 000 at
    /// the first iteration of updates). Default false (the reference leaves targets unbounded).
    /// </summary>
    public bool BoundedTargets { get; set; }

    /// <summary>
    /// Check handed-over critics when the offline dataset is attached (<see cref="SacLagLearner.AttachOfflineData"/>): evaluate them on up to
    /// <see cref="SacLagLearner.HandoverCheckRows"/> evenly spaced dataset rows, and re-initialize a critic (fresh weights, its target and
    /// fresh optimizer moments) when more than half of its values lie outside the range every policy's value lies in, [min x, max x]/(1 − γ)
    /// over the dataset's scaled per-step values x (0 included), widened by half its span on each side. Critics of a runaway offline learner
    /// carry no information the online stage can use (BEAR-Lag on CarRun: reward Q ≈ 21 000 against a possible maximum in the hundreds), and
    /// bounded targets alone do not pull them back. A reset also drops the <see cref="SafeExploration.PolicySet"/> fallback (the actor trained
    /// against the runaway critics, scored by critics that are now fresh), and the pipeline then starts λ from its controller rather than
    /// from the offline multiplier. The result is <see cref="SacLagLearner.HandoverCheck"/>. Default false (the reference loads critics as
    /// they are).
    /// </summary>
    public bool ResetImplausibleCritics { get; set; }

    /// <summary>
    /// At the handover, give the loaded actor back the exploration SAC regulates to: its log σ becomes state-independent at the value whose
    /// pre-squash Gaussian has the target entropy (<see cref="TargetEntropy"/>, −|A| by default: log σ = −1 − ½·ln(2πe) ≈ −2.42 per
    /// dimension). The mean, and so the deterministic action and every evaluation of the start, stay as loaded. Offline actors arrive with σ
    /// collapsed (BEAR-Lag starts: mean log σ −5.7 to −6.4 on BallCircle, −9.3 to −14.5 on CarRun, over the dataset's states), and the
    /// entropy term at α ≈ 0.002 takes tens of iterations to widen it. Default false (the reference keeps the actor as loaded).
    /// </summary>
    public bool ResetActorExploration { get; set; }

    /// <summary>Safe exploration during collection (<see cref="Online.SacLag.SafeExploration"/>); takes effect once an artifact is loaded with
    /// <see cref="SacLagLearner.InitializeFrom"/>. Default <see cref="SafeExploration.None"/> (the reference).</summary>
    public SafeExploration SafeExploration { get; set; } = SafeExploration.None;

    /// <summary>
    /// With <see cref="SafeExploration.CostGuardedPolicySet"/>: charge the controller for what the guard hides. Each guarded step adds
    /// (1 − γ)·(Q_c(s, a_online) − Q_c(s, a_fallback)) / CostScale, the extra per-step cost the cost critic expects of the online action,
    /// to the episode cost the controller sees (spread over the iteration's episodes; the reported episode costs and the violation stay the
    /// executed ones). Without it the guard keeps the training episodes within the limit while the online actor drifts to unsafe actions
    /// that λ never answers, since the controller then holds λ at 0 (round 7, docs/results.md). Default true.
    /// </summary>
    public bool CostGuardChargesController { get; set; } = true;

    /// <summary>
    /// Anti-windup for the Lagrange controller: while the actor has not had a single update (the warm-up, <see cref="WarmupSteps"/>, and the
    /// critic warm-up, <see cref="CriticWarmupSteps"/>), the loop reports the training episodes but does not feed them to the controller,
    /// so λ is not integrated from cost the frozen actor cannot answer. From an unsafe start the reference behaviour drives λ to 20–40
    /// during the warm-up (BallCircle from a CPQ start at 177 cost per episode: λ 38.7 by iteration 11), and it takes the rest of the run
    /// to unwind (λ 3.9 at iteration 96), holding the actor's reward down. Default false (the controller sees every iteration).
    /// </summary>
    public bool HoldLambdaWhileActorFrozen { get; set; }

    /// <summary>
    /// λ at the actor's first update: before the iteration whose gradient steps include the actor's first one (after
    /// <see cref="CriticWarmupSteps"/>), the loop raises the controller's λ (through <see cref="Marvel.Core.Abstractions.ILagrangeWarmStart"/>) to the smallest value at
    /// which that step does not, to first order, raise the cost critic's value of the actor's actions: on one batch of states, with
    /// g_r = ∇θ mean min_j Q_r,j(s, μθ(s)) and g_c = ∇θ mean Q_c(s, μθ(s)) over the actor's parameters θ at its deterministic action μθ(s),
    /// λ* = max(0, ⟨g_r, g_c⟩ / ‖g_c‖²), so that ⟨g_c, g_r − λ*·g_c⟩ ≤ 0 (the gradient the actor ascends is g_r − λ·g_c, whatever
    /// <see cref="ActorLossDividedByOnePlusLambda"/> says). Capped at <see cref="CostNeutralLambdaCap"/>; a λ already above λ* is kept; the
    /// controller then continues from it. It addresses the burst of violation when a start within the limit meets fresh critics with
    /// λ = 0 (docs/results.md, round 8). Off by default; the controller must implement <see cref="Marvel.Core.Abstractions.ILagrangeWarmStart"/>. First order and
    /// for the plain gradient only: Adam's per-parameter scaling changes the step's direction.
    /// </summary>
    public bool CostNeutralFirstLambda { get; set; }

    /// <summary>Upper bound of the λ that <see cref="CostNeutralFirstLambda"/> sets (a flat cost critic gives a ratio without meaning).
    /// Finite and &gt; 0. Default 10.</summary>
    public double CostNeutralLambdaCap { get; set; } = 10;

    /// <summary>Replay buffer capacity in transitions (float32 storage, allocated at the first iteration). Default 1 000 000.</summary>
    public int ReplayCapacity { get; set; } = 1_000_000;

    /// <summary>Clip each network's global gradient norm to this value; null for no clipping. Default null (reference declares 40 but never uses it).</summary>
    public double? MaxGradNorm { get; set; }

    /// <summary>
    /// Treat time-limit truncation as a terminal state (no bootstrap). false is correct; true reproduces the reference, whose done flag is
    /// terminated OR truncated (marvel.md §1). Default false.
    /// </summary>
    public bool TreatTruncationAsTerminal { get; set; }

    /// <summary>Divide the actor loss by (1 + λ), as OmniSafe and FSRL do. Default false (Marvel reference and algorithms.md §7.1).</summary>
    public bool ActorLossDividedByOnePlusLambda { get; set; }

    /// <summary>Device for the networks, e.g. "cpu", "cuda", "cuda:1"; null uses the <c>LearnerContext</c>'s device. Default null.</summary>
    public string? Device { get; set; }

    /// <summary>
    /// Run each critic ensemble (reward critics, cost critics and their targets) as one batched product per layer for all members
    /// (<c>baddbmm</c>) instead of one product per member (issue 21 item 2). Opt-in: the batched product sums in another order, so the
    /// numbers agree with the default within float32 rounding (tested to 1e-5 of their scale), not bit for bit, and on the CPU measured
    /// (docs/benchmarks.md, "Fused critic ensembles and joined actor heads") it was not faster. Parameter names, shapes, checkpoints and
    /// handover artifacts are the same either way, and a checkpoint written with one setting loads with the other. Not supported by the
    /// seed-stacked <c>SacLagSeedBatch</c>, which batches the seeds itself (<c>MarvelSeedBatch</c> runs such seeds alone). Absent from
    /// the options JSON while false. Default false.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool FusedCriticEnsembles { get; set; }

    /// <summary>
    /// Compute the actor's μ and log σ heads with one linear product over [W_μ; W_σ] (issue 21 item 4) instead of two. Opt-in: the
    /// joined product may round differently (tested to 1e-5 of their scale); the deterministic action, which reads μ alone, is unchanged.
    /// Parameter names, shapes, checkpoints and handover artifacts are the same either way, and a checkpoint written with one setting
    /// loads with the other. Not supported by <c>SacLagSeedBatch</c> (<c>MarvelSeedBatch</c> runs such seeds alone). Absent from the
    /// options JSON while false. Default false.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool FusedActorHeads { get; set; }

    /// <summary>
    /// The library's safe-finetuning recipe for starting from an offline policy (docs/algorithms/marvel-pipeline.md, "The finetuning
    /// recipe"): 5 000 transitions of the handed-over policy before any update, then 0.25 gradient steps per environment step (250 per
    /// iteration of 5 episodes, one mini-batch of 256 each), the first 1 000 on the critics only, half of every batch from the offline
    /// dataset, learning rates 3e-4, α tuned from 0.002, the actor loss divided by 1 + λ, and the policy-set safe exploration with the
    /// handed-over actor as fallback. Use it with
    /// <see cref="Lagrange.AdaptivePidLagrangeOptions.SafeFinetuning"/> and an actor-optimizer-free handover. Network sizes stay the
    /// defaults; <c>SacLagHandover.MatchArtifact</c> sets them from the artifact. Reproduction of the paper: the plain defaults with the
    /// per-task rates of marvel.md §5.1.
    /// </summary>
    public static SacLagOptions SafeFinetuning() => new()
    {
        ActorLearningRate = 3e-4, CriticLearningRate = 3e-4, CostCriticLearningRate = 3e-4, Alpha = 0.002, AutoTuneAlpha = true,
        ActorLossDividedByOnePlusLambda = true, EpisodesPerIteration = 5, UpdatesPerIteration = 250, MiniBatches = 1, BatchSize = 256,
        WarmupSteps = 5000, CriticWarmupSteps = 1000, OfflineDataFraction = 0.5, SafeExploration = SafeExploration.PolicySet,
        BoundedTargets = true, ResetImplausibleCritics = true,
    };
}

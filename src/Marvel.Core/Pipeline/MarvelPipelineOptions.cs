using Marvel.Core.Alignment;

namespace Marvel.Core.Pipeline;

/// <summary>
/// Settings of <see cref="MarvelPipeline"/>: the task, the cost budget, the seed, how long each stage runs, how often the
/// online policy is evaluated and checkpointed, and where the run directory lives. Defaults follow marvel.md §5.
/// </summary>
/// <remarks>
/// Whether Value Pre-Alignment runs is decided by the injected <see cref="IValueAligner"/> (<c>ValuePreAligner</c> or
/// <c>NoAlignment</c>), not by a flag here; the multiplier rule likewise comes from the injected controller.
/// </remarks>
public sealed record MarvelPipelineOptions
{
    /// <summary>Task id known to the environment registry, e.g. "BallCircle". Default "BallCircle".</summary>
    public string TaskId { get; set; } = "BallCircle";

    /// <summary>Undiscounted episode cost budget, used for normalized costs and the cumulative violation (the controller carries its own,
    /// which must be equal). Default 20 (marvel.md §5.2, reference <c>--cost_limit</c>).</summary>
    public double CostLimit { get; set; } = 20.0;

    /// <summary>Root seed of the run; every stage, environment and evaluation draws a named stream from it. Default 0.</summary>
    public ulong Seed { get; set; }

    /// <summary>Gradient steps of the offline learner (ignored when the pipeline starts from a loaded artifact). Default 100 000
    /// (reference CPQ script, marvel.md §4.1).</summary>
    public long OfflineSteps { get; set; } = 100_000;

    /// <summary>Online iterations (each one is the online learner's <c>RunIteration</c>: with SAC-Lag's reference schedule 5 episodes, one
    /// controller update and 20 gradient steps). Default 100 (reference: 500 episodes / 5, marvel.md §4.4).</summary>
    public int OnlineIterations { get; set; } = 100;

    /// <summary>Evaluate every this many online iterations (plus at iteration 0 and after the last one). Default 20 (reference <c>eval_freq</c>).</summary>
    public int EvalEvery { get; set; } = 20;

    /// <summary>Deterministic evaluation episodes per evaluation. Default 10 (marvel.md §4.5).</summary>
    public int EvalEpisodes { get; set; } = 10;

    /// <summary>Parallel environment instances for online collection and for evaluation. Default 5 (one per reference rollout episode).</summary>
    public int EnvironmentCount { get; set; } = 5;

    /// <summary>Folder of the run (options, metrics, artifacts, checkpoints); created when missing. Default "runs/marvel".</summary>
    public string RunDirectory { get; set; } = Path.Combine("runs", "marvel");

    /// <summary>
    /// Write an online checkpoint (an exact resume point, see <see cref="MarvelPipeline.Resume"/>) every this many iterations and when
    /// the run is cancelled; 0 disables checkpoints. With checkpoints on, cancellation takes effect between online iterations (at most one
    /// iteration late) so the checkpoint it leaves is exact; the online learner must implement
    /// <see cref="ICheckpointableOnlineLearner"/> (SAC-Lag does) and the task's environment <c>ICheckpointableEnvironment</c> (the built-in
    /// tasks and wrappers do). May differ on resume. Default 0.
    /// </summary>
    public int CheckpointEvery { get; set; }

    /// <summary>
    /// Write an offline-stage checkpoint (an exact resume point of offline training: the learner's networks, target networks, optimizer
    /// moments, multipliers, generators, batch sampler and step counter) into <c>checkpoints/offline/</c> every this many gradient steps
    /// and when the run is cancelled during offline training; 0 disables them. Only the newest is kept, and it is deleted once
    /// <c>handover/</c> is saved. The offline learner must implement <see cref="ICheckpointableOfflineLearner"/> (every library learner
    /// does). May differ on resume. Default 0.
    /// </summary>
    public long OfflineCheckpointEvery { get; set; }

    /// <summary>
    /// Write an alignment checkpoint (critics, target critics, optimizer moments, generator, batch sampler and counters) into
    /// <c>checkpoints/alignment/</c> every this many aligner calls (<c>ValuePreAlignmentOptions.Steps</c> units) and when the run is
    /// cancelled during alignment; 0 disables them. Only the newest is kept, and it is deleted once <c>aligned/</c> is saved. Used when
    /// the aligner implements <see cref="ICheckpointableValueAligner"/> (<c>ValuePreAligner</c> does; <c>NoAlignment</c> has nothing to
    /// save). May differ on resume. Default 0.
    /// </summary>
    public int AlignmentCheckpointEvery { get; set; }

    /// <summary>Keep only the newest this many online checkpoints (older ones are deleted after a new one is complete); 0 keeps all.
    /// The replay buffer makes each checkpoint grow with the run (SAC-Lag: about 82 bytes per stored transition on BallCircle), so long
    /// runs with frequent checkpoints may want 2 or 3. May differ on resume. Default 0.</summary>
    public int KeepCheckpoints { get; set; }

    /// <summary>Device of the networks: "cpu", "cuda" or "cuda:N". Default "cpu".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// On-policy episodes of the handed-over actor collected before value alignment and mixed into its data (see
    /// <see cref="AlignmentRolloutFraction"/>). Fitted evaluation on offline data alone bootstraps through Q(s′, a′) at the actor's actions,
    /// which the data may never show; a few episodes of the actor itself put those actions into the regression. The episodes are
    /// online interactions: they count in the run's online episodes, environment steps and cumulative violation. Skipped when the aligner is
    /// <c>NoAlignment</c>. ≥ 0; default 0 (offline data only, as the reference).
    /// </summary>
    public int AlignmentRolloutEpisodes { get; set; }

    /// <summary>Share of every alignment batch drawn from the <see cref="AlignmentRolloutEpisodes"/> (the rest from the offline dataset), in [0, 1].
    /// Used only when <see cref="AlignmentRolloutEpisodes"/> &gt; 0. Default 0.5.</summary>
    public double AlignmentRolloutFraction { get; set; } = 0.5;

    /// <summary>
    /// Where the online multiplier starts (applied once, before the first online iteration, to a controller implementing
    /// <see cref="Abstractions.ILagrangeWarmStart"/>). Default <see cref="Pipeline.LambdaAtHandover.Controller"/>: the controller's own initial
    /// state, as the reference. <see cref="Pipeline.LambdaAtHandover.OfflineMultiplier"/> starts from the offline learner's own cost multiplier
    /// when the artifact carries one of the same actor-loss form (BEAR-Lag's and BCQ-Lag's PID λ on −Q_r + λ·Q_c) and the online learner's
    /// handover check kept its critics. Measured (docs/results.md, "Safe finetuning", 4 tasks × 3 seeds): with the reference gain rule the
    /// offline multiplier kept every run within the limit with the lowest violation on BallCircle and CarCircle, but it held λ high for starts
    /// that already cost 0 (CarCircle ended at 0.079 normalized reward from 0.014, CarRun at 0.022); from the controller's start with the Bounded
    /// rule the best policies within the limit reached 0.38 and 0.49 there, at a higher violation.
    /// </summary>
    public LambdaAtHandover LambdaAtHandover { get; set; } = LambdaAtHandover.Controller;

    /// <summary>
    /// Which critics the online stage takes over. Default <see cref="CriticHandoverRule.AsConfigured"/>: as <see cref="HandoverLoad"/> says.
    /// <see cref="CriticHandoverRule.MeasuredCostError"/> measures the (aligned) artifact's cost critic against Monte-Carlo rollouts of its own
    /// actor from dataset states (<see cref="CriticCheck"/>) and takes over the critics only when its error is at most
    /// <see cref="MaxCostCriticError"/>; otherwise the online learner starts from fresh critics. See <see cref="CriticCheckResult"/>.
    /// </summary>
    public CriticHandoverRule CriticHandover { get; set; } = CriticHandoverRule.AsConfigured;

    /// <summary>
    /// With <see cref="CriticHandoverRule.MeasuredCostError"/>: the largest relative error of the cost critic, mean over states of
    /// |Q_c − MC| divided by the mean |MC| (floored at <see cref="Alignment.QBiasOptions.RelativeFloor"/>), for which the critics are taken over.
    /// &gt; 0; default 0.5.
    /// </summary>
    public double MaxCostCriticError { get; set; } = 0.5;

    /// <summary>
    /// With <see cref="CriticHandoverRule.MeasuredCostError"/>: how the cost critic is checked (<see cref="Alignment.QBiasDiagnostics"/>; its
    /// <see cref="Alignment.QBiasOptions.Seed"/> is replaced by the run's "critic-check" seed stream). The task must be state-settable
    /// (<see cref="IStateSettable"/>). Default: 64 dataset states × 4 rollouts of 688 steps (γ 0.99): about 176 000 simulator steps,
    /// reported in <c>critic-check.json</c> and not counted as online interaction, since they start from dataset states, not from the task's
    /// reset.
    /// </summary>
    public QBiasOptions CriticCheck { get; set; } = new();

    /// <summary>
    /// The largest multiplier <see cref="LambdaAtHandover"/> takes over from the offline learner (λ units, &gt; 0). An offline multiplier
    /// that ran away (BEAR-Lag on CarRun at 8 000 updates ended at λ ≈ 1 077 with a policy 9× over the limit) says only that the offline
    /// constraint never held; beyond λ ≈ 10 the actor loss (−Q_r + λ·Q_c)/(1 + λ) already weighs cost ten times over reward, so the
    /// start is clipped there and the controller takes it from that point. Default 10.
    /// </summary>
    public double MaxHandoverLambda { get; set; } = 10.0;

    /// <summary>
    /// Which online policy the run returns (<see cref="MarvelRunResult.FinalEvaluation"/>, <c>result.json</c>'s <c>final_*</c> fields and
    /// the artifact in the run's <c>final/</c> folder). Default <see cref="Pipeline.ReturnedPolicy.BestWithinLimit"/>: of the policies the
    /// periodic evaluations measured, including the handed-over one at iteration 0, the one with the highest mean return among those whose
    /// evaluation shows the cost within <see cref="CostLimit"/> with a margin (<see cref="ReturnedPolicyStandardErrors"/>), re-evaluated on
    /// fresh episodes so that its reported numbers are not the ones it was chosen on; when none qualifies, the one with the lowest cost
    /// bound. A start that is clearly within the limit is therefore never returned worse than it was measured, whatever the last
    /// iterations did. <see cref="Pipeline.ReturnedPolicy.LastIterate"/> reproduces the reference, which reports the policy after the last
    /// iteration. The evaluation episodes are real interactions with the task (deterministic actions); the library counts their violation
    /// apart from the training episodes' (<see cref="MarvelRunResult.EvaluationViolation"/>).
    /// </summary>
    public ReturnedPolicy ReturnedPolicy { get; set; } = ReturnedPolicy.BestWithinLimit;

    /// <summary>
    /// The margin of <see cref="Pipeline.ReturnedPolicy.BestWithinLimit"/>, in standard errors of the evaluation's mean episode cost: a
    /// policy qualifies when mean cost + z · s/√n ≤ <see cref="CostLimit"/> (s: the sample standard deviation of its n evaluation episodes'
    /// costs). ≥ 0; 0 compares the mean alone. Default 1.645 (a one-sided 95 % bound): with the mean alone, a quickstart run at κ = 10
    /// chose a policy measured at 7.5 ± 7.0 over 10 episodes that cost 12.8 on fresh ones.
    /// </summary>
    public double ReturnedPolicyStandardErrors { get; set; } = 1.645;

    /// <summary>What the online learner takes over from the (aligned) artifact. Default: actor and critics, actor optimizer moments,
    /// no critic moments (marvel.md §4.2).</summary>
    public HandoverLoadOptions HandoverLoad { get; set; } = new();

    /// <summary>
    /// Factor of the exploding-Q guard: the online run is declared diverged when |mean Q_r| exceeds
    /// max|r|·RewardScale/(1 − γ)·factor (or |mean Q_c| exceeds max c·CostScale/(1 − γ)·factor), with max|r| and max c taken from the
    /// dataset and the scales and γ from the artifact. ≥ 1; <see cref="double.PositiveInfinity"/> disables the guard. Default 10.
    /// </summary>
    public double QDivergenceFactor { get; set; } = 10.0;

    /// <summary>Report offline progress every this many gradient steps. Default 100.</summary>
    public int OfflineReportEvery { get; set; } = 100;

    /// <summary>
    /// libtorch intra-op threads, set process-wide (<c>torch.set_num_threads</c>) when <see cref="MarvelPipeline.Run"/> or
    /// <see cref="MarvelPipeline.Resume"/> starts; 0 leaves libtorch's own setting (every core). Default 1: the networks of safe RL are
    /// small, and on 2 cores libtorch's default made one pipeline run about 5× slower (159 s against 32 s). Resumed runs are
    /// bit-identical only at the same thread count. ≥ 0.
    /// </summary>
    public int TorchThreads { get; set; } = 1;
}

/// <summary>Where the online Lagrange multiplier starts at the offline-to-online handover (<see cref="MarvelPipelineOptions.LambdaAtHandover"/>).</summary>
public enum LambdaAtHandover
{
    /// <summary>The controller's own initial state (its options' initial λ), as the reference.</summary>
    Controller,

    /// <summary>The offline learner's cost multiplier from the artifact's <see cref="Abstractions.Learning.HandoverManifest.Lagrange"/> state, when
    /// it is a multiplier on the same actor loss −Q_r + λ·Q_c (kind "OsrlBatchPid": BEAR-Lag, BCQ-Lag); otherwise as <see cref="Controller"/>.</summary>
    OfflineMultiplier,
}

/// <summary>Which critics the online stage takes over from the (aligned) artifact (<see cref="MarvelPipelineOptions.CriticHandover"/>).</summary>
public enum CriticHandoverRule
{
    /// <summary>As <see cref="MarvelPipelineOptions.HandoverLoad"/> says.</summary>
    AsConfigured,

    /// <summary>
    /// Take the critics over (as <see cref="MarvelPipelineOptions.HandoverLoad"/> says, with <see cref="HandoverLoadOptions.LoadCritics"/> on)
    /// only when the handed-over policy's iteration-0 evaluation is within <see cref="MarvelPipelineOptions.CostLimit"/> with the margin of
    /// <see cref="MarvelPipelineOptions.ReturnedPolicyStandardErrors"/>; from a start over the limit the online stage starts from fresh
    /// critics. The aligned cost critic of an unsafe start rates everything near it as costly: with the λ its warm-up episodes push up, the
    /// actor collapsed on CarRun (docs/results.md, round 6). The decision is written to <c>critic-check.json</c>.
    /// </summary>
    WithinLimitStart,

    /// <summary>
    /// Measure the artifact's cost critic against Monte-Carlo rollouts of its actor (<see cref="MarvelPipelineOptions.CriticCheck"/>); take
    /// the critics over (as <see cref="MarvelPipelineOptions.HandoverLoad"/> says, with <see cref="HandoverLoadOptions.LoadCritics"/> on) when
    /// its relative error is at most <see cref="MarvelPipelineOptions.MaxCostCriticError"/>, else start from fresh critics.
    /// </summary>
    MeasuredCostError,
}

/// <summary>
/// What the measured critic check of <see cref="CriticHandoverRule.MeasuredCostError"/> found (written to the run's <c>critic-check.json</c>).
/// Values are in the artifact's scaled units.
/// </summary>
/// <param name="CostMeanQ">The cost critic's mean value over the checked states.</param>
/// <param name="CostMeanMonteCarlo">The mean discounted Monte-Carlo cost of the same states under the artifact's actor.</param>
/// <param name="CostMeanAbsoluteError">Mean over states of |Q_c − MC|.</param>
/// <param name="CostRelativeError">The error compared: <paramref name="CostMeanAbsoluteError"/> / max(|<paramref name="CostMeanMonteCarlo"/>|, floor).</param>
/// <param name="MaxCostCriticError">The bound it was compared with.</param>
/// <param name="CriticsTakenOver">Whether the critics were taken over (else the online stage started from fresh critics).</param>
/// <param name="SimulatorSteps">Simulator steps the rollouts took (not counted as online interaction).</param>
public sealed record CriticCheckResult(double CostMeanQ, double CostMeanMonteCarlo, double CostMeanAbsoluteError, double CostRelativeError,
    double MaxCostCriticError, bool CriticsTakenOver, long SimulatorSteps);

/// <summary>
/// What the start check of <see cref="CriticHandoverRule.WithinLimitStart"/> found (written to the run's <c>critic-check.json</c>).
/// </summary>
/// <param name="StartMeanCost">The handed-over policy's mean episode cost at its iteration-0 evaluation.</param>
/// <param name="StartCostBound">That mean plus <see cref="MarvelPipelineOptions.ReturnedPolicyStandardErrors"/> standard errors.</param>
/// <param name="CostLimit">The run's undiscounted episode cost limit κ.</param>
/// <param name="CriticsTakenOver">Whether the critics were taken over (the bound is within κ and <see cref="HandoverLoadOptions.LoadCritics"/> asks for them).</param>
public sealed record StartCheckResult(double StartMeanCost, double StartCostBound, double CostLimit, bool CriticsTakenOver);

/// <summary>Which online policy a pipeline run returns (<see cref="MarvelPipelineOptions.ReturnedPolicy"/>).</summary>
public enum ReturnedPolicy
{
    /// <summary>The policy after the last online iteration, evaluated by the last periodic evaluation (the reference's protocol).</summary>
    LastIterate,

    /// <summary>The evaluated policy with the highest mean return among those whose evaluation cost, with the margin of
    /// <see cref="MarvelPipelineOptions.ReturnedPolicyStandardErrors"/>, was within the cost limit (the earliest on ties; the one with the
    /// lowest cost bound when none was), re-evaluated on episodes no evaluation used.</summary>
    BestWithinLimit,
}

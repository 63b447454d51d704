using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Abstractions.Learning;

/// <summary>What a learner factory needs to build networks: spaces, device, seeds and the task horizon.</summary>
/// <param name="ObservationSpace">The task's observation space.</param>
/// <param name="ActionSpace">The task's action space (squashed actions are mapped onto it).</param>
/// <param name="Seeds">Seed streams of the run (the learner forks its own).</param>
/// <param name="EpisodeLength">The task horizon T, used to convert CostLimit into per-step thresholds.</param>
/// <param name="TaskId">The task id, for manifests and messages.</param>
public sealed record LearnerContext(BoxSpace ObservationSpace, BoxSpace ActionSpace, SeedStreams Seeds, int EpisodeLength, string TaskId = "custom")
{
    /// <summary>The device networks live on (CPU by default).</summary>
    public Device Device { get; init; } = CPU;

    /// <summary>
    /// The run's cost budget (κ and T), when the learner runs inside one: the pipeline and the tool set it, and a learner whose options
    /// carry their own <c>CostLimit</c> refuses to start when that disagrees with it, naming the option. Null when a learner is driven by
    /// hand without a run; it then uses its options' <c>CostLimit</c> with <see cref="EpisodeLength"/>.
    /// </summary>
    public CostBudget? Budget { get; init; }

    /// <summary>
    /// The budget the learner works with: <see cref="Budget"/> when the run set one (after checking that
    /// <paramref name="optionsCostLimit"/> agrees with it), otherwise a budget of <paramref name="optionsCostLimit"/> over
    /// <see cref="EpisodeLength"/>.
    /// </summary>
    /// <param name="optionsCostLimit">The learner's own <c>CostLimit</c> option.</param>
    /// <param name="optionName">Where that option lives, for the message, e.g. "CpqOptions.CostLimit".</param>
    /// <exception cref="ArgumentException">The option disagrees with the run's budget (the message names it and both values).</exception>
    /// <exception cref="ArgumentOutOfRangeException">The option is negative or not finite, or the episode length is below 1.</exception>
    public CostBudget BudgetFor(double optionsCostLimit, string optionName)
    {
        if (Budget is null) return new CostBudget(optionsCostLimit, EpisodeLength);
        Budget.RequireAgreement(TaskId + " learner", (optionName, optionsCostLimit));
        return Budget;
    }
}

/// <summary>
/// An offline safe-RL method (CPQ, BEAR-Lag, BCQ-Lag, BC, COptiDICE, CDT, …): learns from a fixed
/// <see cref="OfflineDataset"/> and hands its result over as a <see cref="HandoverArtifact"/>.
/// </summary>
/// <remarks>
/// Drive it yourself: <see cref="Attach"/> a dataset once, call <see cref="TrainStep"/> as often as you like
/// (each is one gradient update on a batch drawn from the dataset), evaluate <see cref="Policy"/> whenever you
/// want, and <see cref="ExportHandover"/> at the end. <c>OfflineLearnerExtensions.Train</c> runs the loop with
/// progress and cancellation.
/// </remarks>
public interface IOfflineSafeLearner : IDisposable
{
    /// <summary>The method's name, e.g. "CPQ".</summary>
    string Algorithm { get; }

    /// <summary>The current policy (deterministic mode for evaluation).</summary>
    IPolicy Policy { get; }

    /// <summary>Gradient steps taken so far.</summary>
    long Steps { get; }

    /// <summary>Binds the training data: checks its sizes against the networks and prepares samplers and filters.</summary>
    /// <exception cref="InvalidDataException">The dataset's sizes do not match the learner's networks, or it is empty.</exception>
    void Attach(OfflineDataset dataset);

    /// <summary>One gradient update on a batch from the attached dataset.</summary>
    /// <returns>The update's scalars (losses, multiplier, …) by name.</returns>
    /// <exception cref="InvalidOperationException">No dataset is attached.</exception>
    /// <exception cref="TrainingDivergedException">A loss became NaN or infinite.</exception>
    IReadOnlyDictionary<string, double> TrainStep();

    /// <summary>Exports actor, critics, optimizer states and multiplier state.</summary>
    HandoverArtifact ExportHandover();
}

/// <summary>
/// An online learner that can draw part of its training batches from the offline dataset (offline-data mixing). The pipeline hands the
/// dataset over after <see cref="IOnlineSafeLearner.InitializeFrom"/>; the learner's options decide whether and how much it is used.
/// </summary>
public interface IOfflineDataConsumer
{
    /// <summary>Attaches the offline dataset (task units, environment actions); replaces an earlier one.</summary>
    /// <param name="dataset">The dataset the offline learner trained on.</param>
    /// <exception cref="InvalidDataException">The dataset's sizes do not match the learner's networks, or it is empty.</exception>
    void AttachOfflineData(OfflineDataset dataset);

    /// <summary>
    /// What the handover check of the handed-over critics found when the dataset was attached, or null when no check ran (the learner's
    /// options turn it off, no critics were handed over, or the learner was restored from a checkpoint).
    /// </summary>
    CriticHandoverCheck? HandoverCheck { get; }
}

/// <summary>
/// The result of checking handed-over critics against the range every policy's value lies in: for each critic, the mean value over the
/// checked dataset rows, the share of rows outside the widened range, and whether the critic was re-initialized. Values are in the
/// learner's scaled units.
/// </summary>
/// <param name="Rows">The dataset rows evaluated.</param>
/// <param name="RewardLow">Lower end of the plausible reward-value range (widened).</param>
/// <param name="RewardHigh">Upper end of the plausible reward-value range (widened).</param>
/// <param name="RewardMean">The reward critic's mean value over the rows (ensemble minimum).</param>
/// <param name="RewardOutsideShare">Share of rows whose reward value lies outside [<paramref name="RewardLow"/>, <paramref name="RewardHigh"/>] or is not finite.</param>
/// <param name="RewardReset">Whether the reward critics were re-initialized.</param>
/// <param name="CostLow">Lower end of the plausible cost-value range (widened).</param>
/// <param name="CostHigh">Upper end of the plausible cost-value range (widened).</param>
/// <param name="CostMean">The cost critic's mean value over the rows (ensemble mean).</param>
/// <param name="CostOutsideShare">Share of rows whose cost value lies outside [<paramref name="CostLow"/>, <paramref name="CostHigh"/>] or is not finite.</param>
/// <param name="CostReset">Whether the cost critics were re-initialized.</param>
public sealed record CriticHandoverCheck(
    int Rows,
    double RewardLow, double RewardHigh, double RewardMean, double RewardOutsideShare, bool RewardReset,
    double CostLow, double CostHigh, double CostMean, double CostOutsideShare, bool CostReset)
{
    /// <summary>True when either critic was re-initialized.</summary>
    public bool AnyReset => RewardReset || CostReset;
}

/// <summary>How an online learner takes over a <see cref="HandoverArtifact"/>.</summary>
public sealed record HandoverLoadOptions
{
    /// <summary>Load the actor's optimizer moments (the learning rate always comes from the online options). Default true.</summary>
    public bool LoadActorOptimizerState { get; init; } = true;

    /// <summary>
    /// Load the critics' optimizer moments when they are the offline learner's own (the artifact was not aligned,
    /// <see cref="HandoverManifest.AlignedBy"/> is null). Default false, as Marvel's reference: the offline learner's moments were
    /// accumulated on other targets and other learning rates.
    /// </summary>
    public bool LoadCriticOptimizerStates { get; init; }

    /// <summary>
    /// Load the critics' optimizer moments when a value aligner wrote them (<see cref="HandoverManifest.AlignedBy"/> is set). Default
    /// true, as Marvel's reference, which keeps the alignment's critic optimizers through finetuning (marvel.md §2.2): dropping them
    /// made the first online critic step at lr 5e-3 move Q_c(s, π(s)) by 3.6 of 9.75 on the quickstart, against 1.2 with them kept.
    /// </summary>
    public bool LoadAlignedCriticOptimizerStates { get; init; } = true;

    /// <summary>Load the critics at all; false keeps freshly initialized critics (policy-only warm start). Default true.
    /// <see cref="LoadRewardCritic"/> and <see cref="LoadCostCritic"/> narrow it to one of the two.</summary>
    public bool LoadCritics { get; init; } = true;

    /// <summary>With <see cref="LoadCritics"/>: load the reward critics; false keeps fresh ones while the cost critics are taken over.
    /// Default true.</summary>
    public bool LoadRewardCritic { get; init; } = true;

    /// <summary>With <see cref="LoadCritics"/>: load the cost critics; false keeps fresh ones while the reward critics are taken over.
    /// Default true.</summary>
    public bool LoadCostCritic { get; init; } = true;

    /// <summary>
    /// Take critics over only from an artifact a value aligner rewrote (<see cref="HandoverManifest.AlignedBy"/> set); from an offline learner's
    /// own artifact the online learner then starts from fresh critics, whatever <see cref="LoadCritics"/> says. Offline critics carry the
    /// offline learner's pessimism about actions outside the data; aligned ones were re-fitted to the offline policy's own values. Default false.
    /// </summary>
    public bool OnlyAlignedCritics { get; init; }

    /// <summary>Whether the reward critics of an artifact with <paramref name="manifest"/> are loaded: <see cref="LoadCritics"/>,
    /// <see cref="LoadRewardCritic"/>, and an aligned artifact where <see cref="OnlyAlignedCritics"/> asks for one.</summary>
    internal bool LoadsRewardCritic(HandoverManifest manifest) => LoadsCritics(manifest) && LoadRewardCritic;

    /// <summary>Whether the cost critics of an artifact with <paramref name="manifest"/> are loaded (see <see cref="LoadsRewardCritic"/>).</summary>
    internal bool LoadsCostCritic(HandoverManifest manifest) => LoadsCritics(manifest) && LoadCostCritic;

    /// <summary>Whether any critic of an artifact with <paramref name="manifest"/> is loaded.</summary>
    internal bool LoadsAnyCritic(HandoverManifest manifest) => LoadsRewardCritic(manifest) || LoadsCostCritic(manifest);

    private bool LoadsCritics(HandoverManifest manifest) => LoadCritics && (!OnlyAlignedCritics || manifest.AlignedBy is not null);

    /// <summary>
    /// The library's safe-finetuning handover: the online learner takes over the offline actor alone, with fresh critics and fresh actor
    /// moments (<see cref="LoadCritics"/> and <see cref="LoadActorOptimizerState"/> false). The online critic warm-up then fits new critics on
    /// the start policy's own transitions and the offline data. Offline critics carry the offline learner's pessimism about actions outside the
    /// data: BEAR-Lag's CarRun starts handed over cost critics at 30–82 where the start's measured discounted cost was 2–42, and their reward
    /// critics ran away (Q ≈ 25 000); with fresh critics CarRun ended at 0.79 normalized reward instead of 0.49, BallCircle at 0.78–0.81 instead
    /// of 0.75 (docs/results.md, round 5). Reproduction of Marvel: <c>new HandoverLoadOptions()</c> (critics loaded, as the reference).
    /// </summary>
    public static HandoverLoadOptions SafeFinetuning() => new() { LoadActorOptimizerState = false, LoadCritics = false };

    /// <summary>Whether the critics' optimizer moments of an artifact with <paramref name="manifest"/> are to be loaded: never without
    /// a loaded critic; <see cref="LoadAlignedCriticOptimizerStates"/> for an aligned artifact, else <see cref="LoadCriticOptimizerStates"/>.</summary>
    internal bool ShouldLoadCriticOptimizerStates(HandoverManifest manifest) =>
        LoadsAnyCritic(manifest) && (manifest.AlignedBy is null ? LoadCriticOptimizerStates : LoadAlignedCriticOptimizerStates);
}

/// <summary>The outcome of one online iteration.</summary>
/// <param name="Iteration">0-based iteration index.</param>
/// <param name="EnvironmentSteps">Total environment steps so far.</param>
/// <param name="Episodes">Episodes that finished during this iteration.</param>
/// <param name="Lambda">λ used by the updates of this iteration.</param>
/// <param name="Metrics">Mean update scalars of this iteration and the controller's terms.</param>
public sealed record OnlineIterationResult(long Iteration, long EnvironmentSteps, IReadOnlyList<EpisodeSummary> Episodes, double Lambda, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// An online safe-RL method (SAC-Lag, PPO-Lag, …). It collects experience from an
/// <see cref="IVectorEnvironment"/>, feeds measured episode costs to an <see cref="ILagrangeController"/>
/// and updates its networks with the controller's λ.
/// </summary>
public interface IOnlineSafeLearner : IDisposable
{
    /// <summary>The method's name, e.g. "SAC-Lag".</summary>
    string Algorithm { get; }

    /// <summary>The current policy.</summary>
    IPolicy Policy { get; }

    /// <summary>Starts from an offline result instead of random weights.</summary>
    /// <exception cref="InvalidDataException">The artifact's sizes or network shapes do not match this learner.</exception>
    void InitializeFrom(HandoverArtifact artifact, HandoverLoadOptions? options = null);

    /// <summary>Runs one iteration: collect experience per the learner's schedule, update the controller from the finished episodes' mean cost, then update the networks.</summary>
    /// <exception cref="TrainingDivergedException">A loss became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between steps.</exception>
    OnlineIterationResult RunIteration(IVectorEnvironment environment, ILagrangeController controller, CancellationToken cancellationToken = default);

    /// <summary>Exports the current networks, optimizer states and metadata.</summary>
    HandoverArtifact ExportHandover();
}

/// <summary>
/// Optional capability of an <see cref="IOnlineSafeLearner"/>: save and restore everything that determines its future (networks,
/// target networks, optimizer moments and step counters, temperature, random generators, replay buffer, pending observations of the
/// environments it collects from, counters), so a run resumed from a checkpoint continues bit-identically on CPU.
/// </summary>
/// <remarks>
/// Checkpoints are taken between iterations. The learner does not save the environments' own state: the caller saves the
/// <see cref="IVectorEnvironment"/> beside it (see <see cref="ICheckpointableEnvironment"/>) and restores both before the next
/// <see cref="IOnlineSafeLearner.RunIteration"/>, which then continues from the saved observations instead of resetting.
/// </remarks>
public interface ICheckpointableOnlineLearner : IOnlineSafeLearner
{
    /// <summary>Writes the learner's complete state into <paramref name="directory"/> (created when missing). Not atomic by itself:
    /// write into a temporary folder and rename it, as <c>MarvelPipeline</c> does.</summary>
    /// <param name="directory">An empty folder of the learner's own.</param>
    void SaveCheckpoint(string directory);

    /// <summary>Restores a state written by <see cref="SaveCheckpoint"/> into a learner built with the same options and spaces.</summary>
    /// <param name="directory">The folder.</param>
    /// <exception cref="InvalidDataException">A file is missing or corrupt, or the checkpoint was written with other options (the message
    /// names the first option that differs) or network sizes. Nothing is guaranteed about the learner's state after this exception.</exception>
    void LoadCheckpoint(string directory);
}

/// <summary>
/// Optional capability of an <see cref="IOfflineSafeLearner"/>: save and restore everything that determines its future (networks,
/// target networks, optimizer moments and step counts, multipliers and PID state, random generators and the batch sampler's state,
/// <see cref="IOfflineSafeLearner.Steps"/>), so an offline stage resumed from a checkpoint continues bit-identically on CPU. Every
/// offline learner of the library implements it.
/// </summary>
/// <remarks>
/// What the learner derives from the attached dataset (sampling tables, start states, value bounds) is not saved:
/// <see cref="IOfflineSafeLearner.Attach"/> the same dataset (before or after <see cref="LoadCheckpoint"/>) and it is rebuilt without
/// drawing random numbers. Checkpoints are taken between <see cref="IOfflineSafeLearner.TrainStep"/> calls.
/// </remarks>
public interface ICheckpointableOfflineLearner : IOfflineSafeLearner
{
    /// <summary>Writes the learner's complete training state into <paramref name="directory"/> (created when missing). Not atomic by
    /// itself: write into a temporary folder and rename it, as <c>MarvelPipeline</c> does.</summary>
    /// <param name="directory">An empty folder of the learner's own.</param>
    void SaveCheckpoint(string directory);

    /// <summary>Restores a state written by <see cref="SaveCheckpoint"/> into a learner built with the same options and spaces.</summary>
    /// <param name="directory">The folder.</param>
    /// <exception cref="InvalidDataException">A file is missing or corrupt, or the checkpoint was written with other options (the message
    /// names the first option that differs) or network sizes. Nothing is guaranteed about the learner's state after this exception.</exception>
    void LoadCheckpoint(string directory);
}

/// <summary>
/// Where a long stage (<see cref="ICheckpointableValueAligner"/>'s alignment) saves its checkpoints and where it resumes from. The
/// stage calls <see cref="Save"/> every <see cref="Every"/> units of its own (aligner calls) and once more when cancelled, always between
/// units, and passes a writer that fills the folder it is given; the owner of this object makes the save atomic.
/// </summary>
public sealed class StageCheckpoints
{
    private readonly Action<long, Action<string>> _save;

    /// <summary>Creates the checkpoint settings of one stage.</summary>
    /// <param name="every">Save every this many units; 0 saves only on cancellation.</param>
    /// <param name="resumeFrom">The folder of the newest checkpoint of this stage (written through <paramref name="save"/>), or null to start
    /// from the beginning.</param>
    /// <param name="save">Receives the number of completed units and a writer that fills a folder; it must write the folder atomically.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="every"/> is negative.</exception>
    public StageCheckpoints(long every, string? resumeFrom, Action<long, Action<string>> save)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(every);
        ArgumentNullException.ThrowIfNull(save);
        Every = every;
        ResumeFrom = resumeFrom;
        _save = save;
    }

    /// <summary>Save every this many units (0: only on cancellation).</summary>
    public long Every { get; }

    /// <summary>The folder to resume from, or null.</summary>
    public string? ResumeFrom { get; }

    /// <summary>Saves a checkpoint after <paramref name="completed"/> units; <paramref name="write"/> fills the folder it receives.</summary>
    /// <param name="completed">Units completed so far.</param>
    /// <param name="write">Fills a folder with the stage's state.</param>
    public void Save(long completed, Action<string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        _save(completed, write);
    }

    /// <summary>Whether a checkpoint is due after <paramref name="completed"/> units.</summary>
    /// <param name="completed">Units completed so far.</param>
    public bool IsDue(long completed) => Every > 0 && completed > 0 && completed % Every == 0;
}

/// <summary>
/// An <see cref="IValueAligner"/> whose alignment can be checkpointed and resumed bit-identically (on CPU): critics, target critics,
/// optimizer moments, generators, the batch sampler and the step counters. <c>ValuePreAligner</c> implements it.
/// </summary>
public interface ICheckpointableValueAligner : IValueAligner
{
    /// <summary>As <see cref="IValueAligner.Align"/>, saving checkpoints through <paramref name="checkpoints"/> and continuing from
    /// <see cref="StageCheckpoints.ResumeFrom"/> when set. Cancellation is checked only between units (aligner calls), so the checkpoint
    /// written on cancellation is an exact resume point.</summary>
    /// <param name="artifact">The offline result; not modified.</param>
    /// <param name="data">Transitions to align on (the same data as the interrupted alignment's when resuming).</param>
    /// <param name="context">Spaces, seeds and device.</param>
    /// <param name="checkpoints">Cadence, resume folder and the atomic save.</param>
    /// <param name="progress">Receives progress reports.</param>
    /// <param name="cancellationToken">Checked between calls; on cancellation a checkpoint is saved, then <see cref="OperationCanceledException"/> propagates.</param>
    /// <exception cref="InvalidDataException">The resume folder is incomplete or was written with other options.</exception>
    ValueAlignmentResult Align(HandoverArtifact artifact, ITransitionSampler data, LearnerContext context, StageCheckpoints checkpoints,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default);
}

/// <summary>Result of an <see cref="IValueAligner"/>.</summary>
/// <param name="Artifact">The artifact with re-fitted critics (the input is not modified).</param>
/// <param name="Steps">Gradient steps taken.</param>
/// <param name="FinalMetrics">Scalars of the last alignment step.</param>
public sealed record ValueAlignmentResult(HandoverArtifact Artifact, long Steps, IReadOnlyDictionary<string, double> FinalMetrics);

/// <summary>
/// Re-fits the critics of a handover artifact to the values of the artifact's own (frozen) policy before
/// online finetuning, so that Q-values the online learner starts from are the policy's true values
/// (Marvel's Value Pre-Alignment). <c>NoAlignment</c> returns the artifact unchanged.
/// </summary>
public interface IValueAligner
{
    /// <summary>Aligns the reward and cost critics of <paramref name="artifact"/> on transitions from <paramref name="data"/>.</summary>
    /// <param name="artifact">The offline result; not modified.</param>
    /// <param name="data">Transitions to align on (the offline dataset or a replay buffer).</param>
    /// <param name="context">Spaces, seeds and device.</param>
    /// <param name="progress">Receives progress reports.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    ValueAlignmentResult Align(HandoverArtifact artifact, ITransitionSampler data, LearnerContext context, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default);
}

/// <summary>Training loops over <see cref="IOfflineSafeLearner"/>.</summary>
public static class OfflineLearnerExtensions
{
    /// <summary>Runs <paramref name="steps"/> gradient updates on the attached dataset, reporting progress every <paramref name="reportEvery"/> steps.</summary>
    /// <returns>The scalars of the last update.</returns>
    /// <exception cref="OperationCanceledException">Cancelled between updates.</exception>
    public static IReadOnlyDictionary<string, double> Train(this IOfflineSafeLearner learner, long steps, IProgress<TrainingProgress>? progress = null,
        int reportEvery = 100, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(reportEvery);
        IReadOnlyDictionary<string, double> last = new Dictionary<string, double>();
        for (long i = 0; i < steps; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            last = learner.TrainStep();
            if (progress is not null && ((i + 1) % reportEvery == 0 || i + 1 == steps))
                progress.Report(new TrainingProgress("offline", i + 1, steps, last));
        }
        return last;
    }
}

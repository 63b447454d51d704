using System.Text.Json.Serialization;
using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Algorithms.Online.SacLag;

namespace Marvel.Core.Pipeline.Datasets;

/// <summary>How the cost limit of the frontier recipe's learner moves over training (see <see cref="FrontierDatasetOptions.Schedule"/>).</summary>
public enum CostLimitScheduleKind
{
    /// <summary>
    /// Each cycle holds <see cref="FrontierDatasetOptions.CostLimitStart"/>, ramps linearly to <see cref="FrontierDatasetOptions.CostLimitEnd"/>
    /// between <see cref="FrontierDatasetOptions.SweepStartFraction"/> and <see cref="FrontierDatasetOptions.SweepEndFraction"/> of the cycle,
    /// then holds the end value: DSRL's sweep (scripts/train_trpol_expert.py), repeated.
    /// </summary>
    Sweep,

    /// <summary>Each cycle holds one limit drawn uniformly between <see cref="FrontierDatasetOptions.CostLimitStart"/> and
    /// <see cref="FrontierDatasetOptions.CostLimitEnd"/> (from the seed's "frontier/schedule" stream).</summary>
    Random,
}

/// <summary>Which online Lagrangian learner the frontier recipe trains (see <see cref="FrontierDatasetOptions.LearnerKind"/>).</summary>
public enum FrontierLearner
{
    /// <summary>SAC-Lag with <see cref="FrontierDatasetOptions.Learner"/> (the default).</summary>
    SacLag,
    /// <summary>PPO-Lag with <see cref="FrontierDatasetOptions.PpoLearner"/> (on-policy, as DSRL's TRPO-Lag; cheaper per transition).</summary>
    PpoLag,
}

/// <summary>
/// Settings of the frontier dataset recipe (<see cref="FrontierDataset"/>): an online Lagrangian learner (SAC-Lag) trains on the task
/// while its cost limit follows a schedule; every training episode is kept, together with deterministic and noise-perturbed rollouts of
/// the learner at checkpoints; then a grid over (episode cost, episode return) with a cap per cell picks episodes until the target
/// size is reached. This is how DSRL made its datasets (TRPO-Lag under a swept limit, then a grid filter), at a smaller budget.
/// </summary>
/// <remarks>
/// Defaults: the schedule and the grid follow DSRL's scripts (limit 5 → 100, sweep between 10 % and 90 % of training), scaled to a
/// budget a 2-core machine finishes in hours; the learner is the SAC-Lag setting that learns BallCircle from scratch in
/// docs/algorithms/sac-lag.md. <see cref="ForTask"/> sets the per-task sizes of DSRL's files. docs/datasets.md, "Frontier datasets",
/// documents each choice.
/// </remarks>
public sealed record FrontierDatasetOptions
{
    /// <summary>Environment transitions the learner trains for (all vector rows together). Default 300 000.</summary>
    public int TrainingSteps { get; set; } = 300_000;

    /// <summary>Environments the learner steps together (and the checkpoint rollouts use). Default 4.</summary>
    public int Environments { get; set; } = 4;

    /// <summary>The cost limit at the start of each cycle (undiscounted episode cost). Default 5 (DSRL's <c>cost_start</c>).</summary>
    public double CostLimitStart { get; set; } = 5;

    /// <summary>The cost limit at the end of each cycle (undiscounted episode cost). Default 100 (DSRL's <c>cost_end</c> for CarCircle).</summary>
    public double CostLimitEnd { get; set; } = 100;

    /// <summary>The shape of the schedule. Default <see cref="CostLimitScheduleKind.Sweep"/>.</summary>
    public CostLimitScheduleKind Schedule { get; set; } = CostLimitScheduleKind.Sweep;

    /// <summary>Training is split into this many equal cycles, each a sweep or one random limit. Default 2 (the sweep runs twice, so the
    /// trained, reward-seeking policy is also pushed back to low costs).</summary>
    public int ScheduleCycles { get; set; } = 2;

    /// <summary>Where in a cycle the sweep leaves <see cref="CostLimitStart"/>, in [0, 1). Default 0.1 (DSRL: epoch 100 of 1 000).</summary>
    public double SweepStartFraction { get; set; } = 0.1;

    /// <summary>Where in a cycle the sweep reaches <see cref="CostLimitEnd"/>, in (<see cref="SweepStartFraction"/>, 1]. Default 0.9
    /// (DSRL: epoch 900 of 1 000).</summary>
    public double SweepEndFraction { get; set; } = 0.9;

    /// <summary>
    /// Step size η of the multiplier's projected dual ascent, λ ← max(0, λ + η·(J_c − κ)), applied once per learner iteration that
    /// finishes episodes (λ per cost unit). Default 0.002, the integral gain with which SAC-Lag learned BallCircle at κ = 20
    /// (docs/algorithms/sac-lag.md). Plain dual ascent keeps nothing but λ, so a limit that changes every iteration needs no restart.
    /// </summary>
    public double LambdaLearningRate { get; set; } = 0.002;

    /// <summary>λ before the first update (≥ 0). Default 0.</summary>
    public double InitialLambda { get; set; }

    /// <summary>Every this many training transitions the current policy is rolled out for the checkpoint episodes. Default 20 000.</summary>
    public int CheckpointEvery { get; set; } = 20_000;

    /// <summary>Episodes of the policy's deterministic action at each checkpoint (≥ 0). Default 2.</summary>
    public int DeterministicEpisodes { get; set; } = 2;

    /// <summary>σ of the Gaussian noise added to the deterministic action in the perturbed checkpoint rollouts (actions clipped to
    /// [−1, 1]); one set of <see cref="NoisyEpisodes"/> per value. Default [0.1, 0.3].</summary>
    public double[] NoiseStandardDeviations { get; set; } = [0.1, 0.3];

    /// <summary>Episodes per noise level at each checkpoint (≥ 0). Default 2.</summary>
    public int NoisyEpisodes { get; set; } = 2;

    /// <summary>Cells of the selection grid along episode cost. Default 20 (DSRL: 60, over about 5× more episodes).</summary>
    public int CostBins { get; set; } = 20;

    /// <summary>Cells of the selection grid along episode return. Default 20 (DSRL: 50).</summary>
    public int ReturnBins { get; set; } = 20;

    /// <summary>The most episodes kept from one cell (DSRL's <c>npb</c>). Default 10.</summary>
    public int MaxEpisodesPerBin { get; set; } = 10;

    /// <summary>Episodes costlier than this are left out and the grid ends here (DSRL's <c>cmax</c>); null keeps all and the grid spans
    /// the largest cost. Default null (<see cref="ForTask"/> sets DSRL's value).</summary>
    public double? MaxEpisodeCost { get; set; }

    /// <summary>Selection stops once the kept episodes hold at least this many transitions. Default 100 000 (<see cref="ForTask"/> sets
    /// the size of DSRL's file).</summary>
    public int TargetTransitions { get; set; } = 100_000;

    /// <summary>Which learner trains: <see cref="FrontierLearner.SacLag"/> (default) or <see cref="FrontierLearner.PpoLag"/>. docs/datasets.md
    /// compares their coverage per CPU minute.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]   // absent from the JSON (and the cache key) at its default
    public FrontierLearner LearnerKind { get; set; }
    /// <summary>SAC-Lag's settings, used when <see cref="LearnerKind"/> is <see cref="FrontierLearner.SacLag"/>. Default <see cref="DefaultLearner"/>.</summary>
    public SacLagOptions Learner { get; set; } = DefaultLearner();
    /// <summary>PPO-Lag's settings, used when <see cref="LearnerKind"/> is <see cref="FrontierLearner.PpoLag"/>; null means
    /// <see cref="DefaultPpoLearner"/>. Default null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PpoLagOptions? PpoLearner { get; set; }

    /// <summary>
    /// SAC-Lag as it learned BallCircle from scratch (docs/algorithms/sac-lag.md, "Evidence"): [256, 256] actor and critics, Adam 3e-4,
    /// α tuned from 0.1, 40 transitions then 10 gradient steps of batch 256, 2 000 warm-up transitions, reward scale 0.1; the replay
    /// buffer keeps the latest 200 000 transitions, so the critics follow the moving limit.
    /// </summary>
    public static SacLagOptions DefaultLearner() => new()
    {
        ActorHiddenSizes = [256, 256], CriticHiddenSizes = [256, 256], CostCriticHiddenSizes = [256, 256],
        ActorLearningRate = 3e-4, CriticLearningRate = 3e-4, CostCriticLearningRate = 3e-4, AutoTuneAlpha = true, Alpha = 0.1,
        Schedule = SacLagSchedule.StepBased, UpdateEveryNSteps = 40, UpdatesPerIteration = 10, MiniBatches = 1, BatchSize = 256,
        WarmupSteps = 2_000, ReplayCapacity = 200_000,
    };

    /// <summary>
    /// PPO-Lag for the recipe: the library's PPO-Lag defaults ([64, 64] tanh networks, clip 0.2, GAE 0.95, KL stop 0.02) with 4 000
    /// transitions and 10 epochs per iteration, so that the cost limit, which changes once per iteration, follows the schedule in
    /// small steps. λ moves once per iteration that finishes episodes: with SAC-Lag's default that is once per episode length × 4
    /// transitions, with this PPO-Lag once per 4 000, so raise <see cref="LambdaLearningRate"/> 3–10× (by the task's episode length)
    /// when switching learners (docs/datasets.md's comparison uses 0.02 on BallRun).
    /// </summary>
    public static PpoLagOptions DefaultPpoLearner() => new() { StepsPerIteration = 4_000, UpdateEpochs = 10 };

    /// <summary>
    /// The defaults with DSRL's size for <paramref name="taskId"/>: target transitions and cost maximum of DSRL's file (BallCircle
    /// 177 000 and 80, BallRun 94 000 and 80, CarCircle 435 000 and 100, CarRun 130 000 and 40; spec §3.1; for the Drone and Ant tasks DSRL's trajectory count times the episode
    /// length, an upper bound, and its cost maximum: AntCircle 2 864 000 and 200, AntRun 363 200 and 150, DroneCircle 576 900 and 100,
    /// DroneRun 398 000 and 140; environments spec §5.5), and three times the
    /// target as training transitions, so that the grid chooses among about three candidate episodes per kept one. Other tasks get
    /// the plain defaults.
    /// </summary>
    /// <param name="taskId">A task id, short ("BallCircle") or DSRL's ("OfflineBallCircle-v0").</param>
    public static FrontierDatasetOptions ForTask(string taskId)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        string id = taskId.StartsWith("Offline", StringComparison.Ordinal) && taskId.EndsWith("-v0", StringComparison.Ordinal)
            ? taskId["Offline".Length..^"-v0".Length]
            : taskId;
        (int target, double costMax)? size = id switch
        {
            "BallCircle" => (177_000, 80),
            "BallRun" => (94_000, 80),
            "CarCircle" => (435_000, 100),
            "CarRun" => (130_000, 40),
            // Drone and Ant (environments spec §5.5): DSRL's trajectory count × the episode length, an upper bound on its transitions
            // (episodes that end early are shorter), and its cost maximum.
            "AntCircle" => (5_728 * 500, 200),
            "AntRun" => (1_816 * 200, 150),
            "DroneCircle" => (1_923 * 300, 100),
            "DroneRun" => (1_990 * 200, 140),
            _ => null,
        };
        var options = new FrontierDatasetOptions();
        if (size is { } s)
        {
            options.TargetTransitions = s.target;
            options.MaxEpisodeCost = s.costMax;
            options.TrainingSteps = 3 * s.target;
        }
        return options;
    }
}

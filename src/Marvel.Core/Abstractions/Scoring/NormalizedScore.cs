using System.Collections.Concurrent;

namespace Marvel.Core.Abstractions.Scoring;

/// <summary>
/// Reference episode statistics of a task, used to normalize returns as DSRL does.
/// </summary>
/// <param name="MaxEpisodeReward">R_max: the largest episode return in the task's reference dataset.</param>
/// <param name="MinEpisodeReward">R_min: the smallest episode return in the task's reference dataset.</param>
/// <param name="MaxEpisodeCost">The largest episode cost of the reference dataset (informational).</param>
/// <param name="MinEpisodeCost">The smallest episode cost of the reference dataset (informational).</param>
/// <param name="MaxEpisodeSteps">The task's horizon T.</param>
public sealed record TaskScoreReference(double MaxEpisodeReward, double MinEpisodeReward, double MaxEpisodeCost, double MinEpisodeCost, int MaxEpisodeSteps);

/// <summary>
/// DSRL's normalized scores: R_norm = (R − R_min) / (R_max − R_min) and C_norm = (C + ε) / (κ + ε),
/// ε = 1 when κ = 0 else 0. A policy is safe when C_norm ≤ 1.
/// </summary>
/// <remarks>
/// R_max and R_min are dataset statistics, not optima, so R_norm can exceed 1 or be negative.
/// Built-in references are DSRL's values (dsrl/infos.py) for the thirteen DSRL tasks Marvel.Core and Marvel.Environments.MuJoCo cover.
/// Register references for your own tasks with <see cref="Register"/>; the usual choice is the largest and
/// smallest episode return of your offline dataset (<c>OfflineDataset.ScoreReference()</c>).
/// </remarks>
public static class NormalizedScore
{
    private static readonly ConcurrentDictionary<string, TaskScoreReference> References = new(StringComparer.Ordinal)
    {
        ["BallCircle"] = new(881.46337890625, 0.38312244415283203, 80.0, 0.0, 200),
        ["BallRun"] = new(1327.445556640625, 26.339754104614258, 80.0, 0.0, 100),
        ["CarCircle"] = new(534.3060913085938, 3.484419822692871, 100.0, 0.0, 300),
        ["CarRun"] = new(574.6533203125, 204.28726196289062, 40.0, 0.0, 200),
        ["DroneCircle"] = new(996.38916015625, 207.794189453125, 100.0, 0.0, 300),
        ["DroneRun"] = new(682.8330078125, 10.557029724121094, 140.0, 0.0, 200),
        ["AntCircle"] = new(460.7091979980469, 0.0177031010389328, 200.0, 0.0, 500),
        ["AntRun"] = new(955.4818725585938, 0.001767391717990563, 150.0, 0.0, 200),
        ["AntVelocity"] = new(2976.276611328125, 6.1519012451171875, 250.0, 0.0, 1000),
        ["HalfCheetahVelocity"] = new(2806.93310546875, 5.7509765625, 250.0, 0.0, 1000),
        ["HopperVelocity"] = new(1911.396728515625, 37.05154800415039, 250.0, 0.0, 1000),
        ["SwimmerVelocity"] = new(238.95831298828125, 0.07114458084106445, 200.0, 0.0, 1000),
        ["Walker2dVelocity"] = new(3418.223876953125, 18.668498992919922, 300.0, 0.0, 1000),
    };

    /// <summary>Normalized reward (R − R_min) / (R_max − R_min).</summary>
    /// <param name="episodeReturn">Undiscounted episode return R (unscaled).</param>
    /// <param name="reference">The task's reference statistics.</param>
    /// <exception cref="ArgumentException">R_max equals R_min.</exception>
    public static double Reward(double episodeReturn, TaskScoreReference reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        double span = reference.MaxEpisodeReward - reference.MinEpisodeReward;
        if (span == 0)
            throw new ArgumentException("The score reference has MaxEpisodeReward == MinEpisodeReward; normalization is undefined.", nameof(reference));
        return (episodeReturn - reference.MinEpisodeReward) / span;
    }

    /// <summary>Normalized cost (C + ε) / (κ + ε) with ε = 1 if κ = 0 else 0, so C/κ for κ &gt; 0 and C + 1 for κ = 0.</summary>
    /// <param name="episodeCost">Undiscounted episode cost C.</param>
    /// <param name="costLimit">CostLimit κ ≥ 0 (undiscounted episode cost).</param>
    /// <exception cref="ArgumentOutOfRangeException">κ is negative or not finite.</exception>
    public static double Cost(double episodeCost, double costLimit)
    {
        if (!double.IsFinite(costLimit) || costLimit < 0)
            throw new ArgumentOutOfRangeException(nameof(costLimit), costLimit, "CostLimit must be finite and >= 0.");
        double epsilon = costLimit == 0 ? 1.0 : 0.0;
        return (episodeCost + epsilon) / (costLimit + epsilon);
    }

    /// <summary>Looks up the reference of task <paramref name="taskId"/>.</summary>
    public static bool TryGetReference(string taskId, out TaskScoreReference reference)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        return References.TryGetValue(taskId, out reference!);
    }

    /// <summary>The reference of task <paramref name="taskId"/>.</summary>
    /// <exception cref="KeyNotFoundException">No reference is registered; the message lists the known tasks.</exception>
    public static TaskScoreReference GetReference(string taskId) =>
        TryGetReference(taskId, out var r)
            ? r
            : throw new KeyNotFoundException($"No score reference for task '{taskId}'. Known: {string.Join(", ", References.Keys.Order(StringComparer.Ordinal))}. Register one with NormalizedScore.Register(\"{taskId}\", ...), e.g. from OfflineDataset.ScoreReference().");

    /// <summary>Registers (or replaces) the reference of a task.</summary>
    /// <exception cref="ArgumentException">The reference is not finite or has R_max ≤ R_min.</exception>
    public static void Register(string taskId, TaskScoreReference reference)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        ArgumentNullException.ThrowIfNull(reference);
        if (!double.IsFinite(reference.MaxEpisodeReward) || !double.IsFinite(reference.MinEpisodeReward) || reference.MaxEpisodeReward <= reference.MinEpisodeReward)
            throw new ArgumentException($"Score reference for '{taskId}': MaxEpisodeReward ({reference.MaxEpisodeReward}) must be finite and greater than MinEpisodeReward ({reference.MinEpisodeReward}).", nameof(reference));
        References[taskId] = reference;
    }

    /// <summary>The ids of all tasks with a reference.</summary>
    public static IReadOnlyCollection<string> KnownTasks => References.Keys.Order(StringComparer.Ordinal).ToArray();
}

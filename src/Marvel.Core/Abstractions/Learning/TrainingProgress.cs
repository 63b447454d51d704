namespace Marvel.Core.Abstractions.Learning;

/// <summary>Progress of long work, reported through <see cref="IProgress{T}"/>.</summary>
/// <param name="Stage">The stage, e.g. "offline", "alignment", "online", "collect".</param>
/// <param name="Step">Steps done in this stage.</param>
/// <param name="TotalSteps">Steps planned in this stage (0 when unknown).</param>
/// <param name="Metrics">The latest metrics, by name (may be empty).</param>
public sealed record TrainingProgress(string Stage, long Step, long TotalSteps, IReadOnlyDictionary<string, double> Metrics)
{
    /// <summary>Fraction done in [0, 1], or NaN when the total is unknown.</summary>
    public double Fraction => TotalSteps > 0 ? Math.Clamp((double)Step / TotalSteps, 0, 1) : double.NaN;
}

/// <summary>Summary of one finished episode.</summary>
/// <param name="Return">Undiscounted sum of rewards, in the task's units.</param>
/// <param name="Cost">Undiscounted sum of costs, in the task's units.</param>
/// <param name="Length">Steps in the episode.</param>
public readonly record struct EpisodeSummary(double Return, double Cost, int Length);

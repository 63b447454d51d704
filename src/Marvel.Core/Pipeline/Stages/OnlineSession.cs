namespace Marvel.Core.Pipeline.Stages;

/// <summary>Iterations and running totals of the online stage, and the construction of an <c>online.csv</c> row.</summary>
internal sealed class OnlineSession
{
    /// <summary>Environment steps taken before the online learner's first (the alignment's rollouts); the learner counts only its own.</summary>
    private long _stepsBefore;

    public long Iterations { get; private set; }
    public long EnvironmentSteps { get; private set; }
    public long Episodes { get; private set; }
    public double CumulativeViolation { get; private set; }

    /// <summary>Time the run took in earlier processes (a resumed run's checkpoint records it).</summary>
    public TimeSpan ElapsedBefore { get; private set; }

    /// <summary>The iteration of the newest online checkpoint written or loaded, −1 when none.</summary>
    public long CheckpointedIteration { get; set; } = -1;

    /// <summary>Continues the totals of <paramref name="checkpoint"/>.</summary>
    public void Restore(OnlineCheckpoint checkpoint)
    {
        Iterations = checkpoint.Iteration;
        EnvironmentSteps = checkpoint.EnvironmentSteps;
        Episodes = checkpoint.Episodes;
        CumulativeViolation = checkpoint.CumulativeViolation;
        ElapsedBefore = checkpoint.Elapsed;
        CheckpointedIteration = checkpoint.Iteration;
    }

    /// <summary>The alignment's rollout episodes are the first online interactions: their steps always offset the learner's count, and
    /// their episodes, steps and violation join the totals unless a checkpoint's totals (which include them) were restored.</summary>
    public void CountAlignmentRollouts(AlignmentInfo alignment, bool includeInTotals)
    {
        _stepsBefore = alignment.RolloutSteps;
        if (!includeInTotals) return;
        EnvironmentSteps += alignment.RolloutSteps;
        Episodes += alignment.RolloutEpisodes;
        CumulativeViolation += alignment.RolloutViolation;
    }

    /// <summary>Counts iteration <paramref name="r"/> and returns its <c>online.csv</c> row (fixed columns, then the learner's metrics).</summary>
    public Dictionary<string, double> Add(OnlineIterationResult r, CostBudget budget)
    {
        Iterations++;
        EnvironmentSteps = _stepsBefore + r.EnvironmentSteps;
        Episodes += r.Episodes.Count;
        foreach (var e in r.Episodes) CumulativeViolation += budget.Violation(e.Cost);
        var row = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["iteration"] = Iterations,
            ["environment_steps"] = EnvironmentSteps,
            ["episodes"] = r.Episodes.Count,
            ["mean_episode_return"] = r.Episodes.Count > 0 ? r.Episodes.Average(e => e.Return) : double.NaN,
            ["mean_episode_cost"] = r.Episodes.Count > 0 ? r.Episodes.Average(e => e.Cost) : double.NaN,
            ["lambda"] = r.Lambda,
            ["cumulative_violation"] = CumulativeViolation,
        };
        foreach (var (name, value) in r.Metrics) row.TryAdd(name, value);
        return row;
    }
}

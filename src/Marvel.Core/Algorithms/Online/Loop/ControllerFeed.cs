using Marvel.Core.Abstractions.Telemetry;

namespace Marvel.Core.Algorithms.Online.Loop;

/// <summary>
/// How an online loop feeds its <see cref="ILagrangeController"/>: once per iteration, with the mean undiscounted, unscaled cost of the
/// episodes finished since the controller's last update (an iteration that finishes none leaves λ as it is and carries nothing over), and how
/// the finished episodes are published on the meter.
/// </summary>
internal sealed class ControllerFeed
{
    private readonly List<EpisodeSummary> _pending = new();
    private readonly LearnerContext? _context;

    /// <summary>Creates the feed of one learner.</summary>
    /// <param name="context">The learner's context: when it carries the run's <see cref="LearnerContext.Budget"/>, every controller fed
    /// must agree with it (<see cref="Budget"/>); null for a loop driven without a learner context (tests).</param>
    public ControllerFeed(LearnerContext? context = null) => _context = context;

    /// <summary>
    /// The cost budget of an iteration driven by <paramref name="controller"/>: the run's, after checking that the controller's CostLimit
    /// agrees with it (the message names the controller), or one of the controller's κ over the context's horizon when the learner runs
    /// without a run.
    /// </summary>
    /// <exception cref="ArgumentException">The controller's CostLimit disagrees with the run's budget.</exception>
    public CostBudget Budget(ILagrangeController controller)
    {
        string name = $"the Lagrange controller's CostLimit ({controller.GetType().Name})";
        if (_context is not null) return _context.BudgetFor(controller.CostLimit, name);
        return new CostBudget(controller.CostLimit, 1);   // no horizon without a context; only κ and the violation are used
    }

    /// <summary>Episodes finished but not yet fed to the controller (a checkpoint keeps them).</summary>
    public IReadOnlyList<EpisodeSummary> Pending => _pending;

    /// <summary>Replaces the pending episodes (from a checkpoint).</summary>
    public void Restore(IEnumerable<EpisodeSummary>? pending)
    {
        _pending.Clear();
        _pending.AddRange(pending ?? []);
    }

    /// <summary>
    /// Adds <paramref name="episodes"/> to the pending ones and, when there are any, updates <paramref name="controller"/> with their mean
    /// cost and writes mean_episode_cost, mean_episode_return and the controller's terms (prefixed "controller/") into <paramref name="metrics"/>.
    /// </summary>
    /// <param name="controller">The controller to update.</param>
    /// <param name="episodes">The episodes finished since the last call.</param>
    /// <param name="metrics">Where the iteration's metrics go.</param>
    /// <param name="chargedCost">Episode cost added on top of the executed episodes' total, spread over the episodes fed (a cost guard's
    /// charge, <see cref="CostGuard"/>); the mean_episode_cost metric stays the executed mean, the controller's input includes it.</param>
    /// <param name="hold">Report the episodes but leave the controller as it is and drop them (anti-windup while the actor cannot
    /// answer; metric controller/held = 1).</param>
    /// <returns>The λ to use now.</returns>
    public double Feed(ILagrangeController controller, IReadOnlyList<EpisodeSummary> episodes, Dictionary<string, double> metrics, double chargedCost = 0,
        bool hold = false)
    {
        _pending.AddRange(episodes);
        double lambda = controller.Lambda;
        if (_pending.Count == 0) return lambda;
        double meanCost = _pending.Average(e => e.Cost);
        metrics["mean_episode_cost"] = meanCost;
        metrics["mean_episode_return"] = _pending.Average(e => e.Return);
        if (hold)
        {
            metrics["controller/held"] = 1;
        }
        else
        {
            double charge = chargedCost / _pending.Count;
            var update = controller.Update(meanCost + charge);
            if (chargedCost != 0) metrics["controller/guard_charge"] = charge;
            lambda = update.Lambda;
            foreach (var (name, value) in update.Terms) metrics["controller/" + name] = value;
        }
        _pending.Clear();
        return lambda;
    }

    /// <summary>Records each episode's return, cost and length, and its violation (<see cref="CostBudget.Violation(double)"/>), on the meter
    /// under <paramref name="stage"/>.</summary>
    public static void Publish(string stage, IReadOnlyList<EpisodeSummary> episodes, CostBudget budget)
    {
        var tag = new KeyValuePair<string, object?>("stage", stage);
        foreach (var e in episodes)
        {
            MarvelTelemetry.EpisodeReturn.Record(e.Return, tag);
            MarvelTelemetry.EpisodeCost.Record(e.Cost, tag);
            MarvelTelemetry.EpisodeLength.Record(e.Length, tag);
            MarvelTelemetry.OnlineViolation.Add(budget.Violation(e.Cost), tag);
        }
    }
}

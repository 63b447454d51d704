using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
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
    /// <returns>The λ to use now.</returns>
    public double Feed(ILagrangeController controller, IReadOnlyList<EpisodeSummary> episodes, Dictionary<string, double> metrics)
    {
        _pending.AddRange(episodes);
        double lambda = controller.Lambda;
        if (_pending.Count > 0)
        {
            double meanCost = _pending.Average(e => e.Cost);
            var update = controller.Update(meanCost);
            lambda = update.Lambda;
            metrics["mean_episode_cost"] = meanCost;
            metrics["mean_episode_return"] = _pending.Average(e => e.Return);
            foreach (var (name, value) in update.Terms) metrics["controller/" + name] = value;
            _pending.Clear();
        }
        return lambda;
    }

    /// <summary>Records each episode's return, cost and length, and its violation max(0, C − κ), on the meter under <paramref name="stage"/>.</summary>
    public static void Publish(string stage, IReadOnlyList<EpisodeSummary> episodes, double costLimit)
    {
        var tag = new KeyValuePair<string, object?>("stage", stage);
        foreach (var e in episodes)
        {
            MarvelTelemetry.EpisodeReturn.Record(e.Return, tag);
            MarvelTelemetry.EpisodeCost.Record(e.Cost, tag);
            MarvelTelemetry.EpisodeLength.Record(e.Length, tag);
            MarvelTelemetry.OnlineViolation.Add(Math.Max(0, e.Cost - costLimit), tag);
        }
    }
}

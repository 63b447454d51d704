using System.Diagnostics.Metrics;

namespace Marvel.Core.Abstractions.Telemetry;

/// <summary>
/// The library's one <see cref="Meter"/>, named "Marvel.Core". Learners and the pipeline publish their
/// metrics on it; CSV, TensorBoard or OpenTelemetry sinks listen with a <see cref="MeterListener"/>.
/// </summary>
public static class MarvelTelemetry
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Marvel.Core";

    /// <summary>The shared meter.</summary>
    public static Meter Meter { get; } = new(MeterName, typeof(MarvelTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Undiscounted return of finished episodes, tagged by stage.</summary>
    public static Histogram<double> EpisodeReturn { get; } = Meter.CreateHistogram<double>("marvel.episode.return", "reward", "Undiscounted episode return");

    /// <summary>Undiscounted cost of finished episodes, tagged by stage.</summary>
    public static Histogram<double> EpisodeCost { get; } = Meter.CreateHistogram<double>("marvel.episode.cost", "cost", "Undiscounted episode cost");

    /// <summary>Length in steps of finished episodes, tagged by stage.</summary>
    public static Histogram<int> EpisodeLength { get; } = Meter.CreateHistogram<int>("marvel.episode.length", "steps", "Episode length");

    /// <summary>Cumulative constraint violation Σ max(0, episode cost − CostLimit) during online learning.</summary>
    public static Counter<double> OnlineViolation { get; } = Meter.CreateCounter<double>("marvel.online.violation", "cost", "Cumulative online constraint violation");

    /// <summary>Named training scalars (losses, λ, controller terms); the name is the "metric" tag.</summary>
    public static Histogram<double> TrainingScalar { get; } = Meter.CreateHistogram<double>("marvel.training.scalar", null, "Training scalars by name");

    /// <summary>Publishes a set of training scalars under a stage tag.</summary>
    public static void Publish(string stage, IReadOnlyDictionary<string, double> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (!TrainingScalar.Enabled) return;
        foreach (var (name, value) in metrics)
            TrainingScalar.Record(value, new KeyValuePair<string, object?>("stage", stage), new KeyValuePair<string, object?>("metric", name));
    }
}

using System.Globalization;

namespace Marvel.Core.Pipeline;

/// <summary>
/// Prints pipeline progress as plain lines, in the order it is reported: each stage's first report, then at most one line per
/// interval, each stage's last step and every evaluation, with the rate and the estimated time left of the stage.
/// </summary>
/// <remarks>
/// <para>Lines are written on the reporting thread, under a lock. <see cref="Progress{T}"/> would post each report to the thread
/// pool, where lines can come out of order; this class does not. The library itself never writes to the console: pass
/// <see cref="Console.Out"/> (or any writer) to print.</para>
/// <para>Line format: <c>[  12.3s] offline 400/4000 (8%, 31.5 steps/s, 1 min 54 s left): reward_critic_loss=0.52 …</c>. The rate is
/// measured from the stage's first report; the estimate is (total − step) / rate.</para>
/// </remarks>
/// <example>
/// <code>
/// var result = await pipeline.RunAsync(dataset, new ConsoleProgress(Console.Out), cancellationToken);
/// </code>
/// </example>
public sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    private readonly TextWriter _output;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long Timestamp, long Step)> _stageStarts = new(StringComparer.Ordinal);
    private string? _stage;
    private long _lastLine;

    /// <summary>Creates the reporter.</summary>
    /// <param name="output">Where lines go, e.g. <see cref="Console.Out"/>.</param>
    /// <param name="interval">Least time between two periodic lines of one stage; default 5 s.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is negative.</exception>
    public ConsoleProgress(TextWriter output, TimeSpan? interval = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        _interval = interval ?? TimeSpan.FromSeconds(5);
        ArgumentOutOfRangeException.ThrowIfLessThan(_interval, TimeSpan.Zero, nameof(interval));
        _output = output;
        _time = timeProvider ?? TimeProvider.System;
        _start = _time.GetTimestamp();
        _lastLine = _start;
    }

    /// <inheritdoc />
    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            bool newStage = value.Stage != _stage;
            if (!_stageStarts.TryGetValue(value.Stage, out var start) || newStage && value.Step <= start.Step)
                _stageStarts[value.Stage] = start = (now, value.Step);
            bool evaluation = value.Stage == MarvelPipelineStages.Evaluation;
            bool last = value.TotalSteps > 0 && value.Step >= value.TotalSteps;
            if (!newStage && !evaluation && !last && _time.GetElapsedTime(_lastLine, now) < _interval) return;
            _stage = value.Stage;
            _lastLine = now;
            double elapsed = _time.GetElapsedTime(_start, now).TotalSeconds;
            string pace = evaluation ? "" : Pace(value, _time.GetElapsedTime(start.Timestamp, now), value.Step - start.Step);
            _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{elapsed,7:F1}s] ") + Describe(value, pace));
        }
    }

    /// <summary>One line's text for <paramref name="progress"/>, without time stamp or rate: the stage, the step and its main metrics.</summary>
    /// <param name="progress">The report.</param>
    public static string Describe(TrainingProgress progress) => Describe(progress, "");

    private static string Describe(TrainingProgress p, string pace)
    {
        ArgumentNullException.ThrowIfNull(p);
        string F(string key, string format) => p.Metrics.TryGetValue(key, out var v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
        string steps = p.TotalSteps > 0 ? string.Create(CultureInfo.InvariantCulture, $"{p.Step}/{p.TotalSteps}") : p.Step.ToString(CultureInfo.InvariantCulture);
        return p.Stage switch
        {
            MarvelPipelineStages.Online => $"online {steps}{pace}: return {F("mean_episode_return", "F1")} cost {F("mean_episode_cost", "F1")} " +
                                           $"λ {F("lambda", "G3")} cumulative violation {F("cumulative_violation", "F0")}",
            MarvelPipelineStages.Evaluation => $"evaluation at iteration {F("iteration", "F0")}: return {F("mean_return", "F1")} cost {F("mean_cost", "F1")} " +
                                               $"(normalized {F("normalized_reward", "F3")} / {F("normalized_cost", "F2")})",
            _ => $"{p.Stage} {steps}{pace}: " + string.Join(" ", p.Metrics.Take(4).Select(kv => $"{kv.Key}={kv.Value.ToString("G3", CultureInfo.InvariantCulture)}")),
        };
    }

    /// <summary>" (8%, 31.5 steps/s, 1 min 54 s left)", or "" before a rate can be measured.</summary>
    private static string Pace(TrainingProgress p, TimeSpan sinceStageStart, long stepsSinceStageStart)
    {
        if (p.TotalSteps <= 0) return "";
        string percent = (100.0 * p.Fraction).ToString("F0", CultureInfo.InvariantCulture) + "%";
        if (stepsSinceStageStart <= 0 || sinceStageStart <= TimeSpan.Zero) return $" ({percent})";
        double rate = stepsSinceStageStart / sinceStageStart.TotalSeconds;
        string unit = p.Stage == MarvelPipelineStages.Online ? "iterations/s" : "steps/s";
        string left = Duration(TimeSpan.FromSeconds(Math.Max(0, p.TotalSteps - p.Step) / rate));
        string perSecond = rate >= 100 ? rate.ToString("F0", CultureInfo.InvariantCulture) : rate.ToString("G3", CultureInfo.InvariantCulture);
        return $" ({percent}, {perSecond} {unit}, {left} left)";
    }

    /// <summary>A duration for people: "42 s", "3 min 05 s", "2 h 29 min".</summary>
    internal static string Duration(TimeSpan t)
    {
        if (t.TotalHours >= 1) return string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours} h {t.Minutes:D2} min");
        if (t.TotalMinutes >= 1) return string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes} min {t.Seconds:D2} s");
        return string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(t.TotalSeconds):F0} s");
    }
}

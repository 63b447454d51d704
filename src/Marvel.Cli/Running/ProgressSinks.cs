using System.Diagnostics;
using System.Globalization;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Pipeline;
using TorchSharp.Modules;
using static TorchSharp.torch.utils.tensorboard;

namespace Marvel.Cli.Running;

/// <summary>Forwards each report to several sinks, on the reporting thread.</summary>
internal sealed class FanOutProgress(params IProgress<TrainingProgress>?[] sinks) : IProgress<TrainingProgress>
{
    private readonly IProgress<TrainingProgress>[] _sinks = sinks.Where(s => s is not null).Select(s => s!).ToArray();

    public void Report(TrainingProgress value)
    {
        foreach (var s in _sinks) s.Report(value);
    }
}

/// <summary>
/// Writes every scalar the pipeline reports as a TensorBoard scalar <c>stage/name</c> with TorchSharp's
/// <c>torch.utils.tensorboard.SummaryWriter</c> (event files under <c>tensorboard/</c> of the run). The step is the offline or alignment
/// gradient step, the online iteration, or for evaluations the online iteration they were taken at.
/// </summary>
internal sealed class TensorBoardProgress(string logDirectory) : IProgress<TrainingProgress>
{
    private readonly SummaryWriter _writer = SummaryWriter(logDirectory);

    public void Report(TrainingProgress value)
    {
        long step = value.Stage == MarvelPipelineStages.Evaluation && value.Metrics.TryGetValue("iteration", out var it) ? (long)it : value.Step;
        foreach (var (name, v) in value.Metrics)
        {
            if (value.Stage == MarvelPipelineStages.Evaluation && name == "iteration") continue;
            if (double.IsFinite(v)) _writer.add_scalar($"{value.Stage}/{name}", (float)v, checked((int)step));
        }
    }
}

/// <summary>Plain progress lines for logs and redirected output: stage changes, evaluations, and at most one line per interval.</summary>
internal sealed class LineProgress(TextWriter output, TimeSpan interval) : IProgress<TrainingProgress>
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
    private string? _stage;

    public void Report(TrainingProgress p)
    {
        bool evaluation = p.Stage == MarvelPipelineStages.Evaluation;
        bool last = p.TotalSteps > 0 && p.Step >= p.TotalSteps;
        if (!evaluation && p.Stage == _stage && !last && _sinceLine.Elapsed < interval) return;
        _stage = p.Stage;
        _sinceLine.Restart();
        output.WriteLine($"[{_clock.Elapsed.TotalSeconds,6:F1}s] {Describe(p)}");
    }

    internal static string Describe(TrainingProgress p)
    {
        string F(string key, string format) => p.Metrics.TryGetValue(key, out var v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
        return p.Stage switch
        {
            MarvelPipelineStages.Online => $"online {p.Step}/{p.TotalSteps}: return {F("mean_episode_return", "F1")} cost {F("mean_episode_cost", "F1")} " +
                                           $"λ {F("lambda", "G3")} cumulative violation {F("cumulative_violation", "F0")}",
            MarvelPipelineStages.Evaluation => $"evaluation at iteration {F("iteration", "F0")}: return {F("mean_return", "F1")} cost {F("mean_cost", "F1")} " +
                                               $"(normalized {F("normalized_reward", "F3")} / {F("normalized_cost", "F2")})",
            _ => $"{p.Stage} {p.Step}/{p.TotalSteps}: " + string.Join(" ", p.Metrics.Take(4).Select(kv => $"{kv.Key}={kv.Value.ToString("G3", CultureInfo.InvariantCulture)}")),
        };
    }
}

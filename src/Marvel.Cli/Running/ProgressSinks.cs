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

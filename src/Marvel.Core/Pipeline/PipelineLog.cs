using Microsoft.Extensions.Logging;

namespace Marvel.Core.Pipeline;

/// <summary>The pipeline's log messages (category <c>Marvel.Core.Pipeline.MarvelPipeline</c>), one source-generated method each.</summary>
internal static partial class PipelineLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Marvel pipeline: {Mode} run in '{RunDirectory}' on task {TaskId} (cost limit {CostLimit}, seed {Seed}).")]
    public static partial void RunStarted(this ILogger logger, string mode, string runDirectory, string taskId, double costLimit, ulong seed);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Stage {Stage} started.")]
    public static partial void StageStarted(this ILogger logger, string stage);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Stage {Stage} completed in {Seconds:F1} s.")]
    public static partial void StageCompleted(this ILogger logger, string stage, double seconds);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Stage {Stage} skipped: its output '{Path}' is on disk.")]
    public static partial void StageSkipped(this ILogger logger, string stage, string path);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Offline stage of {Algorithm} resumes from its checkpoint after {Step} gradient steps.")]
    public static partial void OfflineResumed(this ILogger logger, string algorithm, long step);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Alignment resumes from its checkpoint after {Calls} calls.")]
    public static partial void AlignmentResumed(this ILogger logger, long calls);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Online stage resumes from the checkpoint of iteration {Iteration}.")]
    public static partial void OnlineResumed(this ILogger logger, long iteration);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Evaluation {Index} at online iteration {Iteration}: mean return {MeanReturn:G6}, mean cost {MeanCost:G6} (cost limit {CostLimit}).")]
    public static partial void Evaluated(this ILogger logger, int index, long iteration, double meanReturn, double meanCost, double costLimit);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "Checkpoint of stage {Stage} written after {Completed} units: '{Path}'.")]
    public static partial void CheckpointWritten(this ILogger logger, string stage, long completed, string path);

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "Stage {Stage} diverged: {Diagnostic}")]
    public static partial void Diverged(this ILogger logger, string stage, string diagnostic);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Run cancelled in stage {Stage}. {Resume}")]
    public static partial void Cancelled(this ILogger logger, string stage, string resume);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "The handover artifact from {Algorithm} was trained with cost limit {ArtifactCostLimit}, but the pipeline's CostLimit is {CostLimit}: the online stage constrains to {CostLimit}. Train the offline stage with the same limit if that is not intended.")]
    public static partial void CostLimitMismatch(this ILogger logger, string algorithm, double artifactCostLimit, double costLimit);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Marvel pipeline completed: final mean return {MeanReturn:G6}, mean cost {MeanCost:G6}, cumulative violation {Violation:G6}, in {Seconds:F1} s.")]
    public static partial void RunCompleted(this ILogger logger, double meanReturn, double meanCost, double violation, double seconds);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "Task {TaskId} has no score reference: normalized reward and cost are NaN; raw returns and costs are reported.")]
    public static partial void NoScoreReference(this ILogger logger, string taskId);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "Critic check: the cost critic's relative error is {Error:G3} (mean Q_c {MeanQ:G4}, Monte-Carlo {MonteCarlo:G4}, bound {Bound:G3}): {Decision}.")]
    public static partial void CriticChecked(this ILogger logger, double error, double meanQ, double monteCarlo, double bound, string decision);

    [LoggerMessage(EventId = 16, Level = LogLevel.Information, Message = "Start check: the handed-over policy's evaluation cost is {MeanCost:G4} (bound {Bound:G4}, limit {CostLimit}): {Decision}.")]
    public static partial void StartChecked(this ILogger logger, double meanCost, double bound, double costLimit, string decision);
}

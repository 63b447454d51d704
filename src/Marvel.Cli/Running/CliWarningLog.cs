using Microsoft.Extensions.Logging;

namespace Marvel.Cli.Running;

/// <summary>
/// The tool's logging provider: the library's warnings and errors (e.g. an artifact trained for another cost limit) become
/// <c>warning: …</c> lines on the command's output; information stays out, since the tool prints its own progress. The pipeline's
/// missing-score-reference warning stays out too: the tool says that once with the result (<c>TrainingCommands.PrintResult</c>).
/// </summary>
internal sealed class CliWarningLog : ILoggerProvider
{
    /// <summary>Where the lines go; nothing is written while null.</summary>
    public TextWriter? Writer { get; set; }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose() { }

    /// <summary>The event name (the source-generated method's) of the pipeline's missing-score-reference warning.</summary>
    private const string SaidByTheTool = "NoScoreReference";

    private sealed class Logger(CliWarningLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None && owner.Writer is not null;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || eventId.Name == SaidByTheTool) return;
            var writer = owner.Writer!;
            lock (writer) writer.WriteLine((logLevel >= LogLevel.Error ? "error: " : "warning: ") + formatter(state, exception));
        }
    }
}

using Marvel.Cli.Commands;
using Marvel.Core.Environments;
using Marvel.Core.Pipeline;

namespace Marvel.Cli.Tests;

/// <summary>A task without a DSRL score reference: the tool says once that normalized scores are n/a, and only then.</summary>
public class ScoreReferenceNoteTests
{
    private static MarvelRunResult Result(double normalizedReward)
    {
        var evaluation = new EvaluationResult([], 12.5, 1, 3, 0.5, 200, 20, normalizedReward, normalizedReward / 2);
        var point = new EvaluationPoint(0, 0, 0, evaluation);
        return new MarvelRunResult("run", "BEAR-Lag", "SAC-Lag", point, point, [point], 1, 200, 1, 0, 12.5, normalizedReward, 0, 0.1, TimeSpan.FromSeconds(1));
    }

    private static (string Out, string Error) Print(MarvelRunResult result)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        TrainingCommands.PrintResult(new CliContext(output, error, Interactive: false, CliContext.DefaultWorkerCommand()), result);
        return (output.ToString(), error.ToString());
    }

    [Test]
    public void PrintResult_NaNNormalizedScores_NotesTheMissingReferenceOnce()
    {
        var (output, error) = Print(Result(double.NaN));

        error.Should().Contain("no DSRL score reference").And.Contain("raw return and cost");
        error.Split("no DSRL score reference").Length.Should().Be(2, "the note is said once");
        output.Should().Contain("n/a").And.Contain("12.5");
    }

    [Test]
    public void PrintResult_NormalizedScores_SaysNothingAboutReferences()
    {
        var (_, error) = Print(Result(0.5));

        error.Should().NotContain("score reference");
    }
}

/// <summary>The tool's printer of the library's log: warnings and errors as one line each, nothing else, and not the score-reference
/// warning the tool says itself with the result.</summary>
public class CliWarningLogTests
{
    [Test]
    public void Log_PrintsWarningsAndErrors_NotInformation_NorTheScoreReferenceWarning()
    {
        var output = new StringWriter();
        using var log = new Marvel.Cli.Running.CliWarningLog { Writer = output };
        var logger = log.CreateLogger("Marvel.Core.Pipeline.MarvelPipeline");

        logger.Log(Microsoft.Extensions.Logging.LogLevel.Information, new Microsoft.Extensions.Logging.EventId(2, "StageStarted"), "Stage online started.", null, (s, _) => s);
        logger.Log(Microsoft.Extensions.Logging.LogLevel.Warning, new Microsoft.Extensions.Logging.EventId(12, "CostLimitMismatch"), "other limit", null, (s, _) => s);
        logger.Log(Microsoft.Extensions.Logging.LogLevel.Warning, new Microsoft.Extensions.Logging.EventId(14, "NoScoreReference"), "no reference", null, (s, _) => s);
        logger.Log(Microsoft.Extensions.Logging.LogLevel.Error, new Microsoft.Extensions.Logging.EventId(10, "Diverged"), "diverged", null, (s, _) => s);

        output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("warning: other limit", "error: diverged");
    }
}

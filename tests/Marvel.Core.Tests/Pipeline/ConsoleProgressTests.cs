using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Pipeline;

namespace Marvel.Core.Tests.Pipeline;

public class ConsoleProgressTests
{
    /// <summary>A clock that moves only when told (timestamps in ticks of 100 ns).</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; private set; }
        public void Advance(double seconds) => Ticks += (long)(seconds * TimeSpan.TicksPerSecond);
        public override long GetTimestamp() => Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }

    private static TrainingProgress Offline(long step) => new("offline", step, 4000, new Dictionary<string, double> { ["actor_loss"] = 0.5 });

    private static string[] Lines(StringWriter w) => w.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    [Test]
    public void Report_PrintsRateAndTimeLeft_MeasuredFromTheStagesFirstReport()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        var progress = new ConsoleProgress(output, TimeSpan.FromSeconds(5), clock);
        progress.Report(Offline(0));
        clock.Advance(10);
        progress.Report(Offline(400));
        // 400 steps in 10 s = 40 steps/s; (4000 − 400) / 40 = 90 s left = 1 min 30 s; 400/4000 = 10 %.
        Lines(output).Should().Equal(
            "[    0.0s] offline 0/4000 (0%): actor_loss=0.5",
            "[   10.0s] offline 400/4000 (10%, 40 steps/s, 1 min 30 s left): actor_loss=0.5");
    }

    [Test]
    public void Report_WithinTheInterval_IsSkippedUnlessLastOrEvaluation()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        var progress = new ConsoleProgress(output, TimeSpan.FromSeconds(5), clock);
        progress.Report(Offline(0));
        clock.Advance(1);
        progress.Report(Offline(100));     // 1 s after the last line: skipped
        clock.Advance(1);
        progress.Report(Offline(4000));    // the stage's last step: printed
        progress.Report(new TrainingProgress("evaluation", 0, 0, new Dictionary<string, double> { ["iteration"] = 0, ["mean_return"] = 12.5 }));
        var lines = Lines(output);
        lines.Should().HaveCount(3);
        // 4000 steps in 2 s = 2000 steps/s; nothing left.
        lines[1].Should().Be("[    2.0s] offline 4000/4000 (100%, 2000 steps/s, 0 s left): actor_loss=0.5");
        lines[2].Should().StartWith("[    2.0s] evaluation at iteration 0: return 12.5 cost -");
    }

    [Test]
    public void Report_NewStage_PrintsAtOnceAndRestartsTheRate()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        var progress = new ConsoleProgress(output, TimeSpan.FromSeconds(5), clock);
        progress.Report(Offline(0));
        clock.Advance(1);
        progress.Report(new TrainingProgress("online", 1, 50, new Dictionary<string, double> { ["mean_episode_return"] = 3, ["lambda"] = 0.25 }));
        clock.Advance(4);
        progress.Report(new TrainingProgress("online", 2, 50, new Dictionary<string, double>()));   // 4 s < 5 s: skipped
        clock.Advance(4);
        progress.Report(new TrainingProgress("online", 5, 50, new Dictionary<string, double>()));
        // Online started at iteration 1, t = 1 s: 4 iterations in 8 s = 0.5/s; 45 left / 0.5 = 90 s = 1 min 30 s; 5/50 = 10 %.
        Lines(output).Should().Equal(
            "[    0.0s] offline 0/4000 (0%): actor_loss=0.5",
            "[    1.0s] online 1/50 (2%): return 3.0 cost - λ 0.25 cumulative violation -",
            "[    9.0s] online 5/50 (10%, 0.5 iterations/s, 1 min 30 s left): return - cost - λ - cumulative violation -");
    }

    [Test]
    public void Report_WritesBeforeReturning_SoLinesKeepTheOrderOfTheReports()
    {
        var output = new StringWriter();
        var progress = new ConsoleProgress(output, TimeSpan.Zero);
        for (int i = 1; i <= 50; i++)
        {
            progress.Report(Offline(i));
            Lines(output).Should().HaveCount(i);
        }
        Lines(output).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]).Should().Equal(Enumerable.Range(1, 50).Select(i => $"{i}/4000"));
    }

    [TestCase(42.2, "43 s")]
    [TestCase(185, "3 min 05 s")]
    [TestCase(8940, "2 h 29 min")]
    public void Duration_IsWrittenForPeople(double seconds, string expected) =>
        ConsoleProgress.Duration(TimeSpan.FromSeconds(seconds)).Should().Be(expected);

    [Test]
    public void Constructor_NegativeInterval_Throws() =>
        FluentActions.Invoking(() => new ConsoleProgress(new StringWriter(), TimeSpan.FromSeconds(-1))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*interval*");
}

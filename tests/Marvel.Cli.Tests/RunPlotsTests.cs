using Marvel.Plotting;
using Marvel.Plotting.Tests;

namespace Marvel.Cli.Tests;

/// <summary><c>marvel plot</c> on hand-made run folders (CSV and JSON written below); <see cref="RunPlots"/> itself is tested in Marvel.Plotting.Tests.</summary>
[TestFixture]
public sealed class RunPlotsTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);


    [Test]
    public void PlotCommand_WithoutQBiasJson_DrawsTheOthers_AndListsThem()
    {
        var dir = RunFolderFixture.Make(_folder, "noqbias", qbias: false);
        var outcome = CliHarness.Run("plot", _folder);
        outcome.ExitCode.Should().Be(0, outcome.All);
        outcome.Out.Should().Contain("plots/return.png, plots/cost.png, plots/lambda.png.");
        RunFolderFixture.ShouldBePng(RunFolderFixture.Plot(dir, "return.png"));
        RunFolderFixture.ShouldBePng(RunFolderFixture.Plot(dir, "cost.png"));
        RunFolderFixture.ShouldBePng(RunFolderFixture.Plot(dir, "lambda.png"));
        File.Exists(RunFolderFixture.Plot(dir, "qbias.png")).Should().BeFalse();
    }

    [Test]
    public void PlotCommand_SkippedQBias_DrawsNoQBiasPlot()
    {
        var dir = RunFolderFixture.Make(_folder, "skipped", qbias: false);
        File.WriteAllText(Path.Combine(dir, "qbias.json"), """{ "handover": { "skipped": "no settable states" }, "aligned": { "skipped": "no settable states" } }""");
        CliHarness.Run("plot", dir).ExitCode.Should().Be(0);
        File.Exists(RunFolderFixture.Plot(dir, "qbias.png")).Should().BeFalse();
    }

    [Test]
    public void PlotCommand_PartialRun_WithoutEvalOrOnlineRows_DrawsWhatItCan()
    {
        var started = RunFolderFixture.Make(_folder, "started", qbias: false, onlineCsv: "iteration,environment_steps,episodes,mean_episode_return,mean_episode_cost,lambda,cumulative_violation\n",
            evalCsv: false);
        var outcome = CliHarness.Run("plot", started);
        outcome.ExitCode.Should().Be(0, outcome.All);
        outcome.Out.Should().Contain("none");
        Directory.Exists(Path.Combine(started, "plots")).Should().BeFalse();

        var bare = Directory.CreateDirectory(Path.Combine(_folder, "bare")).FullName;
        File.WriteAllText(Path.Combine(bare, "status.json"), """{ "status": "running", "stage": "offline" }""");
        CliHarness.Run("plot", bare).ExitCode.Should().Be(0);
    }

    [Test]
    public void PlotCommand_CsvWithoutARequiredColumn_Exit2_NamesFileAndColumn()
    {
        var dir = RunFolderFixture.Make(_folder, "broken", onlineCsv: "iteration,mean_episode_return,mean_episode_cost\n1,2,3\n");
        var outcome = CliHarness.Run("plot", dir);
        outcome.ExitCode.Should().Be(ExitCodes.BadUsage, outcome.All);
        outcome.Error.Should().Contain("online.csv").And.Contain("'lambda'");
    }

    [Test]
    public void PlotCommand_CellThatIsNotANumber_Exit2_NamesLineAndColumn()
    {
        var dir = RunFolderFixture.Make(_folder, "text", onlineCsv: "iteration,mean_episode_return,mean_episode_cost,lambda\n1,2,3,0.5\n2,abc,3,0.5\n");
        var outcome = CliHarness.Run("plot", dir);
        outcome.ExitCode.Should().Be(ExitCodes.BadUsage, outcome.All);
        outcome.Error.Should().Contain("online.csv, line 3, column 'mean_episode_return': 'abc' is not a number");
    }

    [Test]
    public void PlotCommand_NotAFolder_Exit2()
    {
        var file = Path.Combine(_folder, "file.txt");
        File.WriteAllText(file, "x");
        var missing = CliHarness.Run("plot", Path.Combine(_folder, "nope"));
        missing.ExitCode.Should().Be(ExitCodes.BadUsage);
        missing.Error.Should().Contain("is not a folder");
        var onFile = CliHarness.Run("plot", file);
        onFile.ExitCode.Should().Be(ExitCodes.BadUsage);
        onFile.Error.Should().Contain("it is a file");
    }

    [Test]
    public void PlotCommand_NoArgumentOrNoRunFolder_Exit2()
    {
        CliHarness.Run("plot").ExitCode.Should().Be(ExitCodes.BadUsage);
        var empty = CliHarness.Run("plot", _folder);
        empty.ExitCode.Should().Be(ExitCodes.BadUsage);
        empty.Error.Should().Contain("no run folder");
    }

}

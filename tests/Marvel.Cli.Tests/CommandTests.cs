namespace Marvel.Cli.Tests;

/// <summary>The quick commands, and --help with an example on every command.</summary>
[TestFixture]
public sealed class CommandTests
{
    private static readonly string[] Commands =
        ["envs", "check-env", "collect", "inspect", "train-offline", "align", "finetune", "run", "evaluate", "sweep", "report", "export"];

    [TestCaseSource(nameof(Commands))]
    public void Help_EveryCommand_HasAnExample(string command)
    {
        var outcome = CliHarness.Run(command, "--help");
        outcome.ExitCode.Should().Be(0);
        outcome.Out.Should().Contain("Example").And.Contain("marvel " + command);
    }

    [Test]
    public void Help_Root_ListsEveryCommand()
    {
        var outcome = CliHarness.Run("--help");
        outcome.ExitCode.Should().Be(0);
        foreach (var c in Commands) outcome.Out.Should().Contain(c);
    }

    [Test]
    public void Envs_ListsTheBuiltInTasksWithTheirSpaces()
    {
        var outcome = CliHarness.Run("envs");
        outcome.ExitCode.Should().Be(0);
        outcome.Out.Should().Contain("BallCircle").And.Contain("CarRun").And.Contain("OfflineBallCircle-v0");
    }

    [Test]
    public void CheckEnv_BuiltInTask_Passes()
    {
        var outcome = CliHarness.Run("check-env", "BallRun", "--steps", "20");
        outcome.ExitCode.Should().Be(0, outcome.All);
        outcome.Out.Should().Contain("BallRun: all checks passed");
    }

    [Test]
    public void CollectThenInspect_WritesADatasetAndItsReturnCostScatter()
    {
        var folder = CliHarness.TempFolder();
        try
        {
            var data = Path.Combine(folder, "ballrun.hdf5");
            CliHarness.Run("collect", "--task", "BallRun", "--episodes", "10", "--out", data).ExitCode.Should().Be(0);
            var outcome = CliHarness.Run("inspect", data, "--cost-limit", "20");
            outcome.ExitCode.Should().Be(0, outcome.All);
            outcome.Out.Should().Contain("episodes").And.Contain("│ 10 ").And.Contain("episodes with cost <= 20");
            var png = Path.Combine(folder, "ballrun.return-cost.png");
            File.Exists(png).Should().BeTrue();
            File.ReadAllBytes(png).Take(4).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

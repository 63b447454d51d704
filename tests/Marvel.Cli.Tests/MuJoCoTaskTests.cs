using Marvel.Cli.Running;

namespace Marvel.Cli.Tests;

/// <summary>The tool runs the MuJoCo package's tasks: listed, checked, collected from their built-in sweep, and through the pipeline.</summary>
[TestFixture]
[NonParallelizable]
public sealed class MuJoCoTaskTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private static CliHarness.Outcome Ok(params string[] args)
    {
        var outcome = CliHarness.Run(args);
        outcome.ExitCode.Should().Be(0, $"marvel {string.Join(' ', args)}\n{outcome.All}");
        return outcome;
    }

    [Test]
    public void Envs_ListsTheAntAndVelocityTasks()
    {
        var outcome = Ok("envs");
        outcome.Out.Should().Contain("AntRun").And.Contain("OfflineAntCircle-v0").And.Contain("HopperVelocity").And.Contain("SafetyHopperVelocity-v1");
    }

    [TestCase("AntRun")]
    [TestCase("OfflineAntCircle-v0")]
    public void CheckEnv_AntTask_Passes(string task)
    {
        Ok("check-env", task, "--steps", "20").Out.Should().Contain("all checks passed");
    }

    [Test]
    public void Collect_AntRun_WritesTheBuiltInSweep()
    {
        var data = Path.Combine(_folder, "ant.hdf5");
        Ok("collect", "--task", "AntRun", "--episodes", "10", "--out", data).Out.Should().Contain("10 episodes");
        Ok("inspect", data, "--no-plot", "--cost-limit", "20").Out.Should().Contain("33 / 8");
    }

    [Test]
    public void Collect_VelocityTaskWithoutSweep_IsBadUsage()
    {
        var outcome = CliHarness.Run("collect", "--task", "HopperVelocity", "--episodes", "10", "--out", Path.Combine(_folder, "h.hdf5"));
        outcome.ExitCode.Should().Be(ExitCodes.BadUsage, outcome.All);
        outcome.Error.Should().Contain("RegisterScriptedSweep");
    }

    // One of everything (dataset of 10 episodes, one evaluation episode, one online episode, one Q-bias state): AntCircle's
    // 500-step episodes of 12 MuJoCo steps each make every rollout count.
    [TestCase("AntRun")]
    [TestCase("AntCircle")]
    public void Run_AntTask_TinyBudget_CompletesEndToEnd(string task)
    {
        var runDir = Path.Combine(_folder, "ant-run");
        var outcome = Ok("run", "--set", $"Marvel:Pipeline:TaskId={task}",
            "--set", "Run:DatasetEpisodes=10", "--set", "Run:QBiasStates=1", "--set", "Marvel:Pipeline:OfflineSteps=20", "--set", "Marvel:Pipeline:EvalEpisodes=1",
            "--set", "Marvel:Pipeline:OnlineIterations=1", "--set", "Marvel:Pipeline:EnvironmentCount=1", "--set", "Run:Plots=false",
            "--set", "Marvel:Cpq:ActorHiddenSizes:0=16", "--set", "Marvel:Cpq:ActorHiddenSizes:1=16",
            "--set", "Marvel:Cpq:CriticHiddenSizes:0=16", "--set", "Marvel:Cpq:CriticHiddenSizes:1=16", "--set", "Marvel:Cpq:VaeHiddenSize=16",
            "--set", "Marvel:Cpq:BatchSize=32", "--set", "Marvel:ValuePreAlignment:Steps=5", "--set", "Marvel:ValuePreAlignment:BatchSize=32",
            "--set", "Marvel:SacLag:EpisodesPerIteration=1", "--set", "Marvel:SacLag:UpdatesPerIteration=2", "--set", "Marvel:SacLag:BatchSize=32",
            "--run-dir", runDir, "--quiet");
        outcome.Out.Should().Contain($"generated 10 {task} episodes");
        RunResumer.ReadState(runDir).Should().Be(RunFolderState.Complete);
        File.Exists(Path.Combine(runDir, "handover", "manifest.json")).Should().BeTrue("the offline stage handed its policy over to the online stage");
    }
}

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

    /// <summary>Issue 23: the frontier recipe runs on the Ant tasks through the tool (a tiny budget: two episodes per environment, one
    /// checkpoint rollout set, a width-16 learner); the file names its task and a run on the other Ant task refuses it.</summary>
    [TestCase("AntRun", "AntCircle", 200)]
    [TestCase("AntCircle", "AntRun", 500)]
    public void CollectFrontier_AntTask_WritesAFileNamedForTheTask(string task, string other, int horizon)
    {
        var options = Path.Combine(_folder, "tiny.json");
        File.WriteAllText(options, $$"""
        {
          "TrainingSteps": {{4 * horizon}}, "Environments": 2, "CheckpointEvery": {{4 * horizon}}, "DeterministicEpisodes": 1,
          "NoiseStandardDeviations": [0.3], "NoisyEpisodes": 1, "CostBins": 4, "ReturnBins": 4, "MaxEpisodesPerBin": 3, "TargetTransitions": 100000,
          "Learner": { "ActorHiddenSizes": [16], "CriticHiddenSizes": [16], "CostCriticHiddenSizes": [16], "Schedule": "StepBased",
                       "UpdateEveryNSteps": 100, "UpdatesPerIteration": 2, "MiniBatches": 1, "BatchSize": 32, "WarmupSteps": 100, "ReplayCapacity": 2000 }
        }
        """);
        var data = Path.Combine(_folder, "ant-frontier.hdf5");

        Ok("collect", "--task", task, "--recipe", "frontier", "--recipe-options", options, "--no-cache", "--seed", "5", "--quiet", "--out", data);

        var attributes = Marvel.Core.Data.Dsrl.DsrlFile.ReadAttributes(data);
        (attributes.TaskId, attributes.Recipe, attributes.Seed).Should().Be((task, "frontier", 5UL));
        Ok("inspect", data, "--no-plot").Out.Should().Contain(task == "AntRun" ? "33 / 8" : "34 / 8");
        var refused = CliHarness.Run("train-offline", "--set", $"Marvel:Pipeline:TaskId={other}", "--set", $"Run:Dataset={data}",
            "--set", "Marvel:Pipeline:OfflineSteps=1", "--out", Path.Combine(_folder, "refused"), "--quiet");
        refused.ExitCode.Should().Be(2, refused.All);
        refused.Error.Should().Contain($"recorded on task '{task}'").And.Contain($"task '{other}' was requested");
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

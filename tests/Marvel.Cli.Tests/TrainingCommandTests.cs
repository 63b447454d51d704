using System.Text.Json.Nodes;
using Marvel.Cli.Configuration;
using Marvel.Cli.Running;

namespace Marvel.Cli.Tests;

/// <summary>The stage commands chained on tiny budgets, and a cancelled run.</summary>
[TestFixture]
[NonParallelizable]
public sealed class TrainingCommandTests
{
    private static readonly string[] Tiny =
    [
        "--set", "Run:DatasetEpisodes=10", "--set", "Run:QBiasStates=4", "--set", "Marvel:Pipeline:OfflineSteps=20", "--set", "Marvel:Pipeline:EvalEpisodes=2",
        "--set", "Marvel:Pipeline:EnvironmentCount=2", "--set", "Marvel:Cpq:ActorHiddenSizes:0=16", "--set", "Marvel:Cpq:ActorHiddenSizes:1=16",
        "--set", "Marvel:Cpq:CriticHiddenSizes:0=16", "--set", "Marvel:Cpq:CriticHiddenSizes:1=16", "--set", "Marvel:Cpq:VaeHiddenSize=16",
        "--set", "Marvel:Cpq:BatchSize=32", "--set", "Marvel:ValuePreAlignment:Steps=5", "--set", "Marvel:ValuePreAlignment:BatchSize=32",
        "--set", "Marvel:SacLag:EpisodesPerIteration=2", "--set", "Marvel:SacLag:UpdatesPerIteration=2", "--set", "Marvel:SacLag:BatchSize=32",
    ];

    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private string P(string name) => Path.Combine(_folder, name);

    private static CliHarness.Outcome Ok(params string[] args)
    {
        var outcome = CliHarness.Run(args);
        outcome.ExitCode.Should().Be(0, $"marvel {string.Join(' ', args)}\n{outcome.All}");
        return outcome;
    }

    [Test]
    public void CollectTrainInspectAlignEvaluateFinetuneCollect_ChainThroughFiles()
    {
        Ok("collect", "--task", "BallCircle", "--episodes", "10", "--out", P("data.hdf5"));
        string[] data = [.. Tiny, "--set", $"Run:Dataset={P("data.hdf5")}"];
        Ok(["train-offline", .. data, "--out", P("cpq"), "--quiet"]);
        Ok("inspect", P("cpq")).Out.Should().Contain("CPQ").And.Contain("SquashedGaussianActor [16, 16]");
        Ok(["align", .. data, "--artifact", P("cpq"), "--out", P("cpq-vpa"), "--quiet"]).Out.Should().Contain("Aligned with VPA");
        Ok("evaluate", "--artifact", P("cpq-vpa"), "--episodes", "2").Out.Should().Contain("normalized reward");
        Ok(["finetune", .. data, "--set", "Marvel:Pipeline:OnlineIterations=1", "--set", "Run:Plots=false", "--artifact", P("cpq-vpa"), "--run-dir", P("ft"), "--quiet"]);
        RunResumer.ReadState(P("ft")).Should().Be(RunFolderState.Complete);
        Directory.Exists(Path.Combine(P("ft"), "plots")).Should().BeFalse("Run:Plots=false");
        JsonNode.Parse(File.ReadAllText(Path.Combine(P("ft"), "run.json")))!["offline"]!.GetValue<string>().Should().StartWith("artifact:");
        // Run:Artifact does what finetune --artifact does, from configuration (how sweep rows share one offline stage).
        // OfflineSteps 7 would show in the handover's TrainingSteps had the run trained offline; the artifact has the 20 of train-offline.
        var shared = Ok(["run", .. data, "--set", "Marvel:Pipeline:OfflineSteps=7", "--set", "Marvel:Pipeline:OnlineIterations=1", "--set", $"Run:Artifact={P("cpq")}",
            "--run-dir", P("shared"), "--quiet"]);
        JsonNode.Parse(File.ReadAllText(Path.Combine(P("shared"), "run.json")))!["offline"]!.GetValue<string>().Should().Be("artifact:" + P("cpq"), shared.All);
        JsonNode.Parse(File.ReadAllText(Path.Combine(P("shared"), "handover", "manifest.json")))!["TrainingSteps"]!.GetValue<long>().Should().Be(20);
        Ok("collect", "--task", "BallCircle", "--policy", P("cpq-vpa"), "--episodes", "2", "--out", P("policy.hdf5"));
        Ok("inspect", P("policy.hdf5"), "--no-plot").Out.Should().Contain("│ 2 ");
        // --noise σ perturbs the deterministic action (it used to ask NoisyPolicy for deterministic actions, which it never perturbs).
        Ok("collect", "--task", "BallCircle", "--policy", P("cpq-vpa"), "--episodes", "2", "--noise", "0", "--out", P("plain.hdf5"));
        Ok("collect", "--task", "BallCircle", "--policy", P("cpq-vpa"), "--episodes", "2", "--noise", "0.3", "--out", P("noisy.hdf5"));
        var plain = Marvel.Core.Data.Dsrl.DsrlFile.Read(P("plain.hdf5"));
        var noisy = Marvel.Core.Data.Dsrl.DsrlFile.Read(P("noisy.hdf5"));
        noisy.Actions[..8].ToArray().Should().NotEqual(plain.Actions[..8].ToArray(), "σ = 0.3 moves the first actions off the deterministic ones");
        Marvel.Core.Data.Dsrl.DsrlFile.Read(P("policy.hdf5")).Actions[..8].ToArray().Should().NotEqual(plain.Actions[..8].ToArray(), "the default σ is 0.1");
    }

    [TestCase("DroneCircle")]
    [TestCase("DroneRun")]
    public void Run_OnADroneTask_GeneratesItsBuiltInDataset_AndCompletesEveryStage(string task)
    {
        string run = P(task);
        Ok(["run", .. Tiny, "--set", $"Marvel:Pipeline:TaskId={task}", "--set", "Marvel:Pipeline:OnlineIterations=1", "--set", "Run:Plots=false",
            "--run-dir", run, "--quiet"]);
        RunResumer.ReadState(run).Should().Be(RunFolderState.Complete);
        File.Exists(Path.Combine(run, "handover", "manifest.json")).Should().BeTrue();
    }

    [Test]
    public async Task Run_Cancelled_ExitsWith1_LeavesACheckpoint_AndTheSameCommandCompletesIt()
    {
        string run = P("run");
        string[] args = ["run", .. Tiny, "--set", "Marvel:Pipeline:OnlineIterations=200", "--set", "Marvel:Pipeline:CheckpointEvery=1", "--run-dir", run, "--quiet"];
        using var cts = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!Directory.Exists(Path.Combine(run, "checkpoints"))) await Task.Delay(5);
            await cts.CancelAsync();
        });
        var cancelled = await CliHarness.RunAsync(cts.Token, args);
        await watcher;
        cancelled.ExitCode.Should().Be(1, cancelled.All);
        cancelled.Error.Should().Contain("was cancelled").And.Contain("checkpoints/").And.Contain("Run the same command again");
        cancelled.Error.Should().Contain("cancelled: run '").And.NotContain("run failed", "the user's own Ctrl+C is not a failed run");
        Marvel.Core.Pipeline.RunDirectory.ReadStatus(run).StatusText.Should().Be("cancelled");
        Directory.GetDirectories(Path.Combine(run, "checkpoints"), "iteration-*").Should().NotBeEmpty();

        // OnlineIterations may shrink on resume down to the newest checkpoint (iteration 1 or 2 here: cancellation lands at most
        // one iteration after the first checkpoint appears).
        string[] shorter = [.. args.Select(a => a == "Marvel:Pipeline:OnlineIterations=200" ? "Marvel:Pipeline:OnlineIterations=4" : a)];
        var resumed = CliHarness.Run(shorter);
        resumed.ExitCode.Should().Be(0, resumed.All);
        resumed.Out.Should().Contain("was interrupted (stage online); resuming from the checkpoint of online iteration");
        RunResumer.ReadState(run).Should().Be(RunFolderState.Complete);
        JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!["attempts"]!.GetValue<int>().Should().Be(2);

        CliHarness.Run(shorter).Out.Should().Contain("already complete");
    }

    [Test]
    public async Task Run_CancelledDuringOfflineTraining_SaysAnOfflineCheckpointExists_AndTheSameCommandResumesFromIt()
    {
        string run = P("run-offline-cancel");
        string[] args = ["run", .. Tiny, "--set", "Marvel:Pipeline:OfflineSteps=300", "--set", "Marvel:Pipeline:OfflineCheckpointEvery=5",
            "--set", "Marvel:Pipeline:OnlineIterations=1", "--run-dir", run, "--quiet"];
        using var cts = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!Directory.Exists(Path.Combine(run, "checkpoints", "offline"))) await Task.Delay(5);
            await cts.CancelAsync();
        });
        var cancelled = await CliHarness.RunAsync(cts.Token, args);
        await watcher;

        cancelled.ExitCode.Should().Be(1, cancelled.All);
        cancelled.Error.Should().Contain("was cancelled in stage 'offline'").And.Contain("checkpoint of the offline stage after")
            .And.Contain("checkpoints/offline/").And.Contain("Run the same command again to resume");
        var steps = Marvel.Core.Pipeline.RunDirectory.ReadStatus(run).OfflineCheckpointStep;
        steps.Should().BeInRange(5, 299);

        var resumed = CliHarness.Run(args);
        resumed.ExitCode.Should().Be(0, resumed.All);
        resumed.Out.Should().Contain($"was interrupted (stage offline); resuming from the offline checkpoint after {steps} gradient steps.");
        RunResumer.ReadState(run).Should().Be(RunFolderState.Complete);
    }

    [Test]
    public void Run_OfflineSectionWithAnotherCostLimit_IsRefusedNamingIt()
    {
        // One budget per run: before, the section's own CostLimit won silently and CPQ trained at 40 inside a run at 20.
        var outcome = CliHarness.Run(["run", .. Tiny, "--set", "Marvel:Cpq:CostLimit=40", "--run-dir", P("run-limits"), "--quiet"]);
        outcome.ExitCode.Should().Be(2, outcome.All);
        outcome.Error.Should().Contain("Marvel:Cpq:CostLimit (CpqOptions.CostLimit) = 40 disagrees with the run's CostLimit = 20");
    }

    [Test]
    public void Finetune_ArtifactTrainedForAnotherCostLimit_PrintsTheLibrarysWarning()
    {
        // The reference trains CPQ at 40 and finetunes at 20 (marvel.md §5.3, D4): reproduced in two steps, and the library's warning
        // (logged through ILogger) is printed by the tool.
        Ok(["train-offline", .. Tiny, "--set", "Marvel:Cpq:CostLimit=40", "--out", P("cpq40"), "--quiet"]);
        var outcome = CliHarness.Run(["finetune", .. Tiny, "--set", "Marvel:Pipeline:OnlineIterations=1", "--set", "Run:Plots=false",
            "--artifact", P("cpq40"), "--run-dir", P("ft-limits"), "--quiet"]);
        outcome.ExitCode.Should().Be(0, outcome.All);
        outcome.Out.Should().Contain("warning: The handover artifact from CPQ was trained with cost limit 40, but the pipeline's CostLimit is 20");
    }

    [Test]
    public void Configuration_ToolDefaultStageCheckpoints_AreOn_AndCanBeTurnedOff()
    {
        using (var config = CliConfiguration.Load(null, []))
        {
            config.Pipeline.OfflineCheckpointEvery.Should().Be(CliConfiguration.DefaultOfflineCheckpointEvery);
            config.Pipeline.AlignmentCheckpointEvery.Should().Be(CliConfiguration.DefaultAlignmentCheckpointEvery);
        }
        using (var config = CliConfiguration.Load(null, ["Marvel:Pipeline:OfflineCheckpointEvery=0", "Marvel:Pipeline:AlignmentCheckpointEvery=0"]))
        {
            config.Pipeline.OfflineCheckpointEvery.Should().Be(0);
            config.Pipeline.AlignmentCheckpointEvery.Should().Be(0);
        }
    }

    [Test]
    public void Configuration_ToolDefaultCheckpointEvery_IsTen_AndCanBeTurnedOff()
    {
        using (var config = CliConfiguration.Load(null, [])) config.Pipeline.CheckpointEvery.Should().Be(CliConfiguration.DefaultCheckpointEvery);
        using (var config = CliConfiguration.Load(null, ["Marvel:Pipeline:CheckpointEvery=0"])) config.Pipeline.CheckpointEvery.Should().Be(0);
    }
}

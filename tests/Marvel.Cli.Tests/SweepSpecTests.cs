using System.Text.Json.Nodes;
using Marvel.Cli.Sweeps;

namespace Marvel.Cli.Tests;

/// <summary>Matrix expansion (deterministic names, order, configuration layer) and the Slurm emission.</summary>
[TestFixture]
public sealed class SweepSpecTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private string WriteMatrix()
    {
        var path = Path.Combine(_folder, "grid.json");
        File.WriteAllText(path, """
        {
          "name": "grid",
          "output": "out",
          "base": { "Marvel": { "Pipeline": { "OnlineIterations": 3 } } },
          "matrix": {
            "seed": [0, 1, 2],
            "Marvel:SacLag:BatchSize": [64],
            "algorithm": {
              "Marvel": { "Run": { "Aligner": "VPA" } },
              "NoVPA": { "Run:Aligner": "None", "Run:Label": "w/o VPA" }
            },
            "costLimit": [20],
            "task": ["BallCircle", "CarRun"]
          },
          "slurm": { "partition": "cpu", "time": "02:00:00", "memory": "4G", "maxConcurrent": 4, "setup": ["module load dotnet/10"] }
        }
        """);
        return path;
    }

    [Test]
    public void Expand_TwoTasksTwoAlgorithmsThreeSeeds_GivesTwelveRunsInAFixedOrder()
    {
        var spec = SweepSpec.Load(WriteMatrix());
        var runs = spec.Expand();
        runs.Should().HaveCount(2 * 2 * 1 * 1 * 3);
        // Naming order is task, algorithm, costLimit, other keys, seed, whatever the order in the file; seeds are innermost.
        runs.Select(r => r.Name).Take(4).Should().Equal(
            "BallCircle_Marvel_cost20_BatchSize64_seed0", "BallCircle_Marvel_cost20_BatchSize64_seed1",
            "BallCircle_Marvel_cost20_BatchSize64_seed2", "BallCircle_NoVPA_cost20_BatchSize64_seed0");
        runs[^1].Name.Should().Be("CarRun_NoVPA_cost20_BatchSize64_seed2");
        runs.Select(r => r.Index).Should().Equal(Enumerable.Range(0, 12));
        runs[0].Directory.Should().Be(Path.Combine(_folder, "out", "BallCircle_Marvel_cost20_BatchSize64_seed0"));
    }

    [Test]
    public void Expand_ReplacesOutputAndAxisPlaceholders_InConfigurationValues()
    {
        var path = Path.Combine(_folder, "staged.json");
        File.WriteAllText(path, """
        {
          "output": "out",
          "base": { "Run": { "Artifact": "{output}/{task}_Offline_cost{costLimit}_seed{seed}/handover", "Label": "x" }, "Marvel": { "Pipeline": { "Device": "{algorithm} on {task} {unknown}" } } },
          "matrix": { "task": ["CarRun"], "algorithm": { "Marvel": { } }, "costLimit": [20, 40], "seed": [3] }
        }
        """);
        var runs = SweepSpec.Load(path).Expand();
        runs.Select(r => r.Configuration["Run:Artifact"]).Should().Equal(
            Path.Combine(_folder, "out") + "/CarRun_Offline_cost20_seed3/handover",
            Path.Combine(_folder, "out") + "/CarRun_Offline_cost40_seed3/handover");
        // Only {output} and axis names are placeholders; anything else in braces stays as written.
        runs[0].Configuration["Marvel:Pipeline:Device"].Should().Be("Marvel on CarRun {unknown}");
    }

    [Test]
    public void Expand_ConfigurationLayer_HoldsBaseAndAxisValues()
    {
        var run = SweepSpec.Load(WriteMatrix()).Expand().Single(r => r.Name == "CarRun_NoVPA_cost20_BatchSize64_seed1");
        run.Configuration["Marvel:Pipeline:OnlineIterations"].Should().Be("3");
        run.Configuration["Marvel:Pipeline:TaskId"].Should().Be("CarRun");
        run.Configuration["Marvel:Pipeline:Seed"].Should().Be("1");
        run.Configuration["Marvel:Pipeline:CostLimit"].Should().Be("20");
        run.Configuration["Marvel:SacLag:BatchSize"].Should().Be("64");
        run.Configuration["Run:Aligner"].Should().Be("None");
        run.Configuration["Run:Label"].Should().Be("w/o VPA", "a variant's own label wins over its name");
        run.Configuration["Marvel:Pipeline:RunDirectory"].Should().Be(run.Directory);
    }

    [Test]
    public void Expand_TwiceOrFromACopy_GivesTheSameNames()
    {
        var a = SweepSpec.Load(WriteMatrix()).Expand().Select(r => r.Name).ToArray();
        var b = SweepSpec.Load(WriteMatrix()).Expand().Select(r => r.Name).ToArray();
        a.Should().Equal(b);
    }

    [Test]
    public void Expand_ValuesThatSanitizeToTheSameName_IsAnError()
    {
        var path = Path.Combine(_folder, "clash.json");
        File.WriteAllText(path, """{ "matrix": { "Run:Label": ["a b", "a/b"] } }""");
        var act = () => SweepSpec.Load(path).Expand();
        act.Should().Throw<UsageException>().WithMessage("*both get the folder name 'Labela-b'*");
    }

    [Test]
    public void Expand_TaskAxisAsAnObject_CarriesPerTaskSettings()
    {
        var path = Path.Combine(_folder, "tasks.json");
        File.WriteAllText(path, """
        { "matrix": { "task": { "BallCircle": { "Marvel": { "SacLag": { "Alpha": 1e-3 } } }, "CarRun": { "Marvel:SacLag:Alpha": 5e-3 } }, "seed": [0] } }
        """);
        var runs = SweepSpec.Load(path).Expand();
        runs.Select(r => r.Name).Should().Equal("BallCircle_seed0", "CarRun_seed0");
        runs[0].Configuration["Marvel:Pipeline:TaskId"].Should().Be("BallCircle");
        runs[0].Configuration["Marvel:SacLag:Alpha"].Should().Be("1e-3");
        runs[1].Configuration["Marvel:SacLag:Alpha"].Should().Be("5e-3");
    }

    [Test]
    public void PaperComparison_ExpandsToFourTasksEightRowsFiveSeeds()
    {
        var spec = SweepSpec.Load(Path.Combine(CliHarness.RepositoryRoot(), "experiments", "paper-comparison.json"));
        var runs = spec.Expand();
        runs.Should().HaveCount(4 * 8 * 5);
        runs.Select(r => r.Axes["algorithm"]).Distinct().Should().Equal(
            "Marvel", "Marvel-aPIDref", "WarmStart-SACLag", "Scratch-SACLag", "Offline-CPQ", "Marvel-noVPA", "Marvel-DualAscent", "Marvel-BEARLag");
        runs.First(r => r.Axes["algorithm"] == "Marvel-aPIDref").Configuration["Marvel:AdaptivePid:Ki"].Should().Be("5e-06");
        var scratch = runs.First(r => r.Axes["algorithm"] == "Scratch-SACLag");
        scratch.Configuration["Marvel:Pipeline:OfflineSteps"].Should().Be("0");
        scratch.Configuration["Marvel:Pipeline:HandoverLoad:LoadCritics"].Should().Be("false");
        runs.First(r => r.Axes["algorithm"] == "Offline-CPQ").Configuration["Marvel:Pipeline:OnlineIterations"].Should().Be("0");
    }

    [Test]
    public void Reproduction_StageTwoRowsStartFromStageOneHandovers_OfTheSameTaskAndSeed()
    {
        string root = CliHarness.RepositoryRoot();
        var offline = SweepSpec.Load(Path.Combine(root, "experiments", "reproduction-offline.json")).Expand();
        var online = SweepSpec.Load(Path.Combine(root, "experiments", "reproduction.json")).Expand();
        var handovers = offline.Select(r => Path.Combine(r.Directory, "handover")).ToHashSet();
        foreach (var run in online.Where(r => r.Configuration.TryGetValue("Run:Artifact", out var a) && a is not null))
        {
            var artifact = run.Configuration["Run:Artifact"]!;
            handovers.Should().Contain(artifact, run.Name);
            artifact.Should().Contain($"_seed{run.Axes["seed"]}/").And.Contain($"{run.Axes["task"]}_");
        }
        online.Count(r => !r.Configuration.ContainsKey("Run:Artifact")).Should().Be(3, "only the scratch row trains (nothing) itself, one per seed");
    }

    [TestCase(134, 3)]   // an abort (the native crash of docs/known-issues.md): the first attempt and both retries
    [TestCase(137, 3)]   // killed (e.g. out of memory)
    [TestCase(1, 1)]     // the run failed (diverged or cancelled): not retried, the same seed fails again
    [TestCase(2, 1)]     // bad configuration: not retried
    public async Task Sweep_WorkerThatCrashes_IsRetriedTwice_OtherFailuresAreNot(int exitCode, int expectedAttempts)
    {
        var path = Path.Combine(_folder, "one.json");
        File.WriteAllText(path, """{ "output": "out", "matrix": { "task": ["BallCircle"], "seed": [0] } }""");
        var attempts = Path.Combine(_folder, "attempts.txt");
        // A stand-in worker: records each start, then exits with the given code (the arguments the sweep passes follow as $0, $1, …).
        string[] worker = ["bash", "-c", $"echo start >> '{attempts}'; exit {exitCode}"];
        var outcome = await CliHarness.RunWithWorkerAsync(worker, CancellationToken.None, "sweep", "--config", path, "--workers", "1");
        outcome.ExitCode.Should().Be(1, outcome.All);
        File.ReadAllLines(attempts).Should().HaveCount(expectedAttempts);
        if (expectedAttempts > 1)
        {
            outcome.Error.Should().Contain($"worker crashed with exit code {exitCode}; resuming it from its checkpoints (retry 2 of 2)");
            File.ReadAllText(Path.Combine(_folder, "out", "BallCircle_seed0", "worker.log")).Should().Contain("retry 1 of 2 resumes the run");
        }
    }

    [Test]
    public async Task Sweep_RetriesZero_DoesNotRestartACrashedWorker()
    {
        var path = Path.Combine(_folder, "one.json");
        File.WriteAllText(path, """{ "output": "out", "matrix": { "task": ["BallCircle"], "seed": [0] } }""");
        var attempts = Path.Combine(_folder, "attempts.txt");
        string[] worker = ["bash", "-c", $"echo start >> '{attempts}'; exit 134"];
        var outcome = await CliHarness.RunWithWorkerAsync(worker, CancellationToken.None, "sweep", "--config", path, "--workers", "1", "--retries", "0");
        outcome.ExitCode.Should().Be(1, outcome.All);
        File.ReadAllLines(attempts).Should().HaveCount(1);
    }

    [Test]
    public void EmitSlurm_WritesOneArrayTaskPerRun_RunningTheSameCommandAsALocalWorker()
    {
        var path = WriteMatrix();
        var outcome = CliHarness.Run("sweep", "--config", path, "--emit", "slurm", "--set", "Run:Threads=1");
        outcome.ExitCode.Should().Be(0, outcome.All);

        var script = File.ReadAllText(Path.Combine(_folder, "out", "slurm", "grid.sbatch"));
        script.Should().StartWith("#!/bin/bash\n");
        script.Should().Contain("#SBATCH --array=0-11%4\n", "12 runs, at most 4 at a time");
        script.Should().Contain("#SBATCH --cpus-per-task=1\n");
        script.Should().Contain("#SBATCH --partition=cpu\n").And.Contain("#SBATCH --time=02:00:00\n").And.Contain("#SBATCH --mem=4G\n");
        script.Should().Contain($"#SBATCH --output={Path.Combine(_folder, "out", "slurm")}/%A_%a.out\n");
        script.Should().Contain("module load dotnet/10\n");
        script.Should().EndWith($"exec marvel sweep --config '{path}' --run-index \"$SLURM_ARRAY_TASK_ID\" --quiet --set 'Run:Threads=1'\n");
        script.Split('\n').Count(l => l.StartsWith("exec ", StringComparison.Ordinal)).Should().Be(1);

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(_folder, "out", "manifest.json")))!;
        var runs = manifest["runs"]!.AsArray();
        runs.Should().HaveCount(12);
        var expected = SweepSpec.Load(path).Expand();
        for (int i = 0; i < 12; i++)
        {
            runs[i]!["index"]!.GetValue<int>().Should().Be(i);
            runs[i]!["directory"]!.GetValue<string>().Should().Be(expected[i].Directory);
        }
        runs[5]!["axes"]!["algorithm"]!.GetValue<string>().Should().Be("NoVPA");
    }

    [Test]
    public void DryRun_ListsTheRunsWithoutRunningThem()
    {
        var outcome = CliHarness.Run("sweep", "--config", WriteMatrix(), "--dry-run");
        outcome.ExitCode.Should().Be(0, outcome.All);
        outcome.Out.Should().Contain("CarRun_NoVPA_cost20_BatchSize64_seed2").And.Contain("Empty");
        Directory.Exists(Path.Combine(_folder, "out", "CarRun_NoVPA_cost20_BatchSize64_seed2")).Should().BeFalse();
    }
}

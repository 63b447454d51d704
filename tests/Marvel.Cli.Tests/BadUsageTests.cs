namespace Marvel.Cli.Tests;

/// <summary>Every bad-usage case: exit code 2 and one message naming the argument, key or file.</summary>
[TestFixture]
public sealed class BadUsageTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private static void ShouldBeBadUsage(CliHarness.Outcome outcome, string message)
    {
        outcome.ExitCode.Should().Be(2, outcome.All);
        outcome.Error.Should().Contain(message);
    }

    [Test]
    public void NoCommand_Exit2() => ShouldBeBadUsage(CliHarness.Run(), "Required command was not provided");

    [Test]
    public void UnknownCommand_Exit2_NamesIt() => ShouldBeBadUsage(CliHarness.Run("trian"), "'trian'");

    [Test]
    public void UnknownOption_Exit2_NamesItAndPointsToHelp()
    {
        var outcome = CliHarness.Run("run", "--nope");
        ShouldBeBadUsage(outcome, "Unrecognized command or argument '--nope'");
        outcome.Error.Should().Contain("marvel run --help");
    }

    [Test]
    public void SetWithoutEquals_Exit2() => ShouldBeBadUsage(CliHarness.Run("run", "--set", "Marvel:Pipeline:Seed"), "--set 'Marvel:Pipeline:Seed': expected Section:Key=value");

    [Test]
    public void SetWithoutSection_Exit2() => ShouldBeBadUsage(CliHarness.Run("run", "--set", "Seed=3"), "--set 'Seed=3': expected Section:Key=value");

    [Test]
    public void SetWithEmptyKey_Exit2() => ShouldBeBadUsage(CliHarness.Run("run", "--set", "=3"), "--set '=3'");

    [Test]
    public void MissingConfigFile_Exit2_NamesTheFile() => ShouldBeBadUsage(CliHarness.Run("run", "--config", "nope.json"), "--config: file 'nope.json' does not exist");

    [Test]
    public void InvalidJsonConfig_Exit2_NamesTheFile()
    {
        var path = Path.Combine(_folder, "broken.json");
        File.WriteAllText(path, "{ \"Marvel\": { ");
        ShouldBeBadUsage(CliHarness.Run("run", "--config", path), $"--config: '{path}' is not valid JSON");
    }

    [Test]
    public void UnknownOptionKey_Exit2_NamesTheKeyAndTheNearestSetting() =>
        ShouldBeBadUsage(CliHarness.Run("run", "--set", "Marvel:Pipeline:Sed=3"), "'Marvel:Pipeline:Sed' is not a setting of MarvelPipelineOptions; did you mean 'Seed'?");

    [Test]
    public void UnconvertibleValue_Exit2_NamesTheKey() =>
        ShouldBeBadUsage(CliHarness.Run("run", "--set", "Marvel:Pipeline:Seed=abc"), "'abc' at 'Marvel:Pipeline:Seed'");

    [Test]
    public void InvalidOptionValues_Exit2_ListEveryBadField()
    {
        var outcome = CliHarness.Run("run", "--set", "Marvel:Pipeline:EvalEpisodes=0", "--set", "Marvel:Cpq:Gamma=2");
        ShouldBeBadUsage(outcome, "Marvel:Pipeline:EvalEpisodes: must be");
        outcome.Error.Should().Contain("Marvel:Cpq:Gamma: must be").And.NotContain("Property ");
    }

    [Test]
    public void InvalidOnlineOption_Exit2_NamesTheFullKey() =>
        ShouldBeBadUsage(CliHarness.Run("run", "--set", "Marvel:SacLag:Gamma=2"), "Marvel:SacLag:Gamma: ");

    [Test]
    public void NegativePipelineCostLimit_Exit2_IsReportedOnce()
    {
        // The tool copies the pipeline's limit into the 10 sections with a CostLimit; all 11 fail, and that is one mistake.
        var outcome = CliHarness.Run("run", "--set", "Marvel:Pipeline:CostLimit=-5");
        ShouldBeBadUsage(outcome, "Marvel:Pipeline:CostLimit: must be a finite undiscounted episode cost >= 0, got -5.");
        outcome.Error.Split("got -5").Length.Should().Be(2, outcome.Error);
        outcome.Error.Should().Contain("(the same value in Marvel:Cpq:CostLimit, ").And.Contain("Marvel:AdaptivePid:CostLimit");
    }

    [Test]
    public void UnknownComponentName_Exit2_ListsTheRegisteredOnes()
    {
        var outcome = CliHarness.Run("run", "--set", "Run:Offline=XYZ");
        ShouldBeBadUsage(outcome, "Run:Offline 'XYZ' is not a registered offline learner");
        outcome.Error.Should().Contain("CPQ").And.Contain("BEAR-Lag");
    }

    [Test]
    public void UnknownController_Exit2() => ShouldBeBadUsage(CliHarness.Run("run", "--set", "Run:Controller=apid"), "Run:Controller 'apid' is not a registered Lagrange controller");

    [Test]
    public void UnknownRunKey_Exit2_NamesTheKeyAndTheKnownOnes()
    {
        var outcome = CliHarness.Run("run", "--set", "Run:Ofline=CPQ");
        ShouldBeBadUsage(outcome, "'Ofline'");
        outcome.Error.Should().Contain("Known keys: Offline");
    }

    [Test]
    public void BadRunSettingValue_Exit2() => ShouldBeBadUsage(CliHarness.Run("run", "--set", "Run:Threads=0"), "Run:Threads must be >= 1, got 0");

    [Test]
    public void MissingDatasetFile_Exit2_NamesTheFile() =>
        ShouldBeBadUsage(CliHarness.Run("run", "--set", "Run:Dataset=missing.hdf5"), "Run:Dataset: file 'missing.hdf5' does not exist");

    [Test]
    public void UnknownTask_Exit2_ListsTheTasks()
    {
        var outcome = CliHarness.Run("run", "--set", "Marvel:Pipeline:TaskId=Nope", "--run-dir", Path.Combine(_folder, "run"));
        ShouldBeBadUsage(outcome, "Marvel:Pipeline:TaskId 'Nope' is not a registered task");
        outcome.Error.Should().Contain("BallCircle");
    }

    [Test]
    public void SweepNegativeRetries_Exit2()
    {
        var path = Path.Combine(_folder, "one.json");
        File.WriteAllText(path, """{ "output": "out", "matrix": { "task": ["BallCircle"], "seed": [0] } }""");
        ShouldBeBadUsage(CliHarness.Run("sweep", "--config", path, "--retries", "-1"), "--retries must be >= 0, got -1");
    }

    [Test]
    public void RunArtifactMissingFolder_Exit2_SaysToRunTheProducerFirst() =>
        ShouldBeBadUsage(CliHarness.Run("run", "--set", $"Run:Artifact={Path.Combine(_folder, "none")}", "--run-dir", Path.Combine(_folder, "run")),
            "Run:Artifact: folder '" + Path.Combine(_folder, "none") + "' does not exist");

    [Test]
    public void RunArtifactWithUnexpandedPlaceholder_Exit2() =>
        ShouldBeBadUsage(CliHarness.Run("run", "--set", "Run:Artifact=runs/{task}/handover", "--run-dir", Path.Combine(_folder, "run")),
            "Run:Artifact 'runs/{task}/handover' still holds a '{placeholder}'");

    [Test]
    public void CheckEnvUnknownTask_Exit2() => ShouldBeBadUsage(CliHarness.Run("check-env", "Nope"), "task 'Nope' is not registered");

    [Test]
    public void CheckEnvMissingArgument_Exit2() => ShouldBeBadUsage(CliHarness.Run("check-env"), "Required argument missing");

    [Test]
    public void InspectMissingPath_Exit2() => ShouldBeBadUsage(CliHarness.Run("inspect", Path.Combine(_folder, "none.hdf5")), "is neither a file nor a folder");

    [Test]
    public void InspectNonDatasetFile_Exit2_NamesTheFile()
    {
        var path = Path.Combine(_folder, "notes.txt");
        File.WriteAllText(path, "not hdf5");
        ShouldBeBadUsage(CliHarness.Run("inspect", path), $"'{path}' is not a readable DSRL dataset");
    }

    [Test]
    public void InspectFolderWithoutManifest_Exit2() => ShouldBeBadUsage(CliHarness.Run("inspect", _folder), "--artifact '");

    [Test]
    public void CollectTooFewEpisodes_Exit2() =>
        ShouldBeBadUsage(CliHarness.Run("collect", "--out", Path.Combine(_folder, "d.hdf5"), "--episodes", "5"), "--episodes must be >= 10");

    [Test]
    public void CollectUnknownTask_Exit2() =>
        ShouldBeBadUsage(CliHarness.Run("collect", "--task", "Nope", "--out", Path.Combine(_folder, "d.hdf5")), "--task 'Nope' is not a registered task");

    [Test]
    public void CollectWithoutOut_Exit2() => ShouldBeBadUsage(CliHarness.Run("collect"), "--out");

    [Test]
    public void EvaluateMissingArtifact_Exit2() => ShouldBeBadUsage(CliHarness.Run("evaluate", "--artifact", Path.Combine(_folder, "none")), "--artifact: folder");

    [Test]
    public void FinetuneMissingArtifact_Exit2() =>
        ShouldBeBadUsage(CliHarness.Run("finetune", "--artifact", Path.Combine(_folder, "none"), "--run-dir", Path.Combine(_folder, "run")), "--artifact: folder");

    [Test]
    public void SweepMissingFile_Exit2() => ShouldBeBadUsage(CliHarness.Run("sweep", "--config", "nope.json"), "sweep file 'nope.json' does not exist");

    [Test]
    public void SweepWithoutConfig_Exit2() => ShouldBeBadUsage(CliHarness.Run("sweep"), "--config");

    [Test]
    public void SweepUnknownAxis_Exit2_NamesIt()
    {
        var path = Path.Combine(_folder, "s.json");
        File.WriteAllText(path, """{ "matrix": { "seeds": [0, 1] } }""");
        ShouldBeBadUsage(CliHarness.Run("sweep", "--config", path, "--dry-run"), "field 'matrix.seeds': unknown axis");
    }

    [Test]
    public void SweepEmptyAxis_Exit2()
    {
        var path = Path.Combine(_folder, "s.json");
        File.WriteAllText(path, """{ "matrix": { "seed": [] } }""");
        ShouldBeBadUsage(CliHarness.Run("sweep", "--config", path, "--dry-run"), "field 'matrix.seed' must be a non-empty array");
    }

    [Test]
    public void SweepUnknownField_Exit2()
    {
        var path = Path.Combine(_folder, "s.json");
        File.WriteAllText(path, """{ "matrix": { "seed": [0] }, "outptu": "x" }""");
        ShouldBeBadUsage(CliHarness.Run("sweep", "--config", path, "--dry-run"), "field 'outptu' is not a sweep field");
    }

    [Test]
    public void SweepBadValueInARun_Exit2_BeforeAnythingRuns()
    {
        var path = Path.Combine(_folder, "s.json");
        File.WriteAllText(path, """{ "output": "runs", "matrix": { "seed": [0], "Marvel:Pipeline:EvalEpisodes": [0] } }""");
        ShouldBeBadUsage(CliHarness.Run("sweep", "--config", path), "EvalEpisodes");
        Directory.Exists(Path.Combine(_folder, "runs", "EvalEpisodes0_seed0")).Should().BeFalse();
    }

    [Test]
    public void SweepRunIndexOutOfRange_Exit2()
    {
        var path = CliHarness.WriteTinySweep(_folder, "tiny", [0, 1]);
        ShouldBeBadUsage(CliHarness.Run("sweep", "--config", path, "--run-index", "2"), "--run-index 2 is outside the matrix: it has 2 runs (0..1)");
    }

    [Test]
    public void SweepUnknownEmitTarget_Exit2()
    {
        var path = CliHarness.WriteTinySweep(_folder, "tiny", [0]);
        ShouldBeBadUsage(CliHarness.Run("sweep", "--config", path, "--emit", "pbs"), "'pbs'");
    }

    [Test]
    public void SweepZeroWorkers_Exit2()
    {
        var path = CliHarness.WriteTinySweep(_folder, "tiny", [0]);
        ShouldBeBadUsage(CliHarness.Run("sweep", "--config", path, "--workers", "0"), "--workers must be >= 1, got 0");
    }

    [Test]
    public void ReportWithoutCompleteRuns_Exit2() => ShouldBeBadUsage(CliHarness.Run("report", _folder), "no complete run folder");

    [Test]
    public void ReportMissingFolder_Exit2() => ShouldBeBadUsage(CliHarness.Run("report", Path.Combine(_folder, "none")), "is not a folder");
}

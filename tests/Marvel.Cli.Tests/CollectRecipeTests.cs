using Marvel.Core.Data.Dsrl;

namespace Marvel.Cli.Tests;

/// <summary><c>collect --recipe frontier</c> on a tiny budget: generated once, then reused from the cache; bad options listed together;
/// every collected file names its task, and a run on another task refuses it.</summary>
[TestFixture]
[NonParallelizable]
public sealed class CollectRecipeTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private string P(string name) => Path.Combine(_folder, name);

    /// <summary>800 training transitions on 2 BallRun environments (100-step episodes), one checkpoint rollout set, a width-16 learner.</summary>
    private string TinyOptions()
    {
        var path = P("tiny.json");
        File.WriteAllText(path, """
        {
          "TrainingSteps": 800, "Environments": 2, "CheckpointEvery": 800, "DeterministicEpisodes": 1, "NoiseStandardDeviations": [0.3],
          "NoisyEpisodes": 1, "CostBins": 4, "ReturnBins": 4, "MaxEpisodesPerBin": 3, "TargetTransitions": 100000,
          "Learner": { "ActorHiddenSizes": [16], "CriticHiddenSizes": [16], "CostCriticHiddenSizes": [16], "Schedule": "StepBased",
                       "UpdateEveryNSteps": 40, "UpdatesPerIteration": 2, "MiniBatches": 1, "BatchSize": 32, "WarmupSteps": 100, "ReplayCapacity": 1000 }
        }
        """);
        return path;
    }

    [Test]
    public void CollectFrontier_GeneratesOnce_ThenReusesTheCachedFile_ByteForByte()
    {
        string options = TinyOptions(), cache = P("cache");
        string[] args = ["collect", "--task", "BallRun", "--recipe", "frontier", "--recipe-options", options, "--cache", cache, "--seed", "5", "--quiet"];

        var first = CliHarness.Run([.. args, "--out", P("a.hdf5")]);
        first.ExitCode.Should().Be(0, first.All);
        first.Out.Should().Contain("Cache: stored").And.Contain(" training and 2 checkpoint episodes");
        var second = CliHarness.Run([.. args, "--out", P("b.hdf5")]);
        second.ExitCode.Should().Be(0, second.All);
        second.Out.Should().Contain("Cache: reusing").And.NotContain("Frontier:");

        Directory.GetFiles(cache).Should().ContainSingle().Which.Should().MatchRegex(@"BallRun-frontier-[0-9a-f]{16}\.hdf5$");
        File.ReadAllBytes(P("b.hdf5")).Should().Equal(File.ReadAllBytes(P("a.hdf5")));
        var attributes = DsrlFile.ReadAttributes(P("a.hdf5"));
        (attributes.TaskId, attributes.Recipe, attributes.Seed).Should().Be(("BallRun", "frontier", 5UL));
        attributes.RecipeOptions.Should().Contain("\"TrainingSteps\":800");
        CliHarness.Run("inspect", P("a.hdf5"), "--no-plot").Out.Should().Contain("frontier").And.Contain("BallRun");
    }

    [Test]
    public void CollectFrontier_ResumesAnInterruptedGeneration_FromItsWorkFolder_ThenRemovesIt()
    {
        // The same tiny options with a checkpoint at 400 transitions; a library run stopped after it leaves the work folder that the
        // tool uses beside the cached file.
        string json = File.ReadAllText(TinyOptions()).Replace("\"CheckpointEvery\": 800", "\"CheckpointEvery\": 400", StringComparison.Ordinal);
        string options = P("resumable.json"), cache = P("cache");
        File.WriteAllText(options, json);
        var parsed = Marvel.Core.Pipeline.Datasets.FrontierDataset.OptionsFromJson(json);
        string work = Path.Combine(cache, $"BallRun-frontier-{Marvel.Core.Pipeline.Datasets.FrontierDataset.CacheKey("BallRun", parsed, 5)[..16]}.partial");
        using (var stop = new CancellationTokenSource())
        {
            Action interrupted = () => Marvel.Core.Pipeline.Datasets.FrontierDataset.GenerateResumable("BallRun", parsed, 5, work,
                progress: new Stop(500, stop), cancellationToken: stop.Token);
            interrupted.Should().Throw<OperationCanceledException>();
        }
        Directory.Exists(Path.Combine(work, "checkpoint")).Should().BeTrue();

        var resumed = CliHarness.Run("collect", "--task", "BallRun", "--recipe", "frontier", "--recipe-options", options, "--cache", cache, "--seed", "5",
            "--quiet", "--out", P("resumed.hdf5"));
        var fresh = CliHarness.Run("collect", "--task", "BallRun", "--recipe", "frontier", "--recipe-options", options, "--no-cache", "--seed", "5",
            "--quiet", "--out", P("fresh.hdf5"));

        resumed.ExitCode.Should().Be(0, resumed.All);
        resumed.Out.Should().Contain("Resuming the generation from its last checkpoint").And.Contain("Cache: stored");
        fresh.ExitCode.Should().Be(0, fresh.All);
        File.ReadAllBytes(P("resumed.hdf5")).Should().Equal(File.ReadAllBytes(P("fresh.hdf5")));
        Directory.Exists(work).Should().BeFalse("the work folder is removed once the file is stored");
    }

    private sealed class Stop(long steps, CancellationTokenSource source) : IProgress<Marvel.Core.Abstractions.Learning.TrainingProgress>
    {
        public void Report(Marvel.Core.Abstractions.Learning.TrainingProgress value)
        {
            if (value.Step >= steps) source.Cancel();
        }
    }

    [Test]
    public void CollectFrontier_BadOptions_Exit2_ListingEveryBadField()
    {
        var outcome = CliHarness.Run("collect", "--recipe", "frontier", "--training-steps", "0", "--target-transitions", "-1", "--out", P("x.hdf5"), "--no-cache");

        outcome.ExitCode.Should().Be(2, outcome.All);
        outcome.Error.Should().Contain("TrainingSteps").And.Contain("TargetTransitions");
        File.Exists(P("x.hdf5")).Should().BeFalse();
    }

    [Test]
    public void CollectScripted_NamesItsTask_AndARunOnAnotherTaskRefusesTheFile()
    {
        CliHarness.Run("collect", "--task", "BallCircle", "--episodes", "10", "--out", P("ball.hdf5")).ExitCode.Should().Be(0);
        var attributes = DsrlFile.ReadAttributes(P("ball.hdf5"));
        (attributes.TaskId, attributes.Recipe, attributes.Seed).Should().Be(("BallCircle", "scripted-sweep", 0UL));

        var outcome = CliHarness.Run("train-offline", "--set", "Marvel:Pipeline:TaskId=CarCircle", "--set", $"Run:Dataset={P("ball.hdf5")}",
            "--set", "Marvel:Pipeline:OfflineSteps=1", "--out", P("cpq"), "--quiet");

        outcome.ExitCode.Should().Be(2, outcome.All);
        outcome.Error.Should().Contain("recorded on task 'BallCircle'").And.Contain("task 'CarCircle' was requested");
    }
}

using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Data.Dsrl;
using Marvel.Core.Pipeline.Datasets;

namespace Marvel.Core.Tests.Pipeline.Datasets;

[TestFixture]
public sealed class FrontierDatasetTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "marvel-frontier-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void DeleteFolder()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A tiny budget: 800 training transitions on 2 BallCircle environments (2 × 2 episodes of 200 steps), a checkpoint at 400 and
    /// one at the end, each with one deterministic and one noisy episode; a one-layer learner of width 16.</summary>
    internal static FrontierDatasetOptions Tiny() => new()
    {
        TrainingSteps = 800, Environments = 2, CheckpointEvery = 400, DeterministicEpisodes = 1, NoiseStandardDeviations = [0.3], NoisyEpisodes = 1,
        CostBins = 4, ReturnBins = 4, MaxEpisodesPerBin = 2, TargetTransitions = 100_000,
        Learner = new SacLagOptions
        {
            ActorHiddenSizes = [16], CriticHiddenSizes = [16], CostCriticHiddenSizes = [16], Schedule = SacLagSchedule.StepBased,
            UpdateEveryNSteps = 40, UpdatesPerIteration = 2, MiniBatches = 1, BatchSize = 32, WarmupSteps = 100, ReplayCapacity = 1_000,
            ActorLearningRate = 3e-4, AutoTuneAlpha = true, Alpha = 0.1,
        },
    };

    private static FrontierDatasetResult? _cached;

    /// <summary>One generation shared by the tests that only read it (seed 3).</summary>
    private static FrontierDatasetResult Generated() => _cached ??= FrontierDataset.Generate("BallCircle", Tiny(), seed: 3);

    [Test]
    public void Generate_SameSeed_WritesTheSameBytes_OtherSeed_Others()
    {
        string a = Path.Combine(_folder, "a.hdf5"), b = Path.Combine(_folder, "b.hdf5"), c = Path.Combine(_folder, "c.hdf5");
        // One torch thread, as the tool generates (the bytes are promised at a fixed thread count).
        var first = OneThread(() => FrontierDataset.Generate("BallCircle", Tiny(), seed: 3));
        var again = OneThread(() => FrontierDataset.Generate("BallCircle", Tiny(), seed: 3));
        var other = OneThread(() => FrontierDataset.Generate("BallCircle", Tiny(), seed: 4));
        DsrlFile.Write(first.Dataset, a, first.Attributes);
        DsrlFile.Write(again.Dataset, b, again.Attributes);
        DsrlFile.Write(other.Dataset, c, other.Attributes);

        File.ReadAllBytes(b).Should().Equal(File.ReadAllBytes(a));
        File.ReadAllBytes(c).Should().NotEqual(File.ReadAllBytes(a));
    }

    [Test]
    public void Generate_KeepsTrainingAndCheckpointEpisodes_WithinTheCaps()
    {
        var result = Generated();

        // 800 transitions over 2 environments: each finishes 2 episodes of 200 steps. Two checkpoints × (1 deterministic + 1 noisy).
        result.TrainingEpisodes.Should().Be(4);
        result.CheckpointEpisodes.Should().Be(4);
        result.EnvironmentSteps.Should().Be(800 + 4 * 200);
        var episodes = result.Dataset.Episodes;
        episodes.Should().HaveCount(result.KeptEpisodes);
        episodes.Should().OnlyContain(e => e.Length == 200);
        result.Dataset.Count.Should().Be(200 * result.KeptEpisodes);
        // 16 cells with a cap of 2 could keep all 8; the grid drops only what shares a full cell.
        result.KeptEpisodes.Should().BeInRange(1, 8);
    }

    [Test]
    public void Generate_Attributes_NameTaskRecipeOptionsVersionSeed_AndRoundTripThroughTheFile()
    {
        var result = Generated();
        var path = Path.Combine(_folder, "frontier.hdf5");
        DsrlFile.Write(result.Dataset, path, result.Attributes);

        var back = DsrlFile.ReadAttributes(path);

        back.Should().Be(result.Attributes);
        back.TaskId.Should().Be("BallCircle");
        back.Recipe.Should().Be("frontier");
        back.Seed.Should().Be(3);
        back.LibraryVersion.Should().Be(DsrlFileAttributes.CurrentLibraryVersion);
        var options = FrontierDataset.OptionsFromJson(back.RecipeOptions!);
        FrontierDataset.OptionsJson(options).Should().Be(FrontierDataset.OptionsJson(Tiny()), "the file records every option");
        back.RecipeOptions.Should().Contain("\"Schedule\":\"Sweep\"");
    }

    [Test]
    public void Generate_FileIsRefusedForAnotherTask()
    {
        var result = Generated();
        var path = Path.Combine(_folder, "frontier.hdf5");
        DsrlFile.Write(result.Dataset, path, result.Attributes);

        Action act = () => DsrlFile.ReadForTask(path, new EnvironmentSpec("CarCircle", 300));

        act.Should().Throw<InvalidDataException>().WithMessage("*'BallCircle'*'CarCircle'*");
    }

    /// <summary>Issue 23: the recipe runs on the Drone tasks (episodes end early when the drone is not alive, so lengths are at most
    /// the horizon), writes a file named for the task and that file is read back for it and refused for the other Drone task.</summary>
    [TestCase("DroneRun", 200, 17)]
    [TestCase("DroneCircle", 300, 18)]
    public void Generate_OnTheDroneTasks_WritesAFileForThatTask(string task, int horizon, int observations)
    {
        var options = Tiny();
        options.TrainingSteps = 2 * horizon * 2;   // two environments, at least two episodes each
        options.CheckpointEvery = 2 * horizon;
        var result = FrontierDataset.Generate(task, options, seed: 5);
        var path = Path.Combine(_folder, task + ".hdf5");
        DsrlFile.Write(result.Dataset, path, result.Attributes);

        result.Attributes.TaskId.Should().Be(task);
        result.TrainingEpisodes.Should().BeGreaterThanOrEqualTo(4);
        result.KeptEpisodes.Should().BePositive();
        result.Dataset.Episodes.Should().OnlyContain(e => e.Length >= 1 && e.Length <= horizon);
        var back = DsrlFile.ReadForTask(path, new EnvironmentSpec(task, horizon), observations, 4);
        back.Count.Should().Be(result.Dataset.Count);
        string other = task == "DroneRun" ? "DroneCircle" : "DroneRun";
        FluentActions.Invoking(() => DsrlFile.ReadForTask(path, new EnvironmentSpec(other, horizon)))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{task}'*'{other}'*");
    }

    [Test]
    public void CacheKey_FollowsTaskOptionsAndSeed()
    {
        string key = FrontierDataset.CacheKey("BallCircle", Tiny(), 3);

        key.Should().MatchRegex("^[0-9a-f]{64}$");
        FrontierDataset.CacheKey("BallCircle", Tiny(), 3).Should().Be(key);
        FrontierDataset.CacheKey("BallCircle", Tiny(), 4).Should().NotBe(key);
        FrontierDataset.CacheKey("BallRun", Tiny(), 3).Should().NotBe(key);
        FrontierDataset.CacheKey("BallCircle", Tiny() with { CostBins = 5 }, 3).Should().NotBe(key);
        var learner = Tiny();
        learner.Learner.BatchSize = 64;
        FrontierDataset.CacheKey("BallCircle", learner, 3).Should().NotBe(key, "the learner's options are part of the recipe");
    }

    [Test]
    public void OptionsJson_LeavesOutTheLearnerChoiceAtItsDefault_SoSacLagCacheKeysStay()
    {
        // Files made before PPO-Lag could be chosen carry the same JSON (and cache key) as SAC-Lag files made now.
        string json = FrontierDataset.OptionsJson(Tiny());

        json.Should().NotContain("LearnerKind").And.NotContain("PpoLearner");
        FrontierDataset.OptionsJson(Tiny() with { LearnerKind = FrontierLearner.PpoLag }).Should().Contain("\"LearnerKind\":\"PpoLag\"");
        FrontierDataset.CacheKey("BallCircle", Tiny() with { LearnerKind = FrontierLearner.PpoLag }, 3)
            .Should().NotBe(FrontierDataset.CacheKey("BallCircle", Tiny(), 3));
    }

    /// <summary>PPO-Lag at a tiny budget: 2 environments, 400 transitions per iteration, 1 200 in all (2 × 3 episodes of 200 steps).</summary>
    private static FrontierDatasetOptions TinyPpo() => Tiny() with
    {
        TrainingSteps = 1_200, CheckpointEvery = 600, LearnerKind = FrontierLearner.PpoLag,
        PpoLearner = new PpoLagOptions { ActorHiddenSizes = [16], CriticHiddenSizes = [16], StepsPerIteration = 400, UpdateEpochs = 2, MiniBatchSize = 64 },
    };

    [Test]
    public void Generate_WithPpoLag_RecordsItsEpisodes_Deterministically_AndNamesTheLearnerInTheFile()
    {
        var first = OneThread(() => FrontierDataset.Generate("BallCircle", TinyPpo(), seed: 3));
        var again = OneThread(() => FrontierDataset.Generate("BallCircle", TinyPpo(), seed: 3));
        var sac = OneThread(Generated);

        // 1 200 transitions over 2 environments: 3 episodes each; checkpoints at 600 and at the end, 1 deterministic + 1 noisy each.
        first.TrainingEpisodes.Should().Be(6);
        first.CheckpointEpisodes.Should().Be(4);
        first.EnvironmentSteps.Should().Be(1_200 + 4 * 200);
        first.Dataset.Observations.ToArray().Should().Equal(again.Dataset.Observations.ToArray());
        first.Dataset.Actions.ToArray().Should().Equal(again.Dataset.Actions.ToArray());
        first.Dataset.Actions[..400].ToArray().Should().NotEqual(sac.Dataset.Actions[..400].ToArray(), "another learner acts");
        first.Attributes.RecipeOptions.Should().Contain("\"LearnerKind\":\"PpoLag\"").And.Contain("\"StepsPerIteration\":400");
    }

    /// <summary>Stops a generation at the first progress report at or past <paramref name="steps"/> training transitions.</summary>
    private sealed class StopAt(long steps, CancellationTokenSource source) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step >= steps) source.Cancel();
        }
    }

    /// <summary>Runs <paramref name="generate"/> on one torch thread (the bytes are promised at a fixed thread count).</summary>
    private static T OneThread<T>(Func<T> generate)
    {
        int threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
        try
        {
            return generate();
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }
    }

    private byte[] Bytes(FrontierDatasetResult result, string name)
    {
        string path = Path.Combine(_folder, name);
        DsrlFile.Write(result.Dataset, path, result.Attributes);
        return File.ReadAllBytes(path);
    }

    private static IEnumerable<TestCaseData> ResumeCases()
    {
        // SAC-Lag: checkpoints at 320 and 640 transitions (iterations of 40), both in the middle of the 200-step episodes, so the
        // recorder's unfinished episodes cross the checkpoint. PPO-Lag: one checkpoint at 800 transitions.
        yield return new TestCaseData(Tiny() with { CheckpointEvery = 300 }, 500L).SetName("GenerateResumable_SacLag_InterruptedAndResumed_GivesTheSameBytes");
        yield return new TestCaseData(TinyPpo(), 900L).SetName("GenerateResumable_PpoLag_InterruptedAndResumed_GivesTheSameBytes");
    }

    [TestCaseSource(nameof(ResumeCases))]
    public void GenerateResumable_InterruptedAndResumed_GivesTheSameBytes(FrontierDatasetOptions options, long stopAt)
    {
        string work = Path.Combine(_folder, "work");
        var whole = OneThread(() => FrontierDataset.Generate("BallCircle", options, seed: 3));

        using var stop = new CancellationTokenSource();
        Action interrupted = () => OneThread(() => FrontierDataset.GenerateResumable("BallCircle", options, seed: 3, work,
            progress: new StopAt(stopAt, stop), cancellationToken: stop.Token));
        interrupted.Should().Throw<OperationCanceledException>();
        File.Exists(Path.Combine(work, "checkpoint", "state.json")).Should().BeTrue("a checkpoint was due before the stop");
        var resumed = OneThread(() => FrontierDataset.GenerateResumable("BallCircle", options, seed: 3, work));

        Bytes(resumed, "resumed.hdf5").Should().Equal(Bytes(whole, "whole.hdf5"));
        resumed.TrainingEpisodes.Should().Be(whole.TrainingEpisodes);
        resumed.CheckpointEpisodes.Should().Be(whole.CheckpointEpisodes);
        resumed.EnvironmentSteps.Should().Be(whole.EnvironmentSteps);
    }

    [Test]
    public void GenerateResumable_WorkFolderOfAnotherSeed_IsRefused_NamingItAndHowToStartOver()
    {
        string work = Path.Combine(_folder, "work");
        var options = Tiny() with { CheckpointEvery = 300 };
        using var stop = new CancellationTokenSource();
        Action interrupted = () => FrontierDataset.GenerateResumable("BallCircle", options, seed: 3, work, progress: new StopAt(400, stop), cancellationToken: stop.Token);
        interrupted.Should().Throw<OperationCanceledException>();

        Action otherSeed = () => FrontierDataset.GenerateResumable("BallCircle", options, seed: 4, work);
        Action otherOptions = () => FrontierDataset.GenerateResumable("BallCircle", options with { CostBins = 5 }, seed: 3, work);

        otherSeed.Should().Throw<InvalidDataException>().WithMessage("*seed 3 (this run: 4)*Delete*");
        otherOptions.Should().Throw<InvalidDataException>().WithMessage("*other recipe options*");
    }

    [Test]
    public void GenerateResumable_CorruptState_IsRefused()
    {
        string work = Path.Combine(_folder, "work");
        Directory.CreateDirectory(Path.Combine(work, "checkpoint"));
        File.WriteAllText(Path.Combine(work, "checkpoint", "state.json"), "{ not json");

        Action act = () => FrontierDataset.GenerateResumable("BallCircle", Tiny(), seed: 3, work);

        act.Should().Throw<InvalidDataException>().WithMessage("*state.json*not a frontier checkpoint*Delete*");
    }

    [Test]
    public void GenerateResumable_MissingEpisodeFile_IsRefused()
    {
        string work = Path.Combine(_folder, "work");
        var options = Tiny() with { CheckpointEvery = 300 };
        using var stop = new CancellationTokenSource();
        Action interrupted = () => FrontierDataset.GenerateResumable("BallCircle", options, seed: 3, work, progress: new StopAt(400, stop), cancellationToken: stop.Token);
        interrupted.Should().Throw<OperationCanceledException>();
        File.Delete(Path.Combine(work, "episodes-00000.bin"));

        Action act = () => FrontierDataset.GenerateResumable("BallCircle", options, seed: 3, work);

        act.Should().Throw<InvalidDataException>().WithMessage("*missing or unreadable*episodes-00000.bin*");
    }
}

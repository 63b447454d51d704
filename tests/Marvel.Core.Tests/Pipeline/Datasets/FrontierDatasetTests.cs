using Marvel.Core.Abstractions;
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
        int threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
        FrontierDatasetResult first, again, other;
        try
        {
            first = FrontierDataset.Generate("BallCircle", Tiny(), seed: 3);
            again = FrontierDataset.Generate("BallCircle", Tiny(), seed: 3);
            other = FrontierDataset.Generate("BallCircle", Tiny(), seed: 4);
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }
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
        int threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
        FrontierDatasetResult first, again, sac;
        try
        {
            first = FrontierDataset.Generate("BallCircle", TinyPpo(), seed: 3);
            again = FrontierDataset.Generate("BallCircle", TinyPpo(), seed: 3);
            sac = Generated();
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }

        // 1 200 transitions over 2 environments: 3 episodes each; checkpoints at 600 and at the end, 1 deterministic + 1 noisy each.
        first.TrainingEpisodes.Should().Be(6);
        first.CheckpointEpisodes.Should().Be(4);
        first.EnvironmentSteps.Should().Be(1_200 + 4 * 200);
        first.Dataset.Observations.ToArray().Should().Equal(again.Dataset.Observations.ToArray());
        first.Dataset.Actions.ToArray().Should().Equal(again.Dataset.Actions.ToArray());
        first.Dataset.Actions[..400].ToArray().Should().NotEqual(sac.Dataset.Actions[..400].ToArray(), "another learner acts");
        first.Attributes.RecipeOptions.Should().Contain("\"LearnerKind\":\"PpoLag\"").And.Contain("\"StepsPerIteration\":400");
    }
}

using System.Globalization;
using System.Text.Json;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Alignment;
using Marvel.Core.Environments;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Tests.Pipeline;

public class MarvelPipelineTests
{
    private readonly RunDirectories _directories = new();

    [TearDown]
    public void DeleteRunDirectories() => _directories.DeleteAll();

    private MarvelPipelineOptions Options(int iterations = 2, int evalEvery = 1, int evalEpisodes = 2)
    {
        var dir = _directories.New();
        return new MarvelPipelineOptions
        {
            TaskId = PipelineTestData.Task, CostLimit = 20, Seed = 3, OfflineSteps = 50, OnlineIterations = iterations, EvalEvery = evalEvery,
            EvalEpisodes = evalEpisodes, EnvironmentCount = 2, RunDirectory = dir,
        };
    }

    private static string[] CsvLines(string path) => File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();

    private static double Cell(string[] lines, int row, string column)
    {
        int k = Array.IndexOf(lines[0].Split(','), column);
        k.Should().BeGreaterThanOrEqualTo(0, $"column '{column}' should exist in '{lines[0]}'");
        return double.Parse(lines[row].Split(',')[k], CultureInfo.InvariantCulture);
    }

    [Test]
    public void Run_TinyBallCircle_CpqVpaSacLag_WritesEveryRunFileWithPlausibleContent()
    {
        var o = Options(iterations: 2, evalEvery: 1, evalEpisodes: 2) with { CheckpointEvery = 2 };
        var sacTemplate = new SacLagOptions { EpisodesPerIteration = 2, UpdatesPerIteration = 1, BatchSize = 64, MiniBatches = 2, ActorLearningRate = 1e-4 };
        var pipeline = new MarvelPipeline(o,
            context => new CpqLearner(context, PipelineTestData.TinyCpq()),
            new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 3, BatchSize = 64, RewardCriticLearningRate = 1e-3, CostCriticLearningRate = 1e-3 }),
            new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = 20, Kp = 1e-3, Ki = 1e-3, Kd = 1e-3 }),
            SacLagHandover.Factory(sacTemplate));
        var stages = new List<string>();

        var result = pipeline.Run(PipelineTestData.Dataset, new SyncProgress(p => stages.Add(p.Stage)));

        var root = o.RunDirectory;
        File.Exists(Path.Combine(root, "options.json")).Should().BeTrue();
        using (var options = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "options.json"))))
        {
            options.RootElement.GetProperty("options").GetProperty("TaskId").GetString().Should().Be("BallCircle");
            options.RootElement.GetProperty("options").GetProperty("OnlineIterations").GetInt32().Should().Be(2);
            options.RootElement.GetProperty("aligner").GetString().Should().Contain("ValuePreAligner");
        }
        File.Exists(Path.Combine(root, "handover", "manifest.json")).Should().BeTrue();
        File.Exists(Path.Combine(root, "aligned", "manifest.json")).Should().BeTrue();
        HandoverArtifact.Load(Path.Combine(root, "handover")).Manifest.Algorithm.Should().Be("CPQ");
        HandoverArtifact.Load(Path.Combine(root, "handover")).Manifest.TrainingSteps.Should().Be(50);
        File.ReadAllText(Path.Combine(root, "status.json")).Should().Contain("completed");
        File.Exists(Path.Combine(root, "result.json")).Should().BeTrue();

        var online = CsvLines(Path.Combine(root, "metrics", "online.csv"));
        online.Should().HaveCount(3, "a header and one row per online iteration");
        online[0].Should().StartWith("iteration,environment_steps,episodes,mean_episode_return,mean_episode_cost,lambda,cumulative_violation");
        online[0].Should().Contain("reward_critic_loss").And.Contain("controller/");
        Cell(online, 1, "iteration").Should().Be(1);
        Cell(online, 2, "iteration").Should().Be(2);
        Cell(online, 1, "episodes").Should().BeGreaterThanOrEqualTo(2);
        Cell(online, 2, "environment_steps").Should().BeGreaterThan(Cell(online, 1, "environment_steps"));
        Cell(online, 2, "cumulative_violation").Should().BeGreaterThanOrEqualTo(Cell(online, 1, "cumulative_violation"));
        double.IsFinite(Cell(online, 2, "reward_critic_loss")).Should().BeTrue();

        var eval = CsvLines(Path.Combine(root, "metrics", "eval.csv"));
        eval.Should().HaveCount(4, "evaluations at iterations 0, 1 and 2");
        eval[0].Should().Be("index,iteration,environment_steps,episodes,mean_return,std_return,mean_cost,std_cost,mean_length,normalized_reward,normalized_cost,safe");
        Cell(eval, 1, "iteration").Should().Be(0);
        Cell(eval, 3, "iteration").Should().Be(2);
        Cell(eval, 1, "episodes").Should().Be(2);
        Cell(eval, 1, "mean_length").Should().Be(200, "BallCircle episodes run to the 200-step time limit");
        // Normalized cost = (C + 0)/(20 + 0) for CostLimit 20.
        Cell(eval, 3, "normalized_cost").Should().BeApproximately(Cell(eval, 3, "mean_cost") / 20, 1e-6);

        result.OfflineAlgorithm.Should().Be("CPQ");
        result.OnlineAlgorithm.Should().Be("SAC-Lag");
        result.OnlineIterations.Should().Be(2);
        result.Evaluations.Select(e => e.Iteration).Should().Equal(0, 1, 2);
        result.OfflineEvaluation.Iteration.Should().Be(0);
        result.LastIterateEvaluation.Iteration.Should().Be(2);
        result.LastIterateEvaluation.Should().BeSameAs(result.Evaluations[^1]);
        result.AlignmentSteps.Should().Be(12, "3 calls × 4 mini-batches");
        result.CumulativeViolation.Should().BeApproximately(Cell(online, 2, "cumulative_violation"), 1e-6);
        result.OnlineEpisodes.Should().Be((long)(Cell(online, 1, "episodes") + Cell(online, 2, "episodes")));
        double.IsFinite(result.FinalEvaluation.Result.NormalizedReward).Should().BeTrue();
        // The time-averaged curve lies between its extremes.
        result.RewardAuc.Should().BeInRange(result.Evaluations.Min(e => e.Result.MeanReturn) - 1e-9, result.Evaluations.Max(e => e.Result.MeanReturn) + 1e-9);
        stages.Should().Contain(["offline", "alignment", "online", "evaluation"]);
        var checkpoint = Path.Combine(root, "checkpoints", "iteration-000002");
        HandoverArtifact.Load(Path.Combine(checkpoint, "handover")).Manifest.Algorithm.Should().Be("SAC-Lag");
        File.Exists(Path.Combine(checkpoint, "learner", "learner.json")).Should().BeTrue();
        File.ReadAllText(Path.Combine(root, "checkpoints", "latest")).Should().Be("iteration-000002");
        File.ReadAllText(Path.Combine(checkpoint, "controller.json")).Should().Contain("Kind");
        File.ReadAllText(Path.Combine(checkpoint, "state.json")).Should().Contain("cumulative_violation");
        Directory.Exists(Path.Combine(root, "checkpoints", "iteration-000001")).Should().BeFalse();
        Directory.GetFiles(root, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty("atomic writes leave no temporary files behind");
    }

    private static EvaluationPoint Point(int index, double meanReturn, params double[] costs) => new(index, index * 10, 0,
        new EvaluationResult(costs.Select(c => new EpisodeSummary(meanReturn, c, 100)).ToList(), meanReturn, 0, costs.Average(), 0, 100, 20, double.NaN, costs.Average() / 20));

    [Test]
    public void CostUpperBound_HandValues_IsTheMeanPlusZStandardErrors()
    {
        // Costs 18 and 20: mean 19, sample variance ((−1)² + 1²)/1 = 2, standard error √(2/2) = 1.
        MarvelPipeline.CostUpperBound(Point(0, 1, 18, 20).Result, 1.645).Should().BeApproximately(20.645, 1e-12);
        MarvelPipeline.CostUpperBound(Point(0, 1, 18, 20).Result, 0).Should().Be(19);
        MarvelPipeline.CostUpperBound(Point(0, 1, 7).Result, 1.645).Should().Be(7, "one episode has no spread to measure");
        // Costs 0, 10, 20: mean 10, sample variance (100 + 0 + 100)/2 = 100, standard error 10/√3 = 5.7735.
        MarvelPipeline.CostUpperBound(Point(0, 1, 0, 10, 20).Result, 2).Should().BeApproximately(10 + 2 * 10 / Math.Sqrt(3), 1e-12);
    }

    [Test]
    public void BestWithinLimit_HandValues_TakesTheHighestReturnWhoseCostBoundIsWithinTheLimit_EarliestOnTies()
    {
        // Returns 100, 50, 80, 80, 200; costs [25, 25] (over), [10, 10] (bound 10), [18, 20] (mean 19, bound 20.645 at z = 1.645),
        // [20, 20] (bound 20: exactly the limit, within), [30, 30] (over).
        var points = new[] { Point(0, 100, 25, 25), Point(1, 50, 10, 10), Point(2, 80, 18, 20), Point(3, 80, 20, 20), Point(4, 200, 30, 30) };
        MarvelPipeline.BestWithinLimit(points, 20, 1.645).Should().Be(3, "evaluation 2's bound 20.645 is over the limit");
        MarvelPipeline.BestWithinLimit(points, 20, 0).Should().Be(2, "with the mean alone 2 and 3 tie at 80 and the earlier wins");
        MarvelPipeline.BestWithinLimit(points, 9, 1.645).Should().Be(-1, "no bound is 9 or less");
        MarvelPipeline.BestWithinLimit(points, 30, 1.645).Should().Be(4);
        MarvelPipeline.BestWithinLimit([], 20, 1.645).Should().Be(-1);
        MarvelPipeline.Safest(points, 1.645).Should().Be(1, "bounds 25, 10, 20.645, 20, 30");
        MarvelPipeline.Safest([Point(0, 5, 0, 0), Point(1, 9, 0, 0), Point(2, 9, 0, 0)], 1.645).Should().Be(1, "equal bounds: the higher return, then the earlier");
        MarvelPipeline.Safest([], 1.645).Should().Be(-1);
    }

    [Test]
    public void Run_BestWithinLimit_ReturnsTheBestEvaluatedPolicyWithinTheLimit_ReEvaluatedOnFreshEpisodes()
    {
        // Limit 140 on BallCircle: the tiny policies' evaluations have cost bounds (mean cost + 1.645 standard errors over 2 episodes)
        // on both sides of 140, and the last iterate's is above it, so the choice falls before the last iterate (both asserted below).
        var o = Options(iterations: 3, evalEvery: 1, evalEpisodes: 2) with { CostLimit = 140, CheckpointEvery = 1 };
        var result = TinySacLagPipeline(o).Run(PipelineTestData.Dataset);

        o.ReturnedPolicy.Should().Be(ReturnedPolicy.BestWithinLimit, "it is the default");
        // The rule, computed here independently: mean cost + 1.645 · sample std / √n within the limit.
        static double Bound(EvaluationPoint e)
        {
            var costs = e.Result.Episodes.Select(x => x.Cost).ToArray();
            double mean = costs.Average();
            return mean + 1.645 * Math.Sqrt(costs.Sum(c => (c - mean) * (c - mean)) / (costs.Length - 1) / costs.Length);
        }
        var within = result.Evaluations.Where(e => Bound(e) <= 140).ToList();
        within.Should().NotBeEmpty("some evaluations of this test are clearly below 140 (else pick another limit)");
        var best = within.OrderByDescending(e => e.Result.MeanReturn).ThenBy(e => e.Index).First();
        result.FinalEvaluation.Iteration.Should().Be(best.Iteration);
        best.Should().NotBeSameAs(result.Evaluations[^1], "the last iterate is over the limit here");
        result.FinalEvaluation.Index.Should().Be(result.Evaluations.Count, "its episodes are none the choice was made on");
        result.LastIterateEvaluation.Should().BeSameAs(result.Evaluations[^1]);
        // final/ holds the learner's export at the chosen iteration (the checkpoint of that iteration holds the same actor; iteration 0: the handover).
        var source = best.Iteration == 0 ? Path.Combine(o.RunDirectory, "aligned")
            : Path.Combine(o.RunDirectory, "checkpoints", $"iteration-{best.Iteration:D6}", "handover");
        var finalActor = HandoverArtifact.Load(Path.Combine(o.RunDirectory, "final")).GetNetwork(HandoverRoles.Actor);
        var sourceActor = HandoverArtifact.Load(source).GetNetwork(HandoverRoles.Actor);
        finalActor.ContentEquals(sourceActor).Should().BeTrue("final/ holds the actor of the chosen iteration");
        Directory.Exists(Path.Combine(o.RunDirectory, "returned-candidates")).Should().BeFalse();
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(o.RunDirectory, "result.json")));
        json.RootElement.GetProperty("final_iteration").GetInt64().Should().Be(best.Iteration);
        json.RootElement.GetProperty("final_mean_return").GetDouble().Should().Be(result.FinalEvaluation.Result.MeanReturn);
        json.RootElement.GetProperty("last_iterate_mean_return").GetDouble().Should().Be(result.Evaluations[^1].Result.MeanReturn);
        double evaluationViolation = result.Evaluations.Append(result.FinalEvaluation).SelectMany(e => e.Result.Episodes).Sum(e => Math.Max(0, e.Cost - 140));
        result.EvaluationViolation.Should().BeApproximately(evaluationViolation, 1e-9);
    }

    [Test]
    public void Run_LastIterate_ReturnsThePolicyAfterTheLastIteration()
    {
        var o = Options(iterations: 2, evalEvery: 1, evalEpisodes: 2) with { CostLimit = 5, CheckpointEvery = 1, ReturnedPolicy = ReturnedPolicy.LastIterate };
        var result = TinySacLagPipeline(o).Run(PipelineTestData.Dataset);

        result.FinalEvaluation.Should().BeSameAs(result.Evaluations[^1]);
        result.LastIterateEvaluation.Should().BeSameAs(result.Evaluations[^1]);
        var finalActor = HandoverArtifact.Load(Path.Combine(o.RunDirectory, "final")).GetNetwork(HandoverRoles.Actor);
        var lastActor = HandoverArtifact.Load(Path.Combine(o.RunDirectory, "checkpoints", "iteration-000002", "handover")).GetNetwork(HandoverRoles.Actor);
        finalActor.ContentEquals(lastActor).Should().BeTrue("final/ holds the last iterate's actor");
    }

    private static MarvelPipeline TinySacLagPipeline(MarvelPipelineOptions o) => new(o,
        context => new CpqLearner(context, PipelineTestData.TinyCpq() with { CostLimit = o.CostLimit }),   // one budget per run
        new NoAlignment(),
        new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = o.CostLimit, Kp = 1e-3, Ki = 1e-3, Kd = 1e-3 }),
        SacLagHandover.Factory(new SacLagOptions { EpisodesPerIteration = 2, UpdatesPerIteration = 2, BatchSize = 64, MiniBatches = 2, ActorLearningRate = 1e-3 }));

    [Test]
    public void Run_FakeLearner_CountsViolationEvaluatesOnScheduleAndComputesAuc()
    {
        var o = Options(iterations: 5, evalEvery: 2, evalEpisodes: 2);
        FakeOnlineLearner? learner = null;
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => learner = new FakeOnlineLearner(context));

        var result = pipeline.Run(PipelineTestData.Dataset);

        // Episodes cost 40 and 10 each iteration: violation max(0, 40 − 20) + max(0, 10 − 20) = 20 per iteration, 100 after 5.
        result.CumulativeViolation.Should().Be(100);
        result.OnlineEpisodes.Should().Be(10);
        result.OnlineEnvironmentSteps.Should().Be(2000);
        // Evaluations at 0, every 2 iterations and after the last: 0, 2, 4, 5.
        result.Evaluations.Select(e => e.Iteration).Should().Equal(0, 2, 4, 5);
        // The constant policy is deterministic and evaluation seeds differ only by index; the AUC is the trapezoid area / 5.
        var p = result.Evaluations.Select(e => e.Result.MeanReturn).ToArray();
        double expected = (0.5 * (p[0] + p[1]) * 2 + 0.5 * (p[1] + p[2]) * 2 + 0.5 * (p[2] + p[3]) * 1) / 5;
        result.RewardAuc.Should().BeApproximately(expected, 1e-9);
        learner!.Initialized.Should().BeTrue();
        learner.Disposed.Should().BeTrue("the pipeline owns the learners it builds");
        var online = CsvLines(Path.Combine(o.RunDirectory, "metrics", "online.csv"));
        Cell(online, 5, "cumulative_violation").Should().Be(100);
        Cell(online, 3, "mean_episode_cost").Should().Be(25);
    }

    [Test]
    public void Run_AlignmentRollouts_AreMixedIntoTheAlignmentData_AndCountAsOnlineInteraction()
    {
        var o = Options(iterations: 2, evalEvery: 5, evalEpisodes: 1) with { AlignmentRolloutEpisodes = 3, AlignmentRolloutFraction = 0.25 };
        var aligner = new RecordingAligner();
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), aligner, new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => new FakeOnlineLearner(context));

        var result = pipeline.Run(PipelineTestData.Dataset);

        var mixed = aligner.Data.Should().BeOfType<Marvel.Core.Data.MixedTransitionSampler>().Which;
        mixed.Primary.Should().BeSameAs(PipelineTestData.Dataset);
        mixed.SecondaryFraction.Should().Be(0.25);
        var rollouts = mixed.Secondary.Should().BeOfType<OfflineDataset>().Which;
        rollouts.Episodes.Should().HaveCount(3);
        // The rollouts are online interaction: their violation adds to the fake learner's 20 per iteration, their episodes and steps to its 2 × 2 and 800.
        double rolloutViolation = rollouts.Episodes.Sum(e => Math.Max(0, e.Cost - 20));
        result.CumulativeViolation.Should().BeApproximately(rolloutViolation + 40, 1e-9);
        result.OnlineEpisodes.Should().Be(3 + 4);
        result.OnlineEnvironmentSteps.Should().Be(rollouts.Count + 800);
        using var info = JsonDocument.Parse(File.ReadAllText(Path.Combine(o.RunDirectory, "alignment.json")));
        info.RootElement.GetProperty("rollout_episodes").GetInt64().Should().Be(3);
        info.RootElement.GetProperty("rollout_environment_steps").GetInt64().Should().Be(rollouts.Count);
        var online = CsvLines(Path.Combine(o.RunDirectory, "metrics", "online.csv"));
        Cell(online, 1, "cumulative_violation").Should().BeApproximately(rolloutViolation + 20, 1e-6);
    }

    [Test]
    public void Run_AlignmentRollouts_WithNoAlignment_AreNotCollected()
    {
        var o = Options(iterations: 1, evalEvery: 5, evalEpisodes: 1) with { AlignmentRolloutEpisodes = 3 };
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => new FakeOnlineLearner(context));

        var result = pipeline.Run(PipelineTestData.Dataset);

        result.OnlineEpisodes.Should().Be(2, "no alignment, so no episodes are spent on it");
        result.CumulativeViolation.Should().Be(20);
    }

    [Test]
    public void Run_SameSeed_EvaluationsAreIdentical_AndEvaluationSeedsFollowTheProtocol()
    {
        MarvelRunResult RunOnce()
        {
            var o = Options(iterations: 1, evalEvery: 1, evalEpisodes: 3);
            return new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
                (context, _) => new FakeOnlineLearner(context)).Run(PipelineTestData.Dataset);
        }
        var a = RunOnce();
        var b = RunOnce();
        a.Evaluations.Select(e => e.Result.MeanReturn).Should().Equal(b.Evaluations.Select(e => e.Result.MeanReturn));
        // Same policy at evaluations 0 and 1 but different seeds (s + 10 000·k + i): the start states, hence the returns, differ.
        a.Evaluations[0].Result.Episodes.Select(e => e.Return).Should().NotEqual(a.Evaluations[1].Result.Episodes.Select(e => e.Return));
    }

    [Test]
    public void Run_Twice_StartsTheControllerFromItsInitialStateEachTime()
    {
        var controller = new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 });
        var pipeline = new MarvelPipeline(Options(iterations: 3, evalEvery: 10), PipelineTestData.Artifact(), new NoAlignment(), controller,
            (context, _) => new FakeOnlineLearner(context));

        var first = pipeline.Run(PipelineTestData.Dataset);
        var second = pipeline.Run(PipelineTestData.Dataset);

        first.FinalLambda.Should().BeGreaterThan(0, "the mean cost 25 is above the limit 20");
        second.FinalLambda.Should().Be(first.FinalLambda);
        second.CumulativeViolation.Should().Be(first.CumulativeViolation);
    }

    [Test]
    public void Run_CancelledAfterFirstIteration_WritesMetricsSoFarAndThrows()
    {
        var o = Options(iterations: 5, evalEvery: 10) with { CheckpointEvery = 0 };
        using var cts = new CancellationTokenSource();
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => new FakeOnlineLearner(context));
        var progress = new SyncProgress(p => { if (p.Stage == MarvelPipelineStages.Online && p.Step == 1) cts.Cancel(); });

        var act = () => pipeline.Run(PipelineTestData.Dataset, progress, cts.Token);

        act.Should().Throw<OperationCanceledException>();
        var online = CsvLines(Path.Combine(o.RunDirectory, "metrics", "online.csv"));
        online.Should().HaveCount(2, "the header and the one finished iteration");
        CsvLines(Path.Combine(o.RunDirectory, "metrics", "eval.csv")).Should().HaveCount(2, "the header and the iteration-0 evaluation");
        File.ReadAllText(Path.Combine(o.RunDirectory, "status.json")).Should().Contain("cancelled").And.Contain("online");
    }

    [Test]
    public async Task RunAsync_CancelledDuringOfflineTraining_ThrowsAndWritesStatus()
    {
        var o = Options() with { OfflineSteps = 100_000, OfflineReportEvery = 5 };
        using var cts = new CancellationTokenSource();
        var pipeline = new MarvelPipeline(o, context => new CpqLearner(context, PipelineTestData.TinyCpq()), new NoAlignment(),
            new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }), (context, _) => new FakeOnlineLearner(context));
        var progress = new SyncProgress(p => { if (p.Stage == "offline" && p.Step >= 10) cts.Cancel(); });

        var act = async () => await pipeline.RunAsync(PipelineTestData.Dataset, progress, cts.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        File.ReadAllText(Path.Combine(o.RunDirectory, "status.json")).Should().Contain("cancelled").And.Contain("offline");
        CsvLines(Path.Combine(o.RunDirectory, "metrics", "online.csv")).Should().HaveCount(1, "only the header: no online iteration ran");
    }

    [Test]
    public void Run_ExplodingRewardQ_IsReportedAsOnlineDivergence_AfterWritingTheRow()
    {
        var o = Options(iterations: 5, evalEvery: 10);
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => new FakeOnlineLearner(context) { ExplodeRewardQAtIteration = 2 });

        var act = () => pipeline.Run(PipelineTestData.Dataset);

        var e = act.Should().Throw<TrainingDivergedException>().Which;
        e.Stage.Should().Be(MarvelPipelineStages.Online);
        e.Quantity.Should().Be("reward_q");
        e.Value.Should().Be(1e9);
        e.Message.Should().Contain("exploding Q").And.Contain(o.RunDirectory);
        e.InnerException.Should().BeOfType<TrainingDivergedException>();
        CsvLines(Path.Combine(o.RunDirectory, "metrics", "online.csv")).Should().HaveCount(3, "both iterations, the exploding one included");
        File.ReadAllText(Path.Combine(o.RunDirectory, "status.json")).Should().Contain("diverged");
    }

    [Test]
    public void Run_LearnerDiverges_IsRethrownWithTheOnlineStage()
    {
        var o = Options(iterations: 5, evalEvery: 10);
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => new FakeOnlineLearner(context) { ThrowAtIteration = 3 });

        var e = pipeline.Invoking(p => p.Run(PipelineTestData.Dataset)).Should().Throw<TrainingDivergedException>().Which;

        e.Stage.Should().Be("online");
        e.Quantity.Should().Be("actor_loss");
        ((TrainingDivergedException)e.InnerException!).Stage.Should().Be("online/Fake");
        CsvLines(Path.Combine(o.RunDirectory, "metrics", "online.csv")).Should().HaveCount(3);
    }

    [Test]
    public void Run_AlignerDiverges_IsRethrownWithTheAlignmentStage_HandoverAlreadySaved()
    {
        var o = Options();
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), new DivergingAligner(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => new FakeOnlineLearner(context));

        var e = pipeline.Invoking(p => p.Run(PipelineTestData.Dataset)).Should().Throw<TrainingDivergedException>().Which;

        e.Stage.Should().Be("alignment");
        e.Quantity.Should().Be("reward_critic_loss");
        File.Exists(Path.Combine(o.RunDirectory, "handover", "manifest.json")).Should().BeTrue();
        Directory.Exists(Path.Combine(o.RunDirectory, "aligned")).Should().BeFalse();
        File.ReadAllText(Path.Combine(o.RunDirectory, "status.json")).Should().Contain("diverged").And.Contain("alignment");
    }

    [Test]
    public void Constructor_ControllerWithAnotherCostLimit_Throws()
    {
        var act = () => new MarvelPipeline(Options(), PipelineTestData.Artifact(), new NoAlignment(),
            new PidLagrangeController(new PidLagrangeOptions { CostLimit = 25 }), (context, _) => new FakeOnlineLearner(context));
        act.Should().Throw<ArgumentException>().WithMessage("*CostLimit*25*20*");
    }

    [Test]
    public void Constructor_UnknownTask_ThrowsListingKnownTasks()
    {
        var act = () => new MarvelPipeline(Options() with { TaskId = "NoSuchTask" }, PipelineTestData.Artifact(), new NoAlignment(),
            new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }), (context, _) => new FakeOnlineLearner(context));
        act.Should().Throw<ArgumentException>().WithMessage("*NoSuchTask*BallCircle*");
    }

    [TestCase(nameof(MarvelPipelineOptions.TaskId))]
    [TestCase(nameof(MarvelPipelineOptions.CostLimit))]
    [TestCase(nameof(MarvelPipelineOptions.OfflineSteps))]
    [TestCase(nameof(MarvelPipelineOptions.OnlineIterations))]
    [TestCase(nameof(MarvelPipelineOptions.EvalEvery))]
    [TestCase(nameof(MarvelPipelineOptions.EvalEpisodes))]
    [TestCase(nameof(MarvelPipelineOptions.EnvironmentCount))]
    [TestCase(nameof(MarvelPipelineOptions.RunDirectory))]
    [TestCase(nameof(MarvelPipelineOptions.CheckpointEvery))]
    [TestCase(nameof(MarvelPipelineOptions.Device))]
    [TestCase(nameof(MarvelPipelineOptions.HandoverLoad))]
    [TestCase(nameof(MarvelPipelineOptions.QDivergenceFactor))]
    [TestCase(nameof(MarvelPipelineOptions.OfflineReportEvery))]
    [TestCase(nameof(MarvelPipelineOptions.AlignmentRolloutEpisodes))]
    [TestCase(nameof(MarvelPipelineOptions.AlignmentRolloutFraction))]
    public void Validate_BadField_IsNamed(string field)
    {
        var o = new MarvelPipelineOptions();
        switch (field)
        {
            case nameof(o.TaskId): o.TaskId = " "; break;
            case nameof(o.CostLimit): o.CostLimit = -1; break;
            case nameof(o.OfflineSteps): o.OfflineSteps = -5; break;
            case nameof(o.OnlineIterations): o.OnlineIterations = -1; break;
            case nameof(o.EvalEvery): o.EvalEvery = 0; break;
            case nameof(o.EvalEpisodes): o.EvalEpisodes = 0; break;
            case nameof(o.EnvironmentCount): o.EnvironmentCount = 0; break;
            case nameof(o.RunDirectory): o.RunDirectory = ""; break;
            case nameof(o.CheckpointEvery): o.CheckpointEvery = -1; break;
            case nameof(o.Device): o.Device = "tpu"; break;
            case nameof(o.HandoverLoad): o.HandoverLoad = null!; break;
            case nameof(o.QDivergenceFactor): o.QDivergenceFactor = 0.5; break;
            case nameof(o.OfflineReportEvery): o.OfflineReportEvery = 0; break;
            case nameof(o.AlignmentRolloutEpisodes): o.AlignmentRolloutEpisodes = -1; break;
            case nameof(o.AlignmentRolloutFraction): o.AlignmentRolloutFraction = double.NaN; break;
        }

        var result = new MarvelPipelineOptionsValidator().Validate(null, o);

        result.Failed.Should().BeTrue();
        result.Failures.Should().ContainSingle().Which.Should().Contain(field);
    }

    [Test]
    public void Validate_SeveralBadFields_AreAllListed()
    {
        var o = new MarvelPipelineOptions { CostLimit = double.NaN, EvalEpisodes = 0, Device = "gpu" };
        var act = () => new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions()),
            (context, _) => new FakeOnlineLearner(context));
        act.Should().Throw<OptionsValidationException>().WithMessage("*CostLimit*").WithMessage("*EvalEpisodes*").WithMessage("*Device*");
    }

    [Test]
    public void Validate_Defaults_Pass() => new MarvelPipelineOptionsValidator().Validate(null, new MarvelPipelineOptions()).Succeeded.Should().BeTrue();
}

using System.Text.Json;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Alignment;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;

namespace Marvel.Core.Tests.Pipeline;

/// <summary><see cref="CriticHandoverRule.MeasuredCostError"/>: the online stage takes the critics over only when the measured cost critic is close enough.</summary>
public class CriticHandoverRuleTests
{
    private readonly RunDirectories _directories = new();

    [TearDown]
    public void TearDown() => _directories.DeleteAll();

    // 4 dataset states, 1 rollout each, stopped once 0.99^k < 0.5: k = 69 steps (0.99^68 = 0.505, 0.99^69 = 0.4998).
    private static QBiasOptions SmallCheck() => new() { StateCount = 4, RolloutsPerState = 1, DiscountTolerance = 0.5 };

    private (FakeOnlineLearner Learner, string Folder) Run(double maxError, HandoverLoadOptions load, CriticHandoverRule rule = CriticHandoverRule.MeasuredCostError,
        double costLimit = 20)
    {
        var o = new MarvelPipelineOptions
        {
            TaskId = PipelineTestData.Task, CostLimit = costLimit, Seed = 3, OnlineIterations = 1, EvalEvery = 5, EvalEpisodes = 1, EnvironmentCount = 1,
            RunDirectory = _directories.New(), CriticHandover = rule, MaxCostCriticError = maxError, CriticCheck = SmallCheck(), HandoverLoad = load,
        };
        FakeOnlineLearner? learner = null;
        new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = costLimit }),
            (context, _) => learner = new FakeOnlineLearner(context)).Run(PipelineTestData.Dataset);
        return (learner!, o.RunDirectory);
    }

    private static CriticCheckResult ReadCheck(string folder) =>
        JsonSerializer.Deserialize<CriticCheckResult>(File.ReadAllText(Path.Combine(folder, "critic-check.json")))!;

    [Test]
    public void CostCriticWithinTheBound_TakesTheCriticsOver_EvenWhereHandoverLoadLeftThemOut()
    {
        var (learner, folder) = Run(maxError: 1e9, HandoverLoadOptions.SafeFinetuning());

        learner.LoadOptions!.LoadCritics.Should().BeTrue("the measured error is below the bound");
        learner.LoadOptions.LoadActorOptimizerState.Should().BeFalse("the rest of HandoverLoad is kept");
        var check = ReadCheck(folder);
        check.CriticsTakenOver.Should().BeTrue();
        check.MaxCostCriticError.Should().Be(1e9);
        check.SimulatorSteps.Should().Be(4 * 1 * 69);
        check.CostRelativeError.Should().BeApproximately(check.CostMeanAbsoluteError / Math.Max(Math.Abs(check.CostMeanMonteCarlo), 1.0), 1e-12);
    }

    [Test]
    public void CostCriticOverTheBound_StartsFromFreshCritics()
    {
        var (learner, folder) = Run(maxError: 1e-12, new HandoverLoadOptions());

        learner.LoadOptions!.LoadCritics.Should().BeFalse("an untrained CPQ cost critic is not within 1e-12 of the Monte-Carlo costs");
        var check = ReadCheck(folder);
        check.CriticsTakenOver.Should().BeFalse();
        check.CostRelativeError.Should().BeGreaterThan(1e-12);
    }

    [Test]
    public void SameSeed_SameMeasurement()
    {
        var a = ReadCheck(Run(1e9, new HandoverLoadOptions()).Folder);
        var b = ReadCheck(Run(1e9, new HandoverLoadOptions()).Folder);
        b.Should().Be(a);
    }

    [Test]
    public void AsConfigured_RunsNoCheck_AndPassesHandoverLoadThrough()
    {
        var load = HandoverLoadOptions.SafeFinetuning();
        var (learner, folder) = Run(maxError: 1e9, load, CriticHandoverRule.AsConfigured);

        learner.LoadOptions.Should().Be(load);
        File.Exists(Path.Combine(folder, "critic-check.json")).Should().BeFalse();
    }

    [Test]
    public void WithinLimitStart_SafeStart_TakesTheCriticsOverAfterEvaluatingIt()
    {
        // The fake's constant action drives the ball out of the |x| <= 6 band: its cost per episode is far below 10 000, so the start is safe.
        var (learner, folder) = Run(maxError: 0.5, new HandoverLoadOptions(), CriticHandoverRule.WithinLimitStart, costLimit: 10_000);

        learner.LoadOptions!.LoadCritics.Should().BeTrue("the last InitializeFrom, after evaluation 0, takes the critics over");
        var check = JsonSerializer.Deserialize<StartCheckResult>(File.ReadAllText(Path.Combine(folder, "critic-check.json")))!;
        check.CriticsTakenOver.Should().BeTrue();
        check.StartCostBound.Should().BeLessThanOrEqualTo(10_000);
        File.ReadAllLines(Path.Combine(folder, "metrics", "eval.csv")).Count(l => l.StartsWith("0,0,", StringComparison.Ordinal))
            .Should().Be(1, "evaluation 0 runs once, before the decision");
    }

    [Test]
    public void WithinLimitStart_UnsafeStart_KeepsFreshCritics()
    {
        var (learner, folder) = Run(maxError: 0.5, new HandoverLoadOptions(), CriticHandoverRule.WithinLimitStart, costLimit: 0.1);

        learner.LoadOptions!.LoadCritics.Should().BeFalse();
        var check = JsonSerializer.Deserialize<StartCheckResult>(File.ReadAllText(Path.Combine(folder, "critic-check.json")))!;
        check.StartMeanCost.Should().BeGreaterThan(0, "the constant action leaves the safe band");
        check.CriticsTakenOver.Should().BeFalse();
    }

    /// <summary>Tiny CPQ → VPA → SAC-Lag with the library's handover of the aligned cost critic alone.</summary>
    private MarvelRunResult RunSacLag(CriticHandoverRule rule, HandoverLoadOptions load, double costLimit)
    {
        var o = new MarvelPipelineOptions
        {
            TaskId = PipelineTestData.Task, CostLimit = costLimit, Seed = 5, OfflineSteps = 20, OnlineIterations = 2, EvalEvery = 1, EvalEpisodes = 2,
            EnvironmentCount = 2, RunDirectory = _directories.New(), CriticHandover = rule, HandoverLoad = load,
        };
        var cpq = PipelineTestData.TinyCpq();
        cpq.CostLimit = costLimit;
        return new MarvelPipeline(o, context => new CpqLearner(context, cpq),
            new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 2, BatchSize = 64 }),
            new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = costLimit }),
            SacLagHandover.Factory(new SacLagOptions { EpisodesPerIteration = 2, UpdatesPerIteration = 2, BatchSize = 64, MiniBatches = 2 }))
            .Run(PipelineTestData.Dataset);
    }

    [TestCase(10_000.0)]
    [TestCase(0.1)]
    public void WithinLimitStart_EndsExactlyAsTheRunWithItsDecidedHandoverFromTheStart(double costLimit)
    {
        var load = new HandoverLoadOptions { LoadActorOptimizerState = false, LoadRewardCritic = false };
        var decided = RunSacLag(CriticHandoverRule.WithinLimitStart, load, costLimit);
        bool critics = JsonSerializer.Deserialize<StartCheckResult>(File.ReadAllText(Path.Combine(decided.RunDirectory, "critic-check.json")))!.CriticsTakenOver;
        if (costLimit > 1000) critics.Should().BeTrue("no BallCircle episode costs 10 000");
        var direct = RunSacLag(CriticHandoverRule.AsConfigured, load with { LoadCritics = critics }, costLimit);

        decided.Evaluations.Select(e => e.Result.MeanReturn).Should().Equal(direct.Evaluations.Select(e => e.Result.MeanReturn));
        decided.FinalLambda.Should().Be(direct.FinalLambda);
        File.ReadAllText(Path.Combine(direct.RunDirectory, "metrics", "online.csv"))
            .Should().Be(File.ReadAllText(Path.Combine(decided.RunDirectory, "metrics", "online.csv")));
    }

    [TestCase(0.0)]
    [TestCase(-0.5)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void MaxCostCriticError_NotPositiveAndFinite_IsRejectedNamingIt(double value)
    {
        var result = new MarvelPipelineOptionsValidator().Validate(null, new MarvelPipelineOptions { MaxCostCriticError = value });
        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("MaxCostCriticError");
    }

    [Test]
    public void CriticHandover_UndefinedValue_IsRejectedNamingIt()
    {
        var result = new MarvelPipelineOptionsValidator().Validate(null, new MarvelPipelineOptions { CriticHandover = (CriticHandoverRule)9 });
        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("CriticHandover");
    }

    [Test]
    public void CriticCheck_Null_IsRejectedNamingIt()
    {
        var result = new MarvelPipelineOptionsValidator().Validate(null, new MarvelPipelineOptions { CriticCheck = null! });
        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("CriticCheck");
    }

    [Test]
    public void CriticCheck_BadField_IsRejectedNamingBothLevels()
    {
        var result = new MarvelPipelineOptionsValidator().Validate(null, new MarvelPipelineOptions { CriticCheck = new QBiasOptions { StateCount = 0 } });
        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("CriticCheck").And.Contain("StateCount");
    }
}

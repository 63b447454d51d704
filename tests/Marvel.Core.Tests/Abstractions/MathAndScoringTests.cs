using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Scoring;

namespace Marvel.Core.Tests.Abstractions;

public class CostBudgetTests
{
    [Test]
    public void Instance_DerivesEachUnitFromKappaAndT()
    {
        var budget = new CostBudget(costLimit: 20, episodeLength: 200);
        budget.PerStepCost.Should().BeApproximately(0.1, 1e-15);                                   // 20 / 200
        budget.CriticThreshold(0.99, 1, bootstrapsThroughTruncation: true).Should().BeApproximately(10, 1e-12);      // 20 / (200 · 0.01)
        budget.CriticThreshold(0.99, 2, bootstrapsThroughTruncation: false).Should().BeApproximately(17.3205, 1e-4); // 2 · 8.66025
        budget.PerStepCriticThreshold(0.99, 1, bootstrapsThroughTruncation: true).Should().BeApproximately(0.1, 1e-12); // 0.01 · 10
        budget.PerStepCriticThreshold(0.5, 3, bootstrapsThroughTruncation: true).Should().BeApproximately(0.3, 1e-12);  // 0.5 · 3 · 20/(200·0.5)
    }

    [Test]
    public void CostScale_ScalesTheCriticThresholdExactly_SoTheEpisodeCostConstraintIsUnchanged()
    {
        // A critic that learns c · s has values s times as large; its threshold must be s times as large too, so that the constraint
        // Q_c ≤ threshold selects the same actions (the same episode-cost behaviour) for every s.
        var budget = new CostBudget(20, 200);
        foreach (double scale in new[] { 0.5, 2.0, 10.0 })
        {
            budget.CriticThreshold(0.99, scale, true).Should().BeApproximately(scale * budget.CriticThreshold(0.99, 1, true), 1e-12);
            budget.PerStepCriticThreshold(0.99, scale, false).Should().BeApproximately(scale * budget.PerStepCriticThreshold(0.99, 1, false), 1e-12);
        }
    }

    [TestCase(26.5, 6.5)]
    [TestCase(20.0, 0.0)]
    [TestCase(3.0, 0.0)]
    public void Violation_IsTheExcessOverKappa(double episodeCost, double expected) =>
        new CostBudget(20, 200).Violation(episodeCost).Should().Be(expected);

    [Test]
    public void Violation_OfEpisodes_SumsTheExcesses() =>
        new CostBudget(10, 100).Violation(new[] { 12.0, 4.0, 30.0, 10.0 }).Should().Be(22);   // 2 + 0 + 20 + 0

    [Test]
    public void Agrees_WithinRelativeTolerance()
    {
        var budget = new CostBudget(20, 200);
        budget.Agrees(20 + 1e-12).Should().BeTrue();
        budget.Agrees(20.001).Should().BeFalse();
        budget.Agrees(10).Should().BeFalse();
    }

    [Test]
    public void RequireAgreement_NamesEveryDisagreeingSetting_AndOnlyThose()
    {
        var budget = new CostBudget(20, 200);
        budget.RequireAgreement("test", ("A.CostLimit", 20));   // agrees: nothing thrown
        var act = () => budget.RequireAgreement("pipeline", ("A.CostLimit", 20), ("B.CostLimit", 10), ("C.CostLimit", 40));
        var message = act.Should().Throw<ArgumentException>().Which.Message;
        message.Should().StartWith("pipeline: B.CostLimit = 10, C.CostLimit = 40 disagree with the run's CostLimit = 20").And.NotContain("A.CostLimit");
    }

    [TestCase(-1.0, 200, "costLimit")]
    [TestCase(double.NaN, 200, "costLimit")]
    [TestCase(20.0, 0, "episodeLength")]
    public void Constructor_BadArgument_NamesIt(double costLimit, int episodeLength, string parameter) =>
        FluentActions.Invoking(() => new CostBudget(costLimit, episodeLength)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(parameter);

    [Test]
    public void LearnerContext_BudgetFor_UsesTheRunsBudget_AndRefusesADisagreeingOption()
    {
        var space = new Marvel.Core.Abstractions.Spaces.BoxSpace(new float[] { -1 }, new float[] { 1 });
        var standalone = new Marvel.Core.Abstractions.Learning.LearnerContext(space, space, new Marvel.Core.Abstractions.Seeding.SeedStreams(1), 100);
        standalone.BudgetFor(10, "XOptions.CostLimit").Should().Match<CostBudget>(b => b.CostLimit == 10 && b.EpisodeLength == 100);
        var run = standalone with { Budget = new CostBudget(20, 100) };
        run.BudgetFor(20, "XOptions.CostLimit").Should().BeSameAs(run.Budget);
        FluentActions.Invoking(() => run.BudgetFor(10, "XOptions.CostLimit")).Should().Throw<ArgumentException>()
            .WithMessage("*XOptions.CostLimit = 10 disagrees with the run's CostLimit = 20*");
    }

    [Test]
    public void QCostThreshold_RoundNumbers()
    {
        // κ = 10, γ = 0.5, T = 2: Σ_{t<2} 0.5^t · 10/2 = 5 + 2.5 = 7.5 = 10·(1 − 0.25)/(0.5·2).
        CostBudget.QCostThreshold(10, 0.5, 2).Should().BeApproximately(7.5, 1e-12);
        // γ = 1: no discount, the threshold is κ itself.
        CostBudget.QCostThreshold(40, 1.0, 300).Should().Be(40);
    }

    [TestCase(100, 10, 6.3397)]
    [TestCase(200, 20, 8.6602)]
    [TestCase(300, 40, 12.6795)]
    public void QCostThreshold_MatchesOsrlTable(int horizon, double limit, double expected)
    {
        // algorithms spec §0.6 table (γ = 0.99), rounded to 4 decimals there.
        CostBudget.QCostThreshold(limit, 0.99, horizon).Should().BeApproximately(expected, 1e-4);
    }

    [Test]
    public void InfiniteHorizonCostThreshold_RoundNumbers()
    {
        // κ = 10, γ = 0.5, T = 2: Σ_{t≥0} 0.5^t · 10/2 = 5 · 2 = 10 = 10/(2 · 0.5).
        CostBudget.InfiniteHorizonCostThreshold(10, 0.5, 2).Should().BeApproximately(10, 1e-12);
        // κ = 20, γ = 0.99, T = 200: 20/(200 · 0.01) = 10, against the episode form's 8.6602 (13 % looser).
        CostBudget.InfiniteHorizonCostThreshold(20, 0.99, 200).Should().BeApproximately(10, 1e-12);
        CostBudget.InfiniteHorizonCostThreshold(40, 1.0, 300).Should().Be(40);
    }

    [TestCase(true, 2.0, 20.0)]       // 2 · 20/(200 · 0.01)
    [TestCase(false, 2.0, 17.3205)]   // 2 · 8.66025
    [TestCase(true, 0.5, 5.0)]        // 0.5 · 10
    public void CostValueThreshold_IsTheHorizonFormInTheCriticsScaledUnits(bool bootstraps, double costScale, double expected)
    {
        CostBudget.CostValueThreshold(20, 0.99, 200, costScale, bootstraps).Should().BeApproximately(expected, 1e-4);
    }

    [TestCase(0.0)]
    [TestCase(-1.0)]
    [TestCase(double.PositiveInfinity)]
    public void CostValueThreshold_BadCostScale_NamesIt(double costScale)
    {
        FluentActions.Invoking(() => CostBudget.CostValueThreshold(20, 0.99, 200, costScale, true))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("costScale");
    }

    [Test]
    public void PerStepCostThreshold_IsLimitOverHorizon() => CostBudget.PerStepCostThreshold(20, 200).Should().Be(0.1);

    [TestCase(-1.0, 0.99, 10, "costLimit")]
    [TestCase(double.NaN, 0.99, 10, "costLimit")]
    [TestCase(10.0, 0.0, 10, "gamma")]
    [TestCase(10.0, 1.5, 10, "gamma")]
    [TestCase(10.0, 0.99, 0, "episodeLength")]
    public void QCostThreshold_BadArgument_NamesIt(double limit, double gamma, int horizon, string name)
    {
        FluentActions.Invoking(() => CostBudget.QCostThreshold(limit, gamma, horizon))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
    }

    [TestCase(-1.0, 0.99, 10, "*CostLimit*finite and >= 0*")]
    [TestCase(10.0, 0.0, 10, "*gamma must be in (0, 1]*")]
    [TestCase(10.0, 0.99, 0, "*episode length T must be at least 1*")]
    public void QCostThreshold_BadArgument_SaysWhatIsAllowed(double limit, double gamma, int horizon, string message) =>
        FluentActions.Invoking(() => CostBudget.QCostThreshold(limit, gamma, horizon)).Should().Throw<ArgumentOutOfRangeException>().WithMessage(message);

    [TestCase(-1.0, 10, "costLimit")]
    [TestCase(double.PositiveInfinity, 10, "costLimit")]
    [TestCase(10.0, 0, "episodeLength")]
    public void PerStepCostThreshold_BadArgument_NamesIt(double limit, int horizon, string name) =>
        FluentActions.Invoking(() => CostBudget.PerStepCostThreshold(limit, horizon))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);

    [Test]
    public void Thresholds_BoundaryArguments_AreAllowed()
    {
        // κ = 0 (no cost allowed) and T = 1 are valid: 0/T = 0; with T = 1, κ·(1 − γ)/((1 − γ)·1) = κ = 7.
        CostBudget.PerStepCostThreshold(0, 10).Should().Be(0);
        CostBudget.QCostThreshold(0, 0.99, 10).Should().Be(0);
        CostBudget.PerStepCostThreshold(7, 1).Should().Be(7);
        CostBudget.QCostThreshold(7, 0.9, 1).Should().BeApproximately(7, 1e-12);
    }
}

public class NormalizedScoreTests
{
    [Test]
    public void Reward_IsAffineBetweenDatasetExtremes()
    {
        var reference = new TaskScoreReference(MaxEpisodeReward: 110, MinEpisodeReward: 10, 0, 0, 100);
        NormalizedScore.Reward(60, reference).Should().Be(0.5);
        NormalizedScore.Reward(10, reference).Should().Be(0);
        NormalizedScore.Reward(160, reference).Should().Be(1.5, "R_max is a dataset statistic, not an optimum");
    }

    [Test]
    public void Cost_DividesByLimit_AndAddsOneWhenLimitIsZero()
    {
        NormalizedScore.Cost(30, 20).Should().Be(1.5);
        NormalizedScore.Cost(0, 20).Should().Be(0);
        NormalizedScore.Cost(3, 0).Should().Be(4, "(C + 1)/(0 + 1)");
    }

    [Test]
    public void BuiltInReferences_AreDsrlValues()
    {
        var r = NormalizedScore.GetReference("BallCircle");
        r.MaxEpisodeReward.Should().Be(881.46337890625);
        r.MinEpisodeReward.Should().Be(0.38312244415283203);
        NormalizedScore.GetReference("CarRun").MaxEpisodeSteps.Should().Be(200);
        NormalizedScore.KnownTasks.Should().Contain(new[] { "BallRun", "CarCircle", "HopperVelocity" });
    }

    [Test]
    public void UnknownTask_ListsKnownOnes_AndRegisterAddsOne()
    {
        FluentActions.Invoking(() => NormalizedScore.GetReference("MyTask")).Should().Throw<KeyNotFoundException>().WithMessage("*MyTask*BallCircle*Register*");
        NormalizedScore.Register("MyTask-ScoreTest", new TaskScoreReference(5, 1, 9, 0, 50));
        NormalizedScore.Reward(3, NormalizedScore.GetReference("MyTask-ScoreTest")).Should().Be(0.5);
    }

    [Test]
    public void Register_DegenerateReference_Throws() =>
        FluentActions.Invoking(() => NormalizedScore.Register("Bad", new TaskScoreReference(1, 1, 0, 0, 10)))
            .Should().Throw<ArgumentException>().WithMessage("*MaxEpisodeReward*");
}

using Marvel.Core.Abstractions;
using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Offline.COptiDice;
using Marvel.Core.Algorithms.Offline.Cpq;

namespace Marvel.Core.Tests.Algorithms.Offline;

/// <summary>Inside a run (LearnerContext.Budget set) every offline learner takes κ from the run's budget and refuses an option that disagrees.</summary>
public class RunBudgetTests
{
    private static Marvel.Core.Abstractions.Learning.LearnerContext RunContext(double costLimit) =>
        TinyDatasets.Context() with { Budget = new CostBudget(costLimit, TinyDatasets.EpisodeLength) };

    [Test]
    public void Cpq_InARunAtTheSameKappa_UsesTheRunsBudget()
    {
        // κ = 20 over T = 40 (the tiny context), γ 0.99, bootstrapping: 20 / (40 · 0.01) = 50.
        using var cpq = new CpqLearner(RunContext(20), CpqLearnerTests.Tiny() with { CostLimit = 20 });
        cpq.Budget.CostLimit.Should().Be(20);
        cpq.QThreshold.Should().BeApproximately(50, 1e-9);
    }

    [Test]
    public void Cpq_OptionDisagreeingWithTheRun_IsRefusedNamingIt() =>
        FluentActions.Invoking(() => new CpqLearner(RunContext(20), CpqLearnerTests.Tiny() with { CostLimit = 10 }))
            .Should().Throw<ArgumentException>().WithMessage("*CpqOptions.CostLimit = 10 disagrees with the run's CostLimit = 20*");

    [Test]
    public void BearLag_OptionDisagreeingWithTheRun_IsRefusedNamingIt() =>
        FluentActions.Invoking(() => new BearLagLearner(RunContext(20), new BearLagOptions { CostLimit = 10, ActorHiddenSizes = [8], CriticHiddenSizes = [8], VaeHiddenSize = 8 }))
            .Should().Throw<ArgumentException>().WithMessage("*BearLagOptions.CostLimit = 10 disagrees*");

    [Test]
    public void BcqLag_OptionDisagreeingWithTheRun_IsRefusedNamingIt() =>
        FluentActions.Invoking(() => new BcqLagLearner(RunContext(20), new BcqLagOptions { CostLimit = 10, ActorHiddenSizes = [8], CriticHiddenSizes = [8], VaeHiddenSize = 8 }))
            .Should().Throw<ArgumentException>().WithMessage("*BcqLagOptions.CostLimit = 10 disagrees*");

    [Test]
    public void COptiDice_PerStepThreshold_ComesFromTheRunsBudget()
    {
        // (1 − γ) · κ / (T (1 − γ)) = κ / T = 20 / 40 = 0.5 for critics that bootstrap through truncation.
        using var dice = new COptiDiceLearner(RunContext(20), new COptiDiceOptions { CostLimit = 20, BatchSize = 32, ActorHiddenSizes = [8], ValueHiddenSizes = [8] });
        dice.CostThreshold.Should().BeApproximately(0.5, 1e-12);
        FluentActions.Invoking(() => new COptiDiceLearner(RunContext(20), new COptiDiceOptions { CostLimit = 15, BatchSize = 32, ActorHiddenSizes = [8], ValueHiddenSizes = [8] }))
            .Should().Throw<ArgumentException>().WithMessage("*COptiDiceOptions.CostLimit = 15 disagrees*");
    }

    [Test]
    public void BcSafe_FiltersWithTheRunsKappa_AndBcAll_AdoptsIt()
    {
        FluentActions.Invoking(() => new BcLearner(RunContext(20), new BcOptions { Mode = BcMode.Safe, CostLimit = 10, HiddenSizes = [8] }))
            .Should().Throw<ArgumentException>().WithMessage("*BcOptions.CostLimit = 10 disagrees*");
        // BC-All does not use costs: it takes the run's budget whatever its own option says.
        using var all = new BcLearner(RunContext(20), new BcOptions { Mode = BcMode.All, CostLimit = 10, HiddenSizes = [8] });
        all.Budget.CostLimit.Should().Be(20);
    }

    [Test]
    public void CostScale_ScalesEveryValueThresholdExactly()
    {
        // Critics that learn c · s compare with s times the threshold, so the constraint selects the same actions for every s.
        var context = RunContext(20);
        using var bear1 = new BearLagLearner(context, new BearLagOptions { CostLimit = 20, ActorHiddenSizes = [8], CriticHiddenSizes = [8], VaeHiddenSize = 8 });
        using var bear2 = new BearLagLearner(context, new BearLagOptions { CostLimit = 20, CostScale = 2, ActorHiddenSizes = [8], CriticHiddenSizes = [8], VaeHiddenSize = 8 });
        bear2.QCostThreshold.Should().Be(2 * bear1.QCostThreshold);
        using var bcq1 = new BcqLagLearner(context, new BcqLagOptions { CostLimit = 20, ActorHiddenSizes = [8], CriticHiddenSizes = [8], VaeHiddenSize = 8 });
        using var bcq2 = new BcqLagLearner(context, new BcqLagOptions { CostLimit = 20, CostScale = 2, ActorHiddenSizes = [8], CriticHiddenSizes = [8], VaeHiddenSize = 8 });
        bcq2.QCostThreshold.Should().Be(2 * bcq1.QCostThreshold);
        using var dice1 = new COptiDiceLearner(context, new COptiDiceOptions { CostLimit = 20, BatchSize = 32, ActorHiddenSizes = [8], ValueHiddenSizes = [8] });
        using var dice2 = new COptiDiceLearner(context, new COptiDiceOptions { CostLimit = 20, CostScale = 2, BatchSize = 32, ActorHiddenSizes = [8], ValueHiddenSizes = [8] });
        dice2.CostThreshold.Should().Be(2 * dice1.CostThreshold);
    }
}

using Marvel.Core.Abstractions;
using Marvel.Core.Algorithms.Online.Loop;
using Marvel.Core.Lagrange;
using Marvel.Core.Tests.Algorithms.Offline;

namespace Marvel.Core.Tests.Algorithms.Online;

/// <summary>The online loops take κ from the run's budget: a controller with another CostLimit is refused by name, and the violation is
/// the budget's.</summary>
public class ControllerFeedBudgetTests
{
    [Test]
    public void ControllerAtTheRunsKappa_GivesTheRunsBudget()
    {
        var run = new CostBudget(20, TinyDatasets.EpisodeLength);
        var feed = new ControllerFeed(TinyDatasets.Context() with { Budget = run });
        feed.Budget(new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 })).Should().BeSameAs(run);
    }

    [Test]
    public void ControllerDisagreeingWithTheRun_IsRefusedNamingIt()
    {
        var feed = new ControllerFeed(TinyDatasets.Context() with { Budget = new CostBudget(20, TinyDatasets.EpisodeLength) });
        FluentActions.Invoking(() => feed.Budget(new PidLagrangeController(new PidLagrangeOptions { CostLimit = 10 })))
            .Should().Throw<ArgumentException>().WithMessage("*the Lagrange controller's CostLimit (PidLagrangeController) = 10 disagrees with the run's CostLimit = 20*");
    }

    [Test]
    public void WithoutARun_TheControllersKappaIsTheBudget()
    {
        var feed = new ControllerFeed(TinyDatasets.Context());
        var budget = feed.Budget(new PidLagrangeController(new PidLagrangeOptions { CostLimit = 12 }));
        budget.CostLimit.Should().Be(12);
        budget.Violation(15).Should().Be(3);
    }
}

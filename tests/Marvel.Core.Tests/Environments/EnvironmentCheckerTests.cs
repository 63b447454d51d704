using Marvel.Core.Abstractions;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Tasks;
using Marvel.Core.Environments.Wrappers;

namespace Marvel.Core.Tests.Environments;

public class EnvironmentCheckerTests
{
    /// <summary>BallCircle with the cost's sign flipped: every step with a positive cost reports a negative one.</summary>
    private sealed class NegativeCost(IEnvironment inner) : EnvironmentWrapper(inner)
    {
        public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
        {
            var r = base.Step(action, observation);
            return r with { Cost = -1 - r.Cost };
        }
    }

    [Test]
    public void Check_CostNegativeAtEveryStep_ReportsOneGroupedLine()
    {
        using var env = new NegativeCost(new BallCircle());
        var report = EnvironmentChecker.Check(env, seed: 1, steps: 100);
        // 2 rollouts × 100 steps, each with cost −1 − c < 0: one line saying 200 steps failed, not 200 lines.
        report.Errors.Should().ContainSingle(e => e.Contains("cost is"));
        report.Errors.Single(e => e.Contains("cost is")).Should().StartWith("Step 0 (first rollout): cost is -1")
            .And.Contain("The same failure at 200 steps in all");
    }

    [Test]
    public void ToString_WithErrors_ListsCountsAndEachFinding()
    {
        using var env = new NegativeCost(new BallCircle());
        var text = EnvironmentChecker.Check(env, seed: 1, steps: 10).ToString();
        text.Should().StartWith("BallCircle: 1 error, 0 warnings").And.Contain(Environment.NewLine + "  error: Step 0 (first rollout): cost is");
        text.Should().NotContain("System.Collections");
    }

    [Test]
    public void ToString_Clean_SaysAllChecksPassed()
    {
        using var env = new BallCircle();
        EnvironmentChecker.Check(env, seed: 1, steps: 10).ToString().Should().Be("BallCircle: all checks passed");
    }

    [Test]
    public void ToString_HandMadeReport_FormatsErrorsThenWarnings()
    {
        var report = new EnvironmentCheckReport("T", ["e1", "e2"], ["w1"]);
        report.ToString().Should().Be(string.Join(Environment.NewLine, "T: 2 errors, 1 warning", "  error: e1", "  error: e2", "  warning: w1"));
    }
}

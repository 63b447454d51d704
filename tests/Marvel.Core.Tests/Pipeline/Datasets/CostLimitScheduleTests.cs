using Marvel.Core.Pipeline.Datasets;

namespace Marvel.Core.Tests.Pipeline.Datasets;

[TestFixture]
public sealed class CostLimitScheduleTests
{
    // start 5, end 100, two cycles, sweep between 0.1 and 0.9 of a cycle: per cycle q = 2p − k, x = clamp((q − 0.1) / 0.8, 0, 1), κ = 5 + 95x.
    private static FrontierDatasetOptions Sweep() => new()
    {
        CostLimitStart = 5, CostLimitEnd = 100, ScheduleCycles = 2, SweepStartFraction = 0.1, SweepEndFraction = 0.9,
    };

    [TestCase(0.0, 5.0)]        // q = 0 < 0.1: held at the start
    [TestCase(0.05, 5.0)]       // q = 0.1: the sweep starts here
    [TestCase(0.25, 52.5)]      // q = 0.5: x = 0.4 / 0.8 = 0.5 -> 5 + 47.5 = 52.5
    [TestCase(0.3, 64.375)]     // q = 0.6: x = 0.5 / 0.8 = 0.625 -> 5 + 59.375 = 64.375
    [TestCase(0.45, 100.0)]     // q = 0.9: x = 1
    [TestCase(0.49, 100.0)]     // q = 0.98: held at the end
    [TestCase(0.5, 5.0)]        // second cycle, q = 0: back to the start
    [TestCase(0.6, 16.875)]     // k = 1, q = 1.2 − 1 = 0.2: x = 0.1 / 0.8 = 0.125 -> 5 + 11.875 = 16.875
    [TestCase(1.0, 100.0)]      // the end of training is the end of the last cycle (k = 1, q = 1)
    public void Sweep_HandComputedValues(double progress, double expected)
    {
        CostLimitSchedule.At(Sweep(), progress, seed: 7).Should().BeApproximately(expected, 1e-9);
    }

    [Test]
    public void Sweep_DecreasingLimits_RunDownwards()
    {
        // start 100, end 20, one cycle, sweep over the whole cycle: p = 0.25 -> 100 + 0.25 · (20 − 100) = 80.
        var options = new FrontierDatasetOptions { CostLimitStart = 100, CostLimitEnd = 20, ScheduleCycles = 1, SweepStartFraction = 0, SweepEndFraction = 1 };

        CostLimitSchedule.At(options, 0.25, seed: 0).Should().BeApproximately(80, 1e-9);
    }

    [Test]
    public void Random_HoldsOneLimitPerCycle_WithinTheRange_AndFollowsTheSeed()
    {
        var options = new FrontierDatasetOptions { Schedule = CostLimitScheduleKind.Random, CostLimitStart = 5, CostLimitEnd = 100, ScheduleCycles = 4 };

        // Cycle 1 is p in [0.25, 0.5).
        double a = CostLimitSchedule.At(options, 0.26, seed: 3), b = CostLimitSchedule.At(options, 0.49, seed: 3);
        a.Should().Be(b);
        a.Should().BeInRange(5, 100);
        var perCycle = new[] { 0.1, 0.3, 0.6, 0.9 }.Select(p => CostLimitSchedule.At(options, p, seed: 3)).ToArray();
        perCycle.Distinct().Should().HaveCount(4, "each cycle draws its own limit");
        CostLimitSchedule.At(options, 0.3, seed: 4).Should().NotBe(a, "another seed draws another limit");
    }
}

using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Pipeline.Datasets;

namespace Marvel.Core.Tests.Pipeline.Datasets;

[TestFixture]
public sealed class FrontierGridTests
{
    // A 2 × 2 grid over cost [0, 10] and return [0, 100] (the extremes of the episodes below): cost cell 0 is [0, 5), 1 is [5, 10];
    // return cell 0 is [0, 50), 1 is [50, 100].
    private static FrontierDatasetOptions Grid(int cap, int target = 1_000_000, double? maxCost = null) => new()
    {
        CostBins = 2, ReturnBins = 2, MaxEpisodesPerBin = cap, TargetTransitions = target, MaxEpisodeCost = maxCost,
    };

    /// <summary>Six episodes in the low-cost, low-return cell (indices 0–5), one low-cost high-return (6), two high-cost high-return (7, 8),
    /// each 10 transitions; index 8 sits on the top corner (10, 100).</summary>
    private static List<(double Cost, double Return, int Length)> Episodes() =>
    [
        (0, 0, 10), (1, 10, 10), (2, 20, 10), (3, 30, 10), (4, 40, 10), (4.9, 49, 10),
        (1, 90, 10),
        (6, 60, 10), (10, 100, 10),
    ];

    private static int CellOf((double Cost, double Return, int Length) e) => (e.Cost < 5 ? 0 : 1) * 2 + (e.Return < 50 ? 0 : 1);

    [TestCase(1, 3)]   // one from each of the three occupied cells
    [TestCase(2, 5)]   // 2 + 1 + 2
    [TestCase(4, 7)]   // 4 + 1 + 2
    [TestCase(10, 9)]  // no cell holds more than 6: everything
    public void Select_KeepsAtMostTheCapPerCell(int cap, int expectedKept)
    {
        var episodes = Episodes();
        var kept = FrontierGrid.Select(episodes, Grid(cap), new RandomSource(11));

        kept.Should().HaveCount(expectedKept).And.BeInAscendingOrder().And.OnlyHaveUniqueItems();
        kept.GroupBy(i => CellOf(episodes[i])).Should().OnlyContain(g => g.Count() <= cap);
        if (cap >= 2) kept.Should().Contain([6, 7, 8], "the sparse cells are complete before the dense one gives its second episode");
    }

    [Test]
    public void Select_StopsOnceTheTargetIsReached_TakingCellsInRounds()
    {
        // Round 0 visits cell (0,0), (0,1), (1,1): 10, 20, 30 transitions; round 1 takes (0,0)'s second: 40 >= 35, stop.
        var episodes = Episodes();
        var kept = FrontierGrid.Select(episodes, Grid(cap: 5, target: 35), new RandomSource(11));

        kept.Should().HaveCount(4);
        kept.Count(i => CellOf(episodes[i]) == 0).Should().Be(2);
        kept.Should().Contain(6);
        kept.Count(i => i is 7 or 8).Should().Be(1);
    }

    [Test]
    public void Select_LeavesOutEpisodesAboveTheCostMaximum()
    {
        // MaxEpisodeCost 5: episodes 7 (cost 6) and 8 (cost 10) go; the grid spans cost [0, 5].
        var kept = FrontierGrid.Select(Episodes(), Grid(cap: 10, maxCost: 5), new RandomSource(1));

        kept.Should().Equal(0, 1, 2, 3, 4, 5, 6);
    }

    [Test]
    public void Select_SameSeed_SameChoice_OtherSeed_MayDiffer()
    {
        var episodes = Enumerable.Range(0, 40).Select(i => ((double)(i % 2), (double)(i % 3), 5)).ToList();
        var options = Grid(cap: 3);
        var first = FrontierGrid.Select(episodes, options, new RandomSource(5));

        FrontierGrid.Select(episodes, options, new RandomSource(5)).Should().Equal(first);
        Enumerable.Range(6, 5).Select(s => FrontierGrid.Select(episodes, options, new RandomSource((ulong)s)))
            .Should().Contain(k => !k.SequenceEqual(first), "the draw within a cell follows the seed");
    }

    [TestCase(0.0, 0)]
    [TestCase(4.999, 0)]
    [TestCase(5.0, 1)]
    [TestCase(10.0, 1)]   // the top edge belongs to the last cell
    public void Bin_HalfOpenCells_TopEdgeInTheLast(double value, int expected)
    {
        FrontierGrid.Bin(value, 0, 10, 2).Should().Be(expected);
    }

    [Test]
    public void Bin_AllEqual_IsCellZero() => FrontierGrid.Bin(3, 3, 3, 5).Should().Be(0);
}

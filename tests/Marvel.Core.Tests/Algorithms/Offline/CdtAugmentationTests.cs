using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.Cdt;

namespace Marvel.Core.Tests.Algorithms.Offline;

/// <summary>CDT's relabelling augmentation (algorithms spec §6.1), step by step on hand-made (cost, return) points.</summary>
public class CdtAugmentationTests
{
    private static CdtOptions Options(double fraction = 1, int costBins = 10, int returnBins = 50, int maxPerBin = 10, int minPerBin = 1,
        int degree = 4, double? maxReturn = 200, double decrease = 100) => new()
    {
        AugmentationFraction = fraction, AugmentationCostBins = costBins, AugmentationReturnBins = returnBins, AugmentationMaxPerBin = maxPerBin,
        AugmentationMinPerBin = minPerBin, AugmentationPolynomialDegree = degree, AugmentationMaxReturn = maxReturn, AugmentationMaxReturnDecrease = decrease,
    };

    [Test]
    public void GridFilter_DropsSparseCells_AndCapsCrowdedOnes()
    {
        // 2 × 2 grid over cost 0..10 and return 0..100: cell (low cost, low return) holds 12 points, (high, high) 3, (low, high) 1.
        var costs = new List<double>();
        var returns = new List<double>();
        for (int i = 0; i < 12; i++) { costs.Add(0 + 0.1 * i); returns.Add(0 + i); }
        for (int i = 0; i < 3; i++) { costs.Add(10 - i); returns.Add(100 - i); }
        costs.Add(1); returns.Add(99);

        var kept = CdtAugmentation.GridFilter(costs, returns, Options(costBins: 2, returnBins: 2, maxPerBin: 5, minPerBin: 2), new RandomSource(1));

        kept.Should().HaveCount(5 + 3, "the crowded cell gives 5, the three-point cell all 3, the lone point none");
        kept.Should().NotContain(15);
        kept.Where(i => i < 12).Should().HaveCount(5);
        kept.Should().Contain([12, 13, 14]);
        kept.Should().BeInAscendingOrder();
    }

    [Test]
    public void Frontier_KeepsOnlyNonDominatedPoints_ByCost()
    {
        double[] c = [0, 1, 2, 3, 1, 3];
        double[] r = [1, 3, 2, 5, 1, 5];
        // (2, 2) is dominated by (1, 3); (1, 1) by (0, 1) and (1, 3); index 5 duplicates index 3, and neither dominates the other.
        CdtAugmentation.Frontier([0, 1, 2, 3, 4, 5], c, r).Should().Equal(0, 1, 3, 5);
    }

    [Test]
    public void FitFrontier_LowersTheDegreeToThePoints_AndIsExactThroughThem()
    {
        // Three points on R = 2C + 1: a degree-4 request becomes degree 2, which passes through them (and is the line).
        var pf = CdtAugmentation.FitFrontier([0, 10, 20], [1, 21, 41], 4);
        pf(0).Should().BeApproximately(1, 1e-9);
        pf(5).Should().BeApproximately(11, 1e-9);
        pf(20).Should().BeApproximately(41, 1e-9);
        // One distinct cost: the mean return.
        CdtAugmentation.FitFrontier([3, 3], [10, 20], 4)(7).Should().Be(15);
    }

    [Test]
    public void Plan_TargetsAboveTheFrontier_EachOnTheNearestEpisodeWithinItsCost()
    {
        // Three frontier episodes (0, 10), (10, 50), (20, 60); fraction 1 → three targets at C* = 0, 10, 20 (evenly over 0..20), with
        // R* drawn in [PF(C*) + 1, 200] = [11, 200], [51, 200], [61, 200]. Nearest within cost: C* = 10 prefers (10, 50), whose distance
        // |R* − 50| is below (0, 10)'s √(100 + (R* − 10)²); C* = 20 prefers (20, 60) the same way.
        double[] c = [0, 10, 20];
        double[] r = [10, 50, 60];

        var plan = CdtAugmentation.Plan(c, r, Options(), new RandomSource(3));

        plan.Select(x => x.Episode).Should().Equal(0, 1, 2);
        plan.Select(x => x.TargetCost).Should().Equal(0, 10, 20);
        plan[0].TargetReturn.Should().BeInRange(11, 200);
        plan[1].TargetReturn.Should().BeInRange(51, 200);
        plan[2].TargetReturn.Should().BeInRange(61, 200);
        CdtAugmentation.Plan(c, r, Options(), new RandomSource(3)).Should().Equal(plan, "one seed, one plan");
    }

    [Test]
    public void Plan_SizeIsTheFractionOfTheKeptEpisodes_AndZeroTurnsItOff()
    {
        var random = new RandomSource(5);
        double[] c = Enumerable.Range(0, 40).Select(i => (double)(i % 20)).ToArray();
        double[] r = Enumerable.Range(0, 40).Select(i => 100.0 + 7 * i).ToArray();

        CdtAugmentation.Plan(c, r, Options(fraction: 0.2), random).Should().HaveCount(8);
        CdtAugmentation.Plan(c, r, Options(fraction: 0), random).Should().BeEmpty();
        CdtAugmentation.Plan(c, r, Options(fraction: 0.2, minPerBin: 10, maxPerBin: 10), random).Should().BeEmpty("no cell holds 10 episodes");
    }

    [Test]
    public void Plan_AClaimedEpisode_IsReplacedByANeighbourNoCostlierAndWithinTheDecrease()
    {
        // Many targets at costs 0..30 over episodes spread below a frontier: later claims of an episode must move to one that costs no
        // more and returns at least its return − 30, and some must move (the targets outnumber the frontier episodes).
        double[] c = Enumerable.Range(0, 31).Select(i => (double)i).Concat(Enumerable.Range(0, 31).Select(i => (double)i)).ToArray();
        double[] r = Enumerable.Range(0, 31).Select(i => 10.0 * i).Concat(Enumerable.Range(0, 31).Select(i => 10.0 * i - 20)).ToArray();
        var plan = CdtAugmentation.Plan(c, r, Options(fraction: 1, decrease: 30, maxReturn: 600), new RandomSource(9));

        plan.Should().HaveCount(62);
        plan.Should().OnlyContain(x => c[x.Episode] <= x.TargetCost, "a copy never costs more than its target");
        var firstPicks = new HashSet<int>();
        int moved = 0;
        foreach (var x in plan)
        {
            // The nearest episode within C* is the frontier point at ⌊C*⌋ (returns rise with cost).
            int nearest = (int)Math.Floor(x.TargetCost);
            if (firstPicks.Add(nearest)) { x.Episode.Should().Be(nearest); continue; }
            c[x.Episode].Should().BeLessThanOrEqualTo(c[nearest]);
            r[x.Episode].Should().BeGreaterThanOrEqualTo(r[nearest] - 30);
            if (x.Episode != nearest) moved++;
        }
        moved.Should().BePositive();
    }

    [Test]
    public void Defaults_AugmentationIsOff_TheReferenceUsesOsrlsFraction()
    {
        new CdtOptions().AugmentationFraction.Should().Be(0);
        CdtOptions.Reference().AugmentationFraction.Should().Be(0.2);
    }

    [Test]
    public void MaxReturn_DefaultsToTheBestReturnPlus15PercentOfTheRange()
    {
        CdtAugmentation.MaxReturn([100, 300, 500], new CdtOptions()).Should().BeApproximately(560, 1e-9);
        CdtAugmentation.MaxReturn([100, 300, 500], new CdtOptions { AugmentationMaxReturn = 420 }).Should().Be(420);
    }

    [Test]
    public void Learner_AddsTheRelabelledCopies_WhenAttached()
    {
        var data = TinyDatasets.BallCircle();
        using var plain = new CdtLearner(TinyDatasets.Context(), new CdtOptions { AugmentationFraction = 0, BatchSize = 8, EmbeddingSize = 8, Layers = 1, Heads = 1 });
        using var augmented = new CdtLearner(TinyDatasets.Context(), new CdtOptions { AugmentationFraction = 1, AugmentationMinPerBin = 1, BatchSize = 8, EmbeddingSize = 8, Layers = 1, Heads = 1 });
        plain.Attach(data);
        augmented.Attach(data);

        plain.AugmentedEpisodes.Should().Be(0);
        augmented.AugmentedEpisodes.Should().Be(data.Episodes.Count, "fraction 1 of every episode (each cell keeps what it has, up to 10)");
        augmented.Train(2).Values.Should().OnlyContain(v => double.IsFinite(v));
    }
}

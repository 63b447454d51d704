using Marvel.Core.Abstractions.Seeding;

namespace Marvel.Core.Algorithms.Offline.Cdt;

/// <summary>One relabelled copy of a dataset episode: its returns- and costs-to-go shifted so that they start at the target pair.</summary>
/// <param name="Episode">Index of the source episode in the dataset's episode list.</param>
/// <param name="TargetCost">Ĉ₀ of the copy (undiscounted episode cost units).</param>
/// <param name="TargetReturn">R̂₀ of the copy (undiscounted episode return units).</param>
internal readonly record struct CdtRelabel(int Episode, double TargetCost, double TargetReturn);

/// <summary>
/// CDT's return/cost relabelling augmentation (Liu et al., 2023, §4.2; algorithms spec §6.1), planned from the episodes' (cost, return)
/// points alone. Target pairs are drawn <em>above</em> the reward-cost frontier of the data; each is attached to a real episode that costs
/// no more than the target cost and lies close to it. Trained on such copies, the model learns that a return it cannot reach at a given
/// cost-to-go should be answered with the best behaviour within that cost, which is what makes the cost token steer.
/// </summary>
/// <remarks>
/// Steps: (1) a grid over (cost, return) with <see cref="CdtOptions.AugmentationCostBins"/> × <see cref="CdtOptions.AugmentationReturnBins"/>
/// cells keeps at most <see cref="CdtOptions.AugmentationMaxPerBin"/> episodes of a cell (a uniform draw) and drops cells with fewer
/// than <see cref="CdtOptions.AugmentationMinPerBin"/>; (2) the non-dominated points of the kept ones (lower cost, higher return) are
/// fitted by a least-squares polynomial R = PF(C) of degree <see cref="CdtOptions.AugmentationPolynomialDegree"/> (lowered to the number
/// of points − 1); (3) n = ⌊fraction · kept⌋ target costs evenly spaced over the kept costs, each with a target return drawn uniformly
/// between PF(C*) + <see cref="CdtOptions.AugmentationMinReturnAboveFrontier"/> and the maximum return; (4) each target takes the nearest
/// kept episode (Euclidean in raw (C, R)) among those with C ≤ C*; an episode taken again is replaced by one drawn among the kept
/// episodes with C ≤ its cost and R ≥ its return − <see cref="CdtOptions.AugmentationMaxReturnDecrease"/>, with probability
/// ∝ 1 / (distance to it + β).
/// </remarks>
internal static class CdtAugmentation
{
    /// <summary>Plans the relabelled copies of a dataset whose episodes have these costs and returns.</summary>
    /// <param name="costs">Episode costs C_i.</param>
    /// <param name="returns">Episode returns R_i (same length).</param>
    /// <param name="o">The augmentation settings.</param>
    /// <param name="random">The draws (grid subsampling, target returns, replacements).</param>
    /// <returns>The copies, in target order; empty when the fraction is 0 or no grid cell keeps enough episodes.</returns>
    internal static CdtRelabel[] Plan(IReadOnlyList<double> costs, IReadOnlyList<double> returns, CdtOptions o, RandomSource random)
    {
        if (costs.Count != returns.Count) throw new ArgumentException($"costs ({costs.Count}) and returns ({returns.Count}) differ in length.", nameof(returns));
        if (o.AugmentationFraction <= 0 || costs.Count == 0) return [];
        var kept = GridFilter(costs, returns, o, random);
        int n = (int)(o.AugmentationFraction * kept.Length);
        if (n == 0) return [];

        var frontier = Frontier(kept, costs, returns);
        var fit = FitFrontier(frontier.Select(i => costs[i]).ToArray(), frontier.Select(i => returns[i]).ToArray(), o.AugmentationPolynomialDegree);
        double maxReturn = MaxReturn(returns, o);
        double cLow = kept.Min(i => costs[i]), cHigh = kept.Max(i => costs[i]);

        var targets = new (double C, double R)[n];
        for (int k = 0; k < n; k++)
        {
            double c = n == 1 ? cLow : cLow + (cHigh - cLow) * k / (n - 1);
            double low = fit(c) + o.AugmentationMinReturnAboveFrontier;
            targets[k] = (c, random.NextDouble(Math.Min(low, maxReturn), Math.Max(low, maxReturn)));
        }

        // Nearest kept episode within each target's cost; the first claim of an episode keeps it, later claims draw a neighbour.
        var picks = new int[n];
        var claims = new Dictionary<int, int>();
        for (int k = 0; k < n; k++)
        {
            var (c, r) = targets[k];
            int best = -1;
            double bestDistance = double.PositiveInfinity;
            foreach (int i in kept)
            {
                if (costs[i] > c) continue;
                double d = Distance(costs[i], returns[i], c, r);
                if (d < bestDistance) (best, bestDistance) = (i, d);
            }
            picks[k] = best;   // never −1: the lowest kept cost is the lowest target cost
            claims[best] = claims.GetValueOrDefault(best) + 1;
            if (claims[best] > 1) picks[k] = Neighbour(best, kept, costs, returns, o, random);
        }
        return picks.Select((episode, k) => new CdtRelabel(episode, targets[k].C, targets[k].R)).ToArray();
    }

    /// <summary>The maximum target return: <see cref="CdtOptions.AugmentationMaxReturn"/>, or the best episode return plus 15 % of the
    /// return range when it is not set (OSRL sets it by hand per task, 12–13 % above DSRL's best on the Circle tasks).</summary>
    internal static double MaxReturn(IReadOnlyList<double> returns, CdtOptions o)
    {
        if (o.AugmentationMaxReturn is { } set) return set;
        double best = returns.Max(), worst = returns.Min();
        return best + 0.15 * (best - worst);
    }

    /// <summary>Indices kept by the (cost, return) grid, ascending.</summary>
    internal static int[] GridFilter(IReadOnlyList<double> costs, IReadOnlyList<double> returns, CdtOptions o, RandomSource random)
    {
        double cMin = costs.Min(), cMax = costs.Max(), rMin = returns.Min(), rMax = returns.Max();
        var cells = new SortedDictionary<(int, int), List<int>>();
        for (int i = 0; i < costs.Count; i++)
        {
            var key = (Bin(costs[i], cMin, cMax, o.AugmentationCostBins), Bin(returns[i], rMin, rMax, o.AugmentationReturnBins));
            if (!cells.TryGetValue(key, out var list)) cells[key] = list = [];
            list.Add(i);
        }
        var kept = new List<int>();
        foreach (var members in cells.Values)
        {
            if (members.Count < o.AugmentationMinPerBin) continue;
            // A uniform draw of at most MaxPerBin members (a partial Fisher–Yates shuffle).
            int take = Math.Min(members.Count, o.AugmentationMaxPerBin);
            for (int j = 0; j < take; j++)
            {
                int swap = j + random.NextInt(members.Count - j);
                (members[j], members[swap]) = (members[swap], members[j]);
            }
            kept.AddRange(members.Take(take));
        }
        kept.Sort();
        return [.. kept];
    }

    /// <summary>The non-dominated points among <paramref name="candidates"/> (no other costs no more and returns no less, one strictly), by cost.</summary>
    internal static int[] Frontier(IReadOnlyList<int> candidates, IReadOnlyList<double> costs, IReadOnlyList<double> returns) =>
        [.. candidates.Where(i => !candidates.Any(j => costs[j] <= costs[i] && returns[j] >= returns[i] && (costs[j] < costs[i] || returns[j] > returns[i])))
            .OrderBy(i => costs[i]).ThenBy(i => i)];

    /// <summary>Least-squares polynomial R = PF(C) through the frontier points, of degree min(<paramref name="degree"/>, distinct costs − 1).</summary>
    internal static Func<double, double> FitFrontier(double[] c, double[] r, int degree)
    {
        int order = Math.Min(degree, c.Distinct().Count() - 1);
        if (order <= 0)
        {
            double mean = r.Average();
            return _ => mean;
        }
        // Fitted on costs mapped to [−1, 1] so that a degree-4 fit of costs up to 100+ stays well conditioned.
        double low = c.Min(), high = c.Max(), mid = 0.5 * (low + high), half = 0.5 * (high - low);
        var coefficients = MathNet.Numerics.Fit.Polynomial(c.Select(x => (x - mid) / half).ToArray(), r, order);
        return x => MathNet.Numerics.Polynomial.Evaluate((x - mid) / half, coefficients);
    }

    private static int Bin(double value, double low, double high, int bins) =>
        high > low ? Math.Min((int)((value - low) / (high - low) * bins), bins - 1) : 0;

    private static double Distance(double c1, double r1, double c2, double r2) => Math.Sqrt((c1 - c2) * (c1 - c2) + (r1 - r2) * (r1 - r2));

    // A kept episode near an already claimed one: no costlier, at most MaxReturnDecrease worse, drawn ∝ 1 / (distance + β).
    private static int Neighbour(int claimed, int[] kept, IReadOnlyList<double> costs, IReadOnlyList<double> returns, CdtOptions o, RandomSource random)
    {
        var candidates = kept.Where(i => costs[i] <= costs[claimed] && returns[i] >= returns[claimed] - o.AugmentationMaxReturnDecrease).ToArray();
        var weights = candidates.Select(i => 1.0 / (Distance(costs[i], returns[i], costs[claimed], returns[claimed]) + o.AugmentationResampleBeta)).ToArray();
        double u = random.NextDouble() * weights.Sum(), run = 0;
        for (int j = 0; j < candidates.Length; j++)
            if ((run += weights[j]) > u) return candidates[j];
        return candidates[^1];
    }
}

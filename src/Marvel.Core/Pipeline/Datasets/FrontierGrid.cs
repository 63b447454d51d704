
namespace Marvel.Core.Pipeline.Datasets;

/// <summary>
/// Picks episodes evenly over the (episode cost, episode return) plane, as DSRL's grid filter (scripts/process_dataset.py) does:
/// a grid of <see cref="FrontierDatasetOptions.CostBins"/> × <see cref="FrontierDatasetOptions.ReturnBins"/> cells, at most
/// <see cref="FrontierDatasetOptions.MaxEpisodesPerBin"/> episodes from each, chosen at random within a cell.
/// </summary>
/// <remarks>
/// DSRL keeps up to the cap from every cell at once; here the cells are visited in rounds (cost cell, then return cell, ascending),
/// each round taking one more episode from every cell that still has one, and selection stops as soon as the kept episodes hold
/// <see cref="FrontierDatasetOptions.TargetTransitions"/> transitions. Below the target this is DSRL's filter; at the target, sparse
/// cells are already complete while dense ones have given fewer, so no region crowds out another.
/// </remarks>
internal static class FrontierGrid
{
    /// <summary>The indices of the kept episodes, ascending.</summary>
    /// <param name="episodes">Each candidate's undiscounted cost, return and length.</param>
    /// <param name="options">Grid, cap, cost maximum and target.</param>
    /// <param name="random">Orders the episodes within each cell.</param>
    public static List<int> Select(IReadOnlyList<(double Cost, double Return, int Length)> episodes, FrontierDatasetOptions options, RandomSource random)
    {
        var eligible = new List<int>();
        for (int i = 0; i < episodes.Count; i++)
            if (options.MaxEpisodeCost is not { } cap || episodes[i].Cost <= cap) eligible.Add(i);
        if (eligible.Count == 0) return [];

        double costLow = eligible.Min(i => episodes[i].Cost), costHigh = options.MaxEpisodeCost ?? eligible.Max(i => episodes[i].Cost);
        double returnLow = eligible.Min(i => episodes[i].Return), returnHigh = eligible.Max(i => episodes[i].Return);
        var cells = new SortedDictionary<int, List<int>>();
        foreach (int i in eligible)
        {
            int cell = Bin(episodes[i].Cost, costLow, costHigh, options.CostBins) * options.ReturnBins
                       + Bin(episodes[i].Return, returnLow, returnHigh, options.ReturnBins);
            if (!cells.TryGetValue(cell, out var members)) cells[cell] = members = new List<int>();
            members.Add(i);
        }
        foreach (var members in cells.Values) Shuffle(members, random);

        var kept = new List<int>();
        long transitions = 0;
        for (int round = 0; round < options.MaxEpisodesPerBin; round++)
        {
            bool any = false;
            foreach (var members in cells.Values)
            {
                if (round >= members.Count) continue;
                any = true;
                kept.Add(members[round]);
                transitions += episodes[members[round]].Length;
                if (transitions >= options.TargetTransitions) return Sorted(kept);
            }
            if (!any) break;
        }
        return Sorted(kept);
    }

    /// <summary>The cell of <paramref name="value"/> among <paramref name="bins"/> equal cells over [low, high]; the top edge falls in the last cell.</summary>
    internal static int Bin(double value, double low, double high, int bins) =>
        high > low ? Math.Clamp((int)Math.Floor((value - low) / (high - low) * bins), 0, bins - 1) : 0;

    /// <summary>Fisher–Yates from the last element down.</summary>
    private static void Shuffle(List<int> items, RandomSource random)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static List<int> Sorted(List<int> kept)
    {
        kept.Sort();
        return kept;
    }
}

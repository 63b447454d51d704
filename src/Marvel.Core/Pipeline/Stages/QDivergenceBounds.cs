namespace Marvel.Core.Pipeline.Stages;

/// <summary>
/// The exploding-Q guard (<see cref="MarvelPipelineOptions.QDivergenceFactor"/>): a mean Q with |Q| above
/// max|r|·scale/(1 − γ)·factor counts as divergence. One bound for the reward value and one for the cost value.
/// </summary>
internal sealed record QDivergenceBounds(double Reward, double Cost)
{
    /// <summary>The bounds from the dataset's largest |reward| and |cost| and the artifact's γ and scales.</summary>
    public static QDivergenceBounds From(OfflineDataset dataset, HandoverManifest manifest, double factor)
    {
        double maxReward = 0, maxCost = 0;
        foreach (var r in dataset.Rewards) maxReward = Math.Max(maxReward, Math.Abs(r));
        foreach (var c in dataset.Costs) maxCost = Math.Max(maxCost, Math.Abs(c));
        double horizon = 1.0 / (1.0 - manifest.Gamma);
        // A task with no reward (or no cost) at all in the data gives no bound for that value.
        double Bound(double max, double scale) => max > 0 && Math.Abs(scale) > 0 ? max * Math.Abs(scale) * horizon * factor : double.PositiveInfinity;
        return new QDivergenceBounds(Bound(maxReward, manifest.RewardScale), Bound(maxCost, manifest.CostScale));
    }

    /// <summary>Throws <see cref="TrainingDivergedException"/> when metric <paramref name="rewardKey"/> or <paramref name="costKey"/>
    /// (when present) is beyond its bound or not finite.</summary>
    public void Check(IReadOnlyDictionary<string, double> metrics, string rewardKey, string costKey, string stage, long step)
    {
        if (metrics.TryGetValue(rewardKey, out var q) && !(Math.Abs(q) <= Reward))
            throw new TrainingDivergedException(stage + " (exploding Q)", rewardKey, step, q, Finite(metrics, Reward));
        if (metrics.TryGetValue(costKey, out var qc) && !(Math.Abs(qc) <= Cost))
            throw new TrainingDivergedException(stage + " (exploding Q)", costKey, step, qc, Finite(metrics, Cost));
    }

    private static Dictionary<string, double> Finite(IReadOnlyDictionary<string, double> metrics, double bound)
    {
        var d = metrics.Where(kv => double.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        d["bound"] = bound;
        return d;
    }
}

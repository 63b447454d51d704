using Marvel.Core.Hosting;

namespace Marvel.Cli.Sweeps;

/// <summary>A run that <c>--batch-seeds</c> leaves to run alone, and why.</summary>
internal sealed record UnbatchedRun(SweepRun Run, string Reason);

/// <summary>
/// How <c>marvel sweep --batch-seeds</c> groups a sweep's runs: runs that share every axis value but the seed (their configurations then
/// differ only in <c>Marvel:Pipeline:Seed</c>, the run folder and <c>{seed}</c> placeholders) and whose online learner is SAC-Lag form one
/// seed batch; every other run runs alone, with its reason.
/// </summary>
/// <param name="Batches">The batches (two or more runs each, in run order), in the order of their first run.</param>
/// <param name="Alone">The runs that run alone, in run order.</param>
internal sealed record SeedBatchPlan(IReadOnlyList<IReadOnlyList<SweepRun>> Batches, IReadOnlyList<UnbatchedRun> Alone)
{
    /// <summary>The online learner whose runs can share a batch (the library's <c>MarvelSeedBatch</c> batches <c>SacLagLearner</c>s).</summary>
    public const string BatchableOnlineLearner = MarvelComponentNames.SacLag;

    /// <summary>Groups <paramref name="runs"/>.</summary>
    /// <param name="runs">Runs of one sweep.</param>
    /// <param name="onlineLearner">A run's resolved <c>Run:Online</c>.</param>
    public static SeedBatchPlan Make(IReadOnlyList<SweepRun> runs, Func<SweepRun, string> onlineLearner)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(onlineLearner);
        var batches = new List<IReadOnlyList<SweepRun>>();
        var alone = new List<UnbatchedRun>();
        foreach (var group in runs.GroupBy(Key, StringComparer.Ordinal))
        {
            var members = group.ToList();
            foreach (var run in members)
            {
                string? reason = !run.Axes.ContainsKey(SweepSpec.SeedAxis) ? "the sweep has no seed axis"
                    : onlineLearner(run) is var online && !string.Equals(online, BatchableOnlineLearner, StringComparison.Ordinal)
                        ? $"its online learner is '{online}'; only {BatchableOnlineLearner} online stages run as a seed batch"
                    : members.Count < 2 ? "no other run differs from it only in seed"
                    : null;
                if (reason is not null) alone.Add(new UnbatchedRun(run, reason));
            }
            var batch = members.Where(r => !alone.Any(a => ReferenceEquals(a.Run, r))).ToList();
            if (batch.Count >= 2) batches.Add(batch);
            else if (batch.Count == 1) alone.Add(new UnbatchedRun(batch[0], "no other run that differs from it only in seed can share its batch"));
        }
        return new SeedBatchPlan(batches.OrderBy(b => b[0].Index).ToArray(), alone.OrderBy(a => a.Run.Index).ToArray());
    }

    /// <summary>The runs of <paramref name="runs"/> that differ from <paramref name="run"/> only in seed (itself included), in run order.</summary>
    public static IReadOnlyList<SweepRun> SameButSeed(IReadOnlyList<SweepRun> runs, SweepRun run)
    {
        string key = Key(run);
        return runs.Where(r => string.Equals(Key(r), key, StringComparison.Ordinal)).ToArray();
    }

    /// <summary>Every axis value but the seed, in axis order: equal keys mean runs that differ only in seed.</summary>
    private static string Key(SweepRun run) =>
        string.Join("\u001f", run.Axes.Where(a => a.Key != SweepSpec.SeedAxis).Select(a => a.Key + "=" + a.Value));
}

namespace Marvel.Core.Data;

/// <summary>
/// The transitions of one episode while it is being recorded, in DSRL's per-row layout (a truncated last step is a timeout only when
/// it is not also a termination).
/// </summary>
internal sealed class EpisodeBuffer
{
    private readonly List<float> _obs = new(), _next = new(), _act = new(), _rew = new(), _cost = new();
    private readonly List<bool> _term = new(), _tout = new();

    /// <summary>Transitions recorded so far.</summary>
    public int Count => _rew.Count;

    public void Add(ReadOnlySpan<float> o, ReadOnlySpan<float> a, float r, float c, ReadOnlySpan<float> n, bool term, bool trunc)
    {
        foreach (var v in o) _obs.Add(v);
        foreach (var v in a) _act.Add(v);
        foreach (var v in n) _next.Add(v);
        _rew.Add(r);
        _cost.Add(c);
        _term.Add(term);
        _tout.Add(trunc && !term);
    }

    public void AppendTo(List<float> obs, List<float> next, List<float> act, List<float> rew, List<float> cost, List<bool> term, List<bool> tout)
    {
        obs.AddRange(_obs);
        next.AddRange(_next);
        act.AddRange(_act);
        rew.AddRange(_rew);
        cost.AddRange(_cost);
        term.AddRange(_term);
        tout.AddRange(_tout);
    }

    /// <summary>A copy of the recorded transitions as one finished episode.</summary>
    public RecordedEpisode ToEpisode() => new(_obs.ToArray(), _act.ToArray(), _rew.ToArray(), _cost.ToArray(), _next.ToArray(), _term.ToArray(), _tout.ToArray());

    public void Clear()
    {
        _obs.Clear(); _next.Clear(); _act.Clear(); _rew.Clear(); _cost.Clear(); _term.Clear(); _tout.Clear();
    }
}

/// <summary>One finished episode's transitions, flat and row-major as in <see cref="Abstractions.Learning.OfflineDataset"/>.</summary>
internal sealed record RecordedEpisode(float[] Observations, float[] Actions, float[] Rewards, float[] Costs, float[] NextObservations, bool[] Terminals, bool[] Timeouts)
{
    /// <summary>Transitions in the episode.</summary>
    public int Length => Rewards.Length;

    /// <summary>Undiscounted episode return Σ r_t (summed in double, in row order).</summary>
    public double Return { get; } = Sum(Rewards);

    /// <summary>Undiscounted episode cost Σ c_t (summed in double, in row order).</summary>
    public double Cost { get; } = Sum(Costs);

    private static double Sum(float[] values)
    {
        double s = 0;
        foreach (var v in values) s += v;
        return s;
    }

    /// <summary>The episodes back to back as one dataset.</summary>
    public static Abstractions.Learning.OfflineDataset Concatenate(int observationSize, int actionSize, IReadOnlyList<RecordedEpisode> episodes, string source)
    {
        int n = episodes.Sum(e => e.Length);
        var obs = new float[n * observationSize];
        var next = new float[n * observationSize];
        var act = new float[n * actionSize];
        var rew = new float[n];
        var cost = new float[n];
        var term = new bool[n];
        var tout = new bool[n];
        int row = 0;
        foreach (var e in episodes)
        {
            e.Observations.CopyTo(obs, row * observationSize);
            e.NextObservations.CopyTo(next, row * observationSize);
            e.Actions.CopyTo(act, row * actionSize);
            e.Rewards.CopyTo(rew, row);
            e.Costs.CopyTo(cost, row);
            e.Terminals.CopyTo(term, row);
            e.Timeouts.CopyTo(tout, row);
            row += e.Length;
        }
        return new Abstractions.Learning.OfflineDataset(observationSize, actionSize, obs, act, rew, cost, next, term, tout, source);
    }
}

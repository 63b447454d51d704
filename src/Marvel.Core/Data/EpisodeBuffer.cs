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

    /// <summary>Writes the transitions recorded so far (for a checkpoint of an unfinished episode).</summary>
    public void Write(BinaryWriter writer) => ToEpisode().Write(writer);

    /// <summary>Replaces the contents with an episode written by <see cref="Write"/>.</summary>
    public void Read(BinaryReader reader, int observationSize, int actionSize)
    {
        var e = RecordedEpisode.Read(reader, observationSize, actionSize);
        Clear();
        _obs.AddRange(e.Observations); _next.AddRange(e.NextObservations); _act.AddRange(e.Actions); _rew.AddRange(e.Rewards);
        _cost.AddRange(e.Costs); _term.AddRange(e.Terminals); _tout.AddRange(e.Timeouts);
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

    /// <summary>Writes the episode: its length, then each array in full (little-endian floats and bytes).</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(Length);
        WriteFloats(writer, Observations);
        WriteFloats(writer, Actions);
        WriteFloats(writer, Rewards);
        WriteFloats(writer, Costs);
        WriteFloats(writer, NextObservations);
        foreach (var b in Terminals) writer.Write(b);
        foreach (var b in Timeouts) writer.Write(b);
    }

    /// <summary>Reads an episode written by <see cref="Write"/>.</summary>
    /// <exception cref="InvalidDataException">The length is negative or the data end early.</exception>
    public static RecordedEpisode Read(BinaryReader reader, int observationSize, int actionSize)
    {
        try
        {
            int n = reader.ReadInt32();
            if (n < 0) throw new InvalidDataException($"an episode length of {n} was read; the file is corrupt.");
            var obs = ReadFloats(reader, n * observationSize);
            var act = ReadFloats(reader, n * actionSize);
            var rew = ReadFloats(reader, n);
            var cost = ReadFloats(reader, n);
            var next = ReadFloats(reader, n * observationSize);
            var term = new bool[n];
            for (int i = 0; i < n; i++) term[i] = reader.ReadBoolean();
            var tout = new bool[n];
            for (int i = 0; i < n; i++) tout[i] = reader.ReadBoolean();
            return new RecordedEpisode(obs, act, rew, cost, next, term, tout);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("the recorded episodes end early; the file is truncated.", e);
        }
    }

    private static void WriteFloats(BinaryWriter writer, float[] values)
    {
        foreach (var v in values) writer.Write(v);
    }

    private static float[] ReadFloats(BinaryReader reader, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = reader.ReadSingle();
        return values;
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

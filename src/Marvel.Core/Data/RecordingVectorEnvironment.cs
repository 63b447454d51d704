using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Data;

/// <summary>
/// Passes every call to an inner vector environment and records each step's transition per environment row, so that whoever
/// drives it (an online learner's loop) leaves a copy of every finished episode behind, in DSRL's layout: the observation
/// acted on, the action in the task's action box, reward, cost, the next observation (the final one where an episode ended)
/// and the flags. A reset drops the rows' unfinished episodes. Does not own the inner environment.
/// </summary>
internal sealed class RecordingVectorEnvironment : IVectorEnvironment
{
    private readonly IVectorEnvironment _inner;
    private readonly EpisodeBuffer[] _pending;
    private readonly List<RecordedEpisode> _finished = new();
    private readonly float[] _current;
    private bool _hasObservations;

    public RecordingVectorEnvironment(IVectorEnvironment inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _pending = Enumerable.Range(0, inner.Count).Select(_ => new EpisodeBuffer()).ToArray();
        _current = new float[inner.Count * inner.ObservationSpace.Dimension];
    }

    /// <summary>Episodes finished since the last <see cref="TakeFinished"/>, in the order they ended (row order within a step).</summary>
    public int FinishedCount => _finished.Count;

    /// <summary>Hands out the finished episodes and forgets them.</summary>
    public List<RecordedEpisode> TakeFinished()
    {
        var episodes = _finished.ToList();
        _finished.Clear();
        return episodes;
    }

    public int Count => _inner.Count;

    public EnvironmentSpec Spec => _inner.Spec;

    public BoxSpace ObservationSpace => _inner.ObservationSpace;

    public BoxSpace ActionSpace => _inner.ActionSpace;

    public void Reset(ulong seed, Span<float> observations)
    {
        _inner.Reset(seed, observations);
        foreach (var p in _pending) p.Clear();
        observations.CopyTo(_current);
        _hasObservations = true;
    }

    public void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<StepResult> results, ICollection<(int Index, EpisodeSummary Episode)>? finishedEpisodes = null)
    {
        if (!_hasObservations)
            throw new InvalidOperationException("The recording environment was stepped before its first Reset; reset it so that the first observations are known.");
        _inner.Step(actions, observations, results, finishedEpisodes);
        int obs = ObservationSpace.Dimension, act = ActionSpace.Dimension;
        for (int i = 0; i < Count; i++)
        {
            var r = results[i];
            var next = r.EpisodeEnded ? _inner.FinalObservation(i) : observations.Slice(i * obs, obs);
            _pending[i].Add(_current.AsSpan(i * obs, obs), actions.Slice(i * act, act), (float)r.Reward, (float)r.Cost, next, r.Terminated, r.Truncated);
            if (r.EpisodeEnded)
            {
                _finished.Add(_pending[i].ToEpisode());
                _pending[i].Clear();
            }
        }
        observations.CopyTo(_current);
    }

    public ReadOnlySpan<float> FinalObservation(int index) => _inner.FinalObservation(index);

    /// <summary>Writes what the recorder holds between steps: whether it has observations, the current ones and each row's unfinished
    /// episode. Finished episodes must have been taken first (they belong to whoever took them).</summary>
    /// <exception cref="InvalidOperationException">Finished episodes are still waiting in the recorder.</exception>
    public void SaveState(BinaryWriter writer)
    {
        if (_finished.Count > 0)
            throw new InvalidOperationException($"The recorder still holds {_finished.Count} finished episodes; take them before saving its state.");
        writer.Write(_hasObservations);
        writer.Write(_current.Length);
        foreach (var v in _current) writer.Write(v);
        foreach (var p in _pending) p.Write(writer);
    }

    /// <summary>Restores a state written by <see cref="SaveState"/> for an inner environment of the same sizes.</summary>
    /// <exception cref="InvalidDataException">The state was written for other sizes, or is truncated.</exception>
    public void LoadState(BinaryReader reader)
    {
        try
        {
            bool has = reader.ReadBoolean();
            int length = reader.ReadInt32();
            if (length != _current.Length)
                throw new InvalidDataException($"The recorder's state holds {length} observation values; this environment has {_current.Length} " +
                                               $"({Count} rows of {ObservationSpace.Dimension}). It was saved for another task or environment count.");
            for (int i = 0; i < length; i++) _current[i] = reader.ReadSingle();
            foreach (var p in _pending) p.Read(reader, ObservationSpace.Dimension, ActionSpace.Dimension);
            _hasObservations = has;
            _finished.Clear();
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The recorder's state ends early; the file is truncated.", e);
        }
    }

    /// <summary>Leaves the inner environment to its owner.</summary>
    public void Dispose()
    {
    }
}

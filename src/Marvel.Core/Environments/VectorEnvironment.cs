using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Environments;

/// <summary>
/// N instances of one task stepped together on the calling thread, with auto-reset (see <see cref="IVectorEnvironment"/>).
/// Environment i is seeded from stream "env/i" of the reset seed; later episodes continue each environment's generator.
/// </summary>
public sealed class VectorEnvironment : IVectorEnvironment, ICheckpointableEnvironment
{
    private readonly IEnvironment[] _environments;
    private readonly float[] _finalObservations;
    private readonly double[] _returns;
    private readonly double[] _costs;
    private readonly int[] _lengths;
    private readonly int _obsSize;
    private readonly int _actSize;
    private bool _started;

    /// <summary>Wraps existing environments (all of the same task and spaces); the vector owns and disposes them.</summary>
    /// <exception cref="ArgumentException">The list is empty or the spaces differ.</exception>
    public VectorEnvironment(IReadOnlyList<IEnvironment> environments)
    {
        ArgumentNullException.ThrowIfNull(environments);
        if (environments.Count == 0) throw new ArgumentException("A vector environment needs at least one environment.", nameof(environments));
        var first = environments[0];
        for (int i = 1; i < environments.Count; i++)
        {
            if (!environments[i].ObservationSpace.Equals(first.ObservationSpace) || !environments[i].ActionSpace.Equals(first.ActionSpace))
                throw new ArgumentException($"Environment {i} ({environments[i].Spec.Id}) has other spaces than environment 0 ({first.Spec.Id}); a vector environment needs one task.", nameof(environments));
        }
        _environments = environments.ToArray();
        _obsSize = first.ObservationSpace.Dimension;
        _actSize = first.ActionSpace.Dimension;
        _finalObservations = new float[_environments.Length * _obsSize];
        _returns = new double[_environments.Length];
        _costs = new double[_environments.Length];
        _lengths = new int[_environments.Length];
    }

    /// <summary>Creates <paramref name="count"/> environments with <paramref name="factory"/>.</summary>
    public VectorEnvironment(Func<IEnvironment> factory, int count)
        : this(Create(factory, count)) { }

    /// <inheritdoc />
    public int Count => _environments.Length;

    /// <inheritdoc />
    public EnvironmentSpec Spec => _environments[0].Spec;

    /// <inheritdoc />
    public BoxSpace ObservationSpace => _environments[0].ObservationSpace;

    /// <inheritdoc />
    public BoxSpace ActionSpace => _environments[0].ActionSpace;

    /// <summary>The wrapped environments.</summary>
    public IReadOnlyList<IEnvironment> Environments => _environments;

    /// <inheritdoc />
    public void Reset(ulong seed, Span<float> observations)
    {
        CheckLength(observations.Length, Count * _obsSize, "observations");
        for (int i = 0; i < Count; i++)
        {
            _environments[i].Reset(SeedStreams.Derive(seed, "env/" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)), observations.Slice(i * _obsSize, _obsSize));
            _returns[i] = 0;
            _costs[i] = 0;
            _lengths[i] = 0;
        }
        _started = true;
    }

    /// <inheritdoc />
    public void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<StepResult> results, ICollection<(int Index, EpisodeSummary Episode)>? finishedEpisodes = null)
    {
        if (!_started) throw new InvalidOperationException("VectorEnvironment.Step was called before Reset. Call Reset(seed, observations) first.");
        CheckLength(actions.Length, Count * _actSize, "actions");
        CheckLength(observations.Length, Count * _obsSize, "observations");
        CheckLength(results.Length, Count, "results");
        CheckActions(actions);
        for (int i = 0; i < Count; i++)
        {
            var obs = observations.Slice(i * _obsSize, _obsSize);
            var result = _environments[i].Step(actions.Slice(i * _actSize, _actSize), obs);
            results[i] = result;
            _returns[i] += result.Reward;
            _costs[i] += result.Cost;
            _lengths[i]++;
            if (result.EpisodeEnded)
            {
                obs.CopyTo(_finalObservations.AsSpan(i * _obsSize, _obsSize));
                finishedEpisodes?.Add((i, new EpisodeSummary(_returns[i], _costs[i], _lengths[i])));
                _returns[i] = 0;
                _costs[i] = 0;
                _lengths[i] = 0;
                _environments[i].Reset(obs);
            }
        }
    }

    /// <inheritdoc />
    public ReadOnlySpan<float> FinalObservation(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _finalObservations.AsSpan(index * _obsSize, _obsSize);
    }

    /// <summary>True when every wrapped environment can save its state.</summary>
    public bool CanSaveState => _environments.All(EnvironmentState.CanSave);

    /// <summary>Writes the per-environment episode accumulators and final observations, then every environment's state in order.</summary>
    /// <inheritdoc cref="ICheckpointableEnvironment.SaveState"/>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        for (int i = 0; i < Count; i++)
            if (!EnvironmentState.CanSave(_environments[i]))
                throw new NotSupportedException($"VectorEnvironment: environment {i} ({_environments[i].GetType().Name}, task '{_environments[i].Spec.Id}') cannot save its state; " +
                    "implement ICheckpointableEnvironment to checkpoint and resume runs on it.");
        writer.WriteTag(nameof(VectorEnvironment));
        writer.Write(Count);
        writer.Write(_started);
        for (int i = 0; i < Count; i++)
        {
            writer.Write(_returns[i]);
            writer.Write(_costs[i]);
            writer.Write(_lengths[i]);
        }
        foreach (var v in _finalObservations) writer.Write(v);
        foreach (var env in _environments) ((ICheckpointableEnvironment)env).SaveState(writer);
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (!CanSaveState) throw new NotSupportedException("VectorEnvironment: some environment cannot restore its state; implement ICheckpointableEnvironment.");
        reader.ReadTag(nameof(VectorEnvironment));
        try
        {
            int count = reader.ReadInt32();
            if (count != Count)
                throw new InvalidDataException($"VectorEnvironment: the saved state holds {count} environments but this vector has {Count}. Use the same EnvironmentCount.");
            _started = reader.ReadBoolean();
            for (int i = 0; i < Count; i++)
            {
                _returns[i] = reader.ReadDouble();
                _costs[i] = reader.ReadDouble();
                _lengths[i] = reader.ReadInt32();
            }
            for (int i = 0; i < _finalObservations.Length; i++) _finalObservations[i] = reader.ReadSingle();
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("VectorEnvironment: the saved state is truncated.", e);
        }
        foreach (var env in _environments) ((ICheckpointableEnvironment)env).LoadState(reader);
    }

    /// <summary>Disposes every environment.</summary>
    public void Dispose()
    {
        foreach (var env in _environments) env.Dispose();
    }

    private static IEnvironment[] Create(Func<IEnvironment> factory, int count)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return Enumerable.Range(0, count).Select(_ => factory()).ToArray();
    }

    // Every action is checked before any environment steps, so a bad value never leaves the vector half-stepped.
    private void CheckActions(ReadOnlySpan<float> actions)
    {
        for (int i = 0; i < actions.Length; i++)
        {
            if (float.IsFinite(actions[i])) continue;
            int environment = i / _actSize, component = i % _actSize;
            throw new ArgumentException(
                $"VectorEnvironment: the action of sub-environment {environment} ('{_environments[environment].Spec.Id}'), component {component} " +
                $"(actions[{i}]), is {actions[i].ToString(System.Globalization.CultureInfo.InvariantCulture)}; actions must be finite numbers. " +
                "No sub-environment was stepped. Check the policy output for NaN or Inf.", nameof(actions));
        }
    }

    private static void CheckLength(int actual, int expected, string name)
    {
        if (actual != expected) throw new ArgumentException($"VectorEnvironment: '{name}' has {actual} values; {expected} are needed.", name);
    }
}

using System.Runtime.InteropServices;

namespace Marvel.Core.Data;

/// <summary>
/// A fixed-capacity ring of transitions, preallocated at construction: adding allocates nothing, and the oldest
/// transition is overwritten once full. Sampling is uniform with replacement from a caller-seeded generator and
/// makes one host-to-tensor copy per batch.
/// </summary>
public sealed class ReplayBuffer : ITransitionSampler
{
    private readonly float[] _observations;
    private readonly float[] _nextObservations;
    private readonly float[] _actions;
    private readonly float[] _rewards;
    private readonly float[] _costs;
    private readonly bool[] _terminated;
    private readonly bool[] _truncated;
    private const uint StateMagic = 0x4250524D; // "MRPB"
    private float[]? _staging;
    private int _next;

    /// <summary>Creates an empty buffer.</summary>
    /// <param name="capacity">Maximum number of transitions (≥ 1).</param>
    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length.</param>
    public ReplayBuffer(int capacity, int observationSize, int actionSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(observationSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(actionSize);
        Capacity = capacity;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        _observations = new float[(long)capacity * observationSize];
        _nextObservations = new float[(long)capacity * observationSize];
        _actions = new float[(long)capacity * actionSize];
        _rewards = new float[capacity];
        _costs = new float[capacity];
        _terminated = new bool[capacity];
        _truncated = new bool[capacity];
    }

    /// <summary>Maximum number of transitions.</summary>
    public int Capacity { get; }

    /// <inheritdoc />
    public int Count { get; private set; }

    /// <inheritdoc />
    public int ObservationSize { get; }

    /// <inheritdoc />
    public int ActionSize { get; }

    /// <summary>The stored cost of row <paramref name="index"/> (as added, i.e. in the units of whoever scaled it), for tests.</summary>
    internal float CostAt(int index) => index >= 0 && index < Count ? _costs[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Transitions added since construction (including overwritten ones).</summary>
    public long TotalAdded { get; private set; }

    /// <summary>Adds one transition (overwriting the oldest when full).</summary>
    /// <param name="observation">s_t.</param>
    /// <param name="action">a_t.</param>
    /// <param name="reward">r_t as the learner should see it (scaled or not, the caller decides).</param>
    /// <param name="cost">c_t ≥ 0.</param>
    /// <param name="nextObservation">s_{t+1} (the final observation when the episode ended).</param>
    /// <param name="terminated">s_{t+1} is terminal.</param>
    /// <param name="truncated">The episode was cut after this step.</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Add(ReadOnlySpan<float> observation, ReadOnlySpan<float> action, float reward, float cost, ReadOnlySpan<float> nextObservation, bool terminated, bool truncated)
    {
        if (observation.Length != ObservationSize || nextObservation.Length != ObservationSize)
            throw new ArgumentException($"Replay buffer: observations must have {ObservationSize} values; got {observation.Length} and {nextObservation.Length}.");
        if (action.Length != ActionSize)
            throw new ArgumentException($"Replay buffer: actions must have {ActionSize} values; got {action.Length}.", nameof(action));
        int i = _next;
        observation.CopyTo(_observations.AsSpan(i * ObservationSize, ObservationSize));
        nextObservation.CopyTo(_nextObservations.AsSpan(i * ObservationSize, ObservationSize));
        action.CopyTo(_actions.AsSpan(i * ActionSize, ActionSize));
        _rewards[i] = reward;
        _costs[i] = cost;
        _terminated[i] = terminated;
        _truncated[i] = truncated;
        _next = (_next + 1) % Capacity;
        if (Count < Capacity) Count++;
        TotalAdded++;
    }

    /// <summary>Adds every transition of an offline dataset, in order.</summary>
    /// <param name="dataset">The dataset (sizes must match).</param>
    /// <param name="rewardScale">Multiplies rewards on the way in.</param>
    /// <param name="costScale">Multiplies costs on the way in.</param>
    /// <exception cref="InvalidDataException">The dataset's sizes differ from the buffer's.</exception>
    public void AddDataset(OfflineDataset dataset, float rewardScale = 1f, float costScale = 1f)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        dataset.EnsureMatches(ObservationSize, ActionSize, "the replay buffer");
        for (int i = 0; i < dataset.Count; i++)
            Add(dataset.Observations.Slice(i * ObservationSize, ObservationSize), dataset.Actions.Slice(i * ActionSize, ActionSize),
                dataset.Rewards[i] * rewardScale, dataset.Costs[i] * costScale, dataset.NextObservations.Slice(i * ObservationSize, ObservationSize),
                dataset.Terminals[i], dataset.Timeouts[i]);
    }

    /// <summary>Empties the buffer.</summary>
    public void Clear()
    {
        Count = 0;
        _next = 0;
    }

    /// <summary>
    /// Writes the stored transitions (in ring order, so sampling after <see cref="Load"/> draws the same rows), the write cursor and
    /// the counters, for checkpoints. Only the <see cref="Count"/> filled rows are written.
    /// </summary>
    /// <param name="stream">Receives the binary form; not closed.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(StateMagic);
        w.Write(Capacity);
        w.Write(ObservationSize);
        w.Write(ActionSize);
        w.Write(Count);
        w.Write(_next);
        w.Write(TotalAdded);
        int n = Count;
        w.Write(MemoryMarshal.AsBytes(_observations.AsSpan(0, n * ObservationSize)));
        w.Write(MemoryMarshal.AsBytes(_nextObservations.AsSpan(0, n * ObservationSize)));
        w.Write(MemoryMarshal.AsBytes(_actions.AsSpan(0, n * ActionSize)));
        w.Write(MemoryMarshal.AsBytes(_rewards.AsSpan(0, n)));
        w.Write(MemoryMarshal.AsBytes(_costs.AsSpan(0, n)));
        w.Write(MemoryMarshal.AsBytes(_terminated.AsSpan(0, n)));
        w.Write(MemoryMarshal.AsBytes(_truncated.AsSpan(0, n)));
    }

    /// <summary>Replaces the contents with those written by <see cref="Save"/> from a buffer of the same capacity and sizes.</summary>
    /// <param name="stream">Positioned at the saved buffer; left after it.</param>
    /// <param name="source">File path or description, for error messages.</param>
    /// <exception cref="InvalidDataException">The data is not a saved replay buffer, its capacity or sizes differ, or it is truncated.
    /// The buffer is unchanged unless everything was read.</exception>
    public void Load(Stream stream, string source = "replay buffer")
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            if (r.ReadUInt32() != StateMagic) throw new InvalidDataException($"'{source}' is not a saved replay buffer (bad magic number).");
            int capacity = r.ReadInt32(), observationSize = r.ReadInt32(), actionSize = r.ReadInt32();
            if (capacity != Capacity || observationSize != ObservationSize || actionSize != ActionSize)
                throw new InvalidDataException($"'{source}' holds a replay buffer of capacity {capacity}, observation size {observationSize} and action size {actionSize}; " +
                    $"this one has {Capacity}, {ObservationSize} and {ActionSize}. Use the same ReplayCapacity and task.");
            int count = r.ReadInt32(), next = r.ReadInt32();
            long totalAdded = r.ReadInt64();
            if (count < 0 || count > Capacity || next < 0 || next >= Capacity || totalAdded < count)
                throw new InvalidDataException($"'{source}': count {count}, cursor {next} and total {totalAdded} are inconsistent; the file is corrupt.");
            var observations = new float[count * ObservationSize];
            var nextObservations = new float[count * ObservationSize];
            var actions = new float[count * ActionSize];
            var rewards = new float[count];
            var costs = new float[count];
            var terminated = new bool[count];
            var truncated = new bool[count];
            ReadExactly(stream, MemoryMarshal.AsBytes(observations.AsSpan()));
            ReadExactly(stream, MemoryMarshal.AsBytes(nextObservations.AsSpan()));
            ReadExactly(stream, MemoryMarshal.AsBytes(actions.AsSpan()));
            ReadExactly(stream, MemoryMarshal.AsBytes(rewards.AsSpan()));
            ReadExactly(stream, MemoryMarshal.AsBytes(costs.AsSpan()));
            ReadExactly(stream, MemoryMarshal.AsBytes(terminated.AsSpan()));
            ReadExactly(stream, MemoryMarshal.AsBytes(truncated.AsSpan()));
            observations.CopyTo(_observations, 0);
            nextObservations.CopyTo(_nextObservations, 0);
            actions.CopyTo(_actions, 0);
            rewards.CopyTo(_rewards, 0);
            costs.CopyTo(_costs, 0);
            terminated.CopyTo(_terminated, 0);
            truncated.CopyTo(_truncated, 0);
            Count = count;
            _next = next;
            TotalAdded = totalAdded;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"'{source}' ends early: the saved replay buffer is truncated.", e);
        }
    }

    private static void ReadExactly(Stream stream, Span<byte> bytes)
    {
        int read = 0;
        while (read < bytes.Length)
        {
            int got = stream.Read(bytes[read..]);
            if (got == 0) throw new EndOfStreamException();
            read += got;
        }
    }

    /// <inheritdoc />
    public TransitionBatch Sample(int batchSize, RandomSource random, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (Count == 0) throw new InvalidOperationException("Cannot sample from an empty replay buffer; add transitions first.");
        Span<int> rows = batchSize <= 4096 ? stackalloc int[batchSize] : new int[batchSize];
        for (int i = 0; i < batchSize; i++) rows[i] = random.NextInt(Count);
        return TransitionStaging.Gather(ref _staging, rows, ObservationSize, ActionSize,
            _observations, _actions, _rewards, _costs, _nextObservations, _terminated, _truncated, device);
    }
}

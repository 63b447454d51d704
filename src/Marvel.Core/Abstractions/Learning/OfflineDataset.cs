using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Marvel.Core.Abstractions.Scoring;

namespace Marvel.Core.Abstractions.Learning;

/// <summary>
/// An offline safe-RL dataset in DSRL layout: N transitions with <c>observations</c>, <c>next_observations</c>,
/// <c>actions</c>, <c>rewards</c>, <c>costs</c>, <c>terminals</c> and <c>timeouts</c>, stored flat and row-major.
/// </summary>
/// <remarks>
/// <para>Episodes are split as DSRL does: an episode ends at every index where <c>terminals</c> or <c>timeouts</c>
/// is true; transitions after the last such index are dropped from <see cref="Episodes"/> (they still count in
/// <see cref="Count"/> and can be sampled).</para>
/// <para>Rewards and costs are stored unscaled, in the task's units. Learners apply their own reward and cost
/// scales to sampled batches.</para>
/// <para>The constructor validates everything (shapes, finiteness, non-negative costs) and never keeps a partly
/// valid dataset.</para>
/// </remarks>
public sealed class OfflineDataset : ITransitionSampler
{
    private readonly float[] _observations;
    private readonly float[] _nextObservations;
    private readonly float[] _actions;
    private readonly float[] _rewards;
    private readonly float[] _costs;
    private readonly bool[] _terminals;
    private readonly bool[] _timeouts;
    private IReadOnlyList<DatasetEpisode>? _episodes;
    private float[]? _staging;

    /// <summary>Creates a dataset, validating every array.</summary>
    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length.</param>
    /// <param name="observations">[N, observationSize].</param>
    /// <param name="actions">[N, actionSize].</param>
    /// <param name="rewards">[N].</param>
    /// <param name="costs">[N], each ≥ 0.</param>
    /// <param name="nextObservations">[N, observationSize].</param>
    /// <param name="terminals">[N].</param>
    /// <param name="timeouts">[N].</param>
    /// <param name="source">Where the data came from (a file path or a description), used in error messages.</param>
    /// <exception cref="InvalidDataException">A shape disagrees, the dataset is empty, or a value is NaN, infinite or a negative cost; the message names the source, key and row.</exception>
    public OfflineDataset(int observationSize, int actionSize, float[] observations, float[] actions, float[] rewards, float[] costs,
        float[] nextObservations, bool[] terminals, bool[] timeouts, string source = "in-memory dataset")
    {
        Source = source ?? "in-memory dataset";
        if (observationSize < 1) throw Bad("observations", $"observation size is {observationSize}; it must be at least 1");
        if (actionSize < 1) throw Bad("actions", $"action size is {actionSize}; it must be at least 1");
        ArgumentNullException.ThrowIfNull(observations);
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentNullException.ThrowIfNull(rewards);
        ArgumentNullException.ThrowIfNull(costs);
        ArgumentNullException.ThrowIfNull(nextObservations);
        ArgumentNullException.ThrowIfNull(terminals);
        ArgumentNullException.ThrowIfNull(timeouts);
        int n = rewards.Length;
        if (n == 0) throw Bad("rewards", "the dataset has no transitions. Collect or export at least one episode");
        if (observations.Length % observationSize != 0 || observations.Length / observationSize != n)
            throw Bad("observations", $"has {observations.Length} values, expected {n} rows × {observationSize} = {(long)n * observationSize} to match 'rewards' ({n} rows)");
        if (nextObservations.Length != observations.Length)
            throw Bad("next_observations", $"has {nextObservations.Length / Math.Max(1, observationSize)} rows of {observationSize} ({nextObservations.Length} values) but 'observations' has {n} rows");
        if (actions.Length % actionSize != 0 || actions.Length / actionSize != n)
            throw Bad("actions", $"has {actions.Length} values, expected {n} rows × {actionSize} to match 'rewards' ({n} rows)");
        if (costs.Length != n) throw Bad("costs", $"has {costs.Length} rows but 'rewards' has {n}");
        if (terminals.Length != n) throw Bad("terminals", $"has {terminals.Length} rows but 'rewards' has {n}");
        if (timeouts.Length != n) throw Bad("timeouts", $"has {timeouts.Length} rows but 'rewards' has {n}");
        CheckFinite(observations, observationSize, "observations");
        CheckFinite(nextObservations, observationSize, "next_observations");
        CheckFinite(actions, actionSize, "actions");
        CheckFinite(rewards, 1, "rewards");
        CheckFinite(costs, 1, "costs");
        for (int i = 0; i < n; i++)
            if (costs[i] < 0) throw Bad("costs", $"row {i} is {costs[i].ToString(CultureInfo.InvariantCulture)}; costs must be >= 0");

        ObservationSize = observationSize;
        ActionSize = actionSize;
        _observations = observations;
        _actions = actions;
        _rewards = rewards;
        _costs = costs;
        _nextObservations = nextObservations;
        _terminals = terminals;
        _timeouts = timeouts;
    }

    /// <summary>Where the data came from (file path or description).</summary>
    public string Source { get; }

    /// <summary>Number of transitions N.</summary>
    public int Count => _rewards.Length;

    /// <inheritdoc />
    public int ObservationSize { get; }

    /// <inheritdoc />
    public int ActionSize { get; }

    /// <summary>[N, ObservationSize] row-major.</summary>
    public ReadOnlySpan<float> Observations => _observations;

    /// <summary>[N, ObservationSize] row-major.</summary>
    public ReadOnlySpan<float> NextObservations => _nextObservations;

    /// <summary>[N, ActionSize] row-major.</summary>
    public ReadOnlySpan<float> Actions => _actions;

    /// <summary>[N] unscaled rewards.</summary>
    public ReadOnlySpan<float> Rewards => _rewards;

    /// <summary>[N] unscaled costs (≥ 0).</summary>
    public ReadOnlySpan<float> Costs => _costs;

    /// <summary>[N] true where the transition reached a terminal state.</summary>
    public ReadOnlySpan<bool> Terminals => _terminals;

    /// <summary>[N] true where the episode was cut by the time limit after the transition.</summary>
    public ReadOnlySpan<bool> Timeouts => _timeouts;

    /// <summary>Episodes split at terminals or timeouts (DSRL's rule), with their undiscounted return and cost.</summary>
    public IReadOnlyList<DatasetEpisode> Episodes => _episodes ??= SplitEpisodes();

    /// <summary>A score reference from this dataset's episodes: the largest and smallest episode return and cost.</summary>
    /// <param name="maxEpisodeSteps">The task's horizon T.</param>
    /// <exception cref="InvalidOperationException">The dataset has no complete episode, or all returns are equal.</exception>
    public TaskScoreReference ScoreReference(int maxEpisodeSteps)
    {
        var eps = Episodes;
        if (eps.Count == 0) throw new InvalidOperationException($"Dataset '{Source}' has no complete episode (no terminal or timeout flag), so it defines no score reference.");
        var r = new TaskScoreReference(eps.Max(e => e.Return), eps.Min(e => e.Return), eps.Max(e => e.Cost), eps.Min(e => e.Cost), maxEpisodeSteps);
        if (r.MaxEpisodeReward <= r.MinEpisodeReward) throw new InvalidOperationException($"Dataset '{Source}': all episodes have return {r.MaxEpisodeReward}; a score reference needs a spread.");
        return r;
    }

    /// <summary>The observation of transition <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> ObservationAt(int index) => _observations.AsSpan(index * ObservationSize, ObservationSize);

    /// <summary>A SHA-256 fingerprint of all arrays (hex), recorded in handover artifacts to tie a policy to its data.</summary>
    public string Fingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes(ObservationSize));
        hash.AppendData(BitConverter.GetBytes(ActionSize));
        hash.AppendData(MemoryMarshal.AsBytes(_observations.AsSpan()));
        hash.AppendData(MemoryMarshal.AsBytes(_actions.AsSpan()));
        hash.AppendData(MemoryMarshal.AsBytes(_rewards.AsSpan()));
        hash.AppendData(MemoryMarshal.AsBytes(_costs.AsSpan()));
        hash.AppendData(MemoryMarshal.AsBytes(_nextObservations.AsSpan()));
        hash.AppendData(MemoryMarshal.AsBytes(_terminals.AsSpan()));
        hash.AppendData(MemoryMarshal.AsBytes(_timeouts.AsSpan()));
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>A new dataset with only the transitions of the selected episodes (in dataset order).</summary>
    /// <param name="keep">Selects the episodes to keep.</param>
    /// <param name="source">Description of the subset.</param>
    /// <exception cref="InvalidDataException">No episode is selected.</exception>
    public OfflineDataset SelectEpisodes(Func<DatasetEpisode, bool> keep, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var chosen = Episodes.Where(keep).ToList();
        int n = chosen.Sum(e => e.Length);
        var obs = new float[n * ObservationSize];
        var next = new float[n * ObservationSize];
        var act = new float[n * ActionSize];
        var rew = new float[n];
        var cost = new float[n];
        var term = new bool[n];
        var tout = new bool[n];
        int at = 0;
        foreach (var e in chosen)
        {
            _observations.AsSpan(e.Start * ObservationSize, e.Length * ObservationSize).CopyTo(obs.AsSpan(at * ObservationSize));
            _nextObservations.AsSpan(e.Start * ObservationSize, e.Length * ObservationSize).CopyTo(next.AsSpan(at * ObservationSize));
            _actions.AsSpan(e.Start * ActionSize, e.Length * ActionSize).CopyTo(act.AsSpan(at * ActionSize));
            _rewards.AsSpan(e.Start, e.Length).CopyTo(rew.AsSpan(at));
            _costs.AsSpan(e.Start, e.Length).CopyTo(cost.AsSpan(at));
            _terminals.AsSpan(e.Start, e.Length).CopyTo(term.AsSpan(at));
            _timeouts.AsSpan(e.Start, e.Length).CopyTo(tout.AsSpan(at));
            at += e.Length;
        }
        return new OfflineDataset(ObservationSize, ActionSize, obs, act, rew, cost, next, term, tout, source ?? $"{Source} (episode subset)");
    }

    /// <summary>Throws an <see cref="InvalidDataException"/> unless the dataset's sizes match those of its receiver (an environment, a learner, a buffer).</summary>
    /// <param name="observationSize">The receiver's observation length.</param>
    /// <param name="actionSize">The receiver's action length.</param>
    /// <param name="receiver">Who receives the data, for the message (e.g. "environment 'BallCircle'", "the CPQ learner").</param>
    public void EnsureMatches(int observationSize, int actionSize, string receiver)
    {
        if (observationSize != ObservationSize)
            throw new InvalidDataException($"Dataset '{Source}': key 'observations' has {ObservationSize} columns but {receiver} observes {observationSize} values. Use the dataset of this task, or build {receiver} for the dataset's task.");
        if (actionSize != ActionSize)
            throw new InvalidDataException($"Dataset '{Source}': key 'actions' has {ActionSize} columns but {receiver} takes {actionSize} action values. Use the dataset of this task, or build {receiver} for the dataset's task.");
    }

    /// <inheritdoc />
    public TransitionBatch Sample(int batchSize, RandomSource random, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        Span<int> rows = batchSize <= 4096 ? stackalloc int[batchSize] : new int[batchSize];
        for (int i = 0; i < batchSize; i++) rows[i] = random.NextInt(Count);
        return TransitionStaging.Gather(ref _staging, rows, ObservationSize, ActionSize,
            _observations, _actions, _rewards, _costs, _nextObservations, _terminals, _timeouts, device);
    }

    private List<DatasetEpisode> SplitEpisodes()
    {
        var list = new List<DatasetEpisode>();
        int start = 0;
        double ret = 0, cost = 0;
        for (int i = 0; i < Count; i++)
        {
            ret += _rewards[i];
            cost += _costs[i];
            if (_terminals[i] || _timeouts[i])
            {
                list.Add(new DatasetEpisode(start, i - start + 1, ret, cost, _terminals[i]));
                start = i + 1;
                ret = 0;
                cost = 0;
            }
        }
        return list;
    }

    private void CheckFinite(float[] values, int width, string key)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw Bad(key, width == 1
                    ? $"row {i} is {values[i].ToString(CultureInfo.InvariantCulture)}; every value must be finite"
                    : $"row {i / width}, column {i % width} is {values[i].ToString(CultureInfo.InvariantCulture)}; every value must be finite");
    }

    private InvalidDataException Bad(string key, string problem) =>
        new($"Dataset '{Source}': key '{key}' {problem}.");
}

/// <summary>One episode of an <see cref="OfflineDataset"/>.</summary>
/// <param name="Start">Index of its first transition.</param>
/// <param name="Length">Number of transitions.</param>
/// <param name="Return">Undiscounted sum of rewards.</param>
/// <param name="Cost">Undiscounted sum of costs.</param>
/// <param name="EndedByTermination">True when it ended at a terminal flag, false at a timeout.</param>
public readonly record struct DatasetEpisode(int Start, int Length, double Return, double Cost, bool EndedByTermination);

/// <summary>Gathers sampled rows into one staging array and turns it into tensors with a single copy.</summary>
internal static class TransitionStaging
{
    public static TransitionBatch Gather(ref float[]? staging, ReadOnlySpan<int> rows, int obsSize, int actSize,
        float[] obs, float[] act, float[] rew, float[] cost, float[] next, bool[] term, bool[] trunc, Device? device)
    {
        TorchNative.EnsureAvailable();
        int b = rows.Length;
        int width = 2 * obsSize + actSize + 4;
        int needed = b * width;
        if (staging is null || staging.Length != needed) staging = new float[needed];
        var s = staging.AsSpan();
        // Column blocks: obs | next | act | rew | cost | term | trunc, each [b, w].
        int oNext = b * obsSize, oAct = 2 * b * obsSize, oRew = oAct + b * actSize, oCost = oRew + b, oTerm = oCost + b, oTrunc = oTerm + b;
        for (int i = 0; i < b; i++)
        {
            int r = rows[i];
            obs.AsSpan(r * obsSize, obsSize).CopyTo(s.Slice(i * obsSize, obsSize));
            next.AsSpan(r * obsSize, obsSize).CopyTo(s.Slice(oNext + i * obsSize, obsSize));
            act.AsSpan(r * actSize, actSize).CopyTo(s.Slice(oAct + i * actSize, actSize));
            s[oRew + i] = rew[r];
            s[oCost + i] = cost[r];
            s[oTerm + i] = term[r] ? 1f : 0f;
            s[oTrunc + i] = trunc[r] ? 1f : 0f;
        }
        // Copy into memory libtorch allocated (64-byte aligned). A tensor over the managed array would start wherever the GC put it, and
        // CPU kernels (MKL GEMM among them) may round differently at different alignments, which breaks bit-identical resumes.
        var all = empty(new long[] { needed }, ScalarType.Float32);
        all.data<float>().CopyFrom(staging);
        if (device is not null && device.type != TorchSharp.DeviceType.CPU)
        {
            var moved = all.to(device);
            all.Dispose();
            all = moved;
        }
        Tensor Matrix(long offset, long rows, long cols)
        {
            using var flat = all.narrow(0, offset, rows * cols);
            return flat.view(rows, cols);
        }
        var batch = new TransitionBatch(
            Matrix(0, b, obsSize),
            Matrix(oAct, b, actSize),
            all.narrow(0, oRew, b),
            all.narrow(0, oCost, b),
            Matrix(oNext, b, obsSize),
            all.narrow(0, oTerm, b),
            all.narrow(0, oTrunc, b));
        all.Dispose();
        return batch;
    }
}

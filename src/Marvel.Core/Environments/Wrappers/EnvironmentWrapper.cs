using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Environments.Wrappers;

/// <summary>
/// Base of environment wrappers: forwards everything to <see cref="Inner"/>. Wrappers keep the cost channel
/// intact unless they say otherwise. Disposing a wrapper disposes the inner environment.
/// </summary>
public abstract class EnvironmentWrapper : IEnvironment, ICheckpointableEnvironment
{
    /// <summary>Wraps <paramref name="inner"/>.</summary>
    protected EnvironmentWrapper(IEnvironment inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
    }

    /// <summary>The wrapped environment.</summary>
    public IEnvironment Inner { get; }

    /// <inheritdoc />
    public virtual EnvironmentSpec Spec => Inner.Spec;

    /// <inheritdoc />
    public virtual BoxSpace ObservationSpace => Inner.ObservationSpace;

    /// <inheritdoc />
    public virtual BoxSpace ActionSpace => Inner.ActionSpace;

    /// <inheritdoc />
    public virtual void Reset(ulong seed, Span<float> observation) => Inner.Reset(seed, observation);

    /// <inheritdoc />
    public virtual void Reset(Span<float> observation) => Inner.Reset(observation);

    /// <inheritdoc />
    public virtual StepResult Step(ReadOnlySpan<float> action, Span<float> observation) => Inner.Step(action, observation);

    /// <summary>True when the wrapped environment can save its state (wrappers with state of their own add it).</summary>
    public bool CanSaveState => EnvironmentState.CanSave(Inner);

    /// <summary>Writes this wrapper's own state (<see cref="SaveOwnState"/>), then the wrapped environment's.</summary>
    /// <inheritdoc cref="ICheckpointableEnvironment.SaveState"/>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (Inner is not ICheckpointableEnvironment { CanSaveState: true } inner)
            throw new NotSupportedException($"{GetType().Name}: the wrapped environment {Inner.GetType().Name} ('{Inner.Spec.Id}') cannot save its state; implement ICheckpointableEnvironment on it.");
        writer.WriteTag(GetType().Name);
        SaveOwnState(writer);
        inner.SaveState(writer);
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (Inner is not ICheckpointableEnvironment { CanSaveState: true } inner)
            throw new NotSupportedException($"{GetType().Name}: the wrapped environment {Inner.GetType().Name} ('{Inner.Spec.Id}') cannot restore its state; implement ICheckpointableEnvironment on it.");
        reader.ReadTag(GetType().Name);
        try { LoadOwnState(reader); }
        catch (EndOfStreamException e) { throw new InvalidDataException($"{GetType().Name}: the saved state is truncated.", e); }
        inner.LoadState(reader);
    }

    /// <summary>Writes the wrapper's own state; nothing for a stateless wrapper.</summary>
    protected virtual void SaveOwnState(BinaryWriter writer) { }

    /// <summary>Reads what <see cref="SaveOwnState"/> wrote.</summary>
    protected virtual void LoadOwnState(BinaryReader reader) { }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the inner environment.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing) Inner.Dispose();
    }
}

/// <summary>
/// Truncates episodes after <see cref="MaxEpisodeSteps"/> steps (Truncated = true, Terminated unchanged) and rejects
/// steps after the episode ended.
/// </summary>
public sealed class TimeLimit : EnvironmentWrapper
{
    private int _elapsed;
    private bool _running;

    /// <summary>Wraps <paramref name="inner"/> with a horizon.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxEpisodeSteps"/> &lt; 1.</exception>
    public TimeLimit(IEnvironment inner, int maxEpisodeSteps) : base(inner)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEpisodeSteps);
        MaxEpisodeSteps = maxEpisodeSteps;
        Spec = inner.Spec with { MaxEpisodeSteps = maxEpisodeSteps };
    }

    /// <summary>The horizon.</summary>
    public int MaxEpisodeSteps { get; }

    /// <inheritdoc />
    protected override void SaveOwnState(BinaryWriter writer)
    {
        writer.Write(_elapsed);
        writer.Write(_running);
    }

    /// <inheritdoc />
    protected override void LoadOwnState(BinaryReader reader)
    {
        _elapsed = reader.ReadInt32();
        _running = reader.ReadBoolean();
    }

    /// <inheritdoc />
    public override EnvironmentSpec Spec { get; }

    /// <inheritdoc />
    public override void Reset(ulong seed, Span<float> observation)
    {
        Inner.Reset(seed, observation);
        _elapsed = 0;
        _running = true;
    }

    /// <inheritdoc />
    public override void Reset(Span<float> observation)
    {
        Inner.Reset(observation);
        _elapsed = 0;
        _running = true;
    }

    /// <inheritdoc />
    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (!_running) throw new InvalidOperationException($"{Spec.Id}: no episode is running (not reset yet, or it ended after {_elapsed} steps). Call Reset first.");
        var result = Inner.Step(action, observation);
        _elapsed++;
        if (_elapsed >= MaxEpisodeSteps && !result.Terminated) result = result with { Truncated = true };
        if (result.EpisodeEnded) _running = false;
        return result;
    }
}

/// <summary>Clips actions into the action box before passing them on (NaN is still rejected by the inner environment).</summary>
public sealed class ClipAction : EnvironmentWrapper
{
    private readonly float[] _buffer;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public ClipAction(IEnvironment inner) : base(inner) => _buffer = new float[inner.ActionSpace.Dimension];

    /// <inheritdoc />
    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        Inner.ActionSpace.ThrowIfNotValidAction(action, Spec.Id);
        var low = Inner.ActionSpace.Low;
        var high = Inner.ActionSpace.High;
        for (int i = 0; i < _buffer.Length; i++) _buffer[i] = Math.Clamp(action[i], low[i], high[i]);
        return Inner.Step(_buffer, observation);
    }
}

/// <summary>
/// Exposes the action space [<see cref="Low"/>, <see cref="High"/>]ⁿ (default [−1, 1]ⁿ) and maps actions affinely onto
/// the inner environment's bounded box, after clipping to the exposed range.
/// </summary>
public sealed class RescaleAction : EnvironmentWrapper
{
    private readonly float[] _buffer;

    /// <summary>Wraps <paramref name="inner"/>, whose action space must be bounded.</summary>
    /// <exception cref="ArgumentException">The inner action space is unbounded, or low ≥ high.</exception>
    public RescaleAction(IEnvironment inner, float low = -1f, float high = 1f) : base(inner)
    {
        if (!inner.ActionSpace.IsBounded) throw new ArgumentException($"{inner.Spec.Id}: RescaleAction needs a bounded action space.", nameof(inner));
        if (!(low < high)) throw new ArgumentException($"RescaleAction: low ({low}) must be below high ({high}).", nameof(low));
        Low = low;
        High = high;
        ActionSpace = BoxSpace.Uniform(inner.ActionSpace.Dimension, low, high);
        _buffer = new float[inner.ActionSpace.Dimension];
    }

    /// <summary>Lower bound of the exposed actions.</summary>
    public float Low { get; }

    /// <summary>Upper bound of the exposed actions.</summary>
    public float High { get; }

    /// <inheritdoc />
    public override BoxSpace ActionSpace { get; }

    /// <inheritdoc />
    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        ActionSpace.ThrowIfNotValidAction(action, Spec.Id);
        var lo = Inner.ActionSpace.Low;
        var hi = Inner.ActionSpace.High;
        for (int i = 0; i < _buffer.Length; i++)
        {
            double t = (Math.Clamp(action[i], Low, High) - Low) / (double)(High - Low);
            _buffer[i] = (float)(lo[i] + t * (hi[i] - lo[i]));
        }
        return Inner.Step(_buffer, observation);
    }
}

/// <summary>
/// Normalizes observations with running statistics (<see cref="Statistics"/>), updated while <see cref="Update"/> is true.
/// Save the statistics with <c>Statistics.GetState()</c> and restore them for evaluation or a handover.
/// </summary>
public sealed class NormalizeObservation : EnvironmentWrapper
{
    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public NormalizeObservation(IEnvironment inner, double epsilon = 1e-8, double clip = 10.0) : base(inner)
    {
        Statistics = new RunningMeanStd(inner.ObservationSpace.Dimension, epsilon, clip);
        ObservationSpace = BoxSpace.Uniform(inner.ObservationSpace.Dimension, (float)-clip, (float)clip);
    }

    /// <summary>The running statistics.</summary>
    public RunningMeanStd Statistics { get; }

    /// <summary>Whether new observations update the statistics (turn off for evaluation). Default true.</summary>
    public bool Update { get; set; } = true;

    /// <inheritdoc />
    protected override void SaveOwnState(BinaryWriter writer)
    {
        var s = Statistics.GetState();
        writer.Write(s.Mean.Length);
        foreach (var m in s.Mean) writer.Write(m);
        foreach (var v in s.Variance) writer.Write(v);
        writer.Write(s.Count);
        writer.Write(Update);
    }

    /// <inheritdoc />
    protected override void LoadOwnState(BinaryReader reader)
    {
        int n = reader.ReadInt32();
        if (n != Statistics.Dimension)
            throw new InvalidDataException($"NormalizeObservation: the saved statistics have {n} coordinates; this wrapper has {Statistics.Dimension}.");
        var mean = new double[n];
        var variance = new double[n];
        for (int i = 0; i < n; i++) mean[i] = reader.ReadDouble();
        for (int i = 0; i < n; i++) variance[i] = reader.ReadDouble();
        Statistics.SetState(new RunningMeanStdState(mean, variance, reader.ReadDouble(), Statistics.Epsilon, Statistics.Clip));
        Update = reader.ReadBoolean();
    }

    /// <inheritdoc />
    public override BoxSpace ObservationSpace { get; }

    /// <inheritdoc />
    public override void Reset(ulong seed, Span<float> observation)
    {
        Inner.Reset(seed, observation);
        Process(observation);
    }

    /// <inheritdoc />
    public override void Reset(Span<float> observation)
    {
        Inner.Reset(observation);
        Process(observation);
    }

    /// <inheritdoc />
    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var result = Inner.Step(action, observation);
        Process(observation);
        return result;
    }

    private void Process(Span<float> observation)
    {
        if (Update) Statistics.Update(observation);
        Statistics.Normalize(observation, observation);
    }
}

/// <summary>Multiplies rewards by <see cref="RewardScale"/> and costs by <see cref="CostScale"/> (≥ 0, so costs stay non-negative).</summary>
public sealed class ScaleReward : EnvironmentWrapper
{
    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A scale is not finite, or the cost scale is negative.</exception>
    public ScaleReward(IEnvironment inner, double rewardScale, double costScale = 1.0) : base(inner)
    {
        if (!double.IsFinite(rewardScale)) throw new ArgumentOutOfRangeException(nameof(rewardScale), rewardScale, "The reward scale must be finite.");
        if (!double.IsFinite(costScale) || costScale < 0) throw new ArgumentOutOfRangeException(nameof(costScale), costScale, "The cost scale must be finite and >= 0.");
        RewardScale = rewardScale;
        CostScale = costScale;
    }

    /// <summary>Reward multiplier.</summary>
    public double RewardScale { get; }

    /// <summary>Cost multiplier.</summary>
    public double CostScale { get; }

    /// <inheritdoc />
    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var r = Inner.Step(action, observation);
        return r with { Reward = r.Reward * RewardScale, Cost = r.Cost * CostScale };
    }
}

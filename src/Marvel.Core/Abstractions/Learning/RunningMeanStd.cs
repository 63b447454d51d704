namespace Marvel.Core.Abstractions.Learning;

/// <summary>
/// Per-coordinate running mean and variance (parallel/Welford merge in double precision), for observation
/// normalization: z = clip((x − μ) / √(σ² + ε), −Clip, Clip). Its state is part of handover artifacts.
/// </summary>
public sealed class RunningMeanStd
{
    private readonly double[] _mean;
    private readonly double[] _variance;

    /// <summary>Creates empty statistics (mean 0, variance 1, count ε-small).</summary>
    /// <param name="dimension">Number of coordinates.</param>
    /// <param name="epsilon">Added to the variance before the square root.</param>
    /// <param name="clip">Normalized values are clipped to ±clip.</param>
    public RunningMeanStd(int dimension, double epsilon = 1e-8, double clip = 10.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        _mean = new double[dimension];
        _variance = Enumerable.Repeat(1.0, dimension).ToArray();
        Count = 1e-4;
        Epsilon = epsilon;
        Clip = clip;
    }

    /// <summary>Number of coordinates.</summary>
    public int Dimension => _mean.Length;

    /// <summary>Samples seen (starts at 1e-4 as a prior weight).</summary>
    public double Count { get; private set; }

    /// <summary>Variance floor ε.</summary>
    public double Epsilon { get; }

    /// <summary>Clip bound of normalized values.</summary>
    public double Clip { get; }

    /// <summary>Current per-coordinate mean.</summary>
    public ReadOnlySpan<double> Mean => _mean;

    /// <summary>Current per-coordinate population variance.</summary>
    public ReadOnlySpan<double> Variance => _variance;

    /// <summary>Adds one sample.</summary>
    /// <exception cref="ArgumentException">Wrong length.</exception>
    public void Update(ReadOnlySpan<float> sample)
    {
        if (sample.Length != Dimension) throw new ArgumentException($"Sample has {sample.Length} values; the statistics have {Dimension}.", nameof(sample));
        double newCount = Count + 1;
        for (int i = 0; i < Dimension; i++)
        {
            double delta = sample[i] - _mean[i];
            double mean = _mean[i] + delta / newCount;
            // Merge of (Count, mean, var) with a single sample (variance 0).
            double m2 = _variance[i] * Count + delta * delta * Count / newCount;
            _mean[i] = mean;
            _variance[i] = m2 / newCount;
        }
        Count = newCount;
    }

    /// <summary>Writes the normalized <paramref name="value"/> into <paramref name="destination"/> (may be the same span).</summary>
    public void Normalize(ReadOnlySpan<float> value, Span<float> destination)
    {
        if (value.Length != Dimension || destination.Length != Dimension)
            throw new ArgumentException($"Normalize needs spans of {Dimension} values; got {value.Length} and {destination.Length}.");
        for (int i = 0; i < Dimension; i++)
            destination[i] = (float)Math.Clamp((value[i] - _mean[i]) / Math.Sqrt(_variance[i] + Epsilon), -Clip, Clip);
    }

    /// <summary>The statistics as a serializable record.</summary>
    public RunningMeanStdState GetState() => new(_mean.ToArray(), _variance.ToArray(), Count, Epsilon, Clip);

    /// <summary>Restores statistics saved by <see cref="GetState"/>.</summary>
    /// <exception cref="ArgumentException">Dimension mismatch, negative variance or a non-positive count.</exception>
    public void SetState(RunningMeanStdState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Mean.Length != Dimension || state.Variance.Length != Dimension)
            throw new ArgumentException($"Normalizer state has {state.Mean.Length} coordinates; this normalizer has {Dimension}.", nameof(state));
        if (!(state.Count > 0) || state.Variance.Any(v => !(v >= 0)) || state.Mean.Any(m => !double.IsFinite(m)))
            throw new ArgumentException("Normalizer state is invalid: the count must be positive, means finite and variances non-negative.", nameof(state));
        state.Mean.CopyTo(_mean, 0);
        state.Variance.CopyTo(_variance, 0);
        Count = state.Count;
    }
}

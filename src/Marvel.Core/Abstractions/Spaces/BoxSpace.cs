using System.Globalization;

namespace Marvel.Core.Abstractions.Spaces;

/// <summary>
/// A box in ℝⁿ: every coordinate i lies in [<see cref="Low"/>[i], <see cref="High"/>[i]].
/// Observations and actions of every <see cref="IEnvironment"/> are described by one.
/// </summary>
/// <remarks>Values are float32, the precision of DSRL datasets and of the networks.</remarks>
public sealed class BoxSpace : IEquatable<BoxSpace>
{
    private readonly float[] _low;
    private readonly float[] _high;

    /// <summary>Creates a box from per-coordinate bounds.</summary>
    /// <param name="low">Lower bounds, one per coordinate; may be <see cref="float.NegativeInfinity"/>.</param>
    /// <param name="high">Upper bounds, one per coordinate; may be <see cref="float.PositiveInfinity"/>.</param>
    /// <exception cref="ArgumentException">The arrays are empty, differ in length, contain NaN, or some low exceeds high.</exception>
    public BoxSpace(ReadOnlySpan<float> low, ReadOnlySpan<float> high)
    {
        if (low.Length == 0)
            throw new ArgumentException("A box space needs at least one coordinate; 'low' is empty.", nameof(low));
        if (low.Length != high.Length)
            throw new ArgumentException($"'low' has {low.Length} coordinates but 'high' has {high.Length}; give one bound pair per coordinate.", nameof(high));
        for (int i = 0; i < low.Length; i++)
        {
            if (float.IsNaN(low[i]) || float.IsNaN(high[i]))
                throw new ArgumentException($"Bound {i} is NaN; bounds must be numbers or infinities.", nameof(low));
            if (low[i] > high[i])
                throw new ArgumentException($"Bound {i}: low {low[i].ToString(CultureInfo.InvariantCulture)} exceeds high {high[i].ToString(CultureInfo.InvariantCulture)}.", nameof(low));
        }
        _low = low.ToArray();
        _high = high.ToArray();
    }

    /// <summary>Creates a box of <paramref name="dimension"/> coordinates, each in [<paramref name="low"/>, <paramref name="high"/>].</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    public static BoxSpace Uniform(int dimension, float low, float high)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        var lo = new float[dimension];
        var hi = new float[dimension];
        Array.Fill(lo, low);
        Array.Fill(hi, high);
        return new BoxSpace(lo, hi);
    }

    /// <summary>Number of coordinates n.</summary>
    public int Dimension => _low.Length;

    /// <summary>Lower bounds, length <see cref="Dimension"/>.</summary>
    public ReadOnlySpan<float> Low => _low;

    /// <summary>Upper bounds, length <see cref="Dimension"/>.</summary>
    public ReadOnlySpan<float> High => _high;

    /// <summary>True when every coordinate has finite bounds (so <see cref="Sample"/> is defined).</summary>
    public bool IsBounded
    {
        get
        {
            for (int i = 0; i < _low.Length; i++)
                if (!float.IsFinite(_low[i]) || !float.IsFinite(_high[i])) return false;
            return true;
        }
    }

    /// <summary>True when <paramref name="value"/> has <see cref="Dimension"/> finite coordinates, each inside its bounds.</summary>
    public bool Contains(ReadOnlySpan<float> value)
    {
        if (value.Length != _low.Length) return false;
        for (int i = 0; i < value.Length; i++)
        {
            float v = value[i];
            if (!float.IsFinite(v) || v < _low[i] || v > _high[i]) return false;
        }
        return true;
    }

    /// <summary>Draws a point uniformly from the box.</summary>
    /// <param name="random">The random source (seeded by the caller).</param>
    /// <param name="destination">Receives <see cref="Dimension"/> values.</param>
    /// <exception cref="InvalidOperationException">The box is unbounded in some coordinate.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    public void Sample(RandomSource random, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (destination.Length != _low.Length)
            throw new ArgumentException($"Destination has {destination.Length} values; the space has {_low.Length}.", nameof(destination));
        if (!IsBounded)
            throw new InvalidOperationException("Cannot sample uniformly from an unbounded box space.");
        for (int i = 0; i < destination.Length; i++)
            destination[i] = (float)(_low[i] + (double)(_high[i] - _low[i]) * random.NextDouble());
    }

    /// <summary>
    /// Checks that <paramref name="action"/> has <see cref="Dimension"/> finite values and throws an
    /// <see cref="ArgumentException"/> naming the first problem otherwise. Bounds are not enforced:
    /// environments clip actions themselves.
    /// </summary>
    /// <param name="action">The action to check.</param>
    /// <param name="where">Who is checking, for the message (e.g. the environment id).</param>
    /// <exception cref="ArgumentException">Wrong length or a non-finite value.</exception>
    public void ThrowIfNotValidAction(ReadOnlySpan<float> action, string where)
    {
        if (action.Length != _low.Length)
            throw new ArgumentException($"{where}: the action has {action.Length} values but the action space has {_low.Length}. Pass one value per action coordinate.", nameof(action));
        for (int i = 0; i < action.Length; i++)
            if (!float.IsFinite(action[i]))
                throw new ArgumentException($"{where}: action[{i}] is {action[i].ToString(CultureInfo.InvariantCulture)}; actions must be finite numbers. Check the policy output for NaN or Inf.", nameof(action));
    }

    /// <inheritdoc />
    public bool Equals(BoxSpace? other) =>
        other is not null && _low.AsSpan().SequenceEqual(other._low) && _high.AsSpan().SequenceEqual(other._high);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as BoxSpace);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var v in _low) hash.Add(v);
        foreach (var v in _high) hash.Add(v);
        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"Box({Dimension}: [{string.Join(", ", _low)}] .. [{string.Join(", ", _high)}])");
}

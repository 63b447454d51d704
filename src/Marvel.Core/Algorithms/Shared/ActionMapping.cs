using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>Maps policy outputs onto an environment's action box.</summary>
internal static class ActionMapping
{
    /// <summary>
    /// Maps squashed actions a ∈ [−1, 1] row by row onto the box: low + (a + 1)/2 · (high − low). Coordinates with an
    /// infinite bound are passed through unchanged (the task clips them).
    /// </summary>
    /// <param name="squashed">[batch, Dimension] row-major.</param>
    /// <param name="box">The action space.</param>
    /// <param name="destination">Receives [batch, Dimension].</param>
    public static void SquashedToBox(ReadOnlySpan<float> squashed, BoxSpace box, Span<float> destination)
    {
        var low = box.Low;
        var high = box.High;
        int d = box.Dimension;
        for (int k = 0; k < squashed.Length; k++)
        {
            int i = k % d;
            float a = squashed[k];
            destination[k] = float.IsFinite(low[i]) && float.IsFinite(high[i])
                ? (float)(low[i] + 0.5 * (a + 1.0) * ((double)high[i] - low[i]))
                : a;
        }
    }

    /// <summary>
    /// The inverse of <see cref="SquashedToBox"/>: maps box actions row by row into [−1, 1] as 2(a − low)/(high − low) − 1, clipped to
    /// [−1, 1]. Coordinates with an infinite bound are clipped to [−1, 1] unchanged otherwise.
    /// </summary>
    /// <param name="box">[batch, Dimension] row-major actions in the box.</param>
    /// <param name="space">The action space.</param>
    /// <param name="destination">Receives [batch, Dimension] in [−1, 1].</param>
    public static void BoxToSquashed(ReadOnlySpan<float> box, BoxSpace space, Span<float> destination)
    {
        var low = space.Low;
        var high = space.High;
        int d = space.Dimension;
        for (int k = 0; k < box.Length; k++)
        {
            int i = k % d;
            double a = box[k];
            double squashed = float.IsFinite(low[i]) && float.IsFinite(high[i]) ? 2.0 * (a - low[i]) / ((double)high[i] - low[i]) - 1.0 : a;
            destination[k] = (float)Math.Clamp(squashed, -1.0, 1.0);
        }
    }

    /// <summary>Clips unbounded actions row by row into the box (infinite bounds clip nothing).</summary>
    /// <param name="raw">[batch, Dimension] row-major.</param>
    /// <param name="box">The action space.</param>
    /// <param name="destination">Receives [batch, Dimension].</param>
    public static void ClipToBox(ReadOnlySpan<float> raw, BoxSpace box, Span<float> destination)
    {
        var low = box.Low;
        var high = box.High;
        int d = box.Dimension;
        for (int k = 0; k < raw.Length; k++)
        {
            int i = k % d;
            destination[k] = Math.Clamp(raw[k], low[i], high[i]);
        }
    }
}

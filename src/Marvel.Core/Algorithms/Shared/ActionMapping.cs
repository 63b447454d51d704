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

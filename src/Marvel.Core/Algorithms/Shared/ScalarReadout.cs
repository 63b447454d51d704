namespace Marvel.Core.Algorithms.Shared;

/// <summary>
/// The one host read of an update: stacks detached scalar tensors, copies them to the host in a single transfer and
/// checks every value for NaN and infinity, so logging and the divergence check share one device synchronisation.
/// </summary>
internal static class ScalarReadout
{
    /// <summary>Reads <paramref name="scalars"/> (0-dimensional, one device) as doubles.</summary>
    /// <param name="scalars">Detached scalars, in the order of <paramref name="names"/>.</param>
    /// <param name="names">Their names, for the exception.</param>
    /// <param name="stage">The stage for the exception, e.g. "online/SAC-Lag".</param>
    /// <param name="step">The update index (0-based).</param>
    /// <param name="lastFinite">The previous update's values, carried by the exception.</param>
    /// <exception cref="TrainingDivergedException">A value is NaN or infinite; names the first such quantity.</exception>
    public static double[] Read(Tensor[] scalars, string[] names, string stage, long step, IReadOnlyDictionary<string, double>? lastFinite)
    {
        using var stacked = stack(scalars).to_type(ScalarType.Float64);
        using var host = stacked.cpu();
        var values = host.data<double>().ToArray();
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i]))
                throw new TrainingDivergedException(stage, names[i], step, values[i], lastFinite);
        return values;
    }
}

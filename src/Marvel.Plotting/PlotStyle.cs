namespace Marvel.Plotting;

/// <summary>What every figure of the marvel tool and of <see cref="RunPlots"/> shares: one colour per algorithm label, integer iteration ticks, light ±std bands.</summary>
public static class PlotStyle
{
    /// <summary>Labels with a fixed place in the palette, in this order; other labels take a place from a hash of their text.</summary>
    public static IReadOnlyList<string> KnownLabels => Labels;

    private static readonly string[] Labels = ["Marvel", "CPQ", "BEAR-Lag", "BCQ-Lag", "COptiDICE", "CDT", "BC-All", "BC-Safe", "SAC-Lag", "PPO-Lag"];

    /// <summary>Opacity of a ±std band: light enough that two overlapping bands stay readable.</summary>
    public const double BandAlpha = 0.12;

    private static readonly ScottPlot.Palettes.Category10 Palette = new();

    /// <summary>The colour of <paramref name="label"/>, the same in every figure and every report (not the order a figure draws in).</summary>
    /// <param name="label">An algorithm label, e.g. "CPQ" or a sweep's variant name.</param>
    public static ScottPlot.Color ColorOf(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        return Palette.GetColor(PaletteIndex(label));
    }

    /// <summary>The palette place of <paramref name="label"/>: its index in <see cref="KnownLabels"/>, else an FNV-1a hash of its text.</summary>
    internal static int PaletteIndex(string label)
    {
        int known = Array.IndexOf(Labels, label);
        if (known >= 0) return known;
        uint hash = 2166136261;
        foreach (char c in label) hash = (hash ^ c) * 16777619;
        return (int)(hash % (uint)Labels.Length);
    }

    /// <summary>Ticks at whole iterations only on the x axis (iterations are counts).</summary>
    /// <param name="plot">The figure.</param>
    public static void IntegerIterationAxis(ScottPlot.Plot plot) =>
        (plot ?? throw new ArgumentNullException(nameof(plot))).Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };

    /// <summary>A moving-average window never wider than half the data (at least 1), so a short run is not flattened into one value.</summary>
    /// <param name="window">The requested window, in points.</param>
    /// <param name="points">The number of data points.</param>
    public static int EffectiveWindow(int window, int points) => Math.Clamp(window, 1, Math.Max(1, points / 2));
}

// Shared by the curve samples (Marvel.OnlineCurve, Marvel.MuJoCoCurve): one PNG of a training curve, the deterministic
// evaluations on top and, for costs, the CostLimit line.
internal static class TrainingCurvePlot
{
    /// <summary>Writes a 900×450 PNG to <paramref name="path"/>.</summary>
    public static void Save(string path, string title, string yLabel, double[] steps, double[] train, string trainLegend, float trainMarkerSize,
        double[] evalSteps, double[] evalY, int evalEpisodes, double? limit)
    {
        var plot = new ScottPlot.Plot();
        var s = plot.Add.Scatter(steps, train);
        s.LegendText = trainLegend;
        s.MarkerSize = trainMarkerSize;
        if (evalY.Length > 0)
        {
            var e = plot.Add.Scatter(evalSteps, evalY);
            e.LegendText = $"deterministic evaluation ({evalEpisodes} episodes)";
        }
        if (limit is { } l)
        {
            var line = plot.Add.HorizontalLine(l);
            line.LegendText = $"CostLimit = {l}";
            line.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        plot.Title(title);
        plot.XLabel("environment steps");
        plot.YLabel(yLabel);
        plot.ShowLegend();
        plot.SavePng(path, 900, 450);
    }
}

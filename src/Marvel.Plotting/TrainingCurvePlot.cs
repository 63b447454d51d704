namespace Marvel.Plotting;

/// <summary>
/// One PNG of a learner's training curve against environment steps: the training episodes' value per iteration, the deterministic
/// evaluations on top and, for costs, the cost-limit line. For runs outside the pipeline (a learner driven by your own loop); a
/// pipeline run folder is drawn by <see cref="RunPlots"/>.
/// </summary>
public static class TrainingCurvePlot
{
    /// <summary>Writes a 900 × 450 PNG.</summary>
    /// <param name="path">The PNG file to write (its folder must exist).</param>
    /// <param name="title">The figure's title, e.g. task, cost limit and seed.</param>
    /// <param name="yLabel">The y axis, e.g. "episode return".</param>
    /// <param name="steps">Environment steps of each training point.</param>
    /// <param name="train">The training value at each of <paramref name="steps"/>.</param>
    /// <param name="trainLegend">Legend of the training line, e.g. "training episodes (mean per iteration)".</param>
    /// <param name="evalSteps">Environment steps of each evaluation.</param>
    /// <param name="evaluations">The evaluation value at each of <paramref name="evalSteps"/> (empty for none).</param>
    /// <param name="evalEpisodes">Episodes per evaluation, for the legend.</param>
    /// <param name="limit">The cost limit to draw as a dashed line; null for none.</param>
    /// <param name="trainMarkerSize">Marker size of the training points (0: a line only, for dense or smoothed curves).</param>
    /// <exception cref="ArgumentException">A series and its steps differ in length.</exception>
    public static void Save(string path, string title, string yLabel, IReadOnlyList<double> steps, IReadOnlyList<double> train, string trainLegend,
        IReadOnlyList<double> evalSteps, IReadOnlyList<double> evaluations, int evalEpisodes, double? limit, float trainMarkerSize = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (steps.Count != train.Count)
            throw new ArgumentException($"TrainingCurvePlot: {train.Count} training values for {steps.Count} steps; give one value per step.", nameof(train));
        if (evalSteps.Count != evaluations.Count)
            throw new ArgumentException($"TrainingCurvePlot: {evaluations.Count} evaluations for {evalSteps.Count} steps; give one value per step.", nameof(evaluations));
        var plot = new ScottPlot.Plot();
        var line = plot.Add.Scatter(steps.ToArray(), train.ToArray());
        line.LegendText = trainLegend;
        line.MarkerSize = trainMarkerSize;
        line.Color = PlotStyle.ColorOf("training");
        if (evaluations.Count > 0)
        {
            var e = plot.Add.Scatter(evalSteps.ToArray(), evaluations.ToArray());
            e.LegendText = $"deterministic evaluation ({evalEpisodes} episodes)";
            e.Color = PlotStyle.ColorOf("evaluation");
        }
        if (limit is { } l)
        {
            var h = plot.Add.HorizontalLine(l);
            h.LegendText = $"CostLimit = {l}";
            h.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        plot.Title(title);
        plot.XLabel("environment steps");
        plot.YLabel(yLabel);
        plot.ShowLegend();
        plot.SavePng(path, 900, 450);
    }
}

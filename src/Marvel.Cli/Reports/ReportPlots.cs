using Marvel.Plotting;
using System.Globalization;
using Marvel.Core.Abstractions.IO;

namespace Marvel.Cli.Reports;

/// <summary>Evaluation curves per task and cost limit: one line per algorithm, mean over seeds with a ±std band, and the cost-limit line.</summary>
internal static class ReportPlots
{
    /// <summary>Writes <c>&lt;task&gt;_cost&lt;c&gt;_reward.png</c> and <c>..._cost.png</c> into <paramref name="folder"/>; returns the files.</summary>
    public static List<string> Write(IReadOnlyList<ReportRow> rows, string folder)
    {
        var files = new List<string>();
        Directory.CreateDirectory(folder);
        foreach (var group in rows.GroupBy(r => (r.Task, r.CostLimit)))
        {
            string stem = $"{Sweeps.SweepSpec.Sanitize(group.Key.Task)}_cost{group.Key.CostLimit.ToString("G6", CultureInfo.InvariantCulture)}";
            string caption = Caption(group.Key.Task, group.Key.CostLimit);
            files.Add(Plot(group.ToList(), Path.Combine(folder, stem + "_reward.png"), p => p.NormalizedReward,
                $"{caption}: normalized reward (evaluation)", "normalized reward", null));
            files.Add(Plot(group.ToList(), Path.Combine(folder, stem + "_cost.png"), p => p.MeanCost,
                $"{caption}: episode cost (evaluation)", "episode cost", group.Key.CostLimit));
            var online = group.Where(r => r.Runs.All(x => x.Training.Count > 0)).ToList();
            if (online.Count == 0) continue;
            files.Add(PlotTraining(online, Path.Combine(folder, stem + "_train_return.png"), p => p.MeanReturn,
                $"{caption}: training-episode return", "episode return", null, SmoothingWindow));
            files.Add(PlotTraining(online, Path.Combine(folder, stem + "_train_cost.png"), p => p.MeanCost,
                $"{caption}: training-episode cost", "episode cost", group.Key.CostLimit, SmoothingWindow));
            files.Add(PlotTraining(online, Path.Combine(folder, stem + "_lambda.png"), p => p.Lambda,
                $"{caption}: Lagrange multiplier λ", "λ", null, 1));
        }
        return files;
    }

    /// <summary>Moving-average window of the training curves (iterations), as the Marvel reference smooths its curves; never wider
    /// than half the data (<see cref="PlotStyle.EffectiveWindow"/>).</summary>
    internal const int SmoothingWindow = 10;

    /// <summary>"BallCircle, cost limit 20": what a report figure is about.</summary>
    internal static string Caption(string task, double costLimit) =>
        $"{task}, cost limit {costLimit.ToString("G6", CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Training curve of a row: at every iteration all seeds reached, the mean and std over seeds of <paramref name="value"/>
    /// averaged over the last <paramref name="window"/> iterations (fewer at the start).
    /// </summary>
    internal static (double[] X, double[] Mean, double[] Std) TrainingCurve(ReportRow row, Func<TrainingPoint, double> value, int window)
    {
        int n = row.Runs.Min(r => r.Training.Count);
        window = PlotStyle.EffectiveWindow(window, n);
        var x = new double[n];
        var mean = new double[n];
        var std = new double[n];
        var smoothed = row.Runs.Select(r =>
        {
            var v = r.Training.Take(n).Select(value).ToArray();
            var s = new double[n];
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += v[i];
                if (i >= window) sum -= v[i - window];
                s[i] = sum / Math.Min(i + 1, window);
            }
            return s;
        }).ToArray();
        for (int i = 0; i < n; i++)
        {
            x[i] = row.Runs[0].Training[i].Iteration;
            var spread = Spread.Of(smoothed.Select(s => s[i]));
            (mean[i], std[i]) = (spread.Mean, spread.Std);
        }
        return (x, mean, std);
    }

    private static string PlotTraining(IReadOnlyList<ReportRow> rows, string path, Func<TrainingPoint, double> value, string title, string yLabel, double? limit, int window)
    {
        var curves = rows.Select(r => (Row: r, Curve: TrainingCurve(r, value, window))).ToList();
        int shown = PlotStyle.EffectiveWindow(window, rows.Min(r => r.Runs.Min(x => x.Training.Count)));
        return Draw(curves, path, title + (shown > 1 ? $" ({shown}-iteration moving average)" : ""), $"{yLabel} (mean ± std over seeds)", limit);
    }

    /// <summary>Iterations every seed of the row evaluated at, with the mean and std of <paramref name="value"/> there.</summary>
    internal static (double[] X, double[] Mean, double[] Std) Curve(ReportRow row, Func<CurvePoint, double> value)
    {
        var common = row.Runs.Select(r => r.Curve.Select(p => p.Iteration).ToHashSet())
            .Aggregate((a, b) => { a.IntersectWith(b); return a; }).Order().ToArray();
        var mean = new double[common.Length];
        var std = new double[common.Length];
        for (int i = 0; i < common.Length; i++)
        {
            var s = Spread.Of(row.Runs.Select(r => value(r.Curve.First(p => p.Iteration == common[i]))));
            (mean[i], std[i]) = (s.Mean, s.Std);
        }
        return (common.Select(x => (double)x).ToArray(), mean, std);
    }

    private static string Plot(IReadOnlyList<ReportRow> rows, string path, Func<CurvePoint, double> value, string title, string yLabel, double? limit) =>
        Draw(rows.Select(r => (r, Curve(r, value))).ToList(), path, title, yLabel + " (mean ± std over seeds)", limit);

    private static string Draw(IReadOnlyList<(ReportRow Row, (double[] X, double[] Mean, double[] Std) Curve)> curves, string path, string title, string yLabel, double? limit)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (row, (x, mean, std)) in curves)
        {
            if (x.Length == 0) continue;
            var color = PlotStyle.ColorOf(row.Algorithm);   // the same colour for a label in every figure
            if (row.Runs.Count > 1 && x.Length > 1)
            {
                var band = plot.Add.FillY(x, mean.Zip(std, (m, s) => m - s).ToArray(), mean.Zip(std, (m, s) => m + s).ToArray());
                band.FillStyle.Color = color.WithAlpha(PlotStyle.BandAlpha);
                band.LineStyle.Width = 0;
            }
            var line = plot.Add.Scatter(x, mean);
            line.Color = color;
            if (x.Length > 30) line.MarkerSize = 0;   // training curves: one point per iteration, a line reads better
            line.LegendText = $"{row.Algorithm}{(row.Extra.Length > 0 ? " " + row.Extra : "")} (n={row.Runs.Count})";
        }
        if (limit is { } l && !double.IsNaN(l))
        {
            var line = plot.Add.HorizontalLine(l);
            line.LinePattern = ScottPlot.LinePattern.Dashed;
            line.Color = ScottPlot.Colors.Black;
            line.LegendText = $"cost limit {l.ToString("G6", CultureInfo.InvariantCulture)}";
        }
        plot.Title(title);
        plot.XLabel("online iteration");
        PlotStyle.IntegerIterationAxis(plot);
        plot.YLabel(yLabel);
        plot.ShowLegend(ScottPlot.Edge.Right);
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(1100, 500, ScottPlot.ImageFormat.Png));
        return path;
    }
}

using Marvel.Plotting;

namespace Marvel.Plotting.Tests;

/// <summary>What every figure shares (colour per label, window no wider than the data) and what titles name.</summary>
[TestFixture]
public sealed class PlotStyleTests
{
    [Test]
    public void ColorOf_KnownLabels_AreDistinct_AndTheSameEveryTime()
    {
        var colors = PlotStyle.KnownLabels.Select(PlotStyle.ColorOf).ToList();
        colors.Distinct().Should().HaveCount(PlotStyle.KnownLabels.Count);
        PlotStyle.ColorOf("BEAR-Lag").Should().Be(colors[PlotStyle.KnownLabels.ToList().IndexOf("BEAR-Lag")]);
    }

    [Test]
    public void ColorOf_DoesNotDependOnDrawingOrder_AndUnknownLabelsAreStable()
    {
        // Before, the k-th curve of a figure took palette colour k: "CPQ" was blue in one figure and orange in the next.
        PlotStyle.PaletteIndex("CPQ").Should().Be(1);
        PlotStyle.PaletteIndex("my-method").Should().Be(PlotStyle.PaletteIndex("my-method"));
        PlotStyle.PaletteIndex("my-method").Should().BeInRange(0, PlotStyle.KnownLabels.Count - 1);
    }

    [TestCase(10, 100, 10)]
    [TestCase(10, 5, 2)]     // never wider than half the data
    [TestCase(10, 1, 1)]
    [TestCase(0, 50, 1)]
    public void EffectiveWindow_IsNeverWiderThanTheData(int window, int points, int expected) =>
        PlotStyle.EffectiveWindow(window, points).Should().Be(expected);

    [Test]
    public void Caption_NamesTaskCostLimitAndSeed()
    {
        var dir = TempFolder.Create();
        try
        {
            File.WriteAllText(Path.Combine(dir, "options.json"), """{ "options": { "TaskId": "BallCircle", "CostLimit": 25, "Seed": 3 } }""");
            RunPlots.Caption(dir, 25).Should().Be("BallCircle, cost limit 25, seed 3: ");
            File.Delete(Path.Combine(dir, "options.json"));
            RunPlots.Caption(dir, 25).Should().Be("cost limit 25: ");
            RunPlots.Caption(dir, null).Should().Be("");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

namespace Marvel.Plotting.Tests;

public class TrainingCurvePlotTests
{
    [Test]
    public void Save_WritesAPng_WithEvaluationsAndTheLimit()
    {
        var folder = TempFolder.Create();
        try
        {
            var path = Path.Combine(folder, "cost.png");
            TrainingCurvePlot.Save(path, "BallCircle, cost limit 20, seed 0", "episode cost", [1000, 2000, 3000], [40, 25, 15], "training episodes",
                [0, 3000], [30, 10], 10, 20);
            var bytes = File.ReadAllBytes(path);
            bytes.Length.Should().BeGreaterThan(1000);
            bytes.Take(8).Should().Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG signature");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Save_TrainingValuesAndStepsOfDifferentLengths_ThrowNamingBoth()
    {
        var act = () => TrainingCurvePlot.Save("x.png", "t", "y", [1, 2], [1], "train", [], [], 10, null);
        act.Should().Throw<ArgumentException>().WithMessage("*1 training values for 2 steps*");
        var eval = () => TrainingCurvePlot.Save("x.png", "t", "y", [1], [1], "train", [1, 2], [3], 10, null);
        eval.Should().Throw<ArgumentException>().WithMessage("*1 evaluations for 2 steps*");
    }
}

using Marvel.Plotting;

namespace Marvel.Plotting.Tests;

/// <summary><see cref="RunPlots"/> on hand-made run folders (CSV and JSON written below).</summary>
[TestFixture]
public sealed class RunPlotsTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = TempFolder.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);


    [Test]
    public void Write_FullRun_DrawsFourPngsOfTheDocumentedSize()
    {
        var dir = RunFolderFixture.Make(_folder, "full");
        var files = RunPlots.Write(dir);
        files.Select(Path.GetFileName).Should().Equal("return.png", "cost.png", "lambda.png", "qbias.png");
        foreach (var f in files) RunFolderFixture.ShouldBePng(f);
        Directory.GetFiles(Path.Combine(dir, "plots")).Should().HaveCount(4, "atomic writes leave no temporary files");
    }

    [Test]
    public void Write_DualAscentColumnsOrNone_StillDrawsLambda()
    {
        RunFolderFixture.ShouldBePng(RunPlots.Write(RunFolderFixture.Make(_folder, "dual", controllerColumns: "controller/gradient,controller/step")).Single(f => f.EndsWith("lambda.png", StringComparison.Ordinal)));
        RunFolderFixture.ShouldBePng(RunPlots.Write(RunFolderFixture.Make(_folder, "none", controllerColumns: "")).Single(f => f.EndsWith("lambda.png", StringComparison.Ordinal)));
    }

    [Test]
    public void CostLimit_FromRunJson_ElseOptionsJson()
    {
        var dir = RunFolderFixture.Make(_folder, "limit");
        RunPlots.CostLimit(dir).Should().Be(25);
        File.Delete(Path.Combine(dir, "run.json"));
        File.WriteAllText(Path.Combine(dir, "options.json"), """{ "options": { "CostLimit": 40 } }""");
        RunPlots.CostLimit(dir).Should().Be(40);
        File.Delete(Path.Combine(dir, "options.json"));
        RunPlots.CostLimit(dir).Should().BeNull();
    }

    [Test]
    public void ReadQBias_LeavesOutNaN()
    {
        var dir = RunFolderFixture.Make(_folder, "q");
        RunPlots.ReadQBias(Path.Combine(dir, "qbias.json")).Should().Equal(("handover", "reward", 0.42), ("handover", "cost", -0.2), ("aligned", "reward", 0.05));
    }
}

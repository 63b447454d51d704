using System.Buffers.Binary;
using Marvel.Plotting;

namespace Marvel.Cli.Tests;

/// <summary><c>marvel plot</c> on hand-made run folders (CSV and JSON written below); <see cref="RunPlots"/> itself is tested in Marvel.Plotting.Tests.</summary>
[TestFixture]
public sealed class RunPlotsTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    /// <summary>A run folder as a run leaves it: run.json, options.json, metrics/online.csv (aPID terms, one iteration without episodes), eval.csv, qbias.json.</summary>
    private string MakeRun(string name, bool qbias = true, string? onlineCsv = null, bool evalCsv = true, string controllerColumns = "controller/p,controller/i,controller/d,controller/kp")
    {
        var dir = Directory.CreateDirectory(Path.Combine(_folder, name)).FullName;
        File.WriteAllText(Path.Combine(dir, "run.json"), """{ "task": "BallCircle", "algorithm": "Marvel", "cost_limit": 25, "seed": 0 }""");
        File.WriteAllText(Path.Combine(dir, "options.json"), """{ "options": { "TaskId": "BallCircle", "CostLimit": 25 } }""");
        File.WriteAllText(Path.Combine(dir, "status.json"), """{ "status": "completed", "stage": "completed" }""");
        Directory.CreateDirectory(Path.Combine(dir, "metrics"));
        int terms = controllerColumns.Length == 0 ? 0 : controllerColumns.Split(',').Length;
        onlineCsv ??= "iteration,environment_steps,episodes,mean_episode_return,mean_episode_cost,lambda,cumulative_violation,actor_loss" +
                      (terms > 0 ? "," + controllerColumns : "") + "\n" +
                      string.Concat(Enumerable.Range(1, 6).Select(i =>
                          $"{i},{400 * i},2,{(i == 3 ? "" : (10 + 5 * i).ToString(System.Globalization.CultureInfo.InvariantCulture))},{(i == 3 ? "" : (40 - 4 * i).ToString(System.Globalization.CultureInfo.InvariantCulture))}," +
                          $"{0.1 * i},{5 * i},-1.5" + string.Concat(Enumerable.Range(0, terms).Select(t => $",{0.01 * (t + 1) * i}")) + "\n"));
        File.WriteAllText(Path.Combine(dir, "metrics", "online.csv"), onlineCsv);
        if (evalCsv)
            File.WriteAllText(Path.Combine(dir, "metrics", "eval.csv"),
                "index,iteration,environment_steps,episodes,mean_return,std_return,mean_cost,std_cost,mean_length,normalized_reward,normalized_cost,safe\n" +
                "0,0,0,2,8,1,45,2,200,0.1,1.8,false\n" +
                "1,3,1200,2,20,1,30,2,200,0.3,1.2,false\n" +
                "2,6,2400,2,35,1,18,2,200,0.5,0.72,true\n");
        if (qbias)
            File.WriteAllText(Path.Combine(dir, "qbias.json"), """
            {
              "handover": { "reward": { "MeanRelativeBias": 0.42, "MeanQ": 3 }, "cost": { "MeanRelativeBias": -0.2, "MeanQ": 1 }, "gamma": 0.99, "rollout_steps": 200 },
              "aligned": { "reward": { "MeanRelativeBias": 0.05, "MeanQ": 2 }, "cost": { "MeanRelativeBias": "NaN", "MeanQ": 1 }, "gamma": 0.99, "rollout_steps": 200 }
            }
            """);
        return dir;
    }

    private static void ShouldBePng(string path)
    {
        File.Exists(path).Should().BeTrue(path);
        var bytes = File.ReadAllBytes(path);
        bytes.Take(8).Should().Equal(PngSignature, path);
        // IHDR follows the signature: length (4), "IHDR" (4), width (4, big-endian), height (4).
        BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)).Should().Be(RunPlots.Width);
        BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)).Should().Be(RunPlots.Height);
    }

    private static string Plot(string dir, string name) => Path.Combine(dir, "plots", name);

    [Test]
    public void PlotCommand_WithoutQBiasJson_DrawsTheOthers_AndListsThem()
    {
        var dir = MakeRun("noqbias", qbias: false);
        var outcome = CliHarness.Run("plot", _folder);
        outcome.ExitCode.Should().Be(0, outcome.All);
        outcome.Out.Should().Contain("plots/return.png, plots/cost.png, plots/lambda.png.");
        ShouldBePng(Plot(dir, "return.png"));
        ShouldBePng(Plot(dir, "cost.png"));
        ShouldBePng(Plot(dir, "lambda.png"));
        File.Exists(Plot(dir, "qbias.png")).Should().BeFalse();
    }

    [Test]
    public void PlotCommand_SkippedQBias_DrawsNoQBiasPlot()
    {
        var dir = MakeRun("skipped", qbias: false);
        File.WriteAllText(Path.Combine(dir, "qbias.json"), """{ "handover": { "skipped": "no settable states" }, "aligned": { "skipped": "no settable states" } }""");
        CliHarness.Run("plot", dir).ExitCode.Should().Be(0);
        File.Exists(Plot(dir, "qbias.png")).Should().BeFalse();
    }

    [Test]
    public void PlotCommand_PartialRun_WithoutEvalOrOnlineRows_DrawsWhatItCan()
    {
        var started = MakeRun("started", qbias: false, onlineCsv: "iteration,environment_steps,episodes,mean_episode_return,mean_episode_cost,lambda,cumulative_violation\n",
            evalCsv: false);
        var outcome = CliHarness.Run("plot", started);
        outcome.ExitCode.Should().Be(0, outcome.All);
        outcome.Out.Should().Contain("none");
        Directory.Exists(Path.Combine(started, "plots")).Should().BeFalse();

        var bare = Directory.CreateDirectory(Path.Combine(_folder, "bare")).FullName;
        File.WriteAllText(Path.Combine(bare, "status.json"), """{ "status": "running", "stage": "offline" }""");
        CliHarness.Run("plot", bare).ExitCode.Should().Be(0);
    }

    [Test]
    public void PlotCommand_CsvWithoutARequiredColumn_Exit2_NamesFileAndColumn()
    {
        var dir = MakeRun("broken", onlineCsv: "iteration,mean_episode_return,mean_episode_cost\n1,2,3\n");
        var outcome = CliHarness.Run("plot", dir);
        outcome.ExitCode.Should().Be(ExitCodes.BadUsage, outcome.All);
        outcome.Error.Should().Contain("online.csv").And.Contain("'lambda'");
    }

    [Test]
    public void PlotCommand_CellThatIsNotANumber_Exit2_NamesLineAndColumn()
    {
        var dir = MakeRun("text", onlineCsv: "iteration,mean_episode_return,mean_episode_cost,lambda\n1,2,3,0.5\n2,abc,3,0.5\n");
        var outcome = CliHarness.Run("plot", dir);
        outcome.ExitCode.Should().Be(ExitCodes.BadUsage, outcome.All);
        outcome.Error.Should().Contain("online.csv, line 3, column 'mean_episode_return': 'abc' is not a number");
    }

    [Test]
    public void PlotCommand_NotAFolder_Exit2()
    {
        var file = Path.Combine(_folder, "file.txt");
        File.WriteAllText(file, "x");
        var missing = CliHarness.Run("plot", Path.Combine(_folder, "nope"));
        missing.ExitCode.Should().Be(ExitCodes.BadUsage);
        missing.Error.Should().Contain("is not a folder");
        var onFile = CliHarness.Run("plot", file);
        onFile.ExitCode.Should().Be(ExitCodes.BadUsage);
        onFile.Error.Should().Contain("it is a file");
    }

    [Test]
    public void PlotCommand_NoArgumentOrNoRunFolder_Exit2()
    {
        CliHarness.Run("plot").ExitCode.Should().Be(ExitCodes.BadUsage);
        var empty = CliHarness.Run("plot", _folder);
        empty.ExitCode.Should().Be(ExitCodes.BadUsage);
        empty.Error.Should().Contain("no run folder");
    }

}

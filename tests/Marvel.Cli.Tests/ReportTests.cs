using System.Globalization;
using System.Text.Json;
using Marvel.Cli.Reports;

namespace Marvel.Cli.Tests;

/// <summary>Report aggregation on hand-made run folders whose numbers are known; expected values are worked out by hand below.</summary>
[TestFixture]
public sealed class ReportTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp()
    {
        _folder = CliHarness.TempFolder();
        // Marvel, seeds 0..2. Final normalized reward 0.2/0.4/0.6, cost 0.5/1.0/1.5, violation 0/30/60, AUC 0.1/0.1/0.4.
        Run("BallCircle_Marvel_seed0", 0, "Marvel", 0, 0.2, 0.5, 0, 0.1, [0.0, 0.1, 0.2]);
        Run("BallCircle_Marvel_seed1", 1, "Marvel", 1, 0.4, 1.0, 30, 0.1, [0.2, 0.3, 0.4]);
        Run("BallCircle_Marvel_seed2", 2, "Marvel", 2, 0.6, 1.5, 60, 0.4, [0.4, 0.5, 0.6], extraIteration: true);
        // Scratch SAC-Lag, seeds 0..1. Reward 0.1/0.3, cost 2/4, violation 100/200, AUC 0.05/0.15.
        Run("BallCircle_Scratch_seed0", 3, "Scratch", 0, 0.1, 2, 100, 0.05, [0.0, 0.0, 0.1]);
        Run("BallCircle_Scratch_seed1", 4, "Scratch", 1, 0.3, 4, 200, 0.15, [0.0, 0.2, 0.3]);
        // An interrupted run: status.json but no result.json.
        var broken = Directory.CreateDirectory(Path.Combine(_folder, "BallCircle_Scratch_seed2")).FullName;
        File.WriteAllText(Path.Combine(broken, "status.json"), """{ "status": "running", "stage": "online" }""");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private void Run(string name, int index, string algorithm, int seed, double reward, double cost, double violation, double auc, double[] curve, bool extraIteration = false)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_folder, name)).FullName;
        string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        File.WriteAllText(Path.Combine(dir, "run.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["task"] = "BallCircle", ["algorithm"] = algorithm, ["cost_limit"] = 20.0, ["seed"] = seed, ["index"] = index,
            ["axes"] = new Dictionary<string, string> { ["task"] = "BallCircle", ["algorithm"] = algorithm, ["seed"] = seed.ToString(CultureInfo.InvariantCulture) },
        }));
        File.WriteAllText(Path.Combine(dir, "result.json"),
            $$"""{ "final_normalized_reward": {{N(reward)}}, "final_normalized_cost": {{N(cost)}}, "cumulative_violation": {{N(violation)}}, "normalized_reward_auc": {{N(auc)}} }""");
        File.WriteAllText(Path.Combine(dir, "status.json"), """{ "status": "completed" }""");
        Directory.CreateDirectory(Path.Combine(dir, "metrics"));
        var csv = "index,iteration,environment_steps,episodes,mean_return,std_return,mean_cost,std_cost,mean_length,normalized_reward,normalized_cost,safe\n";
        for (int i = 0; i < curve.Length; i++)
            csv += $"{i},{2 * i},0,10,{N(100 * curve[i])},0,{N(10.0 * (seed + 1))},0,200,{N(curve[i])},{N(0.5 * (seed + 1))},true\n";
        if (extraIteration) csv += $"3,6,0,10,70,0,5,0,200,0.7,0.25,true\n";
        File.WriteAllText(Path.Combine(dir, "metrics", "eval.csv"), csv);
        if (algorithm != "Marvel") return;
        // Online training curve: iterations 1..4, cost 40, 30, 20, 10 (+ seed), λ = (seed + 1)·{0.1, 0.3, 0.2, 0.05}.
        var online = "iteration,environment_steps,episodes,mean_episode_return,mean_episode_cost,lambda,cumulative_violation\n";
        double[] lambdas = [0.1, 0.3, 0.2, 0.05];
        for (int i = 0; i < 4; i++)
            online += $"{i + 1},0,5,{N(100.0 * (i + 1))},{N(40.0 - 10 * i + seed)},{N((seed + 1) * lambdas[i])},0\n";
        File.WriteAllText(Path.Combine(dir, "metrics", "online.csv"), online);
        // Q bias: relative, handover reward −0.5·(seed + 1), cost −0.4; aligned reward −0.1, cost 0.1·seed. Means: handover reward
        // Q 1 + seed against MC 4, cost Q 10 against MC 20; aligned reward Q 3.5, cost Q 20 + seed.
        File.WriteAllText(Path.Combine(dir, "qbias.json"), $$"""
            { "handover": { "reward": { "MeanRelativeBias": {{N(-0.5 * (seed + 1))}}, "MeanQ": {{1 + seed}}, "MeanMonteCarlo": 4, "MeanAbsoluteBias": 5 },
                            "cost": { "MeanRelativeBias": -0.4, "MeanQ": 10, "MeanMonteCarlo": 20, "MeanAbsoluteBias": 8 } },
              "aligned": { "reward": { "MeanRelativeBias": -0.1, "MeanQ": 3.5, "MeanMonteCarlo": 4, "MeanAbsoluteBias": 1 },
                           "cost": { "MeanRelativeBias": {{N(0.1 * seed)}}, "MeanQ": {{20 + seed}}, "MeanMonteCarlo": 20, "MeanAbsoluteBias": {{2 + seed}} } } }
            """);
    }

    private List<ReportRow> Rows()
    {
        var records = ReportBuilder.FindRunFolders([_folder]).Select(f => ReportBuilder.Read(f, out _)).Where(r => r is not null).Select(r => r!);
        return ReportBuilder.Aggregate(records);
    }

    [Test]
    public void Aggregate_GroupsSeedsPerAlgorithm_InSweepOrder()
    {
        var rows = Rows();
        rows.Select(r => (r.Algorithm, r.Runs.Count)).Should().Equal(("Marvel", 3), ("Scratch", 2));
    }

    [Test]
    public void Aggregate_MeanAndPopulationStd_MatchHandComputedValues()
    {
        var marvel = Rows()[0];
        // mean(0.2, 0.4, 0.6) = 0.4; std = sqrt((0.04 + 0 + 0.04)/3) = sqrt(0.026667) = 0.163299
        marvel.NormalizedReward.Mean.Should().BeApproximately(0.4, 1e-12);
        marvel.NormalizedReward.Std.Should().BeApproximately(0.163299316, 1e-9);
        // mean(0.5, 1, 1.5) = 1; std = sqrt((0.25 + 0 + 0.25)/3) = 0.408248
        marvel.NormalizedCost.Mean.Should().BeApproximately(1.0, 1e-12);
        marvel.NormalizedCost.Std.Should().BeApproximately(0.408248290, 1e-9);
        // mean(0, 30, 60) = 30; std = sqrt((900 + 0 + 900)/3) = sqrt(600) = 24.494897
        marvel.CumulativeViolation.Mean.Should().BeApproximately(30, 1e-12);
        marvel.CumulativeViolation.Std.Should().BeApproximately(24.494897428, 1e-9);
        // mean(0.1, 0.1, 0.4) = 0.2; std = sqrt((0.01 + 0.01 + 0.04)/3) = sqrt(0.02) = 0.141421
        marvel.NormalizedRewardAuc.Mean.Should().BeApproximately(0.2, 1e-12);
        marvel.NormalizedRewardAuc.Std.Should().BeApproximately(0.141421356, 1e-9);

        var scratch = Rows()[1];
        // two seeds: mean(0.1, 0.3) = 0.2, std 0.1; mean(2, 4) = 3, std 1; mean(100, 200) = 150, std 50; mean(0.05, 0.15) = 0.1, std 0.05
        scratch.NormalizedReward.Mean.Should().BeApproximately(0.2, 1e-12);
        scratch.NormalizedReward.Std.Should().BeApproximately(0.1, 1e-12);
        scratch.NormalizedCost.Mean.Should().BeApproximately(3, 1e-12);
        scratch.NormalizedCost.Std.Should().BeApproximately(1, 1e-12);
        scratch.CumulativeViolation.Mean.Should().BeApproximately(150, 1e-12);
        scratch.CumulativeViolation.Std.Should().BeApproximately(50, 1e-12);
    }

    [Test]
    public void Markdown_ShowsMeanPlusMinusStd_AndListsTheIncompleteRun()
    {
        var skipped = new List<string> { "x: no result.json (not complete)" };
        var md = ReportBuilder.Markdown(Rows(), skipped);
        // Within the limit: Marvel's costs 0.5, 1.0, 1.5 → 2 of 3 (1.0 is within); Scratch's 2 and 4 → 0 of 2. Without last_iterate_* fields
        // the last iterate is the final policy.
        md.Should().Contain("| BallCircle | 20 | Marvel | 3 | 0.400 ± 0.163 | 1.00 ± 0.41 | 2/3 | 30.0 ± 24.5 | 0.200 ± 0.141 |");
        md.Should().Contain("| BallCircle | 20 | Scratch | 2 | 0.200 ± 0.100 | 3.00 ± 1.00 | 0/2 | 150.0 ± 50.0 | 0.100 ± 0.050 |");
        md.Should().Contain("| 0.400 ± 0.163, 1.00 ± 0.41 |");
        md.Should().Contain("1 run folder(s) left out");
    }

    [Test]
    public void Read_ResultWithLastIterateFields_ReportsThemApartFromTheReturnedPolicy()
    {
        var dir = Path.Combine(_folder, "BallCircle_Marvel_seed0");
        File.WriteAllText(Path.Combine(dir, "result.json"), """
            { "final_normalized_reward": 0.5, "final_normalized_cost": 0.25, "cumulative_violation": 7, "normalized_reward_auc": 0.3,
              "final_iteration": 40, "last_iterate_normalized_reward": 0.9, "last_iterate_normalized_cost": 2.5, "evaluation_violation": 12,
              "elapsed_seconds": 150 }
            """);
        var record = ReportBuilder.Read(dir, out _)!;
        (record.NormalizedReward, record.NormalizedCost, record.LastIterateReward, record.LastIterateCost, record.ReturnedIteration, record.EvaluationViolation)
            .Should().Be((0.5, 0.25, 0.9, 2.5, 40.0, 12.0));
        record.ElapsedSeconds.Should().Be(150);
        var row = Rows().Single(r => r.Algorithm == "Marvel");
        // Last-iterate rewards 0.9 (seed 0), 0.4 and 0.6 (the others report their final numbers): mean 0.633.
        row.LastIterateReward.Mean.Should().BeApproximately((0.9 + 0.4 + 0.6) / 3, 1e-12);
        row.WithinLimit.Should().Be(2, "costs 0.25, 1.0 and 1.5");
    }

    [Test]
    public void Markdown_WallTime_IsTheMeanOfTheSeedsElapsedMinutes_AndNaWithoutIt()
    {
        // Seeds of "Marvel" take 120 s and 240 s; the third has no elapsed_seconds and is left out of the mean: (2 + 4) / 2 = 3.0 ± 1.0 min.
        foreach (var (run, seconds) in new[] { ("BallCircle_Marvel_seed0", 120), ("BallCircle_Marvel_seed1", 240) })
        {
            var path = Path.Combine(_folder, run, "result.json");
            File.WriteAllText(path, File.ReadAllText(path).TrimEnd().TrimEnd('}') + $$""", "elapsed_seconds": {{seconds}} }""");
        }

        var md = ReportBuilder.Markdown(Rows(), []);

        md.Should().Contain("| wall time (min) |");
        md.Should().Contain(", 1.00 ± 0.41 | 3.0 ± 1.0 |");
        md.Should().Contain(", 3.00 ± 1.00 | n/a |", "no Scratch seed records its elapsed time");
    }

    [Test]
    public void RuntimeWarning_RunsUnderTwoKernelCapabilities_AndAResumeUnderAnother_AreNamed()
    {
        ReportBuilder.RuntimeWarning(Rows()).Should().BeNull("no run records a runtime");
        foreach (var (run, capability) in new[] { ("BallCircle_Marvel_seed0", "avx512"), ("BallCircle_Marvel_seed1", "avx512"), ("BallCircle_Scratch_seed0", "avx2") })
            File.WriteAllText(Path.Combine(_folder, run, "runtime.json"), $$"""[ { "cpuKernelCapability": "{{capability}}", "torchThreads": "1" } ]""");
        File.WriteAllText(Path.Combine(_folder, "BallCircle_Marvel_seed2", "status.json"), """{ "status": "completed", "runtime": { "cpuKernelCapability": "avx512" } }""");
        var resumed = Path.Combine(_folder, "BallCircle_Marvel_seed1", "result.json");
        File.WriteAllText(resumed, File.ReadAllText(resumed).TrimEnd().TrimEnd('}') + """, "runtime_warning": "resumed under another runtime" }""");

        var warning = ReportBuilder.RuntimeWarning(Rows());

        warning.Should().Contain("2 CPU kernel capabilities").And.Contain("avx512 (3 runs)").And.Contain("avx2 (1 run)")
            .And.Contain("1 run(s) were resumed under another runtime: BallCircle_Marvel_seed1");
        ReportBuilder.Markdown(Rows(), []).Should().Contain(warning);
    }

    [Test]
    public void Csv_HasOneRowPerGroup_WithMeansAndStds()
    {
        var lines = ReportBuilder.Csv(Rows()).TrimEnd('\n').Split('\n');
        lines.Should().HaveCount(3);
        var f = lines[2].Split(',');
        f[0].Should().Be("BallCircle");
        f[2].Should().Be("Scratch");
        f[4].Should().Be("2");
        double V(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
        V(5).Should().BeApproximately(0.2, 1e-9);
        V(6).Should().BeApproximately(0.1, 1e-9);
        V(7).Should().BeApproximately(3, 1e-9);
        V(8).Should().BeApproximately(1, 1e-9);
        V(9).Should().BeApproximately(150, 1e-9);
        V(10).Should().BeApproximately(50, 1e-9);
        V(11).Should().BeApproximately(0.1, 1e-9);
        V(12).Should().BeApproximately(0.05, 1e-9);
    }

    [Test]
    public void Curve_UsesTheIterationsEverySeedEvaluated()
    {
        var (x, mean, std) = ReportPlots.Curve(Rows()[0], p => p.NormalizedReward);
        x.Should().Equal(0, 2, 4);   // seed 2's extra evaluation at iteration 6 is left out
        // iteration 2: mean(0.1, 0.3, 0.5) = 0.3, std = sqrt((0.04 + 0 + 0.04)/3) = 0.163299
        mean[1].Should().BeApproximately(0.3, 1e-12);
        std[1].Should().BeApproximately(0.163299316, 1e-9);
    }

    [Test]
    public void LambdaRange_IsTheSmallestAndLargestMultiplierOfAnySeed_AndNaWithoutOnlineIterations()
    {
        var rows = Rows();
        // smallest: seed 0's 1·0.05; largest: seed 2's 3·0.3
        rows[0].LambdaRange.Min.Should().BeApproximately(0.05, 1e-12);
        rows[0].LambdaRange.Max.Should().BeApproximately(0.9, 1e-12);
        double.IsNaN(rows[1].LambdaRange.Min).Should().BeTrue();
        var md = ReportBuilder.Markdown(rows, []);
        md.Should().Contain("| 0.200 ± 0.141 | 0.05 – 0.9 |").And.Contain("| 0.100 ± 0.050 | n/a |");
    }

    [Test]
    public void QBiasTable_ShowsMeanQAndMonteCarlo_BeforeAndAfterAlignment()
    {
        var md = ReportBuilder.Markdown(Rows(), []);
        // reward Q handover mean(1, 2, 3) = 2, std sqrt(2/3) = 0.82; aligned 3.5; MC 4; |Q − MC| mean(3, 2, 1) = 2 → 0.5.
        // cost Q handover 10; aligned mean(20, 21, 22) = 21 ± 0.82; MC 20; |Q − MC| 10 → mean(0, 1, 2) = 1.
        // Per-state errors: reward 5 → 1; cost 8 → mean(2, 3, 4) = 3.
        md.Should().Contain("| BallCircle | 20 | Marvel | 2.00 ± 0.82 | 3.50 ± 0.00 | 4.00 ± 0.00 | 2.00 → 0.50 | 5.00 → 1.00 | 10.00 ± 0.00 | 21.00 ± 0.82 | 20.00 ± 0.00 | 10.00 → 1.00 | 8.00 → 3.00 |");
        md.Should().NotContain("| BallCircle | 20 | Scratch | n/a");
    }

    [Test]
    public void TrainingCurve_IsTheMovingAverage_ThenMeanAndStdOverSeeds()
    {
        var (x, mean, std) = ReportPlots.TrainingCurve(Rows()[0], p => p.MeanCost, window: 2);
        x.Should().Equal(1, 2, 3, 4);
        // seed s costs 40, 30, 20, 10 (+ s); window 2: 40, 35, 25, 15 (+ s); mean over s = 0, 1, 2 adds 1, std sqrt(2/3)
        mean.Should().Equal([41, 36, 26, 16], (a, b) => Math.Abs(a - b) < 1e-12);
        std[3].Should().BeApproximately(Math.Sqrt(2.0 / 3.0), 1e-12);
    }

    [Test]
    public void TrainingCurve_WindowWiderThanTheData_ShrinksToHalfTheData()
    {
        // 4 iterations: a 10-iteration window would average everything into its running mean; it becomes 2, the case above.
        var (_, mean, _) = ReportPlots.TrainingCurve(Rows()[0], p => p.MeanCost, window: 10);
        mean.Should().Equal([41, 36, 26, 16], (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Test]
    public void RawCsv_HasOneLinePerRunAndPoint_WithTheRunsOwnNumbers()
    {
        var (runs, training, evaluations) = ReportBuilder.RawCsv(Rows());
        var runLines = runs.TrimEnd('\n').Split('\n');
        runLines.Should().HaveCount(1 + 5);
        // ... then the last iterate (the final numbers: no last_iterate_* fields), the returned iteration and the evaluation violation (absent: NaN).
        runLines[2].Should().Be("BallCircle,20,Marvel,,1,BallCircle_Marvel_seed1,0.4,1,30,0.1,0.1,0.6,-1,-0.1,-0.4,0.1,2,3.5,4,10,21,20,5,1,8,3,0.4,1,NaN,NaN,NaN");
        var trainingLines = training.TrimEnd('\n').Split('\n');
        trainingLines.Should().HaveCount(1 + 3 * 4);   // only the Marvel runs have online iterations
        trainingLines[^1].Should().Be("BallCircle,20,Marvel,,2,4,400,12,0.15");
        evaluations.TrimEnd('\n').Split('\n').Should().HaveCount(1 + 3 + 3 + 4 + 3 + 3);   // seed 2 of Marvel has the extra evaluation
    }

    [Test]
    public void ReportCommand_WritesMarkdownCsvAndCurves_AndNamesTheLeftOutRun()
    {
        var output = Path.Combine(_folder, "report");
        var outcome = CliHarness.Run("report", _folder, "--out", output);
        outcome.ExitCode.Should().Be(0, outcome.All);
        outcome.Error.Should().Contain("BallCircle_Scratch_seed2: no result.json");
        File.ReadAllText(Path.Combine(output, "results.md")).Should().Contain("0.400 ± 0.163");
        File.Exists(Path.Combine(output, "results.csv")).Should().BeTrue();
        foreach (var raw in new[] { "runs.csv", "training.csv", "evaluations.csv" }) File.Exists(Path.Combine(output, raw)).Should().BeTrue(raw);
        File.Exists(Path.Combine(output, "curves", "BallCircle_cost20_reward.png")).Should().BeTrue();
        File.Exists(Path.Combine(output, "curves", "BallCircle_cost20_cost.png")).Should().BeTrue();
        // Training curves and λ only for rows whose every seed has online iterations (here: Marvel).
        foreach (var name in new[] { "train_return", "train_cost", "lambda" })
            File.Exists(Path.Combine(output, "curves", $"BallCircle_cost20_{name}.png")).Should().BeTrue(name);
    }
}

using System.Text;
using System.Text.Json.Nodes;
using Marvel.Cli.Running;

namespace Marvel.Cli.Tests;

/// <summary>A tiny real sweep (1 task × 2 seeds, tiny budgets): interrupted, resumed, reported; and the same with worker processes.</summary>
[TestFixture]
[NonParallelizable]
public sealed class SweepEndToEndTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private static int Attempts(string runDirectory) => JsonNode.Parse(File.ReadAllText(Path.Combine(runDirectory, "run.json")))!["attempts"]!.GetValue<int>();

    [Test]
    public async Task Sweep_InterruptedDuringTheSecondRun_CompletesItOnTheNextInvocation_WithoutRerunningTheFirst()
    {
        var sweep = CliHarness.WriteTinySweep(_folder, "tiny", [0, 1]);
        string seed0 = Path.Combine(_folder, "runs", "BallCircle_Marvel_seed0"), seed1 = Path.Combine(_folder, "runs", "BallCircle_Marvel_seed1");

        using var cts = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!(File.Exists(Path.Combine(seed0, "result.json")) && File.Exists(Path.Combine(seed1, "status.json")))) await Task.Delay(5);
            await cts.CancelAsync();
        });
        var first = await CliHarness.RunAsync(cts.Token, "sweep", "--config", sweep, "--in-process", "--quiet");
        await watcher;
        first.ExitCode.Should().Be(1, first.All);
        first.Error.Should().Contain("cancelled");
        RunResumer.ReadState(seed0).Should().Be(RunFolderState.Complete);
        RunResumer.ReadState(seed1).Should().Be(RunFolderState.Incomplete);
        var seed0Result = File.GetLastWriteTimeUtc(Path.Combine(seed0, "result.json"));

        var second = await CliHarness.RunAsync(CancellationToken.None, "sweep", "--config", sweep, "--in-process", "--quiet");
        second.ExitCode.Should().Be(0, second.All);
        second.Out.Should().Contain("2 runs, 1 complete (skipped), 1 to run");
        RunResumer.ReadState(seed1).Should().Be(RunFolderState.Complete);
        File.GetLastWriteTimeUtc(Path.Combine(seed0, "result.json")).Should().Be(seed0Result, "a complete run is not run again");
        Attempts(seed0).Should().Be(1);
        Attempts(seed1).Should().Be(2, "the interrupted run was resumed once");

        var third = await CliHarness.RunAsync(CancellationToken.None, "sweep", "--config", sweep, "--in-process", "--quiet");
        third.ExitCode.Should().Be(0);
        third.Out.Should().Contain("2 runs, 2 complete (skipped), 0 to run");

        var report = CliHarness.Run("report", Path.Combine(_folder, "runs"), "--out", Path.Combine(_folder, "report"));
        report.ExitCode.Should().Be(0, report.All);
        File.ReadAllText(Path.Combine(_folder, "report", "results.md")).Should().Contain("| BallCircle | 20 | Marvel | 2 |");

        // The run folder: resolved configuration, identity, pipeline files, TensorBoard events.
        File.ReadAllText(Path.Combine(seed1, "config.json")).Should().Contain("\"Seed\": \"1\"");
        JsonNode.Parse(File.ReadAllText(Path.Combine(seed1, "run.json")))!["sweep"]!.GetValue<string>().Should().Be("tiny");
        var events = Directory.GetFiles(Path.Combine(seed0, "tensorboard"), "events.out.tfevents.*");
        events.Should().ContainSingle();
        var tags = TensorBoardFile.ReadTags(events[0]);
        tags.Should().Contain(["online/lambda", "online/mean_episode_cost", "evaluation/normalized_reward", "alignment/reward_critic_loss"]);
        tags.Should().Contain(t => t.StartsWith("offline/", StringComparison.Ordinal));
        tags.Should().Contain(["qbias/handover/reward_mean_relative_bias", "qbias/aligned/cost_mean_relative_bias"]);
        var qbias = JsonNode.Parse(File.ReadAllText(Path.Combine(seed0, "qbias.json")))!;
        qbias["aligned"]!["reward"]!["MeanQ"]!.GetValue<double>().Should().NotBe(double.NaN);
        // Run:Plots (default true): the run drew its plots after the Q-bias measurement.
        foreach (var plot in new[] { "return.png", "cost.png", "lambda.png", "qbias.png" })
            File.Exists(Path.Combine(seed0, "plots", plot)).Should().BeTrue(plot);
    }

    [Test]
    public void Sweep_WithWorkerProcesses_RunsEveryRunInItsOwnProcess_ThenSkipsThem()
    {
        var sweep = CliHarness.WriteTinySweep(_folder, "workers", [0, 1]);
        var first = CliHarness.Run("sweep", "--config", sweep, "--workers", "2");
        first.ExitCode.Should().Be(0, first.All);
        first.Out.Should().Contain("2 to run with 2 worker process(es)");
        foreach (var seed in new[] { 0, 1 })
        {
            var dir = Path.Combine(_folder, "runs", $"BallCircle_Marvel_seed{seed}");
            RunResumer.ReadState(dir).Should().Be(RunFolderState.Complete);
            File.ReadAllText(Path.Combine(dir, "worker.log")).Should().Contain($"BallCircle_Marvel_seed{seed}: completed");
        }
        var second = CliHarness.Run("sweep", "--config", sweep, "--workers", "2");
        second.ExitCode.Should().Be(0);
        second.Out.Should().Contain("2 complete (skipped), 0 to run");
    }
}

/// <summary>Interrupting a sweep that runs in worker processes: the workers are asked to stop (SIGTERM), and the next invocation completes the runs.</summary>
[TestFixture]
[NonParallelizable]
public sealed class SweepWorkerInterruptionTests
{
    [Test]
    public async Task Sweep_WithWorkers_CancelledMidRun_StopsTheWorkersCleanly_AndTheNextInvocationCompletes()
    {
        var folder = CliHarness.TempFolder();
        try
        {
            var sweep = CliHarness.WriteTinySweep(folder, "stop", [0, 1]);
            string[] runs = [Path.Combine(folder, "runs", "BallCircle_Marvel_seed0"), Path.Combine(folder, "runs", "BallCircle_Marvel_seed1")];
            using var cts = new CancellationTokenSource();
            var watcher = Task.Run(async () =>
            {
                while (!runs.Any(r => File.Exists(Path.Combine(r, "status.json")))) await Task.Delay(5);
                await cts.CancelAsync();
            });
            var first = await CliHarness.RunAsync(cts.Token, "sweep", "--config", sweep, "--workers", "2");
            await watcher;
            first.ExitCode.Should().Be(1, first.All);
            first.Error.Should().Contain("cancelled");
            runs.Select(RunResumer.ReadState).Should().Contain(RunFolderState.Incomplete);
            // A worker that got SIGTERM after its pipeline started records the cancellation itself.
            runs.Where(r => File.Exists(Path.Combine(r, "status.json")) && !File.Exists(Path.Combine(r, "result.json")))
                .Select(r => Marvel.Core.Pipeline.RunDirectory.ReadStatus(r).StatusText).Should().OnlyContain(s => s == "cancelled");

            var second = await CliHarness.RunAsync(CancellationToken.None, "sweep", "--config", sweep, "--workers", "2");
            second.ExitCode.Should().Be(0, second.All);
            runs.Select(RunResumer.ReadState).Should().OnlyContain(s => s == RunFolderState.Complete);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>Reads a TensorBoard event file's record framing (length, masked CRC-32C of the length, data, masked CRC-32C of the data).</summary>
internal static class TensorBoardFile
{
    public static List<string> ReadTags(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var tags = new List<string>();
        int at = 0, records = 0;
        while (at < bytes.Length)
        {
            ulong length = BitConverter.ToUInt64(bytes, at);
            Masked(bytes.AsSpan(at, 8)).Should().Be(BitConverter.ToUInt32(bytes, at + 8), $"length CRC of record {records}");
            var data = bytes.AsSpan(at + 12, (int)length);
            Masked(data).Should().Be(BitConverter.ToUInt32(bytes, at + 12 + (int)length), $"data CRC of record {records}");
            // A scalar summary's tag is field 1 (tag 0x0a) of Summary.Value inside field 5 of Event: take the printable strings after 0x0a.
            for (int i = 0; i + 1 < data.Length; i++)
            {
                if (data[i] != 0x0a || data[i + 1] == 0 || i + 2 + data[i + 1] > data.Length) continue;
                var text = Encoding.UTF8.GetString(data.Slice(i + 2, data[i + 1]));
                if (text.Contains('/', StringComparison.Ordinal) && text.All(c => c is > ' ' and < '\x7f')) tags.Add(text);
            }
            at += 12 + (int)length + 4;
            records++;
        }
        records.Should().BeGreaterThan(1);
        return tags.Distinct().ToList();
    }

    private static uint Masked(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        crc = ~crc;
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }
}

using System.Security.Cryptography;
using System.Text.Json;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Tests.Algorithms.Offline;
using Marvel.Core.Tests.Algorithms.Online;

namespace Marvel.Core.Tests.Algorithms.Shared;

/// <summary>
/// Regression fixture for speed work that must not change the default learners' numbers (issue 21): a few gradient steps of
/// SAC-Lag, BEAR-Lag, CPQ and BCQ-Lag at small, deliberately odd widths, hashed bit for bit (every weight of the handover artifact,
/// every Adam state as serialized, the last step's scalars). The expected hashes in <c>Fixtures/numerics-fingerprints.json</c> were
/// recorded by running this test on the code before the change (commit 18c40e9), so they pin the numbers the evidence runs used.
/// libtorch and MKL pick kernels by CPU, which round differently, so the hashes only bind on the runtime they were recorded on
/// (each fixture names it): the test compares with the fixture of this runtime (<c>Fixtures/numerics-fingerprints*.json</c>; AVX-512
/// and AVX2 machines so far) and is inconclusive on a runtime that has none. To record: set MARVEL_RECORD_NUMERICS_FINGERPRINTS to a
/// file path and run the test on the old code.
/// </summary>
public class NumericsFingerprintTests
{
    private const string FixtureFolder = "Fixtures";
    private const string FixturePattern = "numerics-fingerprints*.json";
    private int _threads;

    [OneTimeSetUp]
    public void OneThread()
    {
        _threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
    }

    [OneTimeTearDown]
    public void Restore() => TorchSharp.torch.set_num_threads(_threads);

    private static readonly string[] Cases = ["sac-lag", "sac-lag-tuned-clipped", "bear-lag", "cpq", "bcq-lag"];

    [Test]
    public void DefaultLearners_AfterAFewSteps_MatchTheRecordedBits()
    {
        var actual = Cases.ToDictionary(c => c, Run);
        var record = Environment.GetEnvironmentVariable("MARVEL_RECORD_NUMERICS_FINGERPRINTS");
        if (!string.IsNullOrEmpty(record))
        {
            var fixture = new Fixture(RuntimeKey(), actual);
            File.WriteAllText(record, JsonSerializer.Serialize(fixture, new JsonSerializerOptions { WriteIndented = true }));
            Assert.Ignore($"Recorded {actual.Count} fingerprints into '{record}'.");
        }
        var runtime = RuntimeKey();
        var fixtures = Directory.GetFiles(Path.Combine(TestContext.CurrentContext.TestDirectory, FixtureFolder), FixturePattern)
            .Select(f => JsonSerializer.Deserialize<Fixture>(File.ReadAllText(f))!).ToList();
        var expected = fixtures.FirstOrDefault(f => Differences(f, runtime).Count == 0);
        if (expected is null)
        {
            Assert.Inconclusive("The fingerprints were recorded on other runtimes, whose kernels may round differently: " +
                string.Join(" | ", fixtures.Select(f => string.Join("; ", Differences(f, runtime)))));
            return;
        }
        foreach (var c in Cases)
            actual[c].Should().Be(expected.Cases[c], $"case '{c}' must keep the numbers of the code it was recorded on, bit for bit");
    }

    private static List<string> Differences(Fixture fixture, Dictionary<string, string> runtime) =>
        fixture.Runtime.Where(kv => !runtime.TryGetValue(kv.Key, out var v) || v != kv.Value)
            .Select(kv => $"{kv.Key}: recorded '{kv.Value}', here '{runtime.GetValueOrDefault(kv.Key)}'").ToList();

    private static Dictionary<string, string> RuntimeKey()
    {
        var all = RuntimeFingerprint.Describe();
        return new[] { "libtorch", "cpuKernelCapability", "mklCbwr", "torchThreads", "processor" }.ToDictionary(k => k, k => all[k]);
    }

    private static string Run(string name) => name switch
    {
        "sac-lag" => SacLag(new SacLagOptions()),
        "sac-lag-tuned-clipped" => SacLag(new SacLagOptions { AutoTuneAlpha = true, MaxGradNorm = 0.5, ActorLossDividedByOnePlusLambda = true }),
        "bear-lag" => Offline(new BearLagLearner(TinyDatasets.Context(), new BearLagOptions
        {
            BatchSize = 40, ActorHiddenSizes = [24, 20], CriticHiddenSizes = [24, 24], VaeHiddenSize = 20, SampleActionCount = 3, MmdSampleCount = 3,
        })),
        "cpq" => Offline(new CpqLearner(TinyDatasets.Context(), new CpqOptions
        {
            BatchSize = 40, ActorHiddenSizes = [24, 20], CriticHiddenSizes = [24, 24], VaeHiddenSize = 20, SampleActionCount = 3,
        })),
        "bcq-lag" => Offline(new BcqLagLearner(TinyDatasets.Context(), new BcqLagOptions
        {
            BatchSize = 40, ActorHiddenSizes = [24, 20], CriticHiddenSizes = [24, 24], VaeHiddenSize = 20, SampleActionCount = 3,
        })),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static string SacLag(SacLagOptions options)
    {
        options.ActorHiddenSizes = [24, 20];
        options.CriticHiddenSizes = [24, 24];
        options.CostCriticHiddenSizes = [20, 24, 12];
        options.BatchSize = 48;
        using var learner = new SacLagLearner(OnlineTestData.Context(5, 2, seed: 3), options);
        using var batch = OnlineTestData.Batch(48, 5, 2, seed: 4);
        SacLagUpdateMetrics last = default;
        for (int i = 0; i < 12; i++) last = learner.Update(batch, 0.3);
        return Hash(learner.ExportHandover(), last.ToDictionary());
    }

    private static string Offline(IOfflineSafeLearner learner)
    {
        using (learner)
        {
            learner.Attach(TinyDatasets.BallCircle());
            IReadOnlyDictionary<string, double> last = new Dictionary<string, double>();
            for (int i = 0; i < 8; i++) last = learner.TrainStep();
            return Hash(learner.ExportHandover(), last);
        }
    }

    private static string Hash(HandoverArtifact artifact, IReadOnlyDictionary<string, double> metrics)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string s) => sha.AppendData(System.Text.Encoding.UTF8.GetBytes(s + "\n"));
        foreach (var role in artifact.Networks.Keys.Order(StringComparer.Ordinal))
            foreach (var entry in artifact.Networks[role].Entries.OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                Text($"{role}/{entry.Name}[{string.Join(",", entry.Shape)}]");
                sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(entry.Values.AsSpan()));
            }
        foreach (var role in artifact.OptimizerStates.Keys.Order(StringComparer.Ordinal))
        {
            Text("optimizer/" + role);
            sha.AppendData(artifact.OptimizerStates[role]);
        }
        foreach (var key in metrics.Keys.Order(StringComparer.Ordinal))
            Text($"{key}={BitConverter.DoubleToInt64Bits(metrics[key]):X16}");
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    private sealed record Fixture(Dictionary<string, string> Runtime, Dictionary<string, string> Cases);
}

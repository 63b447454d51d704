using Marvel.Core.Abstractions;

namespace Marvel.Core.Tests.Abstractions;

public class RuntimeFingerprintTests
{
    [Test]
    public void Differences_NameEveryDecidingEntryThatDiffers_AndIgnoreInformativeAndMissingOnes()
    {
        var a = new Dictionary<string, string>
        {
            ["marvelCore"] = "0.1", ["cpuKernelCapability"] = "avx512", ["mklCbwr"] = "auto", ["torchThreads"] = "1", ["processor"] = "X", ["libtorch"] = "2.10",
        };
        var b = new Dictionary<string, string>(a) { ["cpuKernelCapability"] = "avx2", ["mklCbwr"] = "AVX2", ["processor"] = "Y" };
        b.Remove("libtorch");

        RuntimeFingerprint.Differences(a, b).Should().Equal("cpuKernelCapability avx512 → avx2", "mklCbwr auto → AVX2");
        RuntimeFingerprint.Differences(a, a).Should().BeEmpty();
        RuntimeFingerprint.Differences(a, new Dictionary<string, string>(a) { ["torchThreads"] = "2" }).Should().Equal("torchThreads 1 → 2");
    }

    [Test]
    public void Describe_RecordsEveryDecidingEntry()
    {
        var fingerprint = RuntimeFingerprint.Describe();
        fingerprint.Should().ContainKeys(RuntimeFingerprint.DecidingKeys);
        fingerprint["mklCbwr"].Should().Be(string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("MKL_CBWR"))
            ? "auto" : Environment.GetEnvironmentVariable("MKL_CBWR")!.Trim().ToUpperInvariant());
    }
}

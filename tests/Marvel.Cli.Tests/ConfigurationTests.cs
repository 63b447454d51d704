using System.Text.Json.Nodes;
using Marvel.Cli.Configuration;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Lagrange;

namespace Marvel.Cli.Tests;

/// <summary>The configuration order: JSON file &lt; environment variables &lt; --set; and the CostLimit defaulting.</summary>
[TestFixture]
[NonParallelizable] // sets process environment variables
public sealed class ConfigurationTests
{
    private const string SeedVariable = "Marvel__Pipeline__Seed";
    private string _folder = "";
    private string _config = "";

    [SetUp]
    public void SetUp()
    {
        _folder = CliHarness.TempFolder();
        _config = Path.Combine(_folder, "run.json");
        File.WriteAllText(_config, """{ "Marvel": { "Pipeline": { "Seed": 1, "OnlineIterations": 7 } }, "Run": { "Offline": "BEAR-Lag" } }""");
        Environment.SetEnvironmentVariable(SeedVariable, null);
    }

    [TearDown]
    public void TearDown()
    {
        Environment.SetEnvironmentVariable(SeedVariable, null);
        Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void Load_FileOnly_UsesTheFile()
    {
        using var config = CliConfiguration.Load(_config, []);
        config.Pipeline.Seed.Should().Be(1UL);
        config.Pipeline.OnlineIterations.Should().Be(7);
        config.Run.Offline.Should().Be("BEAR-Lag");
    }

    [Test]
    public void Load_EnvironmentVariable_WinsOverTheFile()
    {
        Environment.SetEnvironmentVariable(SeedVariable, "2");
        using var config = CliConfiguration.Load(_config, []);
        config.Pipeline.Seed.Should().Be(2UL);
        config.Pipeline.OnlineIterations.Should().Be(7, "keys the environment does not set still come from the file");
    }

    [Test]
    public void Load_SetOverride_WinsOverEnvironmentAndFile()
    {
        Environment.SetEnvironmentVariable(SeedVariable, "2");
        using var config = CliConfiguration.Load(_config, ["Marvel:Pipeline:Seed=3", "Run:Offline=CPQ"]);
        config.Pipeline.Seed.Should().Be(3UL);
        config.Run.Offline.Should().Be("CPQ");
    }

    [Test]
    public void Load_LaterSetOfTheSameKey_Wins()
    {
        using var config = CliConfiguration.Load(null, ["Marvel:Pipeline:Seed=3", "Marvel:Pipeline:Seed=4"]);
        config.Pipeline.Seed.Should().Be(4UL);
    }

    [Test]
    public void Load_NoSources_GivesTheLibraryDefaults()
    {
        using var config = CliConfiguration.Load(null, []);
        config.Pipeline.TaskId.Should().Be("BallCircle");
        config.Run.Offline.Should().Be("CPQ");
        config.Run.Aligner.Should().Be("VPA");
        config.Run.Controller.Should().Be("aPID");
        config.Run.Online.Should().Be("SAC-Lag");
    }

    [Test]
    public void Load_PipelineCostLimit_BecomesTheDefaultOfControllersAndOfflineLearners()
    {
        using var config = CliConfiguration.Load(null, ["Marvel:Pipeline:CostLimit=35"]);
        config.Options<CpqOptions>().CostLimit.Should().Be(35);
        config.Options<AdaptivePidLagrangeOptions>().CostLimit.Should().Be(35);
        config.Options<DualAscentOptions>().CostLimit.Should().Be(35);
    }

    [Test]
    public void Load_ExplicitSectionCostLimit_WinsOverThePipelineOne()
    {
        using var config = CliConfiguration.Load(null, ["Marvel:Pipeline:CostLimit=20", "Marvel:Cpq:CostLimit=40"]);
        config.Options<CpqOptions>().CostLimit.Should().Be(40);
        config.Options<AdaptivePidLagrangeOptions>().CostLimit.Should().Be(20);
    }

    [Test]
    public void ToJson_HoldsTheResolvedValues_AndReadsBackToTheSameConfiguration()
    {
        Environment.SetEnvironmentVariable(SeedVariable, "2");
        using var config = CliConfiguration.Load(_config, ["Marvel:Cpq:ActorHiddenSizes:0=32", "Marvel:Cpq:ActorHiddenSizes:1=32"]);
        var resolved = Path.Combine(_folder, "resolved.json");
        config.WriteResolved(resolved);
        var json = JsonNode.Parse(File.ReadAllText(resolved))!;
        json["Marvel"]!["Pipeline"]!["Seed"]!.GetValue<string>().Should().Be("2");
        json["Marvel"]!["Cpq"]!["ActorHiddenSizes"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("32", "32");
        json["Run"]!["Offline"]!.GetValue<string>().Should().Be("BEAR-Lag");

        Environment.SetEnvironmentVariable(SeedVariable, null);
        using var again = CliConfiguration.Load(resolved, []);
        again.Pipeline.Seed.Should().Be(2UL);
        again.Options<CpqOptions>().ActorHiddenSizes.Should().Equal(32, 32);
    }

    [TestCase("Marvel:Pipeline:Seed=5", "Marvel:Pipeline:Seed", "5")]
    [TestCase("Run:Label=a=b", "Run:Label", "a=b")]
    [TestCase("Marvel:SacLag:ActorHiddenSizes:0=64", "Marvel:SacLag:ActorHiddenSizes:0", "64")]
    public void ParseSets_SplitsAtTheFirstEquals(string argument, string key, string value)
    {
        var pair = CliConfiguration.ParseSets([argument]).Single();
        pair.Key.Should().Be(key);
        pair.Value.Should().Be(value);
    }
}

using Marvel.Core.Data;
using Marvel.Core.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Tests.Hosting;

public class MarvelPipelineFactoryTests
{
    private static ServiceProvider Provider(string runDirectory, params (string Key, string Value)[] extra)
    {
        var pairs = new Dictionary<string, string?>
        {
            ["Marvel:Pipeline:TaskId"] = "BallRun",
            ["Marvel:Pipeline:CostLimit"] = "20",
            ["Marvel:Pipeline:Seed"] = "4",
            ["Marvel:Pipeline:OfflineSteps"] = "20",
            ["Marvel:Pipeline:OnlineIterations"] = "1",
            ["Marvel:Pipeline:EvalEvery"] = "1",
            ["Marvel:Pipeline:EvalEpisodes"] = "2",
            ["Marvel:Pipeline:EnvironmentCount"] = "2",
            ["Marvel:Pipeline:RunDirectory"] = runDirectory,
            ["Marvel:Cpq:ActorHiddenSizes:0"] = "16",
            ["Marvel:Cpq:CriticHiddenSizes:0"] = "16",
            ["Marvel:Cpq:VaeHiddenSize"] = "16",
            ["Marvel:Cpq:BatchSize"] = "32",
            ["Marvel:Cpq:CostLimit"] = "20",
            ["Marvel:ValuePreAlignment:Steps"] = "2",
            ["Marvel:ValuePreAlignment:BatchSize"] = "32",
            ["Marvel:SacLag:EpisodesPerIteration"] = "2",
            ["Marvel:SacLag:UpdatesPerIteration"] = "1",
            ["Marvel:SacLag:BatchSize"] = "32",
            ["Marvel:SacLag:MiniBatches"] = "1",
            ["Marvel:AdaptivePid:CostLimit"] = "20",
        };
        foreach (var (k, v) in extra) pairs[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(pairs).Build();
        var services = new ServiceCollection();
        services.AddMarvel(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    [Test]
    public void Create_FromConfiguredNames_RunsTheDefaultMarvelStack()
    {
        var dir = Path.Combine(Path.GetTempPath(), "marvel-factory-tests", Guid.NewGuid().ToString("N"));
        try
        {
            using var provider = Provider(dir);
            provider.GetRequiredService<IStartupValidator>().Validate();
            var pipeline = provider.GetRequiredService<MarvelPipelineFactory>().Create();
            var data = DatasetCollector.GenerateBuiltIn("BallRun", episodes: 10, seed: 2, environments: 2);
            var result = pipeline.Run(data);
            result.OfflineAlgorithm.Should().Be("CPQ");
            result.OnlineAlgorithm.Should().Be("SAC-Lag");
            result.OnlineIterations.Should().Be(1);
            File.Exists(Path.Combine(dir, "metrics", "online.csv")).Should().BeTrue();
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Create_UnknownName_ListsRegisteredOnes()
    {
        using var provider = Provider(Path.GetTempPath());
        var factory = provider.GetRequiredService<MarvelPipelineFactory>();
        factory.Invoking(f => f.Create(offline: "CQP")).Should().Throw<ArgumentException>().WithMessage("*'CQP'*BEAR-Lag*CPQ*");
        factory.Invoking(f => f.Create(options: new Marvel.Core.Pipeline.MarvelPipelineOptions { TaskId = "Nope" })).Should().Throw<ArgumentException>().WithMessage("*'Nope'*BallCircle*");
    }

    [Test]
    public void BadPipelineOption_FailsAtStart_NamingTheField()
    {
        using var provider = Provider(Path.GetTempPath(), ("Marvel:Pipeline:EvalEpisodes", "0"));
        FluentActions.Invoking(() => provider.GetRequiredService<IStartupValidator>().Validate())
            .Should().Throw<OptionsValidationException>().WithMessage("*EvalEpisodes*");
    }
}

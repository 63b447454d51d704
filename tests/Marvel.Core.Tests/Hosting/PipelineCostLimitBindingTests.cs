using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Offline.Cdt;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Hosting;
using Marvel.Core.Lagrange;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Tests.Hosting;

/// <summary>AddMarvel(configuration) with the cost limit set once, in Marvel:Pipeline, as the tool does.</summary>
public class PipelineCostLimitBindingTests
{
    private static ServiceProvider Provider(params (string Key, string Value)[] pairs)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();
        var services = new ServiceCollection();
        services.AddMarvel(configuration);
        return services.BuildServiceProvider();
    }

    [Test]
    public void PipelineCostLimitOnly_ReachesEveryOfflineLearnerAndController()
    {
        using var provider = Provider(("Marvel:Pipeline:CostLimit", "25"));
        provider.GetRequiredService<IOptions<CpqOptions>>().Value.CostLimit.Should().Be(25);
        provider.GetRequiredService<IOptionsMonitor<BcOptions>>().Get(MarvelComponentNames.BcSafe).CostLimit.Should().Be(25);
        provider.GetRequiredService<IOptions<CdtOptions>>().Value.CostLimit.Should().Be(25);
        provider.GetRequiredService<IOptions<AdaptivePidLagrangeOptions>>().Value.CostLimit.Should().Be(25);
        provider.GetRequiredService<IOptions<PidLagrangeOptions>>().Value.CostLimit.Should().Be(25);
        provider.GetRequiredService<IOptions<DualAscentOptions>>().Value.CostLimit.Should().Be(25);
    }

    [Test]
    public void PipelineCostLimitOnly_CreatesThePipelineWithoutAMismatch()
    {
        // Before: the controller stayed at its default 20 while the pipeline said 25, and Create threw.
        using var provider = Provider(("Marvel:Pipeline:CostLimit", "25"));
        var factory = provider.GetRequiredService<MarvelPipelineFactory>();
        var pipeline = factory.Create();   // CPQ → VPA → aPID → SAC-Lag from configuration
        pipeline.Options.CostLimit.Should().Be(25);
    }

    [Test]
    public void SectionsOwnCostLimit_WinsOverThePipelines()
    {
        using var provider = Provider(("Marvel:Pipeline:CostLimit", "25"), ("Marvel:Cpq:CostLimit", "10"));
        provider.GetRequiredService<IOptions<CpqOptions>>().Value.CostLimit.Should().Be(10);
        provider.GetRequiredService<IOptions<AdaptivePidLagrangeOptions>>().Value.CostLimit.Should().Be(25);
    }

    [Test]
    public void NoPipelineCostLimit_KeepsEachDefault()
    {
        using var provider = Provider(("Marvel:Cpq:BatchSize", "64"));
        provider.GetRequiredService<IOptions<CpqOptions>>().Value.CostLimit.Should().Be(new CpqOptions().CostLimit);
        provider.GetRequiredService<IOptions<PidLagrangeOptions>>().Value.CostLimit.Should().Be(new PidLagrangeOptions().CostLimit);
    }
}

using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Offline.COptiDice;
using Marvel.Core.Algorithms.Offline.Cdt;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Hosting;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;
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
    public void NoCostLimitAnywhere_EverySectionTakesThePipelinesDefault()
    {
        // Before: CPQ kept its own default 10 while the pipeline and the controllers said 20, so Create() trained CPQ at κ = 10 and
        // finetuned at κ = 20 without a word. Now the pipeline's CostLimit (default 20) is every section's default.
        using var provider = Provider(("Marvel:Cpq:BatchSize", "64"));
        double pipeline = new MarvelPipelineOptions().CostLimit;
        pipeline.Should().Be(20);
        provider.GetRequiredService<IOptions<CpqOptions>>().Value.CostLimit.Should().Be(pipeline);
        provider.GetRequiredService<IOptionsMonitor<BcOptions>>().Get(MarvelComponentNames.BcAll).CostLimit.Should().Be(pipeline);
        provider.GetRequiredService<IOptions<BearLagOptions>>().Value.CostLimit.Should().Be(pipeline);
        provider.GetRequiredService<IOptions<BcqLagOptions>>().Value.CostLimit.Should().Be(pipeline);
        provider.GetRequiredService<IOptions<COptiDiceOptions>>().Value.CostLimit.Should().Be(pipeline);
        provider.GetRequiredService<IOptions<PidLagrangeOptions>>().Value.CostLimit.Should().Be(pipeline);
    }

    [Test]
    public void WithoutConfiguration_DefaultsAgreeAndCreateSucceeds()
    {
        var services = new ServiceCollection();
        services.AddMarvel();
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IOptions<CpqOptions>>().Value.CostLimit.Should().Be(20);
        var pipeline = provider.GetRequiredService<MarvelPipelineFactory>().Create();
        pipeline.Options.CostLimit.Should().Be(20);
    }

    [Test]
    public void DisagreeingOfflineSection_IsRefusedAtCreate_NamingIt()
    {
        using var provider = Provider(("Marvel:Pipeline:CostLimit", "25"), ("Marvel:Cpq:CostLimit", "10"));
        var create = () => provider.GetRequiredService<MarvelPipelineFactory>().Create();
        create.Should().Throw<ArgumentException>()
            .WithMessage("*Marvel:Cpq:CostLimit (CpqOptions.CostLimit) = 10 disagrees with the run's CostLimit = 25*");
    }

    [Test]
    public void DisagreeingOfflineAndControllerSections_AreBothNamedInOneMessage()
    {
        using var provider = Provider(("Marvel:Pipeline:CostLimit", "25"), ("Marvel:BearLag:CostLimit", "10"), ("Marvel:Pid:CostLimit", "30"));
        var create = () => provider.GetRequiredService<MarvelPipelineFactory>().Create(offline: MarvelComponentNames.BearLag, controller: MarvelComponentNames.Pid);
        var message = create.Should().Throw<ArgumentException>().Which.Message;
        message.Should().Contain("Marvel:BearLag:CostLimit (BearLagOptions.CostLimit) = 10")
            .And.Contain("Marvel:Pid:CostLimit (PidLagrangeOptions.CostLimit) = 30").And.Contain("disagree with the run's CostLimit = 25");
    }

    [Test]
    public void DelegateAfterAddMarvel_WinsOverThePipelinesDefault_AndIsCheckedAtCreate()
    {
        var services = new ServiceCollection();
        services.AddMarvel().Configure<CpqOptions>(o => o.CostLimit = 12);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IOptions<CpqOptions>>().Value.CostLimit.Should().Be(12);
        var create = () => provider.GetRequiredService<MarvelPipelineFactory>().Create();
        create.Should().Throw<ArgumentException>().WithMessage("*CpqOptions.CostLimit) = 12 disagrees*");
    }
}

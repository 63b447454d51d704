using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using Marvel.Core.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Tests.Hosting;

/// <summary>
/// Offline → align → online wired by hand from components resolved by name (the pipeline orchestrator will do this wiring):
/// a user environment, a user controller and a user aligner, with the built-in CPQ and SAC-Lag at tiny sizes.
/// </summary>
public class MarvelHostingEndToEndTests
{
    [Test]
    public void CustomComponents_ThroughTheCatalog_RunOfflineAlignOnline()
    {
        var services = new ServiceCollection();
        services.AddMarvel()
            .AddEnvironment("LineReach", () => new LineReachEnvironment())
            .AddLagrangeController("BangBang", _ => new BangBangController { CostLimit = 2 })
            .AddValueAligner<CountingAligner>("Counting")
            .Configure<CpqOptions>(o =>
            {
                o.CostLimit = 2; o.ActorHiddenSizes = [16, 16]; o.CriticHiddenSizes = [16, 16]; o.VaeHiddenSize = 16; o.BatchSize = 64;
            })
            .Configure<SacLagOptions>(o =>
            {
                o.ActorHiddenSizes = [16, 16]; o.CriticHiddenSizes = [16, 16]; o.CostCriticHiddenSizes = [16, 16]; o.CostCriticCount = 2;
                o.BatchSize = 32; o.MiniBatches = 1; o.EpisodesPerIteration = 1; o.UpdatesPerIteration = 2; o.ReplayCapacity = 2000;
            });
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        provider.GetRequiredService<IStartupValidator>().Validate();
        var components = provider.GetRequiredService<IMarvelComponents>();

        // Dataset: a slow careful driver and a fast noisy one on the user task.
        using var env = components.CreateVectorEnvironment("LineReach", 2);
        var dataset = DatasetCollector.Collect(env, [
            new CollectionStage(new LineReachPolicy(speed: 0.3, noise: 0.3, seed: 1), Episodes: 4),
            new CollectionStage(new LineReachPolicy(speed: 1.0, noise: 0.5, seed: 2), Episodes: 4),
        ], seed: 11);
        var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, new Marvel.Core.Abstractions.Seeding.SeedStreams(5), env.Spec.MaxEpisodeSteps, env.Spec.Id);

        // Offline: CPQ for 20 steps.
        using var cpq = components.CreateOfflineLearner("CPQ", context);
        cpq.Attach(dataset);
        var offlineMetrics = cpq.Train(20);
        var artifact = cpq.ExportHandover();

        // Align with the user aligner, then finetune with SAC-Lag under the user controller.
        var aligner = (CountingAligner)components.CreateAligner("Counting");
        var aligned = aligner.Align(artifact, dataset, context);
        using var sac = components.CreateOnlineLearner("SAC-Lag", context with { Seeds = context.Seeds.Fork("online") });
        sac.InitializeFrom(aligned.Artifact);
        var controller = (BangBangController)components.CreateController("BangBang");
        using var online = new VectorEnvironment(() => components.CreateEnvironment("LineReach"), 1);
        var first = sac.RunIteration(online, controller);
        var second = sac.RunIteration(online, controller);

        dataset.Episodes.Should().HaveCount(8);
        cpq.Steps.Should().Be(20);
        offlineMetrics.Values.Should().OnlyContain(v => double.IsFinite(v));
        aligner.Calls.Should().Be(1);
        first.Episodes.Should().HaveCount(1);
        second.Episodes.Should().HaveCount(1);
        controller.Updates.Should().Be(2, "each iteration finishes one episode and feeds its cost to the controller");
        second.Lambda.Should().Be(controller.Lambda);
        second.Lambda.Should().BeOneOf(0, BangBangController.High);
        second.Metrics.Values.Should().OnlyContain(v => double.IsFinite(v));
    }

    [Test]
    public void EnvironmentChecker_AcceptsTheUserTask()
    {
        using var env = new LineReachEnvironment();
        var report = EnvironmentChecker.Check(env);
        report.Errors.Should().BeEmpty();
    }
}

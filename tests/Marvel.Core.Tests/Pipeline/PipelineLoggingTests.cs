using System.Collections.Concurrent;
using Marvel.Core.Abstractions;
using Marvel.Core.Alignment;
using Marvel.Core.Data;
using Marvel.Core.Hosting;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Marvel.Core.Tests.Pipeline;

/// <summary>Issue 22 §3: the pipeline logs through Microsoft.Extensions.Logging, wired by <c>AddMarvel</c> from the host's logger factory.</summary>
public class PipelineLoggingTests
{
    private readonly RunDirectories _directories = new();

    [TearDown]
    public void DeleteRunDirectories() => _directories.DeleteAll();

    private string NewRunDirectory()
    {
        var dir = _directories.New();
        return dir;
    }

    [Test]
    public void AddMarvel_WithHostLogging_ThePipelineLogsStagesEvaluationsAndCompletion()
    {
        var capture = new CapturingLoggerProvider();
        var dir = NewRunDirectory();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Marvel:Pipeline:TaskId"] = "BallRun", ["Marvel:Pipeline:CostLimit"] = "20", ["Marvel:Pipeline:OfflineSteps"] = "5",
            ["Marvel:Pipeline:OnlineIterations"] = "1", ["Marvel:Pipeline:EvalEvery"] = "1", ["Marvel:Pipeline:EvalEpisodes"] = "1",
            ["Marvel:Pipeline:EnvironmentCount"] = "1", ["Marvel:Pipeline:RunDirectory"] = dir,
            ["Marvel:Cpq:ActorHiddenSizes:0"] = "16", ["Marvel:Cpq:CriticHiddenSizes:0"] = "16", ["Marvel:Cpq:VaeHiddenSize"] = "16", ["Marvel:Cpq:BatchSize"] = "32",
            ["Marvel:ValuePreAlignment:Steps"] = "2", ["Marvel:ValuePreAlignment:BatchSize"] = "32",
            ["Marvel:SacLag:EpisodesPerIteration"] = "1", ["Marvel:SacLag:UpdatesPerIteration"] = "1", ["Marvel:SacLag:BatchSize"] = "32", ["Marvel:SacLag:MiniBatches"] = "1",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        services.AddMarvel(configuration);
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        var pipeline = provider.GetRequiredService<MarvelPipelineFactory>().Create();
        pipeline.Run(DatasetCollector.GenerateBuiltIn("BallRun", episodes: 10, seed: 2, environments: 2));

        pipeline.Logger.Should().NotBeSameAs(NullLogger.Instance);
        var lines = capture.Entries.Where(e => e.Category == typeof(MarvelPipeline).FullName).Select(e => e.Message).ToArray();
        lines.Should().ContainMatch("Marvel pipeline: new run in *BallRun*cost limit 20*");
        foreach (var stage in new[] { "offline", "alignment", "online" })
        {
            lines.Should().ContainMatch($"Stage {stage} started.");
            lines.Should().ContainMatch($"Stage {stage} completed in * s.");
        }
        lines.Should().ContainMatch("Evaluation 0 at online iteration 0: mean return *, mean cost *");
        lines.Should().ContainMatch("Evaluation 1 at online iteration 1: *");
        lines.Should().ContainMatch("Marvel pipeline completed: final mean return *");
        capture.Entries.Should().NotContain(e => e.Level >= LogLevel.Warning, "a run as configured has nothing to warn about");
    }

    [Test]
    public void AddMarvel_SacLagScaleAndSizesSetInConfiguration_WarnThatTheArtifactsAreUsed()
    {
        // CPQ's artifact carries its own scales (reward 0.1, cost 1, the VaeCriticLearnerOptions defaults); Marvel:SacLag:CostScale = 0.1
        // differs from both SAC-Lag's default (1) and the artifact's (1), so the setting has no effect and the run must say so, once; the same
        // for ActorHiddenSizes [32, 32] against the default [256, 256] and CPQ's [16].
        var capture = new CapturingLoggerProvider();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Marvel:Pipeline:TaskId"] = "BallRun", ["Marvel:Pipeline:CostLimit"] = "20", ["Marvel:Pipeline:OfflineSteps"] = "2",
            ["Marvel:Pipeline:OnlineIterations"] = "1", ["Marvel:Pipeline:EvalEvery"] = "1", ["Marvel:Pipeline:EvalEpisodes"] = "1",
            ["Marvel:Pipeline:EnvironmentCount"] = "1", ["Marvel:Pipeline:RunDirectory"] = NewRunDirectory(),
            ["Marvel:Cpq:ActorHiddenSizes:0"] = "16", ["Marvel:Cpq:CriticHiddenSizes:0"] = "16", ["Marvel:Cpq:VaeHiddenSize"] = "16", ["Marvel:Cpq:BatchSize"] = "32",
            ["Marvel:ValuePreAlignment:Steps"] = "2", ["Marvel:ValuePreAlignment:BatchSize"] = "32",
            ["Marvel:SacLag:EpisodesPerIteration"] = "1", ["Marvel:SacLag:UpdatesPerIteration"] = "1", ["Marvel:SacLag:BatchSize"] = "32", ["Marvel:SacLag:MiniBatches"] = "1",
            ["Marvel:SacLag:CostScale"] = "0.1", ["Marvel:SacLag:ActorHiddenSizes:0"] = "32", ["Marvel:SacLag:ActorHiddenSizes:1"] = "32",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        services.AddMarvel(configuration);
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        provider.GetRequiredService<MarvelPipelineFactory>().Create().Run(DatasetCollector.GenerateBuiltIn("BallRun", episodes: 10, seed: 2, environments: 2));

        capture.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).Should().Equal(
            "Marvel:SacLag:CostScale = 0.1 is not used: the online stage takes the handover artifact's CostScale (1, from CPQ), because the "
            + "handed-over critics were trained at it. Set the offline learner's CostScale instead (e.g. Marvel:BearLag:CostScale or Marvel:Cpq:CostScale).",
            "Marvel:SacLag:ActorHiddenSizes = [32, 32] is not used: the online stage takes the handover artifact's sizes ([16], from CPQ), because "
            + "it starts from the artifact's networks. Set the offline learner's sizes instead.");
    }

    [Test]
    public void MarvelPipelineFactory_WithoutHostLogging_GivesPipelinesTheNullLogger()
    {
        var services = new ServiceCollection();
        services.AddMarvel(new ConfigurationBuilder().Build());
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<MarvelPipelineFactory>().Create().Logger.Should().BeSameAs(NullLogger.Instance);
    }

    [Test]
    public void Run_FromAnArtifactTrainedForAnotherCostLimit_WarnsNamingBothLimits()
    {
        var capture = new CapturingLoggerProvider();
        var o = new MarvelPipelineOptions
        {
            TaskId = PipelineTestData.Task, CostLimit = 25, OnlineIterations = 1, EvalEvery = 1, EvalEpisodes = 1, EnvironmentCount = 1, RunDirectory = NewRunDirectory(),
        };
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 25 }),
            (context, _) => new CheckpointableFakeLearner(context)) { Logger = capture.CreateLogger("test") };

        pipeline.Run(PipelineTestData.Dataset);

        capture.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning).Which.Message
            .Should().Match("The handover artifact from CPQ was trained with cost limit 20, but the pipeline's CostLimit is 25*");
    }

    [Test]
    public void Run_OnATaskWithoutAScoreReference_WarnsOnce_ThatNormalizedScoresAreNaN()
    {
        var capture = new CapturingLoggerProvider();
        var registry = new Marvel.Core.Environments.EnvironmentRegistry();
        registry.Register("MyBallCircle", () => new RenamedTask(Marvel.Core.Environments.EnvironmentRegistry.Default.Make(PipelineTestData.Task), "MyBallCircle"));
        var o = new MarvelPipelineOptions
        {
            TaskId = "MyBallCircle", CostLimit = 20, OnlineIterations = 2, EvalEvery = 1, EvalEpisodes = 1, EnvironmentCount = 1, RunDirectory = NewRunDirectory(),
        };
        var pipeline = new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => new CheckpointableFakeLearner(context), registry) { Logger = capture.CreateLogger("test") };

        var result = pipeline.Run(PipelineTestData.Dataset);

        result.FinalEvaluation.Result.NormalizedReward.Should().Be(double.NaN);
        var warning = capture.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning, "three evaluations, one warning").Which;
        warning.Message.Should().Be("Task MyBallCircle has no score reference: normalized reward and cost are NaN; raw returns and costs are reported.");
        warning.EventId.Name.Should().Be("NoScoreReference", "the tool filters this event by name (it says the same with the result)");
    }

    [Test]
    public void Run_Diverging_LogsAnErrorNamingTheQuantity_AndCancelled_LogsWhereItResumes()
    {
        var capture = new CapturingLoggerProvider();
        MarvelPipeline Pipeline(MarvelPipelineOptions o, int explodeAt) => new(o, PipelineTestData.Artifact(), new NoAlignment(),
            new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }), (context, _) => new CheckpointableFakeLearner(context) { ExplodeRewardQAtIteration = explodeAt })
        {
            Logger = capture.CreateLogger("test"),
        };
        var o = new MarvelPipelineOptions
        {
            TaskId = PipelineTestData.Task, CostLimit = 20, OnlineIterations = 3, EvalEvery = 10, EvalEpisodes = 1, EnvironmentCount = 1, RunDirectory = NewRunDirectory(),
            CheckpointEvery = 1,
        };

        Pipeline(o, explodeAt: 2).Invoking(p => p.Run(PipelineTestData.Dataset)).Should().Throw<TrainingDivergedException>();
        capture.Entries.Should().ContainSingle(e => e.Level == LogLevel.Error).Which.Message.Should().Match("Stage online diverged: *reward_q*");

        using var cts = new CancellationTokenSource();
        var cancelAfter1 = new SyncProgress(p => { if (p.Stage == MarvelPipelineStages.Online && p.Step == 1) cts.Cancel(); });
        var fresh = o with { RunDirectory = NewRunDirectory() };
        Pipeline(fresh, explodeAt: -1).Invoking(p => p.Run(PipelineTestData.Dataset, cancelAfter1, cts.Token)).Should().Throw<OperationCanceledException>();
        capture.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).Should()
            .ContainSingle(m => m.StartsWith("Run cancelled in stage online. A checkpoint of online iteration 1", StringComparison.Ordinal));
    }
}

/// <summary>BallCircle under another id, so no DSRL score reference is known for it.</summary>
internal sealed class RenamedTask(IEnvironment inner, string id) : Marvel.Core.Environments.Wrappers.EnvironmentWrapper(inner)
{
    public override EnvironmentSpec Spec => Inner.Spec with { Id = id };
}

/// <summary>A logger provider that keeps every entry, for assertions.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message);

    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => _entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception)));
    }
}

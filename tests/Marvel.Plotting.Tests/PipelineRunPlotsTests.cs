using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Alignment;
using Marvel.Core.Data;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;

namespace Marvel.Plotting.Tests;

/// <summary>The package as a library user meets it: plots of a folder that <see cref="MarvelPipeline"/> just wrote.</summary>
[TestFixture]
public sealed class PipelineRunPlotsTests
{
    [Test]
    public void Write_AfterAMarvelPipelineRun_DrawsReturnCostAndLambda_AndMissingFoldersAreNamed()
    {
        var dir = TempFolder.Create();
        try
        {
            var options = new MarvelPipelineOptions
            {
                TaskId = "BallCircle", CostLimit = 20, OfflineSteps = 5, OnlineIterations = 2, EvalEvery = 1, EvalEpisodes = 1, EnvironmentCount = 1, RunDirectory = dir,
            };
            var pipeline = new MarvelPipeline(options,
                context => new CpqLearner(context, new CpqOptions { CostLimit = 20, ActorHiddenSizes = [16], CriticHiddenSizes = [16], VaeHiddenSize = 16, BatchSize = 32 }),
                new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
                SacLagHandover.Factory(new SacLagOptions { EpisodesPerIteration = 1, UpdatesPerIteration = 1, BatchSize = 32, MiniBatches = 1 }));
            var result = pipeline.Run(DatasetCollector.GenerateBuiltIn("BallCircle", episodes: 10, seed: 1, environments: 2));

            var files = RunPlots.Write(result.RunDirectory);

            files.Select(Path.GetFileName).Should().Equal("return.png", "cost.png", "lambda.png");
            RunPlots.Describe(result.RunDirectory, files).Should().EndWith("plots/return.png, plots/cost.png, plots/lambda.png.");
            FluentActions.Invoking(() => RunPlots.Write(Path.Combine(dir, "nope"))).Should().Throw<DirectoryNotFoundException>().WithMessage("*nope*");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

using Marvel.Core.Alignment;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;

namespace Marvel.Core.Tests.Pipeline;

/// <summary>result.json names its units: the aligner's count is gradient steps, not ValuePreAlignmentOptions.Steps (calls).</summary>
public class ResultFileUnitTests
{
    [Test]
    public void ResultJson_NamesAlignmentGradientSteps()
    {
        var dir = PipelineTestData.TempRunDirectory();
        try
        {
            var o = new MarvelPipelineOptions
            {
                TaskId = PipelineTestData.Task, CostLimit = 20, Seed = 3, OnlineIterations = 1, EvalEvery = 5, EvalEpisodes = 1, EnvironmentCount = 2,
                RunDirectory = dir,
            };
            new MarvelPipeline(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
                (context, _) => new FakeOnlineLearner(context)).Run(PipelineTestData.Dataset);
            var text = File.ReadAllText(Path.Combine(dir, "result.json"));
            text.Should().Contain("\"alignment_gradient_steps\"").And.NotContain("\"alignment_steps\"");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}

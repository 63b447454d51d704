using Marvel.Core.Alignment;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;

namespace Marvel.Core.Tests.Pipeline;

/// <summary><see cref="MarvelPipelineOptions.TorchThreads"/>: the one-thread default is applied where the pipeline starts training.</summary>
[NonParallelizable]
public class TorchThreadsTests
{
    private string _dir = "";
    private int _before;

    [SetUp]
    public void SetUp()
    {
        _dir = PipelineTestData.TempRunDirectory();
        _before = TorchSharp.torch.get_num_threads();
    }

    [TearDown]
    public void TearDown()
    {
        TorchSharp.torch.set_num_threads(_before);
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private MarvelPipeline Pipeline(MarvelPipelineOptions o) =>
        new(o, PipelineTestData.Artifact(), new NoAlignment(), new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20 }),
            (context, _) => new FakeOnlineLearner(context));

    private MarvelPipelineOptions Options() => new()
    {
        TaskId = PipelineTestData.Task, CostLimit = 20, Seed = 3, OnlineIterations = 1, EvalEvery = 5, EvalEpisodes = 1, EnvironmentCount = 2,
        RunDirectory = _dir,
    };

    [Test]
    public void Default_IsOneThread() => new MarvelPipelineOptions().TorchThreads.Should().Be(1);

    [Test]
    public void Run_Default_SetsLibtorchToOneThread()
    {
        TorchSharp.torch.set_num_threads(2);
        Pipeline(Options()).Run(PipelineTestData.Dataset);
        TorchSharp.torch.get_num_threads().Should().Be(1);
    }

    [Test]
    public void Run_Zero_LeavesLibtorchsSetting()
    {
        TorchSharp.torch.set_num_threads(2);
        Pipeline(Options() with { TorchThreads = 0 }).Run(PipelineTestData.Dataset);
        TorchSharp.torch.get_num_threads().Should().Be(2);
    }

    [Test]
    public void Validate_NegativeTorchThreads_NamesTheField()
    {
        var result = new MarvelPipelineOptionsValidator().Validate(null, new MarvelPipelineOptions { TorchThreads = -1 });
        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("TorchThreads").And.Contain("got -1");
    }
}

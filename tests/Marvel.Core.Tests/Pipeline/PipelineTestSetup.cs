namespace Marvel.Core.Tests.Pipeline;

/// <summary>Tiny networks gain nothing from intra-op threads; run the pipeline tests on one torch thread.</summary>
[SetUpFixture]
public class PipelineTestSetup
{
    private int _previousThreads;

    [OneTimeSetUp]
    public void OneThread()
    {
        _previousThreads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
    }

    [OneTimeTearDown]
    public void Restore() => TorchSharp.torch.set_num_threads(_previousThreads);
}

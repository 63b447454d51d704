namespace Marvel.Core.Tests.Hosting;

/// <summary>Tiny networks gain nothing from intra-op threads on this small machine; run the hosting tests on one torch thread.</summary>
[SetUpFixture]
public class HostingTestSetup
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

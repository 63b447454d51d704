namespace Marvel.Core.Tests.Algorithms.Online;

/// <summary>
/// Tiny networks gain nothing from intra-op parallelism, and on a loaded machine libtorch's worker threads spin and
/// slow each update tenfold; run this namespace's tests on one torch thread.
/// </summary>
[SetUpFixture]
public class OnlineTestSetup
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

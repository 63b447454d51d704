namespace Marvel.Core.Tests.Algorithms.Offline;

/// <summary>Learner tests run tiny networks: one intra-op thread is faster and makes timings independent of the machine's load.</summary>
[SetUpFixture]
public class OfflineTestSetup
{
    [OneTimeSetUp]
    public void SingleThread() => TorchSharp.torch.set_num_threads(1);
}

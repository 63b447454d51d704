using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Data.Dsrl;

namespace Marvel.Cli.Tests;

/// <summary>Bad inputs are bad usage (exit 2, one message) and are found before the run folder is made.</summary>
[TestFixture]
public sealed class InputValidationTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private string P(string name) => Path.Combine(_folder, name);

    [Test]
    public void CorruptDataset_Exit2_AndLeavesNoRunFolder()
    {
        File.WriteAllText(P("bad.hdf5"), "not an HDF5 file");
        var outcome = CliHarness.Run("run", "--set", $"Run:Dataset={P("bad.hdf5")}", "--run-dir", P("run"));
        outcome.ExitCode.Should().Be(2, outcome.All);
        outcome.Error.Should().Contain($"Run:Dataset '{P("bad.hdf5")}'");
        Directory.Exists(P("run")).Should().BeFalse("a corrupt dataset is found before the run folder is made");
    }

    [Test]
    public void DatasetOfAnotherShape_Exit2_NamesBothShapes_AndLeavesNoRunFolder()
    {
        // Two 1-step episodes with 3 observations and 1 action; BallCircle has 8 and 2.
        var data = new OfflineDataset(3, 1, new float[6], new float[2], new float[2], new float[2], new float[6], [true, true], [false, false], "tiny");
        DsrlFile.Write(data, P("small.hdf5"));
        var outcome = CliHarness.Run("run", "--set", $"Run:Dataset={P("small.hdf5")}", "--run-dir", P("run"));
        outcome.ExitCode.Should().Be(2, outcome.All);
        outcome.Error.Should().Contain("observation size 3 and action size 1, but task 'BallCircle' has 8 and 2");
        Directory.Exists(P("run")).Should().BeFalse();
    }

    [Test]
    public void CudaDeviceWithoutABackend_Exit2_BeforeAnythingRuns()
    {
        // The test host references TorchSharp-cpu only, so CUDA is never usable here.
        var outcome = CliHarness.Run("run", "--set", "Marvel:Pipeline:Device=cuda", "--run-dir", P("run"));
        outcome.ExitCode.Should().Be(2, outcome.All);
        outcome.Error.Should().Contain("Marvel:Pipeline:Device is 'cuda'").And.Contain("Marvel:Pipeline:Device=cpu");
        Directory.Exists(P("run")).Should().BeFalse();
    }
}

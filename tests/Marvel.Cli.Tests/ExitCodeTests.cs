using System.Runtime.InteropServices;
using Marvel.Cli.Commands;
using Marvel.Core.Abstractions;
using Microsoft.Extensions.Options;

namespace Marvel.Cli.Tests;

/// <summary>
/// Issue 22 §4: every exception type a command can meet maps to a documented exit code (docs/cli.md, "Exit codes") and one line on
/// standard error, with a stack trace only for an unexpected one.
/// </summary>
[TestFixture]
public sealed class ExitCodeTests
{
    public static IEnumerable<TestCaseData> MappedExceptions()
    {
        TestCaseData Row(Exception e, int code, string message) => new TestCaseData(e, code, message).SetArgDisplayNames(e.GetType().Name + (e.InnerException is null ? "" : "+" + e.InnerException.GetType().Name));
        yield return Row(new UsageException("Run:Threads must be >= 1, got 0."), ExitCodes.BadUsage, "error: Run:Threads must be >= 1, got 0.");
        yield return Row(new RunFailedException("run 'r' was cancelled in stage 'offline'.", new OperationCanceledException()), ExitCodes.RunFailed,
            "cancelled: run 'r' was cancelled in stage 'offline'.");
        yield return Row(new RunFailedException("run 'r' diverged: x."), ExitCodes.RunFailed, "run failed: run 'r' diverged: x.");
        yield return Row(new OperationCanceledException(), ExitCodes.RunFailed, "cancelled; run the same command to resume.");
        yield return Row(new TrainingDivergedException("offline/CPQ", "cost_critic_loss", 12, double.NaN), ExitCodes.RunFailed, "run failed: diverged: *cost_critic_loss*12*");
        yield return Row(new OptionsValidationException("Marvel:SacLag", typeof(object), ["Gamma: must be in (0, 1), got 2."]), ExitCodes.BadUsage,
            "error: bad configuration: *Gamma: must be in (0, 1), got 2.*");
        yield return Row(new TorchNativeLibraryException("libtorch could not be loaded: libgomp missing.", new DllNotFoundException()), ExitCodes.DeviceError,
            "error: native library: libtorch could not be loaded: libgomp missing.");
        yield return Row(new DllNotFoundException("LibTorchSharp not found"), ExitCodes.DeviceError, "error: native library: LibTorchSharp not found*install-prerequisites*");
        yield return Row(new ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB"), ExitCodes.DeviceError, "error: libtorch: CUDA out of memory*");
        yield return Row(new OutOfMemoryException("Array dimensions exceeded supported range."), ExitCodes.DeviceError, "error: out of memory: *smaller*");
        yield return Row(new FileNotFoundException("Could not find file '/data/x.hdf5'."), ExitCodes.BadUsage, "error: Could not find file '/data/x.hdf5'.");
        yield return Row(new DirectoryNotFoundException("Could not find a part of the path '/nope/run'."), ExitCodes.BadUsage, "error: Could not find a part of the path '/nope/run'.");
        yield return Row(new InvalidDataException("DSRL file 'a.hdf5': dataset 'costs' has 9 rows but 'observations' has 10."), ExitCodes.BadUsage,
            "error: bad input: DSRL file 'a.hdf5': dataset 'costs' has 9 rows*");
        yield return Row(new NotSupportedException("ONNX export: the CDT actor is a transformer; export a squashed-Gaussian or deterministic actor."), ExitCodes.BadUsage,
            "error: not supported: ONNX export: the CDT actor*");
        yield return Row(new ArgumentException("Marvel pipeline: task 'Nope' is not registered. Known tasks: BallCircle."), ExitCodes.BadUsage,
            "error: Marvel pipeline: task 'Nope' is not registered*");
        yield return Row(new UnauthorizedAccessException("Access to the path '/runs/ro/options.json' is denied."), ExitCodes.IoError,
            "error: no permission: Access to the path '/runs/ro/options.json' is denied.*--run-dir*");
        yield return Row(new IOException("No space left on device : '/runs/a/metrics/online.csv'"), ExitCodes.IoError, "error: I/O: No space left on device*writable folder*");
        yield return Row(new AggregateException(new InvalidDataException("manifest.json is missing")), ExitCodes.BadUsage, "error: bad input: manifest.json is missing");
        yield return Row(new OptionsValidationException("x", typeof(object), ["A: bad.", "B: bad."]), ExitCodes.BadUsage, "error: bad configuration: A: bad.; B: bad.");
    }

    [TestCaseSource(nameof(MappedExceptions))]
    public void Describe_MapsTheExceptionToItsExitCode_AndOneLineWithoutAStackTrace(Exception exception, int code, string message)
    {
        var outcome = CliErrors.Describe(exception);

        outcome.ExitCode.Should().Be(code);
        outcome.Message.Should().Match(message);
        outcome.Message.Should().NotContain("\n");
        outcome.StackTrace.Should().BeFalse();
        var error = new StringWriter();
        CliErrors.Report(exception, error).Should().Be(code);
        error.ToString().TrimEnd().Should().Be(outcome.Message, "bad usage and known failures print their one line only");
    }

    [Test]
    public void Describe_AnUnexpectedException_IsAnInternalError_WithItsStackTrace()
    {
        Exception thrown;
        try { throw new NullReferenceException("boom"); } catch (Exception e) { thrown = e; }

        var error = new StringWriter();
        CliErrors.Report(thrown, error).Should().Be(ExitCodes.InternalError);

        error.ToString().Should().StartWith("internal error: System.NullReferenceException: boom").And.Contain("   at ");
    }

    [TestCase(ExitCodes.Success, false)]
    [TestCase(ExitCodes.RunFailed, false)]
    [TestCase(ExitCodes.BadUsage, false)]
    [TestCase(ExitCodes.IoError, false)]
    [TestCase(ExitCodes.DeviceError, false)]
    [TestCase(ExitCodes.InternalError, true)]
    [TestCase(134, true)]
    public void Sweep_RetriesOnlyCrashes_NotTheDocumentedFailures(int code, bool retried) => SweepCommand.IsCrash(code).Should().Be(retried);

    [Test]
    public void Run_IntoARunFolderThatIsAFile_Exits3_WithOneLineNamingThePath()
    {
        var folder = CliHarness.TempFolder();
        try
        {
            var path = Path.Combine(folder, "run");
            File.WriteAllText(path, "not a folder");
            var outcome = CliHarness.Run("run", "--set", "Run:DatasetEpisodes=10", "--set", "Marvel:Pipeline:OfflineSteps=1", "--run-dir", path, "--quiet");

            outcome.ExitCode.Should().Be(ExitCodes.IoError, outcome.All);
            outcome.Error.Should().StartWith("error: I/O: ").And.Contain(path).And.NotContain("   at ");
            outcome.Error.Trim().Split('\n').Should().HaveCount(1);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Help_ListsEveryExitCode()
    {
        var help = CliHarness.Run("--help");
        help.Out.Should().Contain("0 success").And.Contain("1 run failed").And.Contain("2 bad usage").And.Contain("3 I/O error").And.Contain("4 native library or device error")
            .And.Contain("70 internal error");
    }
}

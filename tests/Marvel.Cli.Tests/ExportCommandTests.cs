using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Offline.Cdt;
using Marvel.Core.Environments.Tasks;

namespace Marvel.Cli.Tests;

/// <summary><c>marvel export --onnx</c>, and <c>evaluate</c> on actors other than squashed-Gaussian ones.</summary>
[TestFixture]
public sealed class ExportCommandTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp() => _folder = CliHarness.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private string P(string name) => Path.Combine(_folder, name);

    private static LearnerContext BallCircleContext()
    {
        using var env = new BallCircle();
        return new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(1), env.Spec.MaxEpisodeSteps, "BallCircle");
    }

    private string SaveBcArtifact()
    {
        using var learner = new BcLearner(BallCircleContext(), new BcOptions { HiddenSizes = [8] });
        learner.ExportHandover().Save(P("bc"));
        return P("bc");
    }

    [Test]
    public void Export_BcArtifact_WritesTheOnnxFileAndNamesItsInputAndOutput()
    {
        var outcome = CliHarness.Run("export", "--artifact", SaveBcArtifact(), "--onnx", P("out/policy.onnx"));
        outcome.ExitCode.Should().Be(0, outcome.All);
        File.Exists(P("out/policy.onnx")).Should().BeTrue();
        new FileInfo(P("out/policy.onnx")).Length.Should().BeGreaterThan(100);
        outcome.Out.Should().Contain("BC-All actor").And.Contain("input 'observation' [batch, 8]").And.Contain("output 'action' [batch, 2]");
        outcome.Error.Should().BeEmpty();
    }

    [Test]
    public void Export_CdtArtifact_Exit2_SaysItsActorDoesNotExport()
    {
        using (var learner = new CdtLearner(BallCircleContext(), new CdtOptions { EmbeddingSize = 8, Layers = 1, Heads = 1, SequenceLength = 2 }))
            learner.ExportHandover().Save(P("cdt"));
        var outcome = CliHarness.Run("export", "--artifact", P("cdt"), "--onnx", P("cdt.onnx"));
        outcome.ExitCode.Should().Be(2, outcome.All);
        outcome.Error.Should().Contain("'CdtModel'").And.Contain("cannot be loaded or exported");
        File.Exists(P("cdt.onnx")).Should().BeFalse();
    }

    [Test]
    public void Export_MissingArtifact_Exit2() =>
        CliHarness.Run("export", "--artifact", P("none"), "--onnx", P("x.onnx")).ExitCode.Should().Be(2);

    [Test]
    public void Export_UnknownTask_Exit2_ListsTheRegisteredTasks()
    {
        var outcome = CliHarness.Run("export", "--artifact", SaveBcArtifact(), "--onnx", P("x.onnx"), "--task", "Nowhere");
        outcome.ExitCode.Should().Be(2, outcome.All);
        outcome.Error.Should().Contain("'Nowhere' is not a registered task").And.Contain("BallCircle");
    }

    [Test]
    public void Evaluate_BcArtifact_RunsItsDeterministicActor()
    {
        // Before the public inference policy, evaluate rebuilt a SAC-Lag learner and refused every actor that is not squashed-Gaussian.
        var outcome = CliHarness.Run("evaluate", "--artifact", SaveBcArtifact(), "--episodes", "1");
        outcome.ExitCode.Should().Be(0, outcome.All);
        outcome.Out.Should().Contain("normalized reward");
    }
}

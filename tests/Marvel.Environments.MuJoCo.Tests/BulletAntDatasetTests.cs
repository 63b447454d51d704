using Marvel.Core.Data;
using Marvel.Core.Environments;
using Marvel.Environments.MuJoCo.Policies;

namespace Marvel.Environments.MuJoCo.Tests;

/// <summary>The built-in datasets of AntRun and AntCircle: the gait's scripted sweep, registered with the tasks.</summary>
public sealed class BulletAntDatasetTests
{
    [Test]
    public void RegisterBulletAntTasks_RegistersASweepPerTask()
    {
        var registry = new EnvironmentRegistry().RegisterBulletAntTasks();
        registry.TryGetScriptedSweep("AntRun", out var run).Should().BeTrue();
        registry.TryGetScriptedSweep("AntCircle", out var circle).Should().BeTrue();
        run!.PolicyAt(0).ObservationSize.Should().Be(33);
        circle!.PolicyAt(1).ObservationSize.Should().Be(34);
    }

    [Test]
    public void GenerateBuiltIn_AntRun_SpansSafeToCostly_AndOneSeedDrivesIt()
    {
        var registry = new EnvironmentRegistry().RegisterBulletAntTasks();
        var data = DatasetCollector.GenerateBuiltIn("OfflineAntRun-v0", episodes: 30, seed: 1, environments: 4, registry: registry);
        var again = DatasetCollector.GenerateBuiltIn("AntRun", episodes: 30, seed: 1, environments: 4, registry: registry);
        var e = data.Episodes;
        TestContext.Out.WriteLine($"AntRun: return {e.Min(x => x.Return):F1}..{e.Max(x => x.Return):F1}, cost {e.Min(x => x.Cost)}..{e.Max(x => x.Cost)}");
        e.Should().HaveCount(30);
        data.ObservationSize.Should().Be(33);
        data.ActionSize.Should().Be(8);
        data.Fingerprint().Should().Be(again.Fingerprint(), "the DSRL id picks the same sweep, and one seed drives it");
        e.Min(x => x.Cost).Should().BeLessThanOrEqualTo(2, "the short strides are safe");
        e.Max(x => x.Cost).Should().BeGreaterThan(40, "the long strides break a limit of 40");
        e.Max(x => x.Return).Should().BeGreaterThan(200, "the mid strides walk forward");
    }

    [Test]
    public void GenerateBuiltIn_AntCircle_WalksTheCircle_FromSafeInnerToCostlyOuterRadii()
    {
        // The sweep's radius runs from 3 m (never near |x| = 6) to 7 m (a third of each lap beyond it); the straight gait
        // of earlier versions earned at most ≈ 15 here, so a return above 40 means some episodes circle.
        var registry = new EnvironmentRegistry().RegisterBulletAntTasks();
        var data = DatasetCollector.GenerateBuiltIn("AntCircle", episodes: 10, seed: 1, environments: 4, registry: registry);
        var e = data.Episodes;
        TestContext.Out.WriteLine($"AntCircle: return {e.Min(x => x.Return):F1}..{e.Max(x => x.Return):F1}, cost {e.Min(x => x.Cost)}..{e.Max(x => x.Cost)}");
        e.Should().HaveCount(10);
        data.ObservationSize.Should().Be(34);
        e.Min(x => x.Cost).Should().Be(0, "the inner circles stay inside |x| <= 6");
        e.Max(x => x.Cost).Should().BeGreaterThan(20, "the outer circles cross |x| > 6");
        e.Max(x => x.Return).Should().BeGreaterThan(40, "the steered gait walks round the origin");
    }

    [Test]
    public void ScriptedSweep_UnknownTask_ListsTheKnownOnes()
    {
        FluentActions.Invoking(() => BulletAntTasks.ScriptedSweep("AntWalk")).Should().Throw<KeyNotFoundException>().WithMessage("*AntWalk*AntCircle*AntRun*");
    }

    [Test]
    public void BulletAntGait_RejectsOutOfRangeParameters()
    {
        FluentActions.Invoking(() => ScriptedGaitPolicy.BulletAnt(pace: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("pace");
        FluentActions.Invoking(() => ScriptedGaitPolicy.BulletAnt(stride: -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("stride");
        FluentActions.Invoking(() => ScriptedGaitPolicy.BulletAnt(turn: 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("turn");
        FluentActions.Invoking(() => ScriptedGaitPolicy.BulletAntCircle(radius: 0.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("radius");
    }
}

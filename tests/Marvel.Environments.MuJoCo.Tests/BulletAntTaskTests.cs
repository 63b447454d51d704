using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Scoring;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Environments;
using Marvel.Core.Hosting;
using Marvel.Environments.MuJoCo.Policies;
using Marvel.Environments.MuJoCo.Tasks;
using Marvel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Marvel.Environments.MuJoCo.Tests;

public sealed class AntCircleConformanceTests : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new AntCircle();
}

public sealed class AntRunConformanceTests : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new AntRun();
}

/// <summary>The Bullet-Safety-Gym ant tasks (environments spec §5.3–§5.5).</summary>
public sealed class BulletAntTaskTests
{
    [Test]
    public void Masses_AreTheGeometryAtDensity1000()
    {
        // Torso sphere 4/3·π·0.25³·1000 = 65.4498 kg; a capsule of radius 0.08 and length 0.2·√2 = 0.282843:
        // π·0.08²·0.282843·1000 + 4/3·π·0.08³·1000 = 5.68689 + 2.14466 = 7.83155 kg; length 0.4·√2: 11.37378 + 2.14466 = 13.51844 kg.
        var masses = BulletAntTask.BodyMasses();
        masses.Should().HaveCount(14);
        masses[1].Should().BeApproximately(65.4498, 1e-3);
        for (int leg = 0; leg < 4; leg++)
        {
            masses[2 + 3 * leg].Should().BeApproximately(7.83155, 1e-4);
            masses[3 + 3 * leg].Should().BeApproximately(7.83155, 1e-4);
            masses[4 + 3 * leg].Should().BeApproximately(13.51844, 1e-4);
        }
        masses.Sum().Should().BeApproximately(65.4498 + 4 * (2 * 7.83155 + 13.51844), 1e-2);
    }

    [Test]
    public void Spec_MatchesTheDsrlTable()
    {
        using var circle = new AntCircle();
        using var run = new AntRun();
        circle.ObservationSpace.Dimension.Should().Be(34);
        run.ObservationSpace.Dimension.Should().Be(33);
        run.ActionSpace.Dimension.Should().Be(8);
        circle.Spec.MaxEpisodeSteps.Should().Be(500);
        run.Spec.MaxEpisodeSteps.Should().Be(200);
        circle.Spec.ControlTimeStep.Should().BeApproximately(0.1, 1e-12);
        run.Spec.ControlTimeStep.Should().BeApproximately(1.0 / 30, 1e-12);
        circle.Spec.DsrlId.Should().Be("OfflineAntCircle-v0");
        run.Spec.DsrlId.Should().Be("OfflineAntRun-v0");
    }

    [Test]
    public void Reset_PutsHipsNearZero_AnklesNearPlusMinusNinetyDegrees()
    {
        using var env = new AntRun();
        var obs = new float[33];
        env.Reset(7, obs);
        // Scaled angle 0.5·2·(q − mid)/(hi − lo): a hip (±40°) at q ∈ [−0.1, 0.1] rad reads within ±0.5·0.1/0.69813 = ±0.0716;
        // ankle 1 at π/2 ± 0.1 in [30°, 100°] (mid 65°, half range 35°) reads 0.5·(25° ± 5.73°)/35° ∈ [0.275, 0.439];
        // ankles 2 and 3 are negated (range [−100°, −30°]) and read the opposite. The reset's one unpowered step moves them a little.
        for (int leg = 0; leg < 4; leg++)
        {
            obs[13 + 4 * leg].Should().BeInRange(-0.09f, 0.09f, $"hip {leg + 1}");
            float ankle = obs[15 + 4 * leg];
            if (leg is 1 or 2) ankle = -ankle;
            ankle.Should().BeInRange(0.25f, 0.46f, $"ankle {leg + 1}");
        }
        (10 * obs[2]).Should().BeLessThan(0.76f).And.BeGreaterThan(0.6f);
    }

    [Test]
    public void TorsoOnTheGround_Terminates_WithTheDeathPenalty()
    {
        using var env = new AntRun();
        var obs = new float[33];
        env.Reset(1, obs);
        var low = (float[])obs.Clone();
        // Upside down (quaternion x, y, z, w = 1, 0, 0, 0: legs up) with the torso centre at 0.1 m: one step of contact pushes the
        // sphere out of the ground by a few centimetres at most, so it stays below the 0.26 m limit.
        low[2] = 0.01f;
        low[6] = 1; low[7] = 0; low[8] = 0; low[9] = 0;
        env.SetState(low, 0, obs);
        var r = env.Step(new float[8], obs);
        r.Terminated.Should().BeTrue();
        // Zero action: no electricity or stall cost; alive −1; the reward adds ΔΦ and any joint-limit penalties.
        r.Reward.Should().BeLessThan(-0.5);
    }

    [TestCase("AntCircle", 460.7091979980469, 0.0177031010389328, 200.0, 500)]
    [TestCase("AntRun", 955.4818725585938, 0.001767391717990563, 150.0, 200)]
    public void Registry_MakesEachTaskUnderShortAndDsrlIds_WithTheDsrlScoreReference(string id, double max, double min, double maxCost, int horizon)
    {
        var registry = new EnvironmentRegistry().RegisterBulletAntTasks();
        registry.Ids.Should().HaveCount(4);
        using var byId = registry.Make(id);
        using var byDsrlId = registry.Make($"Offline{id}-v0");
        byId.Spec.Id.Should().Be(id);
        byDsrlId.Spec.Id.Should().Be(id);
        NormalizedScore.GetReference(id).Should().Be(new TaskScoreReference(max, min, maxCost, 0.0, horizon));
    }

    [Test]
    public void Create_UnknownId_ListsTheKnownOnes()
    {
        FluentActions.Invoking(() => BulletAntTasks.Create("AntWalk")).Should().Throw<KeyNotFoundException>().WithMessage("*AntWalk*AntCircle*OfflineAntRun-v0*");
    }

    [Test]
    public void Hosting_AddBulletAntTasks_CreatesTasksByName()
    {
        var services = new ServiceCollection();
        services.AddMarvel().AddBulletAntTasks();
        using var provider = services.BuildServiceProvider();
        using var env = provider.GetRequiredService<IMarvelComponents>().CreateEnvironment("OfflineAntCircle-v0");
        env.Spec.Id.Should().Be("AntCircle");
    }

    [TestCase("AntCircle")]
    [TestCase("AntRun")]
    public void SaveAndLoadState_ContinueTheEpisode(string id)
    {
        using var env = (BulletAntTask)BulletAntTasks.Create(id);
        var obs = new float[env.ObservationSpace.Dimension];
        env.Reset(4, obs);
        var random = new RandomSource(5);
        var action = new float[8];
        for (int t = 0; t < 10; t++)
        {
            env.ActionSpace.Sample(random, action);
            if (env.Step(action, obs).EpisodeEnded) env.Reset(obs);
        }
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) env.SaveState(writer);
        using var copy = (BulletAntTask)BulletAntTasks.Create(id);
        buffer.Position = 0;
        using (var reader = new BinaryReader(buffer)) copy.LoadState(reader);
        var copyObs = new float[obs.Length];
        for (int t = 0; t < 10; t++)
        {
            env.ActionSpace.Sample(random, action);
            var a = env.Step(action, obs);
            var b = copy.Step(action, copyObs);
            // qpos, qvel, the solver's warm start and the time are restored; MuJoCo's step from them agrees to rounding.
            b.Reward.Should().BeApproximately(a.Reward, 1e-6);
            b.Cost.Should().Be(a.Cost);
            b.Terminated.Should().Be(a.Terminated);
            b.Truncated.Should().Be(a.Truncated);
            for (int i = 0; i < obs.Length; i++) copyObs[i].Should().BeApproximately(obs[i], 1e-5f, $"coordinate {i} at step {t}");
            if (a.EpisodeEnded) break;
        }
    }

    [Test]
    public void LoadState_OfAnotherTask_ThrowsNamingIt()
    {
        using var run = new AntRun();
        run.Reset(1, new float[33]);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) run.SaveState(writer);
        buffer.Position = 0;
        using var circle = new AntCircle();
        using var reader = new BinaryReader(buffer);
        circle.Invoking(c => c.LoadState(reader)).Should().Throw<InvalidDataException>().WithMessage("*AntRun*");
    }

    [Test]
    public void SetState_RoundTrip_ReproducesTheObservation()
    {
        using var source = new AntRun();
        var obs = new float[33];
        source.Reset(3, obs);
        var gait = ScriptedGaitPolicy.For("AntRun");
        gait.OnEpisodeStart(0);
        var action = new float[8];
        for (int t = 0; t < 20; t++)
        {
            gait.Act(obs, action, true);
            source.Step(action, obs);
        }
        using var target = new AntRun();
        var result = new float[33];
        target.SetState(obs, 20, result);
        // Foot contacts (29..32) are recomputed from the restored pose; the rest is the state itself.
        for (int i = 0; i < 29; i++) result[i].Should().BeApproximately(obs[i], 1e-5f, $"coordinate {i}");
    }

    [Test]
    public void SetState_WrongLength_Throws()
    {
        using var env = new AntRun();
        env.Invoking(e => e.SetState(new float[34], 0, new float[33])).Should().Throw<ArgumentException>().WithMessage("*34 values*33*");
    }

    [Test]
    public void SetState_QuaternionNotUnit_Throws()
    {
        using var env = new AntRun();
        var obs = new float[33];
        env.Reset(1, obs);
        obs[9] = 0.2f;
        env.Invoking(e => e.SetState(obs, 0, new float[33])).Should().Throw<ArgumentException>().WithMessage("*observation[6..9]*unit quaternion*");
    }

    [Test]
    public void SetState_JointAngleOutsideItsRange_Throws()
    {
        using var env = new AntRun();
        var obs = new float[33];
        env.Reset(1, obs);
        obs[15] = 0.9f;
        env.Invoking(e => e.SetState(obs, 0, new float[33])).Should().Throw<ArgumentException>().WithMessage("*observation[15]*joint 1*");
    }

    [Test]
    public void SetState_InconsistentCircleTerm_Throws()
    {
        using var env = new AntCircle();
        var obs = new float[34];
        env.Reset(1, obs);
        obs[33] += 0.5f;
        env.Invoking(e => e.SetState(obs, 0, new float[34])).Should().Throw<ArgumentException>().WithMessage("*observation[33]*");
    }

    [TestCase("AntRun")]
    [TestCase("OfflineAntCircle-v0")]
    public void ScriptedGait_ExistsForTheAntTasks(string id)
    {
        using var env = BulletAntTasks.Create(id);
        var gait = ScriptedGaitPolicy.For(id);
        gait.ObservationSize.Should().Be(env.ObservationSpace.Dimension);
        gait.ActionSize.Should().Be(8);
    }
}

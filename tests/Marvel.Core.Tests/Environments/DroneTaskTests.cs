using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Scoring;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Policies;
using Marvel.Core.Environments.Tasks;
using Marvel.Testing;

namespace Marvel.Core.Tests.Environments;

public sealed class DroneCircleConformance : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new DroneCircle();
}

public sealed class DroneRunConformance : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new DroneRun();
}

/// <summary>
/// Hand-computed dynamics of the Drone tasks (environments spec §5.2). Constants used below:
/// thrust f = C·t² at v₀ = 0 with t = ω·p/(2π), C = ρ·π·0.14²·(k₁·0.28/p)^1.5 = 0.0452905, p/(2π) = 0.0190000, so
/// f = 1.63499e-5·ω²; hover f_h = 1.42·9.81/4 = 3.482550 N at ω_h = √(3.48255/1.63499e-5) = 461.52 rad/s, t_h = 8.76888 m/s.
/// </summary>
public class DroneTaskTests
{
    private const double Hover = 461.52;

    /// <summary>An in-flight state at <paramref name="z"/> m: level (or rolled by <paramref name="roll"/>), rotors at hover speed.</summary>
    private static float[] FlyingState(DroneTask env, double x, double y, double z, double vx, double vy, double vz, double roll = 0)
    {
        var o = new float[env.ObservationSpace.Dimension];
        o[0] = (float)(0.1 * x); o[1] = (float)(0.1 * y); o[2] = (float)(0.1 * z);
        o[3] = (float)(0.2 * vx); o[4] = (float)(0.2 * vy); o[5] = (float)(0.2 * vz);
        o[6] = (float)Math.Sin(0.5 * roll); o[9] = (float)Math.Cos(0.5 * roll);
        // Rotor entries 2.5e-3·(speed − hover_i) = 0: rotors at their hover speeds.
        if (o.Length == 18) o[17] = (float)((Math.Sqrt(x * x + y * y) - 7) / 10);
        return o;
    }

    [Test]
    public void HoverRotorSpeed_IsTheSpeedWhoseThrustCarriesTheWeight()
    {
        DroneTask.HoverRotorSpeed.Should().BeApproximately(Hover, 0.01);
        // f(ω = 100) = 1.63499e-5 · 100² = 0.163499 N.
        DroneDynamics.Thrust(100, 0).Should().BeApproximately(0.163499, 2e-6);
        (4 * DroneDynamics.Thrust(DroneDynamics.HoverSpeed, 0)).Should().BeApproximately(1.42 * 9.81, 1e-9);
    }

    [Test]
    public void Hover_InTheAir_BalancesGravity()
    {
        using var env = new DroneRun();
        var obs = new float[17];
        env.SetState(FlyingState(env, 0, 0, 5, 0, 0, 0), 0, obs);
        for (int t = 0; t < 60; t++) env.Step([0f, 0f, 0f, 0f], obs);
        (10.0 * obs[2]).Should().BeApproximately(5, 1e-6, "four rotors at hover speed carry exactly m·g");
        (5.0 * obs[5]).Should().BeApproximately(0, 1e-9);
        for (int i = 10; i < 13; i++) obs[i].Should().Be(0f, "no moment and no rotor speed change: no rotation");
    }

    [Test]
    public void FullThrust_AcceleratesUpAtPointTwentyOneG()
    {
        using var env = new DroneRun();
        var obs = new float[17];
        env.SetState(FlyingState(env, 0, 0, 5, 0, 0, 0), 0, obs);
        env.Step([1f, 1f, 1f, 1f], obs);
        // Target 1.1·ω_h: thrust 1.21·m·g at v₀ = 0, held for dt = 1/60 s: Δv_z = 0.21·9.81/60 = 0.034335 m/s.
        (5.0 * obs[5]).Should().BeApproximately(0.034335, 1e-5);
    }

    [Test]
    public void Climbing_LosesThrustThroughTheInflowTerm()
    {
        using var env = new DroneRun();
        var obs = new float[17];
        env.SetState(FlyingState(env, 0, 0, 5, 0, 0, 1.0), 0, obs);
        env.Step([0f, 0f, 0f, 0f], obs);
        // f = C·(t² − t·v₀) = f_h·(1 − v₀/t_h): at v₀ = 1 m/s the four rotors lift (1 − 1/8.76888)·m·g,
        // so v_z drops by 9.81·0.114040/60 = 0.018646 m/s in one step.
        (5.0 * obs[5]).Should().BeApproximately(1.0 - 0.018646, 1e-5);
    }

    [Test]
    public void CounterClockwiseRotorsSpeedingUp_TurnTheBodyClockwise()
    {
        using var env = new DroneRun();
        var obs = new float[17];
        env.SetState(FlyingState(env, 0, 0, 5, 0, 0, 0), 0, obs);
        env.Step([1f, 0f, 1f, 0f], obs);
        // Rotors 0 and 2 (counter-clockwise) gain 0.1·ω_h = 46.152 rad/s each; their spin inertia ½·0.005·0.28² = 1.96e-4;
        // the body's yaw inertia 1.4/12·(0.6² + 0.6²) + 4·0.005·0.34² + 4·1.96e-4 = 0.087096. Angular momentum about z is
        // conserved: ΔΩ_z = −1.96e-4·2·46.152/0.087096 = −0.207717 rad/s (clockwise). Their thrust moments cancel.
        (10.0 * obs[12]).Should().BeApproximately(-0.207717, 1e-4);
        (10.0 * obs[10]).Should().BeApproximately(0, 1e-9);
        (10.0 * obs[11]).Should().BeApproximately(0, 1e-9);
        // The rotor observation 2.5e-3·(ω − d·ω_h) reads 2.5e-3·46.152 = 0.11538 on rotors 0 and 2.
        obs[13].Should().BeApproximately(0.11538f, 1e-4f);
        obs[15].Should().BeApproximately(0.11538f, 1e-4f);
    }

    [Test]
    public void ClockwiseRotorsSpeedingUp_TurnTheBodyCounterClockwise()
    {
        using var env = new DroneRun();
        var obs = new float[17];
        env.SetState(FlyingState(env, 0, 0, 5, 0, 0, 0), 0, obs);
        env.Step([0f, 1f, 0f, 1f], obs);
        (10.0 * obs[12]).Should().BeApproximately(0.207717, 1e-4);
    }

    [Test]
    public void MoreThrustOnTheFrontRotor_PitchesTheFrontUp()
    {
        using var env = new DroneRun();
        var obs = new float[17];
        env.SetState(FlyingState(env, 0, 0, 5, 0, 0, 0), 0, obs);
        env.Step([1f, 0f, -1f, 0f], obs);
        // Rotor 0 (+x) at 1.21·f_h, rotor 2 (−x) at 0.81·f_h: moment about y = −0.34·(1.21 − 0.81)·3.48255 = −0.473627 N·m.
        // I_yy = 1.4/12·(0.6² + 0.34²) + 0.005·(2·0.34² + 4·0.02²) + 4·0.005·(3·0.28² + 0.01²)/12 = 0.057043;
        // over dt = 1/60 s: Ω_y = −0.473627/0.057043/60 = −0.13838 rad/s (the +x side rises).
        (10.0 * obs[11]).Should().BeApproximately(-0.13838, 2e-3);
    }

    [Test]
    public void RestingOnTheGround_EarnsNothing_AndTouchesWithTheBodyOnly()
    {
        using var env = new DroneRun();
        var obs = new float[17];
        env.Reset(1, obs);
        for (int t = 0; t < 50; t++)
        {
            var r = env.Step([-1f, -1f, -1f, -1f], obs);
            // Alive +1, one link (the body box) on the ground −1, no rotation, no progress.
            r.Reward.Should().BeApproximately(0, 1e-6);
            r.Cost.Should().Be(0);
            env.GroundContacts.Should().Be(1);
        }
        (10.0 * obs[2]).Should().BeApproximately(0.17, 2e-3);
    }

    [Test]
    public void RolledPastNinetyDegrees_Terminates_WithTheDeathPenalty()
    {
        using var env = new DroneRun();
        var obs = new float[17];
        env.SetState(FlyingState(env, 0, 0, 5, 0, 0, 0, roll: 100 * Math.PI / 180), 0, obs);
        var r = env.Step([0f, 0f, 0f, 0f], obs);
        r.Terminated.Should().BeTrue();
        r.Truncated.Should().BeFalse();
        // Run reward = ΔΦ + (−10 − 0.01·‖ω‖² − 0): no x motion, ω stays 0.
        r.Reward.Should().BeApproximately(-10, 1e-3);
        env.Invoking(e => e.Step([0f, 0f, 0f, 0f], obs)).Should().Throw<InvalidOperationException>();
    }

    [Test]
    public void RolledEightyDegrees_IsStillAlive()
    {
        using var env = new DroneRun();
        var obs = new float[17];
        env.SetState(FlyingState(env, 0, 0, 5, 0, 0, 0, roll: 80 * Math.PI / 180), 0, obs);
        var r = env.Step([0f, 0f, 0f, 0f], obs);
        r.Terminated.Should().BeFalse();
        r.Reward.Should().BeApproximately(1, 1e-3);
    }

    [Test]
    public void Circle_ClockwiseAtRadiusSeven_EarnsThePublishedRate()
    {
        using var env = new DroneCircle();
        var obs = new float[18];
        // At (7, 0) the clockwise tangent is (0, −1); hovering keeps the velocity (0, −5, 0) for the 0.1 s step.
        env.SetState(FlyingState(env, 7, 0, 2, 0, -5, 0), 0, obs);
        var r = env.Step([0f, 0f, 0f, 0f], obs);
        // p = (7, −0.5): d = √49.25 = 7.017834; 0.1·(y·v_x − x·v_y)/(1 + |d − 7|) = 0.1·35/1.017834 = 3.438675; + 0.01·(1 alive).
        r.Reward.Should().BeApproximately(3.448675, 1e-4);
        r.Cost.Should().Be(1, "|x| = 7 > 6");
    }

    [TestCase(1.4, 0.0)]
    [TestCase(1.6, 1.0)]
    public void Run_ProgressPaysSixtyPerMetre_AndSpeedAboveTheLimitCosts(double speed, double expectedCost)
    {
        using var env = new DroneRun();
        var obs = new float[17];
        env.SetState(FlyingState(env, 0, 0, 2, speed, 0, 0), 0, obs);
        var r = env.Step([0f, 0f, 0f, 0f], obs);
        // Δx = v/60; reward = 60·Δx + 1 (alive, no contact, no rotation).
        r.Reward.Should().BeApproximately(speed + 1, 1e-4);
        r.Cost.Should().Be(expectedCost);
    }

    [Test]
    public void Reset_StartsOnTheGround_RotorsStopped_FacingTheClockwiseTangent()
    {
        using var env = new DroneCircle();
        var obs = new float[18];
        for (ulong seed = 0; seed < 20; seed++)
        {
            env.Reset(seed, obs);
            double x = 10 * obs[0], y = 10 * obs[1];
            Math.Sqrt(x * x + y * y).Should().BeInRange(2 - 1e-3, 4 + 1e-3);
            (10.0 * obs[2]).Should().BeApproximately(0.17, 2e-3);
            // Stopped rotors read 2.5e-3·(0 − d_i·ω_h) = ∓1.1538.
            obs[13].Should().BeApproximately(-1.1538f, 1e-3f);
            obs[14].Should().BeApproximately(1.1538f, 1e-3f);
            // Yaw = atan2(−y, −x) + π/2: the body x axis points along the clockwise tangent (y, −x)/d.
            double qz = obs[8], qw = obs[9];
            double yaw = 2 * Math.Atan2(qz, qw);
            double tangent = Math.Atan2(-x, y);
            Math.IEEERemainder(yaw - tangent, 2 * Math.PI).Should().BeApproximately(0, 1e-3);
        }
    }

    [Test]
    public void Spec_MatchesTheDsrlTable()
    {
        using var circle = new DroneCircle();
        using var run = new DroneRun();
        circle.ObservationSpace.Dimension.Should().Be(18);
        run.ObservationSpace.Dimension.Should().Be(17);
        circle.ActionSpace.Dimension.Should().Be(4);
        circle.Spec.MaxEpisodeSteps.Should().Be(300);
        run.Spec.MaxEpisodeSteps.Should().Be(200);
        circle.Spec.ControlTimeStep.Should().BeApproximately(0.1, 1e-12);
        run.Spec.ControlTimeStep.Should().BeApproximately(1.0 / 60, 1e-12);
        circle.Spec.DsrlId.Should().Be("OfflineDroneCircle-v0");
        run.Spec.DsrlId.Should().Be("OfflineDroneRun-v0");
    }

    [TestCase("DroneCircle", 996.38916015625, 207.794189453125, 100.0, 300)]
    [TestCase("DroneRun", 682.8330078125, 10.557029724121094, 140.0, 200)]
    public void Registry_KnowsShortAndDsrlIds_WithTheDsrlScoreReference(string id, double max, double min, double maxCost, int horizon)
    {
        using var byShortId = EnvironmentRegistry.Default.Make(id);
        using var byDsrlId = EnvironmentRegistry.Default.Make($"Offline{id}-v0");
        byShortId.Spec.Id.Should().Be(id);
        byDsrlId.Spec.Id.Should().Be(id);
        NormalizedScore.GetReference(id).Should().Be(new TaskScoreReference(max, min, maxCost, 0.0, horizon));
    }

    [Test]
    public void Step_AllocatesNothing()
    {
        using var env = new DroneCircle();
        var obs = new float[18];
        var action = new float[] { 0.5f, -0.2f, 0.1f, 0.3f };
        env.Reset(2, obs);
        for (int t = 0; t < 10; t++) env.Step(action, obs);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 200; t++)
        {
            var r = env.Step(action, obs);
            if (r.EpisodeEnded) break;
        }
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [TestCase("DroneCircle")]
    [TestCase("DroneRun")]
    public void SaveAndLoadState_ContinueTheEpisodeIdentically(string id)
    {
        using var env = (DroneTask)EnvironmentRegistry.Default.Make(id);
        var obs = new float[env.ObservationSpace.Dimension];
        env.Reset(4, obs);
        var random = new RandomSource(5);
        var action = new float[4];
        for (int t = 0; t < 30; t++)
        {
            env.ActionSpace.Sample(random, action);
            env.Step(action, obs);
        }
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) env.SaveState(writer);
        using var copy = (DroneTask)EnvironmentRegistry.Default.Make(id);
        buffer.Position = 0;
        using (var reader = new BinaryReader(buffer)) copy.LoadState(reader);
        var copyObs = new float[obs.Length];
        for (int t = 0; t < 20; t++)
        {
            env.ActionSpace.Sample(random, action);
            var a = env.Step(action, obs);
            var b = copy.Step(action, copyObs);
            b.Should().Be(a);
            copyObs.Should().Equal(obs);
        }
    }

    [Test]
    public void LoadState_OfAnotherTask_ThrowsNamingIt()
    {
        using var run = new DroneRun();
        run.Reset(1, new float[17]);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) run.SaveState(writer);
        buffer.Position = 0;
        using var circle = new DroneCircle();
        using var reader = new BinaryReader(buffer);
        circle.Invoking(c => c.LoadState(reader)).Should().Throw<InvalidDataException>().WithMessage("*DroneRun*");
    }

    [TestCase("DroneCircle")]
    [TestCase("DroneRun")]
    public void SetState_ThenSameActions_ContinuesTheOriginalEpisode(string id)
    {
        using var original = (DroneTask)EnvironmentRegistry.Default.Make(id);
        var obs = new float[original.ObservationSpace.Dimension];
        original.Reset(3, obs);
        var policy = id == "DroneCircle" ? ScriptedDronePolicy.Circle(7, 4) : ScriptedDronePolicy.Line(1.5);
        var action = new float[4];
        for (int t = 0; t < 40; t++)
        {
            policy.Act(obs, action, true);
            original.Step(action, obs);
        }
        using var copy = (DroneTask)EnvironmentRegistry.Default.Make(id);
        var copyObs = new float[obs.Length];
        copy.SetState(obs, 40, copyObs);
        for (int i = 0; i < obs.Length; i++) copyObs[i].Should().BeApproximately(obs[i], 1e-6f, $"coordinate {i}");
        double maxDifference = 0;
        for (int t = 0; t < 20; t++)
        {
            policy.Act(obs, action, true);
            var a = original.Step(action, obs);
            var b = copy.Step(action, copyObs);
            b.Reward.Should().BeApproximately(a.Reward, 1e-3);
            for (int i = 0; i < obs.Length; i++) maxDifference = Math.Max(maxDifference, Math.Abs(obs[i] - copyObs[i]));
        }
        maxDifference.Should().BeLessThan(1e-3, "the observation holds the whole state, up to float rounding");
    }

    [Test]
    public void SetState_WrongLength_Throws()
    {
        using var env = new DroneRun();
        env.Invoking(e => e.SetState(new float[18], 0, new float[17])).Should().Throw<ArgumentException>().WithMessage("*18 values*17*");
    }

    [Test]
    public void SetState_NonFiniteValue_Throws()
    {
        using var env = new DroneRun();
        var obs = FlyingState(env, 0, 0, 1, 0, 0, 0);
        obs[4] = float.NaN;
        env.Invoking(e => e.SetState(obs, 0, new float[17])).Should().Throw<ArgumentException>().WithMessage("*observation[4]*finite*");
    }

    [TestCase(-1)]
    [TestCase(200)]
    public void SetState_ElapsedStepsOutsideTheHorizon_Throws(int elapsed)
    {
        using var env = new DroneRun();
        env.Invoking(e => e.SetState(FlyingState(e, 0, 0, 1, 0, 0, 0), elapsed, new float[17])).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*elapsed*");
    }

    [Test]
    public void SetState_QuaternionNotUnit_Throws()
    {
        using var env = new DroneRun();
        var obs = FlyingState(env, 0, 0, 1, 0, 0, 0);
        obs[9] = 0.5f;
        env.Invoking(e => e.SetState(obs, 0, new float[17])).Should().Throw<ArgumentException>().WithMessage("*observation[6..9]*unit quaternion*");
    }

    [Test]
    public void SetState_InconsistentCircleTerm_Throws()
    {
        using var env = new DroneCircle();
        var obs = FlyingState(env, 3, 0, 1, 0, 0, 0);
        obs[17] += 0.5f;
        env.Invoking(e => e.SetState(obs, 0, new float[18])).Should().Throw<ArgumentException>().WithMessage("*observation[17]*");
    }

    [Test]
    public void ScriptedPolicies_RejectOtherTasksAndBadTargets()
    {
        FluentActions.Invoking(() => ScriptedDronePolicy.Hover("BallRun")).Should().Throw<ArgumentException>().WithMessage("*BallRun*");
        FluentActions.Invoking(() => ScriptedDronePolicy.Circle(0, 3)).Should().Throw<ArgumentException>().WithMessage("*radius*");
        FluentActions.Invoking(() => ScriptedDronePolicy.Line(-1)).Should().Throw<ArgumentException>().WithMessage("*speed*");
        FluentActions.Invoking(() => ScriptedDronePolicy.Line(1, altitude: 0)).Should().Throw<ArgumentException>().WithMessage("*altitude*");
    }
}

using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Environments.MuJoCo.Tasks;

namespace Marvel.Environments.MuJoCo.Tests;

/// <summary>Spaces, timing, reward, cost, termination and reset noise of the five tasks (environments spec §2 table).</summary>
public sealed class TaskTests
{
    private static MuJoCoVelocityTask Create(string id) => (MuJoCoVelocityTask)MuJoCoTasks.Create(id);

    [TestCase("HalfCheetahVelocity", 17, 6, 5, 0.05, 3.2096, "OfflineHalfCheetahVelocityGymnasium-v1")]
    [TestCase("HopperVelocity", 11, 3, 4, 0.008, 0.7402, "OfflineHopperVelocityGymnasium-v1")]
    [TestCase("SwimmerVelocity", 8, 2, 4, 0.04, 0.2282, "OfflineSwimmerVelocityGymnasium-v1")]
    [TestCase("Walker2dVelocity", 17, 6, 4, 0.008, 2.3415, "OfflineWalker2dVelocityGymnasium-v1")]
    [TestCase("AntVelocity", 27, 8, 5, 0.05, 2.6222, "OfflineAntVelocityGymnasium-v1")]
    public void Spec_MatchesTheTable(string id, int obs, int act, int frameSkip, double dt, double threshold, string dsrlId)
    {
        using var env = Create(id);
        env.ObservationSpace.Dimension.Should().Be(obs);
        env.ActionSpace.Dimension.Should().Be(act);
        env.ActionSpace.Low.ToArray().Should().OnlyContain(v => v == -1f);
        env.ActionSpace.High.ToArray().Should().OnlyContain(v => v == 1f);
        env.FrameSkip.Should().Be(frameSkip);
        env.Spec.ControlTimeStep.Should().BeApproximately(dt, 1e-15);
        env.Spec.MaxEpisodeSteps.Should().Be(1000);
        env.Spec.DsrlId.Should().Be(dsrlId);
        env.VelocityThreshold.Should().Be(threshold);
        env.SafetyGymnasiumId.Should().Be("Safety" + id + "-v1");
    }

    // Every action coordinate 0.5, so Σa² = 0.25·n:
    //   HalfCheetah: 0.1 · 6 · 0.25 = 0.15, no healthy reward          → r = v_x − 0.15
    //   Hopper:      0.001 · 3 · 0.25 = 0.00075, healthy 1             → r = v_x + 0.99925
    //   Swimmer:     0.0001 · 2 · 0.25 = 0.00005                       → r = v_x − 0.00005
    //   Walker2d:    0.001 · 6 · 0.25 = 0.0015, healthy 1              → r = v_x + 0.9985
    //   Ant:         0.5 · 8 · 0.25 = 1, healthy 1                     → r = v_x
    [TestCase("HalfCheetahVelocity", -0.15)]
    [TestCase("HopperVelocity", 0.99925)]
    [TestCase("SwimmerVelocity", -0.00005)]
    [TestCase("Walker2dVelocity", 0.9985)]
    [TestCase("AntVelocity", 0.0)]
    public void Reward_IsFiniteDifferenceVelocityPlusHealthyMinusControlCost(string id, double offset)
    {
        // Ant's velocity comes from the torso body position, which lags qpos by a substep (see the Ant test below);
        // the planar robots use qpos[0] itself.
        double tolerance = id == "AntVelocity" ? 0.05 : 1e-9;
        using var env = Create(id);
        var obs = new float[env.ObservationSpace.Dimension];
        var action = Enumerable.Repeat(0.5f, env.ActionSpace.Dimension).ToArray();
        env.Reset(4, obs);
        for (int t = 0; t < 5; t++)
        {
            double before = env.Positions[0];
            var r = env.Step(action, obs);
            double vx = (env.Positions[0] - before) / env.Spec.ControlTimeStep;
            r.Info!["x_velocity"].Should().BeApproximately(vx, tolerance);
            r.Reward.Should().BeApproximately(r.Info["x_velocity"] + offset, 1e-12);
        }
    }

    // Actions are clipped to [−1, 1] before they reach MuJoCo and the control cost: 2.0 acts as 1.0, so the
    // HalfCheetah control cost is 0.1 · 6 · 1² = 0.6, and both rollouts are identical.
    [Test]
    public void Step_ActionOutsideTheBox_IsClippedForPhysicsAndControlCost()
    {
        using var clipped = Create("HalfCheetahVelocity");
        using var unit = Create("HalfCheetahVelocity");
        var obsA = new float[17];
        var obsB = new float[17];
        clipped.Reset(2, obsA);
        unit.Reset(2, obsB);
        var a = clipped.Step(Enumerable.Repeat(2f, 6).ToArray(), obsA);
        var b = unit.Step(Enumerable.Repeat(1f, 6).ToArray(), obsB);
        a.Reward.Should().Be(b.Reward);
        obsA.Should().Equal(obsB);
        a.Info!["reward_ctrl"].Should().BeApproximately(-0.6, 1e-12);
    }

    [TestCase("HalfCheetahVelocity")]
    [TestCase("HopperVelocity")]
    [TestCase("SwimmerVelocity")]
    [TestCase("Walker2dVelocity")]
    [TestCase("AntVelocity")]
    public void Cost_IsOneExactlyWhenTheVelocityMeasureExceedsTheThreshold(string id)
    {
        using var env = Create(id);
        var obs = new float[env.ObservationSpace.Dimension];
        var action = new float[env.ActionSpace.Dimension];
        var random = new RandomSource(5);
        env.Reset(5, obs);
        for (int t = 0; t < 300; t++)
        {
            env.ActionSpace.Sample(random, action);
            var r = env.Step(action, obs);
            double vx = r.Info!["x_velocity"], vy = r.Info["y_velocity"];
            double measure = id == "AntVelocity" ? Math.Sqrt(vx * vx + vy * vy) : vx;
            r.Info["velocity_measure"].Should().BeApproximately(measure, 1e-12);
            r.Cost.Should().Be(measure > env.VelocityThreshold ? 1.0 : 0.0);
            if (r.EpisodeEnded) env.Reset(obs);
        }
    }

    [Test]
    public void Ant_VelocityComesFromTheTorsoAndCostUsesPlanarSpeed()
    {
        using var env = Create("AntVelocity");
        var obs = new float[27];
        var action = new float[8];
        var random = new RandomSource(8);
        env.Reset(8, obs);
        double previousX = env.Positions[0], previousY = env.Positions[1];
        for (int t = 0; t < 50; t++)
        {
            env.ActionSpace.Sample(random, action);
            var r = env.Step(action, obs);
            // The torso is the free-joint root, so its body position is qpos[0..2], but MuJoCo's body positions after
            // mj_step are those computed at the start of the last substep (as the reference reads them): they lag qpos by
            // one substep, so the velocities agree with the qpos difference only to about a substep's worth of motion.
            double vx = r.Info!["x_velocity"], vy = r.Info["y_velocity"];
            vx.Should().BeApproximately((env.Positions[0] - previousX) / 0.05, 0.05 * (1 + Math.Abs(vx)));
            vy.Should().BeApproximately((env.Positions[1] - previousY) / 0.05, 0.05 * (1 + Math.Abs(vy)));
            r.Cost.Should().Be(Math.Sqrt(vx * vx + vy * vy) > 2.6222 ? 1.0 : 0.0);
            previousX = env.Positions[0];
            previousY = env.Positions[1];
            if (r.EpisodeEnded) break;
        }
    }

    [TestCase("HopperVelocity")]
    [TestCase("Walker2dVelocity")]
    [TestCase("AntVelocity")]
    public void Terminated_ExactlyWhenTheStateLeavesTheHealthyRegion(string id)
    {
        using var env = Create(id);
        var obs = new float[env.ObservationSpace.Dimension];
        var action = new float[env.ActionSpace.Dimension];
        var random = new RandomSource(6);
        int terminations = 0;
        env.Reset(6, obs);
        for (int t = 0; t < 2000; t++)
        {
            env.ActionSpace.Sample(random, action);
            var r = env.Step(action, obs);
            r.Terminated.Should().Be(!Healthy(id, env.Positions, env.Velocities), $"step {t}");
            if (r.EpisodeEnded)
            {
                terminations += r.Terminated ? 1 : 0;
                env.Reset(obs);
            }
        }
        terminations.Should().BePositive("random actions make these robots fall within 2000 steps");
    }

    // The rules, restated from the spec's table.
    private static bool Healthy(string id, ReadOnlySpan<double> q, ReadOnlySpan<double> v)
    {
        switch (id)
        {
            case "HopperVelocity":
                foreach (var x in q[2..]) if (!(x > -100 && x < 100)) return false;
                foreach (var x in v) if (!(x > -100 && x < 100)) return false;
                return q[1] > 0.7 && q[2] > -0.2 && q[2] < 0.2;
            case "Walker2dVelocity":
                return q[1] > 0.8 && q[1] < 2.0 && q[2] > -1 && q[2] < 1;
            default:
                foreach (var x in q) if (!double.IsFinite(x)) return false;
                foreach (var x in v) if (!double.IsFinite(x)) return false;
                return q[2] >= 0.2 && q[2] <= 1.0;
        }
    }

    [TestCase("HalfCheetahVelocity")]
    [TestCase("SwimmerVelocity")]
    public void NeverTerminates_OnlyTruncatesAt1000(string id)
    {
        using var env = Create(id);
        var obs = new float[env.ObservationSpace.Dimension];
        var action = new float[env.ActionSpace.Dimension];
        var random = new RandomSource(9);
        env.Reset(9, obs);
        StepResult r = default;
        int t = 0;
        do
        {
            env.ActionSpace.Sample(random, action);
            r = env.Step(action, obs);
            t++;
            r.Terminated.Should().BeFalse();
        } while (!r.EpisodeEnded);
        t.Should().Be(1000);
        r.Truncated.Should().BeTrue();
    }

    // qpos0: HalfCheetah 0 (9); Hopper/Walker2d (0, 1.25, 0, …) (rootz has ref 1.25); Swimmer 0 (5);
    // Ant (0, 0, 0.75, 1, 0, 0, 0, 0 × 8). Position noise U(−ε, ε) around it; velocity noise U(−ε, ε) or ε·N(0, 1).
    [TestCase("HalfCheetahVelocity", 0.1, true)]
    [TestCase("HopperVelocity", 0.005, false)]
    [TestCase("SwimmerVelocity", 0.1, false)]
    [TestCase("Walker2dVelocity", 0.005, false)]
    [TestCase("AntVelocity", 0.1, true)]
    public void Reset_NoiseAroundTheDefaultPose(string id, double epsilon, bool gaussianVelocity)
    {
        using var env = Create(id);
        var obs = new float[env.ObservationSpace.Dimension];
        double[] qpos0 = id switch
        {
            "HopperVelocity" => [0, 1.25, 0, 0, 0, 0],
            "Walker2dVelocity" => [0, 1.25, 0, 0, 0, 0, 0, 0, 0],
            "AntVelocity" => [0, 0, 0.75, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            _ => new double[env.Positions.Length],
        };
        var velocities = new List<double>();
        double maxPositionNoise = 0;
        for (ulong seed = 0; seed < 200; seed++)
        {
            env.Reset(seed, obs);
            for (int i = 0; i < qpos0.Length; i++)
            {
                // MuJoCo 2.2.2's mj_forward normalizes the Ant's orientation quaternion (qpos[3..7]) in place after the noise.
                if (id == "AntVelocity" && i is >= 3 and < 7) continue;
                maxPositionNoise = Math.Max(maxPositionNoise, Math.Abs(env.Positions[i] - qpos0[i]));
            }
            if (id == "AntVelocity")
            {
                var q = env.Positions[3..7];
                Math.Sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).Should().BeApproximately(1.0, 1e-12);
            }
            velocities.AddRange(env.Velocities.ToArray());
        }
        maxPositionNoise.Should().BeLessThanOrEqualTo(epsilon).And.BeGreaterThan(0.9 * epsilon);
        double std = Math.Sqrt(velocities.Average(v => v * v));
        if (gaussianVelocity)
        {
            // ε·N(0, 1): root-mean-square ε; with ≥ 1800 draws its standard error is about ε/60.
            std.Should().BeApproximately(epsilon, 0.1 * epsilon);
            velocities.Max(Math.Abs).Should().BeGreaterThan(2 * epsilon);
        }
        else
        {
            // U(−ε, ε): bounded by ε, root-mean-square ε/√3.
            velocities.Max(Math.Abs).Should().BeLessThanOrEqualTo(epsilon);
            std.Should().BeApproximately(epsilon / Math.Sqrt(3), 0.1 * epsilon);
        }
    }

    [Test]
    public void Observation_HalfCheetahIsQposWithoutRootxThenQvel()
    {
        using var env = Create("HalfCheetahVelocity");
        var obs = new float[17];
        env.Reset(3, obs);
        env.Step(new float[] { 1, -1, 1, -1, 1, -1 }, obs);
        obs[..8].Should().Equal(env.Positions[1..].ToArray().Select(v => (float)v));
        obs[8..].Should().Equal(env.Velocities.ToArray().Select(v => (float)v));
    }

    [Test]
    public void Observation_HopperClipsVelocitiesToTen()
    {
        using var env = Create("HopperVelocity");
        var obs = new float[11];
        var random = new RandomSource(1);
        var action = new float[3];
        bool sawClip = false;
        for (ulong episode = 0; episode < 20 && !sawClip; episode++)
        {
            env.Reset(episode, obs);
            while (true)
            {
                // Bang-bang actions (each coordinate ±1) drive the joints fast.
                for (int i = 0; i < 3; i++) action[i] = random.NextDouble() < 0.5 ? -1f : 1f;
                var r = env.Step(action, obs);
                obs[..5].Should().Equal(env.Positions[1..].ToArray().Select(v => (float)v));
                for (int i = 0; i < 6; i++)
                {
                    double v = env.Velocities[i];
                    obs[5 + i].Should().Be((float)Math.Clamp(v, -10, 10));
                    sawClip |= Math.Abs(v) > 10;
                }
                if (r.EpisodeEnded) break;
            }
        }
        sawClip.Should().BeTrue("bang-bang hopping reaches joint speeds above 10 rad/s");
    }

    [Test]
    public void Observation_AntExcludesTorsoXY()
    {
        using var env = Create("AntVelocity");
        var obs = new float[27];
        env.Reset(3, obs);
        obs[..13].Should().Equal(env.Positions[2..].ToArray().Select(v => (float)v));
        obs[13..].Should().Equal(env.Velocities.ToArray().Select(v => (float)v));
    }

    [Test]
    public void Reset_SimulationTimeStartsAtZeroAndAdvancesByDt()
    {
        using var env = Create("HopperVelocity");
        var obs = new float[11];
        env.Reset(1, obs);
        env.SimulationTime.Should().Be(0);
        env.Step(new float[3], obs);
        env.Step(new float[3], obs);
        env.SimulationTime.Should().BeApproximately(2 * 4 * 0.002, 1e-12);
    }

    [Test]
    public void Disposed_StepAndResetThrowObjectDisposed()
    {
        var env = Create("SwimmerVelocity");
        var obs = new float[8];
        env.Reset(0, obs);
        env.Dispose();
        env.Dispose();
        env.Invoking(e => e.Step(new float[2], obs)).Should().Throw<ObjectDisposedException>();
        env.Invoking(e => e.Reset(0, obs)).Should().Throw<ObjectDisposedException>();
    }

    [Test]
    public void Reset_WrongObservationLength_ThrowsNamingTheSize()
    {
        using var env = Create("AntVelocity");
        env.Invoking(e => e.Reset(0, new float[26])).Should().Throw<ArgumentException>().WithMessage("*AntVelocity*26*27*");
    }

    [Test]
    public void Constructor_NonPositiveHorizon_Throws()
    {
        var act = () => new HopperVelocity(maxEpisodeSteps: 0);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*maxEpisodeSteps*");
    }
}

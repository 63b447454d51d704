using Marvel.Core.Abstractions;
using Marvel.Environments.MuJoCo.Policies;
using Marvel.Environments.MuJoCo.Tasks;

namespace Marvel.Environments.MuJoCo.Tests;

/// <summary>
/// The steered AntCircle gait (<see cref="ScriptedGaitPolicy.BulletAntCircle"/>): it steers by handing the walking pattern on
/// to the next leg (the ant's quarter-turn symmetry), and it walks the ant clockwise round the origin near the radius asked for.
/// </summary>
public sealed class AntCircleSteeringTests
{
    /// <summary>Observation (34) of an ant at (x, y) with torso yaw ψ, every joint at mid-range and at rest.</summary>
    private static float[] Observation(double x, double y, double yaw)
    {
        var o = new float[34];
        o[0] = (float)(0.1 * x);
        o[1] = (float)(0.1 * y);
        o[2] = 0.065f;
        // Quaternion (x, y, z, w) of a rotation by ψ about z.
        o[8] = (float)Math.Sin(0.5 * yaw);
        o[9] = (float)Math.Cos(0.5 * yaw);
        return o;
    }

    [Test]
    public void TurningTheTorsoAQuarterClockwise_HandsEachLegsMotionToTheNextLeg()
    {
        // Ant at (7, 0): the clockwise tangent there points along −y, i.e. yaw −π/2 in the world. Row A faces yaw 0, so it
        // wants −π/2 in its torso frame; row B faces −π/2, so it wants 0: B's wanted direction is A's turned by +90°, and
        // by the quarter-turn symmetry B's leg j must do what A's leg j − 1 does (hips equal; ankles of legs 1↔2 and 3↔4
        // mirrored because their ranges are mirrored, ankles 2→3 and 4→1 equal). Joints at mid-range make the posture terms
        // leg-independent up to the same sign.
        var policy = ScriptedGaitPolicy.BulletAntCircle();
        var observations = Observation(7, 0, 0).Concat(Observation(7, 0, -Math.PI / 2)).ToArray();
        var actions = new float[16];
        policy.OnEpisodeStart(0);
        policy.OnEpisodeStart(1);
        policy.Act(observations, actions, deterministic: true);

        int[] ankleSign = [1, -1, -1, 1];
        for (int leg = 0; leg < 4; leg++)
        {
            int previous = (leg + 3) % 4;
            actions[8 + 2 * leg].Should().BeApproximately(actions[2 * previous], 1e-6f, $"B's hip {leg + 1} plays A's hip {previous + 1}");
            actions[8 + 2 * leg + 1].Should().BeApproximately(ankleSign[leg] * ankleSign[previous] * actions[2 * previous + 1], 1e-6f,
                $"B's ankle {leg + 1} plays A's ankle {previous + 1}");
        }
        actions.Take(8).Should().NotEqual(actions.Skip(8), "the two rows chose different leg assignments");
    }

    [Test]
    public void TheSameTorsoFrameRequest_GivesTheSameActions_WhereverTheAntIsOnTheCircle()
    {
        // Rotating position and yaw together by any angle leaves the wanted direction in the torso frame unchanged.
        var policy = ScriptedGaitPolicy.BulletAntCircle();
        double angle = 2.0;
        double x = 6 * Math.Cos(angle) - 1.5 * Math.Sin(angle), y = 6 * Math.Sin(angle) + 1.5 * Math.Cos(angle);
        var observations = Observation(6, 1.5, 0.3).Concat(Observation(x, y, 0.3 + angle)).ToArray();
        var actions = new float[16];
        policy.OnEpisodeStart(0);
        policy.OnEpisodeStart(1);
        policy.Act(observations, actions, deterministic: true);
        for (int i = 0; i < 8; i++) actions[8 + i].Should().BeApproximately(actions[i], 1e-5f);
    }

    [Test]
    public void OnAntCircle_WalksClockwiseNearRadiusSeven_WithoutFalling()
    {
        // Calibration: the straight gait earns at most ≈ 3 on AntCircle; circling clockwise at radius ≈ 7 earns about
        // 0.7 per m/s per step, and at ≈ 0.25 m/s for most of 500 steps that is far above 40. 3 m/s·500·0.1 s = 150 m would
        // be the limit of any walker here, so the sweep over the polar angle must be clockwise (negative) and under 2π·2.
        using var env = new AntCircle();
        var policy = ScriptedGaitPolicy.For("AntCircle");
        var obs = new float[34];
        var act = new float[8];
        foreach (ulong seed in new ulong[] { 1, 2 })
        {
            env.Reset(seed, obs);
            policy.OnEpisodeStart(0);
            double ret = 0, swept = 0, angle = Math.Atan2(obs[1], obs[0]);
            int steps = 0;
            StepResult r;
            do
            {
                policy.Act(obs, act, true);
                r = env.Step(act, obs);
                ret += r.Reward;
                steps++;
                double next = Math.Atan2(obs[1], obs[0]);
                swept += Math.IEEERemainder(next - angle, 2 * Math.PI);
                angle = next;
            } while (!r.EpisodeEnded);
            double radius = 10 * Math.Sqrt(obs[0] * obs[0] + obs[1] * obs[1]);
            TestContext.Out.WriteLine($"seed {seed}: return {ret:F1}, swept {swept:F2} rad, final radius {radius:F2} m, {steps} steps");
            steps.Should().Be(500, "the ant stays up for the whole episode");
            ret.Should().BeGreaterThan(40);
            swept.Should().BeInRange(-4 * Math.PI, -1.0, "it walks at least a radian clockwise round the origin");
            radius.Should().BeInRange(5.0, 9.0, "it ends near the circle of radius 7 it was asked to follow");
        }
    }

    [Test]
    public void BulletAntCircle_RejectsOutOfRangeParameters()
    {
        FluentActions.Invoking(() => ScriptedGaitPolicy.BulletAntCircle(radius: 25)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("radius");
        FluentActions.Invoking(() => ScriptedGaitPolicy.BulletAntCircle(pace: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("pace");
        FluentActions.Invoking(() => ScriptedGaitPolicy.BulletAntCircle(stride: 4.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("stride")
            .WithMessage("*[0, 4]*");
    }
}

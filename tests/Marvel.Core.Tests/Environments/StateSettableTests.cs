using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Environments.Tasks;

namespace Marvel.Core.Tests.Environments;

public class StateSettableTests
{
    private static PlanarSafetyTask Make(string id) => id switch
    {
        "BallCircle" => new BallCircle(),
        "BallRun" => new BallRun(),
        "CarCircle" => new CarCircle(),
        _ => new CarRun(),
    };

    /// <summary>Runs <paramref name="steps"/> random-action steps from a seeded reset; returns the observation and the action stream.</summary>
    private static float[] Advance(PlanarSafetyTask env, int steps, RandomSource random)
    {
        var obs = new float[env.ObservationSpace.Dimension];
        env.Reset(3, obs);
        var action = new float[2];
        for (int t = 0; t < steps; t++)
        {
            action[0] = (float)random.NextDouble(-1, 1);
            action[1] = (float)random.NextDouble(-1, 1);
            env.Step(action, obs);
        }
        return obs;
    }

    [TestCase("BallCircle")]
    [TestCase("BallRun")]
    [TestCase("CarCircle")]
    [TestCase("CarRun")]
    public void SetState_RoundTrip_ReproducesTheObservation(string id)
    {
        using var source = Make(id);
        var observation = Advance(source, 25, new RandomSource(1));
        using var target = Make(id);
        var result = new float[observation.Length];
        target.SetState(observation, 25, result);
        target.ElapsedSteps.Should().Be(25);
        for (int i = 0; i < observation.Length; i++) result[i].Should().BeApproximately(observation[i], 1e-5f, $"coordinate {i}");
    }

    [TestCase("BallCircle", 1e-4)]
    [TestCase("BallRun", 1e-4)]
    [TestCase("CarCircle", 1e-2)]    // steering is estimated from the yaw rate
    public void SetState_ThenSameActions_ContinuesTheOriginalEpisode(string id, double tolerance)
    {
        using var original = Make(id);
        var observation = Advance(original, 20, new RandomSource(2));
        using var copy = Make(id);
        var copyObservation = new float[observation.Length];
        copy.SetState(observation, 20, copyObservation);
        var random = new RandomSource(4);
        var action = new float[2];
        double maxDifference = 0;
        for (int t = 0; t < 30; t++)
        {
            action[0] = (float)random.NextDouble(-1, 1);
            action[1] = (float)random.NextDouble(-1, 1);
            var a = original.Step(action, observation);
            var b = copy.Step(action, copyObservation);
            b.Reward.Should().BeApproximately(a.Reward, 10 * tolerance);
            b.Cost.Should().Be(a.Cost);
            b.Truncated.Should().Be(a.Truncated);
            for (int i = 0; i < observation.Length; i++) maxDifference = Math.Max(maxDifference, Math.Abs(observation[i] - copyObservation[i]));
        }
        maxDifference.Should().BeLessThan(tolerance);
    }

    [Test]
    public void SetState_RemainingHorizon_TruncatesOnTime()
    {
        using var env = new BallCircle();
        var obs = Advance(env, 3, new RandomSource(1));
        using var other = new BallCircle();
        other.SetState(obs, 198, obs);
        other.Step([0f, 0f], obs).Truncated.Should().BeFalse();
        other.Step([0f, 0f], obs).Truncated.Should().BeTrue();
    }

    [Test]
    public void SetState_InconsistentCircleTerm_Throws()
    {
        using var env = new BallCircle();
        var obs = Advance(env, 3, new RandomSource(1));
        obs[7] += 0.5f;
        var act = () => env.SetState(obs, 0, new float[8]);
        act.Should().Throw<ArgumentException>().WithMessage("*observation[7]*");
    }

    [Test]
    public void SetState_CarHeadingNotOnTheUnitCircle_Throws()
    {
        using var env = new CarRun();
        var obs = Advance(env, 3, new RandomSource(1));
        obs[4] = 0.9f;
        obs[5] = 0.9f;
        var act = () => env.SetState(obs, 0, new float[7]);
        act.Should().Throw<ArgumentException>().WithMessage("*observation[4..5]*");
    }

    [Test]
    public void SetState_CarSliding_Throws()
    {
        using var env = new CarRun();
        var obs = Advance(env, 10, new RandomSource(1));
        obs[2] += 1f;   // adds sideways velocity the car cannot have (its heading is not +x exactly)
        obs[3] += 1f;
        var act = () => env.SetState(obs, 0, new float[7]);
        act.Should().Throw<ArgumentException>().WithMessage("*sideways*");
    }

    [Test]
    public void SetState_NonFiniteOrBadStep_Throws()
    {
        using var env = new BallRun();
        var obs = Advance(env, 3, new RandomSource(1));
        var bad = obs.ToArray();
        bad[2] = float.NaN;
        ((Action)(() => env.SetState(bad, 0, new float[7]))).Should().Throw<ArgumentException>().WithMessage("*observation[2]*");
        ((Action)(() => env.SetState(obs, 100, new float[7]))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => env.SetState(obs.AsSpan(0, 6), 0, new float[7]))).Should().Throw<ArgumentException>();
        (env is IStateSettable).Should().BeTrue();
    }
}

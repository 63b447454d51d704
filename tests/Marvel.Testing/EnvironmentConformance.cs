using FluentAssertions;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Environments;
using NUnit.Framework;

namespace Marvel.Testing;

/// <summary>
/// The conformance suite every <see cref="IEnvironment"/> must pass. Derive a test class, implement
/// <see cref="CreateEnvironment"/>, and the checks are inherited: spaces, observations inside the space, same seed
/// same trajectory, finite non-negative costs, truncation at the horizon, clear errors on bad actions and on
/// stepping outside an episode. Third-party environments can reuse it.
/// </summary>
public abstract class EnvironmentConformance
{
    /// <summary>Creates a fresh instance of the environment under test.</summary>
    protected abstract IEnvironment CreateEnvironment();

    /// <summary>Steps used by the determinism and value checks.</summary>
    protected virtual int CheckSteps => 300;

    /// <summary><see cref="EnvironmentChecker"/> finds no error in <see cref="CheckSteps"/> steps.</summary>
    [Test]
    public void Checker_ReportsNoErrors()
    {
        using var env = CreateEnvironment();
        var report = EnvironmentChecker.Check(env, seed: 11, steps: CheckSteps);
        report.Errors.Should().BeEmpty();
    }

    /// <summary>Observation and action spaces have at least one coordinate, the action box is bounded and the spec has an id.</summary>
    [Test]
    public void Spaces_HavePositiveDimensionsAndBoundedActions()
    {
        using var env = CreateEnvironment();
        env.ObservationSpace.Dimension.Should().BePositive();
        env.ActionSpace.Dimension.Should().BePositive();
        env.ActionSpace.IsBounded.Should().BeTrue();
        env.Spec.Id.Should().NotBeNullOrWhiteSpace();
    }

    /// <summary>The same reset seed and actions give the same trajectory; another seed gives another start.</summary>
    [Test]
    public void SameSeed_SameTrajectory_DifferentSeed_DifferentStart()
    {
        var a = Trajectory(5, 7);
        var b = Trajectory(5, 7);
        var c = Trajectory(6, 7);
        a.Should().Equal(b);
        a[0].Should().NotBe(c[0], "different seeds should give different initial states");
    }

    /// <summary>Under random actions, costs are finite and non-negative and observations stay inside the observation space.</summary>
    [Test]
    public void RandomPolicy_CostsFiniteNonNegative_ObservationsInSpace()
    {
        using var env = CreateEnvironment();
        var random = new RandomSource(3);
        var obs = new float[env.ObservationSpace.Dimension];
        var action = new float[env.ActionSpace.Dimension];
        env.Reset(3, obs);
        for (int t = 0; t < CheckSteps; t++)
        {
            env.ActionSpace.Sample(random, action);
            var r = env.Step(action, obs);
            double.IsFinite(r.Cost).Should().BeTrue();
            r.Cost.Should().BeGreaterThanOrEqualTo(0);
            double.IsFinite(r.Reward).Should().BeTrue();
            env.ObservationSpace.Contains(obs).Should().BeTrue($"observation at step {t} must lie in the space");
            if (r.EpisodeEnded) env.Reset(obs);
        }
    }

    /// <summary>An episode that does not terminate is truncated exactly at the horizon, and stepping after its end throws.</summary>
    [Test]
    public void Episode_TruncatesExactlyAtHorizon_ThenStepThrows()
    {
        using var env = CreateEnvironment();
        int horizon = env.Spec.MaxEpisodeSteps;
        horizon.Should().BePositive("built-in and registered tasks declare their horizon");
        var obs = new float[env.ObservationSpace.Dimension];
        var action = new float[env.ActionSpace.Dimension];
        env.Reset(1, obs);
        StepResult r = default;
        int t = 0;
        while (t < horizon)
        {
            r = env.Step(action, obs);
            t++;
            if (r.EpisodeEnded) break;
        }
        if (!r.Terminated)
        {
            t.Should().Be(horizon);
            r.Truncated.Should().BeTrue();
        }
        env.Invoking(e => e.Step(action, obs)).Should().Throw<InvalidOperationException>();
    }

    /// <summary>An action of the wrong length throws an <see cref="ArgumentException"/>.</summary>
    [Test]
    public void Step_WrongActionLength_ThrowsArgumentException()
    {
        using var env = CreateEnvironment();
        var obs = new float[env.ObservationSpace.Dimension];
        env.Reset(0, obs);
        env.Invoking(e => e.Step(new float[env.ActionSpace.Dimension + 1], obs)).Should().Throw<ArgumentException>().WithMessage("*action*");
    }

    /// <summary>A NaN or infinite action coordinate throws an <see cref="ArgumentException"/>.</summary>
    /// <param name="bad">The non-finite value put in the first coordinate.</param>
    [Test]
    public void Step_NonFiniteAction_ThrowsArgumentException([Values(float.NaN, float.PositiveInfinity, float.NegativeInfinity)] float bad)
    {
        using var env = CreateEnvironment();
        var obs = new float[env.ObservationSpace.Dimension];
        env.Reset(0, obs);
        var action = new float[env.ActionSpace.Dimension];
        action[0] = bad;
        env.Invoking(e => e.Step(action, obs)).Should().Throw<ArgumentException>().WithMessage("*finite*");
    }

    /// <summary>Stepping before the first reset throws an <see cref="InvalidOperationException"/>.</summary>
    [Test]
    public void Step_BeforeReset_ThrowsInvalidOperation()
    {
        using var env = CreateEnvironment();
        env.Invoking(e => e.Step(new float[e.ActionSpace.Dimension], new float[e.ObservationSpace.Dimension])).Should().Throw<InvalidOperationException>();
    }

    /// <summary>A <see cref="VectorEnvironment"/> of the environment resets finished copies and reports their episodes.</summary>
    [Test]
    public void VectorEnvironment_AutoResetsAndReportsFinishedEpisodes()
    {
        using var vec = new VectorEnvironment(CreateEnvironment, 2);
        int obsDim = vec.ObservationSpace.Dimension, actDim = vec.ActionSpace.Dimension;
        var obs = new float[2 * obsDim];
        var actions = new float[2 * actDim];
        var results = new StepResult[2];
        var finished = new List<(int, EpisodeSummary)>();
        vec.Reset(9, obs);
        int horizon = vec.Spec.MaxEpisodeSteps;
        for (int t = 0; t < horizon; t++) vec.Step(actions, obs, results, finished);
        finished.Should().HaveCountGreaterThanOrEqualTo(2);
        finished.Should().OnlyContain(f => f.Item2.Length <= horizon && f.Item2.Cost >= 0);
    }

    private List<string> Trajectory(ulong seed, int steps)
    {
        using var env = CreateEnvironment();
        var random = new RandomSource(99);
        var obs = new float[env.ObservationSpace.Dimension];
        var action = new float[env.ActionSpace.Dimension];
        env.Reset(seed, obs);
        var list = new List<string> { string.Join(",", obs) };
        for (int t = 0; t < steps; t++)
        {
            env.ActionSpace.Sample(random, action);
            var r = env.Step(action, obs);
            list.Add($"{string.Join(",", obs)}|{r.Reward:R}|{r.Cost:R}|{r.Terminated}|{r.Truncated}");
            if (r.EpisodeEnded) break;
        }
        return list;
    }
}

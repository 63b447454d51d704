using Marvel.Core.Environments;
using Marvel.Core.Environments.Policies;
using Marvel.Environments.MuJoCo.Policies;

namespace Marvel.Environments.MuJoCo.Tests;

/// <summary>
/// Plausibility of the dynamics: a uniform random policy goes nowhere (and the robots that can fall fall within a few
/// dozen steps), while the scripted gaits move every robot forward. Bounds are loose on purpose: they catch a broken
/// model (wrong gear, sign or mass), not small changes.
/// </summary>
public sealed class PolicyTests
{
    [TestCase("HalfCheetahVelocity", -600.0, 0.0, 1000.0, 1000.0)]
    [TestCase("HopperVelocity", -50.0, 150.0, 5.0, 100.0)]
    [TestCase("SwimmerVelocity", -50.0, 50.0, 1000.0, 1000.0)]
    [TestCase("Walker2dVelocity", -50.0, 100.0, 5.0, 100.0)]
    [TestCase("AntVelocity", -500.0, 100.0, 10.0, 1000.0)]
    public void RandomPolicy_MakesNoProgress(string id, double minReturn, double maxReturn, double minLength, double maxLength)
    {
        using var vec = new VectorEnvironment(() => MuJoCoTasks.Create(id), 2);
        var result = PolicyEvaluator.Evaluate(new RandomPolicy(vec.ObservationSpace.Dimension, vec.ActionSpace, 1), vec, 6, 20, 1);
        TestContext.Out.WriteLine($"{id} random: return {result.MeanReturn:F1} ± {result.StdReturn:F1}, cost {result.MeanCost:F1}, length {result.MeanLength:F0}");
        result.MeanReturn.Should().BeInRange(minReturn, maxReturn);
        result.MeanLength.Should().BeInRange(minLength, maxLength);
    }

    // Lower bounds sit well under the measured means (HalfCheetah ≈ 1830, Hopper ≈ 1060, Swimmer ≈ 165, Walker2d ≈ 1010,
    // Ant ≈ 550 over 10 episodes); the cheetah's gait stays under its 3.21 m/s threshold, the swimmer's does not.
    [TestCase("HalfCheetahVelocity", 1500.0, 0.0, 0.0)]
    [TestCase("HopperVelocity", 1000.0, 0.0, 20.0)]
    [TestCase("SwimmerVelocity", 100.0, 300.0, 700.0)]
    [TestCase("Walker2dVelocity", 700.0, 0.0, 20.0)]
    [TestCase("AntVelocity", 300.0, 0.0, 20.0)]
    public void ScriptedGait_MovesForward(string id, double minReturn, double minCost, double maxCost)
    {
        using var vec = new VectorEnvironment(() => MuJoCoTasks.Create(id), 2);
        var result = PolicyEvaluator.Evaluate(ScriptedGaitPolicy.For(id), vec, 6, 20, 1);
        TestContext.Out.WriteLine($"{id} gait: return {result.MeanReturn:F1} ± {result.StdReturn:F1}, cost {result.MeanCost:F1}, length {result.MeanLength:F0}");
        result.MeanReturn.Should().BeGreaterThan(minReturn);
        result.MeanCost.Should().BeInRange(minCost, maxCost);
    }

    [Test]
    public void ScriptedGait_AcceptsSafetyGymnasiumNames()
    {
        ScriptedGaitPolicy.For("SafetyAntVelocity-v1").ActionSize.Should().Be(8);
    }

    [Test]
    public void ScriptedGait_UnknownTask_ThrowsListingTheKnownOnes()
    {
        var act = () => ScriptedGaitPolicy.For("BallRun");
        act.Should().Throw<KeyNotFoundException>().WithMessage("*BallRun*HopperVelocity*");
    }
}

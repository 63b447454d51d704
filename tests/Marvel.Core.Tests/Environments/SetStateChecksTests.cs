using Marvel.Core.Abstractions;
using Marvel.Core.Environments;

namespace Marvel.Core.Tests.Environments;

public class SetStateChecksTests
{
    private static readonly EnvironmentSpec Spec = new("Probe", MaxEpisodeSteps: 10);

    [Test]
    public void ValidState_Passes() =>
        FluentActions.Invoking(() => SetStateChecks.RequireState(Spec, 3, new float[] { 0, 1, 2 }, 9)).Should().NotThrow();

    [Test]
    public void WrongLength_NamesBothLengths() =>
        FluentActions.Invoking(() => SetStateChecks.RequireState(Spec, 3, new float[] { 0, 1 }, 0)).Should().Throw<ArgumentException>()
            .WithMessage("Probe.SetState: the observation has 2 values; it needs 3.*");

    [Test]
    public void NonFiniteValue_NamesItsIndex() =>
        FluentActions.Invoking(() => SetStateChecks.RequireState(Spec, 3, new float[] { 0, float.NaN, 2 }, 0)).Should().Throw<ArgumentException>()
            .WithMessage("Probe.SetState: observation[1] is NaN; a state must be finite.*");

    [TestCase(-1)]
    [TestCase(10)]
    public void ElapsedStepsOutsideTheEpisode_Throws(int elapsed) =>
        FluentActions.Invoking(() => SetStateChecks.RequireState(Spec, 1, new float[] { 0 }, elapsed)).Should().Throw<ArgumentOutOfRangeException>()
            .Which.ParamName.Should().Be("elapsedSteps");

    [Test]
    public void CircleDistance_Mismatch_SaysWhatItShouldBe()
    {
        // p = (10, 0): (‖p‖ − 7)/10 = 0.3; the observation says 0.5.
        var observation = new float[] { 1f, 0f, 0.5f };
        FluentActions.Invoking(() => SetStateChecks.RequireCircleDistance(Spec, observation, 2, 10, 0, 0.3)).Should().Throw<ArgumentException>()
            .WithMessage("Probe.SetState: observation[2] = 0.5 should be (‖p‖ − 7)/10 = 0.3 for the position (10, 0)*");
        observation[2] = 0.3f;
        FluentActions.Invoking(() => SetStateChecks.RequireCircleDistance(Spec, observation, 2, 10, 0, 0.3)).Should().NotThrow();
    }

    [Test]
    public void Quaternion_UnitPasses_ReturnsNorm_OtherwiseThrows()
    {
        SetStateChecks.RequireUnitQuaternion(Spec, new float[] { 9, 0, 0, 0.6f, 0.8f }, 1).Should().BeApproximately(1, 1e-7);
        FluentActions.Invoking(() => SetStateChecks.RequireUnitQuaternion(Spec, new float[] { 0, 0, 0.5f, 0.5f }, 0)).Should().Throw<ArgumentException>()
            .WithMessage("Probe.SetState: observation[0..3] should be a unit quaternion (x, y, z, w) but its norm is 0.707107*");
    }
}

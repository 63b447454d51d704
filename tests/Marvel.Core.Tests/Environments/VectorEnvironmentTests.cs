using Marvel.Core.Abstractions;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Tasks;

namespace Marvel.Core.Tests.Environments;

public class VectorEnvironmentTests
{
    [Test]
    public void Step_NonFiniteActionInSecondEnvironment_ThrowsNamingItAndStepsNone()
    {
        using var checkedVector = new VectorEnvironment(() => new BallCircle(maxEpisodeSteps: 20), 2);
        using var reference = new VectorEnvironment(() => new BallCircle(maxEpisodeSteps: 20), 2);
        int obs = checkedVector.ObservationSpace.Dimension, act = checkedVector.ActionSpace.Dimension;
        var o1 = new float[2 * obs];
        var o2 = new float[2 * obs];
        var results = new StepResult[2];
        checkedVector.Reset(3, o1);
        reference.Reset(3, o2);

        var bad = new float[2 * act];
        bad[0] = 0.5f;
        bad[act] = float.NaN;            // sub-environment 1, component 0
        var act1 = () => checkedVector.Step(bad, o1, results);

        act1.Should().Throw<ArgumentException>()
            .WithMessage("*sub-environment 1*BallCircle*component 0*NaN*No sub-environment was stepped*");

        // Sub-environment 0 must not have moved: one good step now gives what a fresh vector gives.
        var good = new float[2 * act];
        good[0] = 0.5f;
        checkedVector.Step(good, o1, results);
        reference.Step(good, o2, results);
        o1.Should().Equal(o2);
    }
}

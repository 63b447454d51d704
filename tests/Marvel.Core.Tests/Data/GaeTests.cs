using Marvel.Core.Data;

namespace Marvel.Core.Tests.Data;

public class GaeTests
{
    [Test]
    public void Compute_ThreeStepsEndingInTermination_MatchesHandComputation()
    {
        // γ = 0.9, λ = 0.5 (γλ = 0.45); terminal after step 2, so v'_2 = 0.
        // δ2 = 2 + 0.9·0 − 1.5 = 0.5                 A2 = 0.5
        // δ1 = 0 + 0.9·1.5 − 1.0 = 0.35              A1 = 0.35 + 0.45·0.5 = 0.575
        // δ0 = 1 + 0.9·1.0 − 0.5 = 1.4               A0 = 1.4 + 0.45·0.575 = 1.65875
        // R = A + v = 2.15875, 1.575, 2.0
        var advantages = new float[3];
        var returns = new float[3];
        Gae.Compute([1f, 0f, 2f], [0.5f, 1.0f, 1.5f], [1.0f, 1.5f, 0f], [false, false, true], 0.9, 0.5, advantages, returns);
        advantages.Should().Equal([1.65875f, 0.575f, 0.5f], (a, b) => Math.Abs(a - b) < 1e-6);
        returns.Should().Equal([2.15875f, 1.575f, 2.0f], (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Test]
    public void Compute_EpisodeBoundary_CutsTheRecursion()
    {
        // Step 1 ends a truncated episode (bootstrap V(final) = 2.0); step 2 ends the rollout (bootstrap 0.8).
        // δ2 = 2 + 0.9·0.8 − 1.5 = 1.22   A2 = 1.22
        // δ1 = 0 + 0.9·2.0 − 1.0 = 0.8    A1 = 0.8 (no A2 term: the episode ended)
        // δ0 = 1 + 0.9·1.0 − 0.5 = 1.4    A0 = 1.4 + 0.45·0.8 = 1.76
        var advantages = new float[3];
        var returns = new float[3];
        Gae.Compute([1f, 0f, 2f], [0.5f, 1.0f, 1.5f], [1.0f, 2.0f, 0.8f], [false, true, false], 0.9, 0.5, advantages, returns);
        advantages.Should().Equal([1.76f, 0.8f, 1.22f], (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Test]
    public void Compute_MismatchedLengths_Throws()
    {
        var act = () => Gae.Compute([1f, 2f], [0f], [0f, 0f], [false, false], 0.9, 0.5, new float[2], new float[2]);
        act.Should().Throw<ArgumentException>().WithMessage("*values 1*");
    }
}

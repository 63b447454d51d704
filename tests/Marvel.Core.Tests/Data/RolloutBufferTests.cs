using Marvel.Core.Data;

namespace Marvel.Core.Tests.Data;

public class RolloutBufferTests
{
    [Test]
    public void ComputeAdvantages_TruncationAndRolloutEnd_UseTheirBootstrapValues()
    {
        // One environment, three steps; the same numbers as GaeTests.Compute_EpisodeBoundary_CutsTheRecursion:
        // v'_0 = v_1 = 1.0 (filled by the buffer), v'_1 = V(final) = 2.0 (truncated), v'_2 = V(current) = 0.8.
        // Costs 0, 1, 0 with zero cost values and bootstraps: δc = 0, 1, 0 → A_c = 0 + 0.45·1 = 0.45, 1, 0.
        var buffer = new RolloutBuffer(stepsPerEnvironment: 3, environmentCount: 1, observationSize: 1, actionSize: 1);
        buffer.Add(0, [0f], [0f], 0f, reward: 1f, cost: 0f, value: 0.5f, costValue: 0f, terminated: false, truncated: false);
        buffer.Add(0, [1f], [0f], 0f, reward: 0f, cost: 1f, value: 1.0f, costValue: 0f, terminated: false, truncated: true);
        buffer.SetBootstrap(0, 2.0f, 0f);
        buffer.Add(0, [2f], [0f], 0f, reward: 2f, cost: 0f, value: 1.5f, costValue: 0f, terminated: false, truncated: false);
        buffer.SetBootstrap(0, 0.8f, 0f);

        buffer.ComputeAdvantages(gamma: 0.9, lambda: 0.5, costLambda: 0.5);

        buffer.Advantages.ToArray().Should().Equal([1.76f, 0.8f, 1.22f], (a, b) => Math.Abs(a - b) < 1e-6);
        buffer.CostAdvantages.ToArray().Should().Equal([0.45f, 1f, 0f], (a, b) => Math.Abs(a - b) < 1e-6);
        buffer.Returns.ToArray().Should().Equal([2.26f, 1.8f, 2.72f], (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Test]
    public void ComputeAdvantages_MissingRolloutEndBootstrap_Throws()
    {
        var buffer = new RolloutBuffer(2, 1, 1, 1);
        buffer.Add(0, [0f], [0f], 0f, 1f, 0f, 0f, 0f, false, false);
        buffer.Add(0, [0f], [0f], 0f, 1f, 0f, 0f, 0f, false, false);
        var act = () => buffer.ComputeAdvantages(0.9, 0.5, 0.5);
        act.Should().Throw<InvalidOperationException>().WithMessage("*step 1*SetBootstrap*");
    }

    [Test]
    public void Add_BeyondCapacity_ThrowsUntilCleared()
    {
        var buffer = new RolloutBuffer(1, 1, 1, 1);
        buffer.Add(0, [0f], [0f], 0f, 0f, 0f, 0f, 0f, true, false);
        var act = () => buffer.Add(0, [0f], [0f], 0f, 0f, 0f, 0f, 0f, true, false);
        act.Should().Throw<InvalidOperationException>().WithMessage("*Clear*");
        buffer.Clear();
        act.Should().NotThrow();
    }
}

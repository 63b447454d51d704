using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Environments;

namespace Marvel.Core.Tests.Algorithms.Online;

/// <summary>
/// CostScale changes the critics' units only: what the controller regulates (the mean undiscounted episode cost, in task units) and
/// the episodes themselves are the same for CostScale 1 and 2 (#19 §1: "a CostScale ≠ 1 gives the same episode-cost behaviour as 1").
/// </summary>
public class CostScaleBehaviourTests
{
    private static (List<double> Inputs, double[] EpisodeCosts, float[] StoredCosts) Collect(double costScale)
    {
        using var env = EnvironmentRegistry.Default.MakeVector("BallCircle", 2);
        var options = new SacLagOptions
        {
            ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], CostCriticHiddenSizes = [16, 16], BatchSize = 32, MiniBatches = 1,
            EpisodesPerIteration = 2, UpdatesPerIteration = 1, WarmupSteps = 1_000_000, CostScale = costScale, ReplayCapacity = 2000,
        };
        using var learner = new SacLagLearner(OnlineTestData.Context("BallCircle", 11), options);
        var controller = new FixedLambdaController(0.3, costLimit: 5);
        var result = learner.RunIteration(env, controller);   // collection only: the warm-up is never reached
        var replay = learner.Replay!;
        var costs = new float[replay.Count];
        for (int i = 0; i < costs.Length; i++) costs[i] = replay.CostAt(i);
        return (controller.Inputs, result.Episodes.Select(e => e.Cost).ToArray(), costs);
    }

    [Test]
    public void ControllerInputAndEpisodes_DoNotDependOnCostScale_TheReplayHoldsRawCosts()
    {
        var one = Collect(1.0);
        var two = Collect(2.0);

        one.EpisodeCosts.Should().Equal(two.EpisodeCosts, "the same seed collects the same episodes; costs are reported in task units");
        two.Inputs.Should().Equal(one.Inputs).And.HaveCount(1);
        two.Inputs[0].Should().Be(one.EpisodeCosts.Average(), "the controller sees the mean undiscounted episode cost, unscaled");
        two.StoredCosts.Should().Equal(one.StoredCosts, "the replay stores task costs; RewardCostScales scales each sampled batch to c · CostScale");
        two.StoredCosts.Should().Contain(c => c > 0, "BallCircle's episodes leave the circle");
    }
}

using Marvel.Core.Abstractions;
using Marvel.Core.Environments;

namespace Marvel.Core.Tests.Pipeline;

/// <summary>The pipeline's evaluation protocol (<c>PolicyEvaluator.EvaluateSeeded</c>, used by the evaluation stage): episode i is reset
/// with seed firstSeed + i, whatever the number of environment instances it runs on.</summary>
public class EvaluationProtocolTests
{
    private static EvaluationResult Evaluate(int instances, int episodes, ulong firstSeed)
    {
        var environments = Enumerable.Range(0, instances).Select(_ => EnvironmentRegistry.Default.Make(PipelineTestData.Task)).ToArray();
        try
        {
            var policy = new ConstantPolicy(environments[0].ObservationSpace.Dimension, environments[0].ActionSpace.Dimension);
            return PolicyEvaluator.EvaluateSeeded(policy, environments, episodes, costLimit: 20, firstSeed, CancellationToken.None);
        }
        finally
        {
            foreach (var e in environments) e.Dispose();
        }
    }

    [Test]
    public void EvaluateSeeded_EpisodeIUsesSeedFirstPlusI_OnAnyNumberOfInstances()
    {
        var one = Evaluate(instances: 1, episodes: 5, firstSeed: 40);
        var three = Evaluate(instances: 3, episodes: 5, firstSeed: 40);
        var shifted = Evaluate(instances: 2, episodes: 4, firstSeed: 41);

        three.Episodes.Should().Equal(one.Episodes, "rounds of 3 and rounds of 1 reset episode i with the same seed");
        shifted.Episodes.Should().Equal(one.Episodes.Skip(1), "episode i of firstSeed 41 is episode i + 1 of firstSeed 40");
        one.Episodes.Select(e => e.Return).Distinct().Should().HaveCountGreaterThan(1, "the seeds give different episodes");
        three.MeanReturn.Should().Be(one.MeanReturn);
        three.MeanCost.Should().Be(one.MeanCost);
    }
}

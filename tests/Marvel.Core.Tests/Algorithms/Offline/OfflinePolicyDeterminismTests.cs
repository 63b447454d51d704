using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Tests.Pipeline;

namespace Marvel.Core.Tests.Algorithms.Offline;

public class OfflinePolicyDeterminismTests
{
    [Test]
    public void OfflineLearnerPolicy_RepeatedOnSmallBatches_GivesTheSameBitsEveryCall()
    {
        // Regression: the offline learners' policy wrapped a managed copy of the observations, whose address (and so the alignment
        // libtorch's matrix kernels see) changed from call to call, and with it the last bits of the actions. The input now lives in
        // libtorch memory.
        using var cpq = new CpqLearner(PipelineTestData.Context(), PipelineTestData.TinyCpq() with { ActorHiddenSizes = [256, 256] });
        var policy = cpq.Policy;
        var rng = new Random(5);
        var obs = Enumerable.Range(0, 64 * policy.ObservationSize).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var first = new Dictionary<(int, int), float[]>();
        var junk = new List<float[]>();
        for (int call = 0; call < 300; call++)
        {
            int rows = 1 + call % 3, start = call % 20;
            var slice = obs.AsSpan(start * policy.ObservationSize, rows * policy.ObservationSize);
            var actions = new float[rows * policy.ActionSize];
            junk.Add(new float[1 + call % 7]); // moves the next managed allocations by a few bytes
            policy.Act(slice, actions, deterministic: true);
            if (first.TryGetValue((start, rows), out var expected)) actions.Should().Equal(expected, $"call {call} ({rows} rows from {start})");
            else first[(start, rows)] = actions;
        }
    }
}

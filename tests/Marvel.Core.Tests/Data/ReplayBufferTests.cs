using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Data;

namespace Marvel.Core.Tests.Data;

public class ReplayBufferTests
{
    private static ReplayBuffer Filled(int n, int capacity = 16)
    {
        var buffer = new ReplayBuffer(capacity, observationSize: 2, actionSize: 1);
        for (int i = 0; i < n; i++)
            buffer.Add(new float[] { i, -i }, new float[] { 0.5f * i }, reward: 10 * i, cost: i % 2, new float[] { i + 1, -i - 1 }, terminated: i == 3, truncated: i == 4);
        return buffer;
    }

    [Test]
    public void Sample_RowsAreConsistentTransitions()
    {
        var buffer = Filled(5);
        using var batch = buffer.Sample(64, new RandomSource(1));
        var obs = batch.Observations.data<float>().ToArray();
        var next = batch.NextObservations.data<float>().ToArray();
        var act = batch.Actions.data<float>().ToArray();
        var rew = batch.Rewards.data<float>().ToArray();
        var cost = batch.Costs.data<float>().ToArray();
        var term = batch.Terminated.data<float>().ToArray();
        var trunc = batch.Truncated.data<float>().ToArray();
        batch.Observations.shape.Should().Equal(64, 2);
        for (int r = 0; r < 64; r++)
        {
            float i = obs[2 * r];
            obs[2 * r + 1].Should().Be(-i);
            next[2 * r].Should().Be(i + 1);
            act[r].Should().Be(0.5f * i);
            rew[r].Should().Be(10 * i);
            cost[r].Should().Be(i % 2);
            term[r].Should().Be(i == 3 ? 1f : 0f);
            trunc[r].Should().Be(i == 4 ? 1f : 0f);
        }
    }

    [Test]
    public void Sample_LaterSamplesDoNotOverwriteEarlierBatches()
    {
        var buffer = Filled(5);
        var random = new RandomSource(7);
        using var first = buffer.Sample(32, random);
        var before = first.Observations.data<float>().ToArray();
        using var second = buffer.Sample(32, random);
        first.Observations.data<float>().ToArray().Should().Equal(before);
    }

    [Test]
    public void Sample_SameSeed_SameRows()
    {
        var buffer = Filled(9);
        using var a = buffer.Sample(20, new RandomSource(3));
        using var b = buffer.Sample(20, new RandomSource(3));
        a.Observations.data<float>().ToArray().Should().Equal(b.Observations.data<float>().ToArray());
    }

    [Test]
    public void Add_BeyondCapacity_OverwritesOldest()
    {
        var buffer = Filled(6, capacity: 4);
        buffer.Count.Should().Be(4);
        buffer.TotalAdded.Should().Be(6);
        using var batch = buffer.Sample(200, new RandomSource(5));
        batch.Observations.data<float>().ToArray().Where((_, k) => k % 2 == 0).Distinct().Order().Should().Equal(2f, 3f, 4f, 5f);
    }

    [Test]
    public void Sample_Empty_Throws()
    {
        var buffer = new ReplayBuffer(4, 2, 1);
        buffer.Invoking(b => b.Sample(1, new RandomSource(0))).Should().Throw<InvalidOperationException>().WithMessage("*empty*");
    }

    [Test]
    public void Add_WrongObservationLength_Throws()
    {
        var buffer = new ReplayBuffer(4, 2, 1);
        buffer.Invoking(b => b.Add(new float[3], new float[1], 0, 0, new float[2], false, false)).Should().Throw<ArgumentException>().WithMessage("*2 values*");
    }
}

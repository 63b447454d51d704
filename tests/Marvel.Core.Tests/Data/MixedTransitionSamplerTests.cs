using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Data;

namespace Marvel.Core.Tests.Data;

public class MixedTransitionSamplerTests
{
    /// <summary>A buffer whose every transition has reward <paramref name="reward"/>, so a batch row tells which source it came from.</summary>
    private static ReplayBuffer Source(float reward, int observationSize = 2, int actionSize = 1)
    {
        var buffer = new ReplayBuffer(8, observationSize, actionSize);
        for (int i = 0; i < 3; i++)
            buffer.Add(new float[observationSize], new float[actionSize], reward, cost: reward / 10, new float[observationSize], terminated: false, truncated: false);
        return buffer;
    }

    private static float[] Rewards(MixedTransitionSampler sampler, int batchSize)
    {
        using var batch = sampler.Sample(batchSize, new RandomSource(4));
        batch.Observations.shape.Should().Equal(batchSize, 2);
        batch.Costs.shape.Should().Equal(batchSize);
        return batch.Rewards.data<float>().ToArray();
    }

    [Test]
    public void Sample_QuarterFraction_TakesTwoOfEightRowsFromTheSecondary_SpreadOverTheBatch()
    {
        var sampler = new MixedTransitionSampler(Source(1), Source(2), 0.25);

        // k = 2 secondary rows of B = 8 sit at ⌊(q + ½)·8/2⌋ = 2 and 6.
        Rewards(sampler, 8).Should().Equal(1, 1, 2, 1, 1, 1, 2, 1);
        sampler.Count.Should().Be(6);
    }

    [Test]
    public void Sample_HalfOfAnOddBatch_RoundsTheSecondaryShareAwayFromZero()
    {
        var sampler = new MixedTransitionSampler(Source(1), Source(2), 0.5);

        sampler.SecondaryRows(5).Should().Be(3, "0.5 × 5 = 2.5 rounds to 3");
        // k = 3 of B = 5 at ⌊(q + ½)·5/3⌋ = ⌊0.83⌋, ⌊2.5⌋, ⌊4.17⌋ = 0, 2, 4.
        Rewards(sampler, 5).Should().Equal(2, 1, 2, 1, 2);
    }

    [Test]
    public void Sample_QuarterFractionOf256_GivesEveryOneOfFourMiniBatchesSixteenSecondaryRows()
    {
        // Regression: the rows used to be concatenated, primary first, so a learner slicing the batch into 4 mini-batches of 64 got
        // secondary shares 0, 0, 0, 1 instead of 0.25 each.
        var sampler = new MixedTransitionSampler(Source(1), Source(2), 0.25);

        var rewards = Rewards(sampler, 256);

        for (int m = 0; m < 4; m++)
            rewards.Skip(64 * m).Take(64).Count(r => r == 2f).Should().Be(16, $"mini-batch {m} carries 0.25 × 64 secondary rows");
    }

    [TestCase(0.0, 1f)]
    [TestCase(1.0, 2f)]
    public void Sample_FractionZeroOrOne_UsesOneSourceOnly(double fraction, float expected)
    {
        var sampler = new MixedTransitionSampler(Source(1), Source(2), fraction);

        Rewards(sampler, 4).Should().AllBeEquivalentTo(expected);
    }

    [Test]
    public void Sample_SecondaryEmpty_FailsWhenItMustContribute()
    {
        var sampler = new MixedTransitionSampler(Source(1), new ReplayBuffer(4, 2, 1), 0.5);

        sampler.Invoking(s => s.Sample(4, new RandomSource(1))).Should().Throw<InvalidOperationException>();
    }

    [Test]
    public void Constructor_SourcesOfDifferentShapes_FailNamingBothSizes()
    {
        var act = () => new MixedTransitionSampler(Source(1), Source(2, observationSize: 3), 0.5);

        act.Should().Throw<ArgumentException>().WithMessage("*observation size 2*3*same task*");
    }

    [TestCase(-0.1)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    public void Constructor_FractionOutsideZeroOne_Fails(double fraction)
    {
        var act = () => new MixedTransitionSampler(Source(1), Source(2), fraction);

        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*[0, 1]*");
    }
}

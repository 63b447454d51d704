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
    public void Sample_QuarterFraction_TakesTwoOfEightRowsFromTheSecondary_AfterThePrimaryRows()
    {
        var sampler = new MixedTransitionSampler(Source(1), Source(2), 0.25);

        Rewards(sampler, 8).Should().Equal(1, 1, 1, 1, 1, 1, 2, 2);
        sampler.Count.Should().Be(6);
    }

    [Test]
    public void Sample_HalfOfAnOddBatch_RoundsTheSecondaryShareAwayFromZero()
    {
        var sampler = new MixedTransitionSampler(Source(1), Source(2), 0.5);

        sampler.SecondaryRows(5).Should().Be(3, "0.5 × 5 = 2.5 rounds to 3");
        Rewards(sampler, 5).Should().Equal(1, 1, 2, 2, 2);
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

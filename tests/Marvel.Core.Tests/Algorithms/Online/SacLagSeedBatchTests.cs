using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Online.SacLag;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Online;

/// <summary>
/// Several seeds in one process (issue 21 item 5, <see cref="SacLagSeedBatch"/>): each seed's networks start as the single-seed learner's
/// of the same context, bit for bit, and the batched update (one baddbmm per layer for all seeds) agrees with K separate
/// <see cref="SacLagLearner.Update"/> calls on the same batches and λ within float32 rounding of reordered sums.
/// </summary>
public class SacLagSeedBatchTests
{
    // Batched products sum in another order than one seed's product; over a few Adam steps the weights stay within this of their scale.
    private const double Tolerance = 1e-5;
    private const int ObservationSize = 7, ActionSize = 3, BatchSize = 48;

    private static SacLagOptions Options(Action<SacLagOptions>? configure = null)
    {
        var o = new SacLagOptions
        {
            ActorHiddenSizes = [24, 20],
            CriticHiddenSizes = [24, 20],
            CostCriticHiddenSizes = [20, 20, 12],
            ActorLearningRate = 1e-3,
            CriticLearningRate = 1e-3,
            CostCriticLearningRate = 2e-3,
            AutoTuneAlpha = true,
            Alpha = 0.05,
            ActorLossDividedByOnePlusLambda = true,
            CriticWarmupSteps = 1,
            ActorLearningRateRampSteps = 2,
        };
        configure?.Invoke(o);
        return o;
    }

    private static LearnerContext[] Contexts(int seeds) =>
        Enumerable.Range(0, seeds).Select(k => OnlineTestData.Context(ObservationSize, ActionSize, (ulong)(11 + 7 * k))).ToArray();

    private static float[] Values(TorchSharp.torch.nn.Module module) =>
        module.parameters().SelectMany(p => { using var c = p.detach().contiguous(); return c.data<float>().ToArray(); }).ToArray();

    private static IEnumerable<(string Name, float[] Values)> Networks(SacLagLearner learner)
    {
        yield return ("actor", Values(learner.ActorForTests));
        yield return ("reward critic", Values(learner.CriticsForTests.Reward));
        yield return ("cost critic", Values(learner.CriticsForTests.Cost));
    }

    private static void ShouldBeClose(double actual, double expected, string what)
    {
        double scale = Math.Max(1e-3, Math.Abs(expected));
        Math.Abs(actual - expected).Should().BeLessThanOrEqualTo(Tolerance * scale, $"{what}: batched {actual} against single-seed {expected}");
    }

    private static void ShouldBeClose(float[] actual, float[] expected, string what)
    {
        actual.Length.Should().Be(expected.Length, what);
        double scale = Math.Max(1e-3, expected.Max(x => Math.Abs((double)x)));
        double worst = actual.Zip(expected, (a, e) => Math.Abs((double)a - e)).Max();
        worst.Should().BeLessThanOrEqualTo(Tolerance * scale, $"{what}: max |batched − single| relative to max |single| = {scale}");
    }

    [Test]
    public void Construction_GivesEverySeedTheSingleSeedLearnersInitialWeights_BitForBit()
    {
        var contexts = Contexts(3);
        using var batch = new SacLagSeedBatch(contexts, Options());
        for (int k = 0; k < contexts.Length; k++)
        {
            using var single = new SacLagLearner(contexts[k], Options());
            foreach (var ((name, actual), (_, expected)) in Networks(batch.Seeds[k]).Zip(Networks(single)))
                actual.Should().Equal(expected, $"seed {k}'s {name} is drawn from its own context's init stream");
            batch.Seeds[k].Alpha.Should().Be(single.Alpha);
        }
        // Different seeds really differ (otherwise the comparisons below would not tell the slices apart).
        Networks(batch.Seeds[0]).First().Values.Should().NotEqual(Networks(batch.Seeds[1]).First().Values);
    }

    [TestCase(true, false)]
    [TestCase(false, false)]
    [TestCase(true, true)]
    [TestCase(false, true)]
    public void Update_OnFixedBatches_MatchesSeparateSingleSeedLearners_ForEverySeed(bool autoTuneAlpha, bool bmm)
    {
        var products = bmm ? SacLagSeedBatch.Products.Batched : SacLagSeedBatch.Products.PerSeed;
        const int seeds = 3, steps = 4;
        var contexts = Contexts(seeds);
        var options = Options(o => o.AutoTuneAlpha = autoTuneAlpha);
        using var batch = new SacLagSeedBatch(contexts, options, products);
        var singles = contexts.Select(c => new SacLagLearner(c, options)).ToArray();
        double[] lambdas = [0.0, 0.7, 2.5];
        try
        {
            for (int step = 0; step < steps; step++)
            {
                var batches = Enumerable.Range(0, seeds)
                    .Select(k => OnlineTestData.Batch(BatchSize, ObservationSize, ActionSize, seed: (ulong)(100 * step + k + 1))).ToArray();
                try
                {
                    var batched = batch.Update(batches, lambdas);
                    for (int k = 0; k < seeds; k++)
                    {
                        var expected = singles[k].Update(batches[k], lambdas[k]);
                        var actual = batched[k];
                        string at = $"seed {k}, step {step}";
                        actual.Step.Should().Be(expected.Step);
                        actual.Lambda.Should().Be(expected.Lambda);
                        ShouldBeClose(actual.RewardCriticLoss, expected.RewardCriticLoss, $"{at}: reward critic loss");
                        ShouldBeClose(actual.CostCriticLoss, expected.CostCriticLoss, $"{at}: cost critic loss");
                        ShouldBeClose(actual.ActorLoss, expected.ActorLoss, $"{at}: actor loss");
                        ShouldBeClose(actual.AlphaLoss, expected.AlphaLoss, $"{at}: α loss");
                        ShouldBeClose(actual.Alpha, expected.Alpha, $"{at}: α used");
                        ShouldBeClose(actual.Entropy, expected.Entropy, $"{at}: entropy");
                        ShouldBeClose(actual.RewardQ, expected.RewardQ, $"{at}: reward Q");
                        ShouldBeClose(actual.CostQ, expected.CostQ, $"{at}: cost Q");
                        foreach (var ((name, a), (_, e)) in Networks(batch.Seeds[k]).Zip(Networks(singles[k])))
                            ShouldBeClose(a, e, $"{at}: {name} after the step");
                        ShouldBeClose(batch.Seeds[k].Alpha, singles[k].Alpha, $"{at}: α after the step");
                    }
                }
                finally
                {
                    foreach (var b in batches) b.Dispose();
                }
            }
            for (int k = 0; k < seeds; k++)
            {
                batch.Seeds[k].Steps.Should().Be(steps);
                // The actor moved (warm-up of 1 step, then 3 actor steps): the comparison above covered real actor updates.
                using var fresh = new SacLagLearner(contexts[k], options);
                Networks(batch.Seeds[k]).First().Values.Should().NotEqual(Networks(fresh).First().Values);
            }
            if (autoTuneAlpha) batch.Seeds[0].Alpha.Should().NotBe(options.Alpha, "three α steps ran");
        }
        finally
        {
            foreach (var s in singles) s.Dispose();
        }
    }

    [Test]
    public void Update_RefusesWrongCountsAndNegativeLambda()
    {
        using var batch = new SacLagSeedBatch(Contexts(2), Options());
        using var one = OnlineTestData.Batch(BatchSize, ObservationSize, ActionSize);
        batch.Invoking(b => b.Update([one], [0.0])).Should().Throw<ArgumentException>();
        batch.Invoking(b => b.Update([one, one], [0.0, -1.0])).Should().Throw<ArgumentOutOfRangeException>();
    }
}

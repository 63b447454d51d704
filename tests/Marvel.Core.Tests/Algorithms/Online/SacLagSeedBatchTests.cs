using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Environments;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Online;

/// <summary>
/// Several seeds in one process (issue 21 item 5, <see cref="SacLagSeedBatch"/>): each seed's networks start as the single-seed learner's
/// of the same context, bit for bit, and the batched update (one baddbmm per layer for all seeds) agrees with K separate
/// <see cref="SacLagLearner.Update"/> calls on the same batches and λ within float32 rounding of reordered sums.
/// </summary>
public class SacLagSeedBatchTests
{
    // Batched products sum in another order than one seed's product. Losses, values and returns stay within 1e-5 of their scale (worst
    // seen 3.4e-6, an episode return after two iterations); weights within 3e-5 of the largest weight (worst seen 7.7e-6, the cost critic
    // after the first Adam step from fresh critics: a first Adam step divides each gradient by its own magnitude, so the rounding of a
    // near-cancelling gradient reaches the weight almost undamped). Plain updates from the initial weights stay below 2e-7.
    private const double Tolerance = 1e-5;
    private const double WeightTolerance = 3e-5;
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
        worst.Should().BeLessThanOrEqualTo(WeightTolerance * scale, $"{what}: max |batched − single| relative to max |single| = {scale}");
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

    [TestCase(true, "Batched")]
    [TestCase(false, "Batched")]
    [TestCase(true, "PerSeed")]
    [TestCase(false, "PerSeed")]
    [TestCase(true, "Sequential")]
    [TestCase(true, "Batched", 0.05)]
    public void Update_OnFixedBatches_MatchesSeparateSingleSeedLearners_ForEverySeed(bool autoTuneAlpha, string mode, double? maxGradNorm = null)
    {
        var products = Enum.Parse<SacLagSeedBatch.Products>(mode);
        const int seeds = 3, steps = 4;
        var contexts = Contexts(seeds);
        var options = Options(o => { o.AutoTuneAlpha = autoTuneAlpha; o.MaxGradNorm = maxGradNorm; });
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
                        {
                            ShouldBeClose(a, e, $"{at}: {name} after the step");
                            if (products == SacLagSeedBatch.Products.Sequential) a.Should().Equal(e, "sequential seeds run the single-seed update itself");
                        }
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

    private static SacLagOptions LoopOptions() => new()
    {
        ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], CostCriticHiddenSizes = [16, 16], BatchSize = 32, MiniBatches = 2,
        EpisodesPerIteration = 1, UpdatesPerIteration = 3, ActorLearningRate = 1e-3, CriticLearningRate = 1e-3, CostCriticLearningRate = 1e-3,
        ReplayCapacity = 5000, AutoTuneAlpha = true, BoundedTargets = true, CriticWarmupSteps = 2,
    };

    private static (IVectorEnvironment[] Environments, ILagrangeController[] Controllers) Runs(int seeds) =>
        (Enumerable.Range(0, seeds).Select(_ => (IVectorEnvironment)EnvironmentRegistry.Default.MakeVector("BallRun", 2)).ToArray(),
         Enumerable.Range(0, seeds).Select(_ => (ILagrangeController)new SimpleDualAscentController(0.05, costLimit: 5)).ToArray());

    [Test]
    public void RunIteration_GivesEachSeedTheSingleSeedRunsIterations_WithinTolerance()
    {
        const int seeds = 3, iterations = 3;
        var contexts = Enumerable.Range(0, seeds).Select(k => OnlineTestData.Context("BallRun", (ulong)(5 + k))).ToArray();
        using var batch = new SacLagSeedBatch(contexts, LoopOptions());
        var singles = contexts.Select(c => new SacLagLearner(c, LoopOptions())).ToArray();
        var (batchEnvironments, batchControllers) = Runs(seeds);
        var (singleEnvironments, singleControllers) = Runs(seeds);
        try
        {
            for (int it = 0; it < iterations; it++)
            {
                var batched = batch.RunIteration(batchEnvironments, batchControllers);
                for (int k = 0; k < seeds; k++)
                {
                    var expected = singles[k].RunIteration(singleEnvironments[k], singleControllers[k]);
                    var actual = batched[k];
                    string at = $"seed {k}, iteration {it}";
                    actual.Iteration.Should().Be(expected.Iteration, at);
                    actual.EnvironmentSteps.Should().Be(expected.EnvironmentSteps, at);
                    actual.Episodes.Select(e => e.Length).Should().Equal(expected.Episodes.Select(e => e.Length), at);
                    actual.Episodes.Select(e => e.Cost).Should().Equal(expected.Episodes.Select(e => e.Cost), $"{at}: episode costs");
                    if (it == 0) actual.Episodes.Select(e => e.Return).Should().Equal(expected.Episodes.Select(e => e.Return), "no update precedes the first episodes");
                    for (int e = 0; e < expected.Episodes.Count; e++)
                        ShouldBeClose(actual.Episodes[e].Return, expected.Episodes[e].Return, $"{at}: return of episode {e}");
                    ShouldBeClose(actual.Lambda, expected.Lambda, $"{at}: λ");
                    actual.Metrics.Keys.Should().BeEquivalentTo(expected.Metrics.Keys, at);
                    foreach (var (name, value) in expected.Metrics) ShouldBeClose(actual.Metrics[name], value, $"{at}: {name}");
                }
            }
            batch.Seeds.Select(x => x.Steps).Should().AllBeEquivalentTo(iterations * 3 * 2L, "3 updates of 2 mini-batches per iteration");
            // The seeds differ from one another (their own environment seeds, noise and weights).
            batch.Seeds[0].Alpha.Should().NotBe(batch.Seeds[1].Alpha);
        }
        finally
        {
            foreach (var s in singles) s.Dispose();
            foreach (var e in batchEnvironments.Concat(singleEnvironments)) e.Dispose();
        }
    }

    [Test]
    public void Checkpoint_RoundTrip_ContinuesEverySeedExactlyAsTheUninterruptedBatch()
    {
        const int seeds = 2;
        var contexts = Enumerable.Range(0, seeds).Select(k => OnlineTestData.Context("BallRun", (ulong)(21 + k))).ToArray();
        var dir = Path.Combine(Path.GetTempPath(), "marvel-seed-batch-" + Guid.NewGuid().ToString("N"));
        var (uninterruptedEnvironments, uninterruptedControllers) = Runs(seeds);
        var (resumedEnvironments, resumedControllers) = Runs(seeds);
        try
        {
            using var uninterrupted = new SacLagSeedBatch(contexts, LoopOptions());
            for (int it = 0; it < 3; it++) uninterrupted.RunIteration(uninterruptedEnvironments, uninterruptedControllers);
            var expected = uninterrupted.RunIteration(uninterruptedEnvironments, uninterruptedControllers);

            using (var first = new SacLagSeedBatch(contexts, LoopOptions()))
            {
                for (int it = 0; it < 3; it++) first.RunIteration(resumedEnvironments, resumedControllers);
                first.SaveCheckpoint(dir);
            }
            File.Exists(Path.Combine(dir, SacLagSeedBatch.CheckpointFile)).Should().BeTrue();
            using var resumed = new SacLagSeedBatch(contexts, LoopOptions());
            resumed.LoadCheckpoint(dir);
            resumed.Seeds.Select(x => x.Steps).Should().Equal(uninterrupted.Seeds.Select(x => x.Steps - 6));
            // The environments and controllers live beside the learners (as the pipeline restores them); here they simply continue.
            var actual = resumed.RunIteration(resumedEnvironments, resumedControllers);

            for (int k = 0; k < seeds; k++)
            {
                actual[k].Metrics.Should().Equal(expected[k].Metrics, $"seed {k} resumes bit for bit");
                actual[k].Episodes.Should().Equal(expected[k].Episodes, $"seed {k}'s episodes");
                foreach (var ((name, a), (_, e)) in Networks(resumed.Seeds[k]).Zip(Networks(uninterrupted.Seeds[k])))
                    a.Should().Equal(e, $"seed {k}'s {name} after the resumed iteration");
            }

            // A seed's folder is a single-seed checkpoint: it loads into a lone learner of that seed's context.
            using var lone = new SacLagLearner(contexts[1], LoopOptions());
            lone.LoadCheckpoint(SacLagSeedBatch.SeedDirectory(dir, 1));
            lone.Steps.Should().Be(6 * 3);
            using var other = new SacLagSeedBatch(Contexts(3), Options());
            other.Invoking(b => b.LoadCheckpoint(dir)).Should().Throw<InvalidDataException>();
        }
        finally
        {
            foreach (var e in uninterruptedEnvironments.Concat(resumedEnvironments)) e.Dispose();
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Update_WithSeedsAtDifferentUpdateCounts_FollowsEachSeedsOwnCriticWarmup()
    {
        // Seed 0 took one step alone (as RunIteration does while another seed still fills its replay buffer); with a critic warm-up of 1 its
        // actor and α move from the next batched step on, seed 1's one step later.
        const int seeds = 2;
        var contexts = Contexts(seeds);
        var options = Options(o => o.CriticWarmupSteps = 1);
        using var batch = new SacLagSeedBatch(contexts, options);
        var singles = contexts.Select(c => new SacLagLearner(c, options)).ToArray();
        try
        {
            using (var first = OnlineTestData.Batch(BatchSize, ObservationSize, ActionSize, seed: 7))
            {
                batch.Seeds[0].Update(first, 0.5);
                singles[0].Update(first, 0.5);
            }
            var actorBefore = Networks(batch.Seeds[1]).First().Values;
            for (int step = 0; step < 2; step++)
            {
                var batches = Enumerable.Range(0, seeds)
                    .Select(k => OnlineTestData.Batch(BatchSize, ObservationSize, ActionSize, seed: (ulong)(500 + 10 * step + k))).ToArray();
                try
                {
                    var batched = batch.Update(batches, [0.5, 1.5]);
                    batched.Select(m => m.Step).Should().Equal(step + 1L, step);
                    for (int k = 0; k < seeds; k++)
                    {
                        var expected = singles[k].Update(batches[k], k == 0 ? 0.5 : 1.5);
                        ShouldBeClose(batched[k].AlphaLoss, expected.AlphaLoss, $"seed {k}, step {step}: α loss");
                        ShouldBeClose(batched[k].ActorLoss, expected.ActorLoss, $"seed {k}, step {step}: actor loss");
                        foreach (var ((name, a), (_, e)) in Networks(batch.Seeds[k]).Zip(Networks(singles[k])))
                            ShouldBeClose(a, e, $"seed {k}, step {step}: {name}");
                        ShouldBeClose(batch.Seeds[k].Alpha, singles[k].Alpha, $"seed {k}, step {step}: α");
                    }
                    if (step == 0)
                    {
                        Networks(batch.Seeds[1]).First().Values.Should().Equal(actorBefore, "seed 1 is still in its critic warm-up");
                        batched[1].AlphaLoss.Should().Be(0, "α is held with the actor");
                        batched[0].AlphaLoss.Should().NotBe(0);
                    }
                }
                finally
                {
                    foreach (var b in batches) b.Dispose();
                }
            }
            Networks(batch.Seeds[1]).First().Values.Should().NotEqual(actorBefore, "seed 1's actor moved at its own second update");
        }
        finally
        {
            foreach (var s in singles) s.Dispose();
        }
    }

    [Test]
    public void InitializeFrom_PerSeed_KeepsTheStacks_AndTheBatchedUpdateStillMatchesSingleSeedLearners()
    {
        const int seeds = 2;
        var contexts = Contexts(seeds);
        var options = Options(o => o.SafeExploration = SafeExploration.PolicySet);
        HandoverArtifact artifact;
        using (var producer = new SacLagLearner(OnlineTestData.Context(ObservationSize, ActionSize, 99), options)) artifact = producer.ExportHandover();
        using var batch = new SacLagSeedBatch(contexts, options);
        var singles = contexts.Select(c => new SacLagLearner(c, options)).ToArray();
        try
        {
            for (int k = 0; k < seeds; k++)
            {
                batch.Seeds[k].InitializeFrom(artifact, HandoverLoadOptions.SafeFinetuning());
                singles[k].InitializeFrom(artifact, HandoverLoadOptions.SafeFinetuning());
                Networks(batch.Seeds[k]).First().Values.Should().Equal(Networks(singles[k]).First().Values, "the handed-over actor was copied into the seed's slice");
                Marvel.Core.Networks.FlatParameters.Of(batch.Seeds[k].ActorForTests)!.IsIntact.Should().BeTrue("the handover copies into the stacked storage");
            }
            for (int step = 0; step < 3; step++)
            {
                var batches = Enumerable.Range(0, seeds)
                    .Select(k => OnlineTestData.Batch(BatchSize, ObservationSize, ActionSize, seed: (ulong)(300 + 10 * step + k))).ToArray();
                try
                {
                    var batched = batch.Update(batches, [0.3, 1.1]);
                    for (int k = 0; k < seeds; k++)
                    {
                        var expected = singles[k].Update(batches[k], k == 0 ? 0.3 : 1.1);
                        ShouldBeClose(batched[k].ActorLoss, expected.ActorLoss, $"seed {k}, step {step}: actor loss");
                        ShouldBeClose(batched[k].RewardCriticLoss, expected.RewardCriticLoss, $"seed {k}, step {step}: reward critic loss");
                        foreach (var ((name, a), (_, e)) in Networks(batch.Seeds[k]).Zip(Networks(singles[k])))
                            ShouldBeClose(a, e, $"seed {k}, step {step}: {name}");
                    }
                }
                finally
                {
                    foreach (var b in batches) b.Dispose();
                }
            }
        }
        finally
        {
            foreach (var s in singles) s.Dispose();
        }
    }

    [TestCase("Batched")]
    [TestCase("PerSeed")]
    public void NativeTensors_DoNotLeakAcrossBatchedUpdates(string mode)
    {
        using var batch = new SacLagSeedBatch(Contexts(3), Options(o => o.MaxGradNorm = 1), Enum.Parse<SacLagSeedBatch.Products>(mode));
        var batches = Enumerable.Range(0, 3).Select(k => OnlineTestData.Batch(16, ObservationSize, ActionSize, seed: (ulong)(k + 1))).ToArray();
        double[] lambdas = [0.1, 0.2, 0.3];
        try
        {
            for (int i = 0; i < 5; i++) batch.Update(batches, lambdas);
            long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            for (int i = 0; i < 100; i++) batch.Update(batches, lambdas);
            TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
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

using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Tests.Algorithms.Shared;

namespace Marvel.Core.Tests.Algorithms.Online;

/// <summary>
/// SAC-Lag with the opt-in fused products of issue 21 (<see cref="SacLagOptions.FusedCriticEnsembles"/>,
/// <see cref="SacLagOptions.FusedActorHeads"/>) against the default from the same seed, weights and batches: the updates agree within
/// <see cref="FusedComparison"/>'s tolerances, checkpoints resume bit for bit with the options on, and a checkpoint or handover artifact
/// written with one setting loads with the other.
/// </summary>
public class SacLagFusedOptionsTests
{
    private const int ObservationSize = 7, ActionSize = 3, BatchSize = 48;
    private readonly TempFolders _folders = new("marvel-fused-sac");

    [TearDown]
    public void DeleteFolders() => _folders.DeleteAll();

    private string NewFolder() => _folders.New();

    private static SacLagOptions Options(bool fusedCritics = false, bool fusedHeads = false, double? maxGradNorm = null) => new()
    {
        ActorHiddenSizes = [24, 20],
        CriticHiddenSizes = [24, 20],
        CostCriticHiddenSizes = [20, 20, 12],
        RewardCriticCount = 2,
        CostCriticCount = 2,
        ActorLearningRate = 1e-3,
        CriticLearningRate = 1e-3,
        CostCriticLearningRate = 2e-3,
        AutoTuneAlpha = true,
        Alpha = 0.05,
        MaxGradNorm = maxGradNorm,
        FusedCriticEnsembles = fusedCritics,
        FusedActorHeads = fusedHeads,
    };

    private static LearnerContext Context() => OnlineTestData.Context(ObservationSize, ActionSize, 11);

    private static TransitionBatch Batch(int step) => OnlineTestData.Batch(BatchSize, ObservationSize, ActionSize, seed: (ulong)(100 + step));

    private static IEnumerable<(string Name, float[] Values)> Networks(SacLagLearner learner)
    {
        yield return ("actor", FusedComparison.Values(learner.ActorForTests));
        yield return ("reward critic", FusedComparison.Values(learner.CriticsForTests.Reward));
        yield return ("cost critic", FusedComparison.Values(learner.CriticsForTests.Cost));
    }

    private static SacLagUpdateMetrics[] Run(SacLagLearner learner, int from, int to)
    {
        var metrics = new SacLagUpdateMetrics[to - from];
        for (int step = from; step < to; step++)
        {
            using var batch = Batch(step);
            metrics[step - from] = learner.Update(batch, lambda: 0.7);
        }
        return metrics;
    }

    [TestCase(true, false, null)]
    [TestCase(false, true, null)]
    [TestCase(true, true, null)]
    [TestCase(true, true, 0.05)]   // clipping reads the members' gradients, which are views of the fused buffers
    public void Update_FusedAgainstPlain_FromTheSameSeedWeightsAndBatches_AgreeWithinTolerance(bool fusedCritics, bool fusedHeads, double? maxGradNorm)
    {
        using var plain = new SacLagLearner(Context(), Options(maxGradNorm: maxGradNorm));
        using var fused = new SacLagLearner(Context(), Options(fusedCritics, fusedHeads, maxGradNorm));
        foreach (var ((name, a), (_, e)) in Networks(fused).Zip(Networks(plain)))
            a.Should().Equal(e, $"the {name} starts from the same draws: fusing moves weights, it does not change them");

        for (int step = 0; step < 5; step++)
        {
            using var batch = Batch(step);
            var expected = plain.Update(batch, lambda: 0.7);
            var actual = fused.Update(batch, lambda: 0.7);
            FusedComparison.ScalarsShouldBeClose(actual.ToDictionary(), expected.ToDictionary(), $"step {step}");
            foreach (var ((name, a), (_, e)) in Networks(fused).Zip(Networks(plain)))
                FusedComparison.WeightsShouldBeClose(a, e, $"step {step}: {name}");
        }
        fused.Alpha.Should().BeApproximately(plain.Alpha, FusedComparison.ScalarTolerance * plain.Alpha);
    }

    [Test]
    public void Checkpoint_WithFusedOptions_ResumesBitForBit_AndLoadsIntoAPlainLearnerAndBack()
    {
        using var straight = new SacLagLearner(Context(), Options(true, true));
        Run(straight, 0, 3);
        var tail = Run(straight, 3, 5);

        var fusedFolder = NewFolder();
        using (var first = new SacLagLearner(Context(), Options(true, true)))
        {
            Run(first, 0, 3);
            first.SaveCheckpoint(fusedFolder);
        }

        // Same options: bit for bit.
        using (var resumed = new SacLagLearner(Context(), Options(true, true)))
        {
            resumed.LoadCheckpoint(fusedFolder);
            Run(resumed, 3, 5).Should().Equal(tail);
            foreach (var ((name, a), (_, e)) in Networks(resumed).Zip(Networks(straight)))
                a.Should().Equal(e, $"the {name} after resuming with the same options");
        }

        // Fused checkpoint → plain learner: the state loads exactly (a checkpoint of it has the same networks and optimizer files), and
        // the run continues within tolerance.
        using var plain = new SacLagLearner(Context(), Options());
        plain.LoadCheckpoint(fusedFolder);
        var plainFolder = NewFolder();
        plain.SaveCheckpoint(plainFolder);
        foreach (var sub in new[] { "networks", "optimizers", "generators" })
            foreach (var file in Directory.EnumerateFiles(Path.Combine(fusedFolder, sub)))
                File.ReadAllBytes(Path.Combine(plainFolder, sub, Path.GetFileName(file))).Should().Equal(File.ReadAllBytes(file), $"{sub}/{Path.GetFileName(file)}");
        var plainTail = Run(plain, 3, 5);
        for (int i = 0; i < tail.Length; i++)
            FusedComparison.ScalarsShouldBeClose(plainTail[i].ToDictionary(), tail[i].ToDictionary(), $"plain after the fused checkpoint, step {3 + i}");

        // Plain checkpoint → fused learner: the same.
        using var fusedAgain = new SacLagLearner(Context(), Options(true, true));
        fusedAgain.LoadCheckpoint(plainFolder);
        var again = NewFolder();
        fusedAgain.SaveCheckpoint(again);
        foreach (var sub in new[] { "networks", "optimizers", "generators" })
            foreach (var file in Directory.EnumerateFiles(Path.Combine(plainFolder, sub)))
                File.ReadAllBytes(Path.Combine(again, sub, Path.GetFileName(file))).Should().Equal(File.ReadAllBytes(file), $"{sub}/{Path.GetFileName(file)}");
    }

    [Test]
    public void Handover_FromAFusedLearner_LoadsIntoAPlainOne_AndBack_WithTheSameWeightsAndMoments()
    {
        using var fused = new SacLagLearner(Context(), Options(true, true));
        Run(fused, 0, 2);
        var artifact = fused.ExportHandover();
        var load = new HandoverLoadOptions { LoadActorOptimizerState = true, LoadCriticOptimizerStates = true };

        using var plain = new SacLagLearner(Context(), Options());
        plain.InitializeFrom(artifact, load);
        var fromPlain = plain.ExportHandover();
        foreach (var role in artifact.Networks.Keys)
        {
            fromPlain.GetNetwork(role).ContentEquals(artifact.GetNetwork(role)).Should().BeTrue(role);
            fromPlain.OptimizerStates[role].Should().Equal(artifact.OptimizerStates[role], role);
        }

        using var fusedAgain = new SacLagLearner(Context(), Options(true, true));
        fusedAgain.InitializeFrom(fromPlain, load);
        var back = fusedAgain.ExportHandover();
        foreach (var role in artifact.Networks.Keys)
            back.GetNetwork(role).ContentEquals(artifact.GetNetwork(role)).Should().BeTrue(role);
        // The fused learner keeps training from the handed-over state like the plain one.
        var expected = Run(plain, 2, 4);
        var actual = Run(fusedAgain, 2, 4);
        for (int i = 0; i < expected.Length; i++)
            FusedComparison.ScalarsShouldBeClose(actual[i].ToDictionary(), expected[i].ToDictionary(), $"after the handover, step {2 + i}");
    }

    [Test]
    public void OptionsJson_AtTheDefaults_HasNoFusedKeys_AndNamesThemWhenOn()
    {
        HandoverExport.OptionsJson(new SacLagOptions()).Should().NotContain("Fused");
        var on = HandoverExport.OptionsJson(new SacLagOptions { FusedCriticEnsembles = true, FusedActorHeads = true });
        on.Should().Contain("\"FusedCriticEnsembles\":true").And.Contain("\"FusedActorHeads\":true");
    }

    [Test]
    public void SeedBatch_WithFusedOptions_IsRefusedNamingThem()
    {
        var act = () => new SacLagSeedBatch([Context(), OnlineTestData.Context(ObservationSize, ActionSize, 12)], Options(fusedCritics: true));
        act.Should().Throw<ArgumentException>().WithMessage("*FusedCriticEnsembles*");
    }
}

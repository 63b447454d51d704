using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Tests.Algorithms.Shared;

namespace Marvel.Core.Tests.Algorithms.Offline;

/// <summary>
/// CPQ, BEAR-Lag and BCQ-Lag with the opt-in fused products of issue 21 (<see cref="VaeCriticLearnerOptions.FusedCriticEnsembles"/>,
/// <see cref="CpqOptions.FusedActorHeads"/>, <see cref="BearLagOptions.FusedActorHeads"/>) against the defaults from the same seed and
/// data: the training steps agree within <see cref="FusedComparison"/>'s tolerances, and a checkpoint written with one setting loads with
/// the other (the bit-for-bit resume with the options on is a case of <see cref="OfflineCheckpointTests"/>).
/// </summary>
public class FusedOptionsTests
{
    private readonly TempFolders _folders = new("marvel-fused-offline");

    [TearDown]
    public void DeleteFolders() => _folders.DeleteAll();

    private string NewFolder() => _folders.New();

    internal static CpqOptions Cpq(bool fusedCritics, bool fusedHeads) => CpqLearnerTests.Tiny() with
    {
        CriticHiddenSizes = [24, 16], FusedCriticEnsembles = fusedCritics, FusedActorHeads = fusedHeads,
    };

    internal static BearLagOptions BearLag(bool fusedCritics, bool fusedHeads) => new()
    {
        BatchSize = 32, ActorHiddenSizes = [16, 16], CriticHiddenSizes = [24, 16], VaeHiddenSize = 16, SampleActionCount = 4, MmdSampleCount = 4,
        RewardCriticsPerGroup = 2, CostCriticsPerGroup = 1, CostLimit = 0, FusedCriticEnsembles = fusedCritics, FusedActorHeads = fusedHeads,
    };

    internal static BcqLagOptions BcqLag(bool fusedCritics) => new()
    {
        BatchSize = 32, ActorHiddenSizes = [16, 16], CriticHiddenSizes = [24, 16], VaeHiddenSize = 16, SampleActionCount = 4,
        RewardCriticsPerGroup = 2, CostCriticsPerGroup = 1, CostLimit = 0, FusedCriticEnsembles = fusedCritics,
    };

    public static IEnumerable<TestCaseData> Pairs()
    {
        TestCaseData Pair(string name, Func<bool, ICheckpointableOfflineLearner> create) => new TestCaseData(create).SetArgDisplayNames(name);
        yield return Pair("CPQ, fused critics", on => new CpqLearner(TinyDatasets.Context(), Cpq(on, false)));
        yield return Pair("CPQ, fused actor heads", on => new CpqLearner(TinyDatasets.Context(), Cpq(false, on)));
        yield return Pair("CPQ, both", on => new CpqLearner(TinyDatasets.Context(), Cpq(on, on)));
        yield return Pair("BEAR-Lag, fused critics", on => new BearLagLearner(TinyDatasets.Context(), BearLag(on, false)));
        yield return Pair("BEAR-Lag, both", on => new BearLagLearner(TinyDatasets.Context(), BearLag(on, on)));
        yield return Pair("BCQ-Lag, fused critics", on => new BcqLagLearner(TinyDatasets.Context(), BcqLag(on)));
    }

    [TestCaseSource(nameof(Pairs))]
    public void TrainSteps_FusedAgainstPlain_FromTheSameSeedAndData_AgreeWithinTolerance(Func<bool, ICheckpointableOfflineLearner> create)
    {
        var data = TinyDatasets.BallCircle();
        using var plain = create(false);
        using var fused = create(true);
        plain.Attach(data);
        fused.Attach(data);
        var start = plain.ExportHandover();
        foreach (var role in start.Networks.Keys)
            fused.ExportHandover().GetNetwork(role).ContentEquals(start.GetNetwork(role)).Should().BeTrue($"the {role} starts from the same draws");

        for (int step = 0; step < 4; step++)
        {
            var expected = plain.TrainStep();
            var actual = fused.TrainStep();
            FusedComparison.ScalarsShouldBeClose(actual, expected, $"step {step}");
            FusedComparison.NetworksShouldBeClose(fused.ExportHandover(), plain.ExportHandover(), $"step {step}");
        }
    }

    [TestCaseSource(nameof(Pairs))]
    public void Checkpoint_WrittenWithOneSetting_LoadsWithTheOther_StateUnchanged(Func<bool, ICheckpointableOfflineLearner> create)
    {
        var data = TinyDatasets.BallCircle();
        foreach (bool writtenFused in new[] { true, false })
        {
            var written = NewFolder();
            using (var first = create(writtenFused))
            {
                first.Attach(data);
                for (int i = 0; i < 2; i++) first.TrainStep();
                first.SaveCheckpoint(written);
            }
            using var other = create(!writtenFused);
            other.LoadCheckpoint(written);
            other.Attach(data);
            other.Steps.Should().Be(2);
            var again = NewFolder();
            other.SaveCheckpoint(again);
            // Everything but learner.json (whose options differ in the one switch) is byte-identical: weights, moments, generators, sampler.
            foreach (var file in Directory.EnumerateFiles(written, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(written, file);
                if (relative == "learner.json") continue;
                File.ReadAllBytes(Path.Combine(again, relative)).Should().Equal(File.ReadAllBytes(file), $"{relative} written {(writtenFused ? "fused" : "plain")}");
            }
            // And it trains on like a learner that loaded it with the setting it was written with.
            using var same = create(writtenFused);
            same.LoadCheckpoint(written);
            same.Attach(data);
            FusedComparison.ScalarsShouldBeClose(other.TrainStep(), same.TrainStep(), $"the step after loading a {(writtenFused ? "fused" : "plain")} checkpoint");
        }
    }

    [Test]
    public void OptionsJson_AtTheDefaults_HasNoFusedKeys()
    {
        HandoverExport.OptionsJson(new CpqOptions()).Should().NotContain("Fused");
        HandoverExport.OptionsJson(new BearLagOptions()).Should().NotContain("Fused");
        HandoverExport.OptionsJson(new BcqLagOptions()).Should().NotContain("Fused");
        HandoverExport.OptionsJson(Cpq(true, true)).Should().Contain("\"FusedCriticEnsembles\":true").And.Contain("\"FusedActorHeads\":true");
        HandoverExport.OptionsJson(BcqLag(true)).Should().Contain("\"FusedCriticEnsembles\":true");
    }
}

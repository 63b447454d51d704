using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Alignment;
using Marvel.Core.Tests.Algorithms.Shared;

namespace Marvel.Core.Tests.Alignment;

/// <summary>
/// Value pre-alignment with <see cref="ValuePreAlignmentOptions.FusedCriticEnsembles"/> (issue 21 item 2) against the default from the same
/// artifact, data and seed: the aligned critics and the last step's scalars agree within <see cref="FusedComparison"/>'s tolerances, a
/// checkpointed fused alignment resumes bit for bit, and its checkpoint also resumes with the option off.
/// </summary>
public class ValuePreAlignerFusedTests
{
    private readonly TempFolders _folders = new("marvel-fused-vpa");

    [TearDown]
    public void DeleteFolders() => _folders.DeleteAll();

    private string NewFolder() => _folders.New();

    private static ValuePreAlignmentOptions Options(bool fused) => new()
    {
        Steps = 6, BatchSize = 32, MiniBatches = 2, RewardCriticLearningRate = 1e-3, CostCriticLearningRate = 2e-3, FusedCriticEnsembles = fused,
    };

    private static OfflineDataset Data() => AlignmentTestData.Dataset(40, i => (i % 7) * 0.5f, i => i % 3 == 0 ? 1f : 0f);

    [Test]
    public void Align_FusedAgainstPlain_AgreesWithinTolerance()
    {
        var artifact = AlignmentTestData.Artifact();
        var plain = new ValuePreAligner(Options(false)).Align(artifact, Data(), AlignmentTestData.Context());
        var fused = new ValuePreAligner(Options(true)).Align(artifact, Data(), AlignmentTestData.Context());

        fused.Steps.Should().Be(plain.Steps);
        FusedComparison.ScalarsShouldBeClose(fused.FinalMetrics, plain.FinalMetrics, "last alignment step");
        FusedComparison.NetworksShouldBeClose(fused.Artifact, plain.Artifact, "aligned artifact");
        fused.Artifact.Manifest.Networks.Should().BeEquivalentTo(plain.Artifact.Manifest.Networks);
        foreach (var role in new[] { HandoverRoles.RewardCritic, HandoverRoles.CostCritic })
            fused.Artifact.OptimizerStates[role].Length.Should().Be(plain.Artifact.OptimizerStates[role].Length, $"the {role}'s Adam state has the same format");
    }

    [Test]
    public void Align_FusedCheckpoint_ResumesBitForBitFused_AndWithinToleranceWithTheOptionOff()
    {
        var artifact = AlignmentTestData.Artifact();
        var root = NewFolder();
        StageCheckpoints Every3(string? resumeFrom) => new(3, resumeFrom, (calls, write) => write(Path.Combine(root, calls.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        var straight = new ValuePreAligner(Options(true)).Align(artifact, Data(), AlignmentTestData.Context(), Every3(null));
        var middle = Path.Combine(root, "3");
        Directory.Exists(middle).Should().BeTrue();

        var resumedFused = new ValuePreAligner(Options(true)).Align(artifact, Data(), AlignmentTestData.Context(), Every3(middle));
        foreach (var role in straight.Artifact.Networks.Keys)
            resumedFused.Artifact.GetNetwork(role).ContentEquals(straight.Artifact.GetNetwork(role)).Should().BeTrue($"{role} resumed with the same options");

        var resumedPlain = new ValuePreAligner(Options(false)).Align(artifact, Data(), AlignmentTestData.Context(), Every3(middle));
        FusedComparison.NetworksShouldBeClose(resumedPlain.Artifact, straight.Artifact, "resumed with the option off");
        FusedComparison.ScalarsShouldBeClose(resumedPlain.FinalMetrics, straight.FinalMetrics, "resumed with the option off");
    }

    [Test]
    public void OptionsJson_AtTheDefaults_HasNoFusedKey()
    {
        HandoverExport.OptionsJson(new ValuePreAlignmentOptions()).Should().NotContain("Fused");
        HandoverExport.OptionsJson(Options(true)).Should().Contain("\"FusedCriticEnsembles\":true");
    }
}

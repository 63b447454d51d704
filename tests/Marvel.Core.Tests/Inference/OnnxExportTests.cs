using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Marvel.Core.Tests.Inference.InferenceTestArtifacts;

namespace Marvel.Core.Tests.Inference;

/// <summary>Exported graphs run in ONNX Runtime (no libtorch) and give the library's deterministic actions.</summary>
public class OnnxExportTests
{
    private const int States = 1200;
    private const float Tolerance = 1e-5f;

    private static float[] RunOnnx(byte[] model, float[] observations, int observationSize)
    {
        using var session = new InferenceSession(model);
        int rows = observations.Length / observationSize;
        var input = new DenseTensor<float>(observations, [rows, observationSize]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, input)]);
        return results.Single(r => r.Name == OnnxExport.OutputName).AsEnumerable<float>().ToArray();
    }

    /// <summary>Max |ONNX − library| over <see cref="States"/> states, printed so the test log records the measured difference.</summary>
    private static double MaxDifference(HandoverArtifact artifact, double scale = 3)
    {
        var obs = Observations(States, seed: 21, scale: scale);
        using var policy = InferencePolicy.FromArtifact(artifact);
        var expected = policy.Act(obs);
        var actual = RunOnnx(OnnxExport.ToBytes(artifact), obs, policy.ObservationSize);
        actual.Length.Should().Be(expected.Length);
        double max = expected.Select((e, i) => (double)Math.Abs(e - actual[i])).Max();
        TestContext.Out.WriteLine($"{artifact.Manifest.Algorithm}: max |ONNX − library| over {States} states = {max:E2}");
        return max;
    }

    [Test]
    public void Export_SacLagActorWithNormalizerAndAsymmetricBox_MatchesTheLibraryOn1200States()
    {
        var artifact = SacLag(AsymmetricBox);
        artifact = artifact.With(manifest: artifact.Manifest with { ObservationNormalizer = Normalizer() });
        MaxDifference(artifact).Should().BeLessThanOrEqualTo(Tolerance);
    }

    [Test]
    public void Export_SacLagActorWithoutNormalizer_MatchesTheLibraryOn1200States()
    {
        MaxDifference(SacLag(AsymmetricBox, seed: 4)).Should().BeLessThanOrEqualTo(Tolerance);
    }

    [Test]
    public void Export_BcActor_MatchesTheLibraryOn1200States()
    {
        MaxDifference(Bc()).Should().BeLessThanOrEqualTo(Tolerance);
    }

    [Test]
    public void Export_PpoLagActor_ClipsLikeTheLibraryOn1200States()
    {
        // Wide observations push the unbounded Gaussian mean past both bounds, so the clip is exercised.
        MaxDifference(PpoLag(AsymmetricBox), scale: 30).Should().BeLessThanOrEqualTo(Tolerance);
    }

    [Test]
    public void Export_HandWrittenActor_GivesTheHandComputedAction()
    {
        // As InferencePolicyTests: s = 5, mean 3, variance 4 → z ≈ 1 → a = tanh(1.1) = 0.80049902 → box [−2, 4]: 1 + 3a = 3.40149706.
        // s = 100 with clip 10: z = 10 → μ = 0.5·20 + 0.1 = 10.1 → a = tanh(10.1) ≈ 1 − 3.4e-9 → 4.
        var artifact = HandWrittenSquashed(new RunningMeanStdState([3.0], [4.0], 100), low: [-2f], high: [4f]);
        var actions = RunOnnx(OnnxExport.ToBytes(artifact), [5f, 100f], 1);
        actions[0].Should().BeApproximately(3.40149706f, 1e-5f);
        actions[1].Should().BeApproximately(4f, 1e-5f);
    }

    [Test]
    public void Export_Graph_HasNamedInputAndOutputWithASymbolicBatch()
    {
        using var session = new InferenceSession(OnnxExport.ToBytes(SacLag(AsymmetricBox)));
        session.InputMetadata.Keys.Should().Equal(OnnxExport.InputName);
        session.OutputMetadata.Keys.Should().Equal(OnnxExport.OutputName);
        session.InputMetadata[OnnxExport.InputName].Dimensions.Should().Equal(-1, ObservationSize);
        session.OutputMetadata[OnnxExport.OutputName].Dimensions.Should().Equal(-1, ActionSize);
        session.InputMetadata[OnnxExport.InputName].ElementType.Should().Be(typeof(float));
        var metadata = session.ModelMetadata.CustomMetadataMap;
        metadata["algorithm"].Should().Be("SAC-Lag");
        metadata["actor_kind"].Should().Be("SquashedGaussianActor");
        metadata["task"].Should().Be("InferenceTest");
        session.ModelMetadata.ProducerName.Should().Be("Marvel.Core");
    }

    [Test]
    public void Save_WritesAFileOnnxRuntimeLoads()
    {
        var path = Path.Combine(Path.GetTempPath(), $"marvel-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            var artifact = Bc();
            OnnxExport.Save(artifact, path);
            using var session = new InferenceSession(path);
            File.ReadAllBytes(path).Should().Equal(OnnxExport.ToBytes(artifact));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Export_CdtArtifact_ThrowsNotSupportedNamingTheKind()
    {
        FluentActions.Invoking(() => OnnxExport.ToBytes(Cdt())).Should().Throw<NotSupportedException>()
            .WithMessage("ONNX export: *'CdtModel'*cannot be loaded or exported*");
    }

    [Test]
    public void Export_BcqLagArtifact_ThrowsNotSupportedNamingTheKind()
    {
        FluentActions.Invoking(() => OnnxExport.ToBytes(BcqLag())).Should().Throw<NotSupportedException>().WithMessage("*'PerturbationActor'*");
    }

    [Test]
    public void Export_MissingWeight_ThrowsInvalidDataNamingTheKey()
    {
        var artifact = HandWrittenSquashed();
        var weights = new StateDict(artifact.GetNetwork(HandoverRoles.Actor).Entries.Where(e => e.Name != "mu.bias"));
        var broken = artifact.With(networks: new Dictionary<string, StateDict> { [HandoverRoles.Actor] = weights });
        FluentActions.Invoking(() => OnnxExport.ToBytes(broken)).Should().Throw<InvalidDataException>().WithMessage("*'mu.bias'*");
    }

    [Test]
    public void Export_WeightOfTheWrongShape_ThrowsInvalidDataNamingTheShapes()
    {
        var artifact = HandWrittenSquashed();
        var weights = new StateDict(artifact.GetNetwork(HandoverRoles.Actor).Entries
            .Select(e => e.Name == "mu.weight" ? new NamedTensor("mu.weight", [1, 2], [1f, 2f]) : e));
        var broken = artifact.With(networks: new Dictionary<string, StateDict> { [HandoverRoles.Actor] = weights });
        FluentActions.Invoking(() => OnnxExport.ToBytes(broken)).Should().Throw<InvalidDataException>().WithMessage("*'mu.weight' is [1, 2]*needs [1, 1]*");
    }
}

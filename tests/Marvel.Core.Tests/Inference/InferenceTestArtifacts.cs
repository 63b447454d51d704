using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Offline.Cdt;
using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Algorithms.Online.SacLag;

namespace Marvel.Core.Tests.Inference;

/// <summary>Artifacts for the inference and export tests: hand-written ones with known weights, and real exports of each learner.</summary>
internal static class InferenceTestArtifacts
{
    public const int ObservationSize = 5;
    public const int ActionSize = 2;

    /// <summary>An asymmetric box, so a wrong mapping cannot pass by symmetry.</summary>
    public static BoxSpace AsymmetricBox => new([-2f, 0f], [4f, 1f]);

    public static BoxSpace SymmetricBox => BoxSpace.Uniform(ActionSize, -2f, 2f);

    public static LearnerContext Context(BoxSpace actionSpace, ulong seed = 3) =>
        new(BoxSpace.Uniform(ObservationSize, -10f, 10f), actionSpace, new SeedStreams(seed), 20, "InferenceTest");

    /// <summary>
    /// A squashed-Gaussian actor with 1 observation, 1 hidden unit and 1 action: h = relu(2·s), μ = 0.5·h + 0.1, log σ = 0·h − 1.
    /// </summary>
    public static HandoverArtifact HandWrittenSquashed(RunningMeanStdState? normalizer = null, float[]? low = null, float[]? high = null)
    {
        var weights = new StateDict(
        [
            new NamedTensor("trunk.net.0.weight", [1, 1], [2f]),
            new NamedTensor("trunk.net.0.bias", [1], [0f]),
            new NamedTensor("mu.weight", [1, 1], [0.5f]),
            new NamedTensor("mu.bias", [1], [0.1f]),
            new NamedTensor("log_std.weight", [1, 1], [0f]),
            new NamedTensor("log_std.bias", [1], [-1f]),
        ]);
        var manifest = new HandoverManifest
        {
            Algorithm = "Hand",
            ObservationSize = 1,
            ActionSize = 1,
            Networks = { [HandoverRoles.Actor] = new NetworkDescriptor("SquashedGaussianActor", [1]) },
            ObservationNormalizer = normalizer,
            ActionLow = low,
            ActionHigh = high,
        };
        return new HandoverArtifact(manifest, new Dictionary<string, StateDict> { [HandoverRoles.Actor] = weights });
    }

    public static SacLagOptions TinySacLag() => new() { ActorHiddenSizes = [16, 16], CriticHiddenSizes = [8], CostCriticHiddenSizes = [8] };

    public static PpoLagOptions TinyPpoLag() => new() { ActorHiddenSizes = [16, 16], CriticHiddenSizes = [8] };

    public static BcOptions TinyBc() => new() { HiddenSizes = [16, 16] };

    public static HandoverArtifact SacLag(BoxSpace box, ulong seed = 3)
    {
        using var learner = new SacLagLearner(Context(box, seed), TinySacLag());
        return learner.ExportHandover();
    }

    public static HandoverArtifact PpoLag(BoxSpace box)
    {
        using var learner = new PpoLagLearner(Context(box), TinyPpoLag());
        return learner.ExportHandover();
    }

    public static HandoverArtifact Bc()
    {
        using var learner = new BcLearner(Context(SymmetricBox), TinyBc());
        return learner.ExportHandover();
    }

    public static HandoverArtifact Cdt()
    {
        using var learner = new CdtLearner(Context(SymmetricBox), new CdtOptions { EmbeddingSize = 8, Layers = 1, Heads = 1, SequenceLength = 2 });
        return learner.ExportHandover();
    }

    public static HandoverArtifact BcqLag()
    {
        using var learner = new BcqLagLearner(Context(SymmetricBox), new BcqLagOptions { ActorHiddenSizes = [8], CriticHiddenSizes = [8], VaeHiddenSize = 8 });
        return learner.ExportHandover();
    }

    /// <summary>Observations spread over and beyond the box the actors were built for, [count, ObservationSize], seeded.</summary>
    public static float[] Observations(int count, ulong seed = 11, double scale = 3)
    {
        var random = new RandomSource(seed);
        var result = new float[count * ObservationSize];
        for (int i = 0; i < result.Length; i++) result[i] = (float)(scale * random.NextGaussian());
        return result;
    }

    /// <summary>A normalizer with a different mean and spread per coordinate.</summary>
    public static RunningMeanStdState Normalizer() =>
        new([0.5, -1, 2, 0, 3], [4, 0.25, 1, 9, 2.25], 1000);
}

using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Inference;
using static Marvel.Core.Tests.Inference.InferenceTestArtifacts;

namespace Marvel.Core.Tests.Inference;

public class InferencePolicyTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "marvel-inference-tests", Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    // ---- hand-computed actions -------------------------------------------------------------------------------------

    [Test]
    public void Act_HandWrittenActorWithoutBox_ReturnsTanhOfTheMean()
    {
        using var policy = InferencePolicy.FromArtifact(HandWrittenSquashed());
        // s = 1: h = relu(2) = 2, μ = 0.5·2 + 0.1 = 1.1, a = tanh(1.1) = 0.80049902. s = −1: h = 0, μ = 0.1, a = tanh(0.1) = 0.09966799.
        var actions = policy.Act([1f, -1f]);
        actions[0].Should().BeApproximately(0.80049902f, 1e-6f);
        actions[1].Should().BeApproximately(0.09966799f, 1e-6f);
        policy.ActionSpace.Should().BeNull();
    }

    [Test]
    public void Act_RecordedBox_MapsTheSquashedActionOntoIt()
    {
        using var policy = InferencePolicy.FromArtifact(HandWrittenSquashed(low: [-2f], high: [4f]));
        // low + (a + 1)/2 · (high − low) = −2 + 3(a + 1) = 1 + 3a; s = 1: 1 + 3 · 0.80049902 = 3.40149706.
        policy.Act([1f])[0].Should().BeApproximately(3.40149706f, 1e-5f);
    }

    [Test]
    public void Act_OptionsBox_OverridesTheRecordedBox()
    {
        using var policy = InferencePolicy.FromArtifact(HandWrittenSquashed(low: [-2f], high: [4f]),
            new InferencePolicyOptions { ActionSpace = new BoxSpace([0f], [10f]) });
        // 0 + (0.80049902 + 1)/2 · 10 = 9.0024951.
        policy.Act([1f])[0].Should().BeApproximately(9.0024951f, 1e-5f);
    }

    [Test]
    public void Act_ArtifactWithNormalizer_NormalizesBeforeTheActor()
    {
        // mean 3, variance 4: s = 5 → z = (5 − 3)/√(4 + 1e-8) = 0.99999999875 → a = tanh(0.5 · 2z + 0.1) ≈ tanh(1.1) = 0.80049902.
        using var policy = InferencePolicy.FromArtifact(HandWrittenSquashed(new RunningMeanStdState([3.0], [4.0], 100)));
        policy.NormalizesObservations.Should().BeTrue();
        policy.Act([5f])[0].Should().BeApproximately(0.80049902f, 1e-6f);
    }

    [Test]
    public void Act_NormalizedValueBeyondTheClip_IsClipped()
    {
        // Trunk weight 2, clip 0.2: s = 100 → z = (100 − 3)/2 = 48.5, clipped to 0.2 → h = 0.4, μ = 0.3, a = tanh(0.3) = 0.29131261.
        // Without the clip a would be tanh(0.5 · 97 + 0.1) = 1.
        using var policy = InferencePolicy.FromArtifact(HandWrittenSquashed(new RunningMeanStdState([3.0], [4.0], 100, Clip: 0.2)));
        policy.Act([100f])[0].Should().BeApproximately(0.29131261f, 1e-6f);
    }

    [Test]
    public void Act_Stochastic_SamplesTanhOfAGaussianAroundTheMean()
    {
        using var policy = InferencePolicy.FromArtifact(HandWrittenSquashed(), new InferencePolicyOptions { Seed = 5 });
        const int n = 4000;
        var actions = policy.Act(Enumerable.Repeat(1f, n).ToArray(), deterministic: false);
        // s = 1: u = μ + σε with μ = 1.1 and σ = exp(−1) = 0.36787944; atanh(a) recovers u.
        var u = actions.Select(a => Math.Atanh(a)).ToArray();
        double mean = u.Average(), std = Math.Sqrt(u.Select(x => (x - mean) * (x - mean)).Sum() / (n - 1));
        mean.Should().BeApproximately(1.1, 4 * 0.36787944 / Math.Sqrt(n));   // 4 standard errors: 0.0233
        std.Should().BeApproximately(0.36787944, 0.05 * 0.36787944);
    }

    [Test]
    public void Act_StochasticWithTheSameSeed_RepeatsTheDraws()
    {
        var artifact = SacLag(AsymmetricBox);
        using var a = InferencePolicy.FromArtifact(artifact, new InferencePolicyOptions { Seed = 9 });
        using var b = InferencePolicy.FromArtifact(artifact, new InferencePolicyOptions { Seed = 9 });
        using var c = InferencePolicy.FromArtifact(artifact, new InferencePolicyOptions { Seed = 10 });
        var obs = Observations(8);
        var first = a.Act(obs, deterministic: false);
        b.Act(obs, deterministic: false).Should().Equal(first);
        c.Act(obs, deterministic: false).Should().NotEqual(first);
        first.Should().NotEqual(a.Act(obs, deterministic: true));
    }

    // ---- the same actions as the learner that trained the actor ---------------------------------------------------

    /// <summary>The backend that runs the learner's own TorchSharp module, so its actions are the learner's bits.</summary>
    private static readonly InferencePolicyOptions LearnersBits = new() { Backend = InferenceBackend.TorchSharp };

    [Test]
    public void Act_SacLagArtifact_MatchesTheLearnersOwnPolicy()
    {
        using var learner = new SacLagLearner(Context(AsymmetricBox), TinySacLag());
        using var policy = InferencePolicy.FromArtifact(learner.ExportHandover(), LearnersBits);
        var obs = Observations(64);
        var expected = new float[64 * ActionSize];
        learner.Policy.Act(obs, expected, deterministic: true);
        policy.Act(obs).Should().Equal(expected);
        policy.ActionSpace.Should().Be(AsymmetricBox);
        policy.ActorKind.Should().Be("SquashedGaussianActor");
    }

    [Test]
    public void Act_SacLagArtifactOnTheManagedBackend_MatchesTheLearnersOwnPolicyToRounding()
    {
        using var learner = new SacLagLearner(Context(AsymmetricBox), TinySacLag());
        using var policy = InferencePolicy.FromArtifact(learner.ExportHandover());
        policy.Backend.Should().Be(InferenceBackend.Managed);
        var obs = Observations(64);
        var expected = new float[64 * ActionSize];
        learner.Policy.Act(obs, expected, deterministic: true);
        var actual = policy.Act(obs);
        for (int i = 0; i < expected.Length; i++) actual[i].Should().BeApproximately(expected[i], 1e-5f);
    }

    [Test]
    public void Act_RepeatedOnSmallBatches_IsBitIdenticalToTheLearnersPolicyEveryTime()
    {
        // Regression: the input tensor wrapped a managed copy of the observations, whose address (and so the alignment libtorch's
        // matrix kernels see) changes from call to call; the last bits of the actions then did too (a resumed pipeline run's final
        // evaluation differed from the uninterrupted one's in the 9th digit). The input now lives in libtorch memory. (The managed
        // backend's counterpart: ManagedInferenceTests.Act_Managed_GivesTheSameBitsForARowAloneAndInAnyBatch.)
        using var learner = new SacLagLearner(Context(AsymmetricBox), TinySacLag());
        using var policy = InferencePolicy.FromArtifact(learner.ExportHandover(), LearnersBits);
        var obs = Observations(64);
        var junk = new List<float[]>();
        for (int call = 0; call < 200; call++)
        {
            int rows = 1 + call % 3;
            var slice = obs.AsSpan(call % 60 * ObservationSize, rows * ObservationSize);
            var expected = new float[rows * ActionSize];
            learner.Policy.Act(slice, expected, deterministic: true);
            junk.Add(new float[1 + call % 7]); // moves the next managed allocations by a few bytes
            policy.Act(slice).Should().Equal(expected, $"call {call} ({rows} rows)");
        }
    }

    [Test]
    public void Act_BcArtifact_MatchesTheLearnersOwnPolicyInBothModes()
    {
        using var learner = new BcLearner(Context(SymmetricBox), TinyBc());
        using var policy = InferencePolicy.FromArtifact(learner.ExportHandover());
        var obs = Observations(64);
        var expected = new float[64 * ActionSize];
        learner.Policy.Act(obs, expected, deterministic: true);
        // The learner computes m·tanh(x) in float32, the policy low + (a + 1)/2·(high − low) in double: equal up to rounding.
        var actual = policy.Act(obs);
        for (int i = 0; i < expected.Length; i++) actual[i].Should().BeApproximately(expected[i], 1e-6f);
        policy.Act(obs, deterministic: false).Should().Equal(actual);
    }

    [Test]
    public void Act_PpoLagArtifact_MatchesTheLearnersOwnPolicy_ClippedIntoTheBox()
    {
        using var learner = new PpoLagLearner(Context(AsymmetricBox), TinyPpoLag());
        using var policy = InferencePolicy.FromArtifact(learner.ExportHandover(), LearnersBits);
        using var managed = InferencePolicy.FromArtifact(learner.ExportHandover());
        var obs = Observations(64, scale: 30);
        var expected = new float[64 * ActionSize];
        learner.Policy.Act(obs, expected, deterministic: true);
        var actual = policy.Act(obs);
        actual.Should().Equal(expected);
        var fromManaged = managed.Act(obs);
        for (int i = 0; i < expected.Length; i++) fromManaged[i].Should().BeApproximately(expected[i], 1e-5f);
        for (int i = 0; i < actual.Length; i += ActionSize)
        {
            actual[i].Should().BeInRange(-2f, 4f);
            actual[i + 1].Should().BeInRange(0f, 1f);
        }
    }

    [Test]
    public void Act_BatchOfObservations_EqualsOneObservationAtATime()
    {
        using var policy = InferencePolicy.FromArtifact(SacLag(AsymmetricBox));
        var obs = Observations(16);
        var batch = policy.Act(obs);
        // libtorch multiplies a batch of one with another kernel than a batch of 16, so the last bit may differ.
        for (int row = 0; row < 16; row++)
        {
            var single = policy.Act(obs.AsSpan(row * ObservationSize, ObservationSize));
            for (int k = 0; k < ActionSize; k++) single[k].Should().BeApproximately(batch[row * ActionSize + k], 1e-6f);
        }
    }

    [Test]
    public void Act_FromSeveralThreads_GivesTheSameActionsAsOneThread()
    {
        using var policy = InferencePolicy.FromArtifact(SacLag(AsymmetricBox).With(
            manifest: SacLag(AsymmetricBox).Manifest with { ObservationNormalizer = Normalizer() }));
        const int rows = 200;
        var obs = Observations(rows);
        // One row per call, as the threads below do (a batch of one runs another kernel than a batch of 200).
        var expected = new float[rows * ActionSize];
        for (int row = 0; row < rows; row++)
            policy.Act(obs.AsSpan(row * ObservationSize, ObservationSize), expected.AsSpan(row * ActionSize, ActionSize), deterministic: true);
        var results = new float[4][];
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            TorchSharp.torch.set_num_threads(1);
            var mine = new float[rows * ActionSize];
            // Each thread walks every row in its own order (strides 1, 3, 7, 9 are coprime to 200), one at a time, so the calls interleave.
            int stride = new[] { 1, 3, 7, 9 }[t];
            for (int k = 0; k < rows; k++)
            {
                int row = (k * stride + t) % rows;
                policy.Act(obs.AsSpan(row * ObservationSize, ObservationSize), mine.AsSpan(row * ActionSize, ActionSize), deterministic: true);
                policy.Act(obs.AsSpan(0, ObservationSize), new float[ActionSize], deterministic: false);   // stochastic calls in between
            }
            results[t] = mine;
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        foreach (var r in results) r.Should().Equal(expected);
    }

    // ---- loading from a folder: the actor only -----------------------------------------------------------------------

    [Test]
    public void Load_Folder_ReadsOnlyTheManifestAndTheActor()
    {
        var artifact = SacLag(AsymmetricBox);
        artifact.Save(_dir);
        artifact.OptimizerStates.Should().ContainKey(HandoverRoles.Actor);
        // Critic and optimizer files made unreadable: a load that touched them would throw.
        foreach (var file in Directory.GetFiles(Path.Combine(_dir, "optimizers")))
            File.WriteAllBytes(file, [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(_dir, "networks", HandoverRoles.RewardCritic + ".bin"), [1, 2, 3]);
        File.Delete(Path.Combine(_dir, "networks", HandoverRoles.CostCritic + ".bin"));
        FluentActions.Invoking(() => HandoverArtifact.Load(_dir)).Should().Throw<InvalidDataException>();

        using var policy = InferencePolicy.Load(_dir);
        using var inMemory = InferencePolicy.FromArtifact(artifact);
        var obs = Observations(32);
        policy.Act(obs).Should().Equal(inMemory.Act(obs));
        policy.Algorithm.Should().Be("SAC-Lag");
        policy.TaskId.Should().Be("InferenceTest");
    }

    [Test]
    public void Load_MissingFolder_SaysItIsNotAnArtifact()
    {
        FluentActions.Invoking(() => InferencePolicy.Load(_dir)).Should().Throw<InvalidDataException>().WithMessage("*not a handover artifact*manifest.json*");
    }

    [Test]
    public void Load_MissingActorFile_NamesTheFile()
    {
        SacLag(AsymmetricBox).Save(_dir);
        File.Delete(Path.Combine(_dir, "networks", "actor.bin"));
        FluentActions.Invoking(() => InferencePolicy.Load(_dir)).Should().Throw<InvalidDataException>().WithMessage("*actor*actor.bin*missing*");
    }

    // ---- one test per bad input ------------------------------------------------------------------------------------

    [Test]
    public void FromArtifact_CdtArtifact_ThrowsNotSupportedNamingTheKindAndTheWayOut()
    {
        FluentActions.Invoking(() => InferencePolicy.FromArtifact(Cdt())).Should().Throw<NotSupportedException>()
            .WithMessage("*CDT*'CdtModel'*CdtLearner.Policy*SquashedGaussianActor*");
    }

    [Test]
    public void FromArtifact_BcqLagArtifact_ThrowsNotSupportedNamingTheKind()
    {
        FluentActions.Invoking(() => InferencePolicy.FromArtifact(BcqLag())).Should().Throw<NotSupportedException>()
            .WithMessage("*'PerturbationActor'*VAE*BcqLagLearner.Policy*");
    }

    [Test]
    public void FromArtifact_NoActor_ThrowsInvalidDataListingTheRoles()
    {
        var manifest = new HandoverManifest
        {
            Algorithm = "Critics",
            ObservationSize = 1,
            ActionSize = 1,
            Networks = { [HandoverRoles.RewardCritic] = new NetworkDescriptor("QEnsemble", [4]) },
        };
        FluentActions.Invoking(() => InferencePolicy.FromArtifact(new HandoverArtifact(manifest, new Dictionary<string, StateDict>())))
            .Should().Throw<InvalidDataException>().WithMessage("*no 'actor'*reward_critic*");
    }

    [Test]
    public void FromArtifact_WeightsThatDoNotFitTheDescriptor_ThrowInvalidData()
    {
        var artifact = HandWrittenSquashed();
        var wrong = artifact.With(manifest: artifact.Manifest with
        {
            Networks = new() { [HandoverRoles.Actor] = new NetworkDescriptor("SquashedGaussianActor", [3]) },
        });
        FluentActions.Invoking(() => InferencePolicy.FromArtifact(wrong)).Should().Throw<InvalidDataException>().WithMessage("*actor*");
    }

    [Test]
    public void FromArtifact_ActionSpaceOfAnotherDimension_ThrowsArgumentException()
    {
        FluentActions.Invoking(() => InferencePolicy.FromArtifact(HandWrittenSquashed(), new InferencePolicyOptions { ActionSpace = BoxSpace.Uniform(3, -1, 1) }))
            .Should().Throw<ArgumentException>().WithMessage("*3 coordinates*produces 1*");
    }

    [Test]
    public void FromArtifact_UnknownActivation_ThrowsInvalidData()
    {
        var artifact = HandWrittenSquashed();
        var wrong = artifact.With(manifest: artifact.Manifest with
        {
            Networks = new() { [HandoverRoles.Actor] = new NetworkDescriptor("SquashedGaussianActor", [1], 1, "Swish") },
        });
        FluentActions.Invoking(() => InferencePolicy.FromArtifact(wrong)).Should().Throw<InvalidDataException>().WithMessage("*'Swish'*");
    }

    [Test]
    public void Act_ObservationsNotAMultipleOfTheSize_ThrowsArgumentException()
    {
        using var policy = InferencePolicy.FromArtifact(SacLag(AsymmetricBox));
        FluentActions.Invoking(() => policy.Act(new float[ObservationSize + 1])).Should().Throw<ArgumentException>().WithMessage("*6 values*observation size 5*");
    }

    [Test]
    public void Act_ActionBufferOfTheWrongLength_ThrowsArgumentException()
    {
        using var policy = InferencePolicy.FromArtifact(SacLag(AsymmetricBox));
        FluentActions.Invoking(() => policy.Act(new float[2 * ObservationSize], new float[3], true)).Should().Throw<ArgumentException>().WithMessage("*3 values*2 observations need 4*");
    }

    [Test]
    public void Act_AfterDispose_ThrowsObjectDisposed()
    {
        var policy = InferencePolicy.FromArtifact(HandWrittenSquashed());
        policy.Dispose();
        FluentActions.Invoking(() => policy.Act([1f])).Should().Throw<ObjectDisposedException>();
    }

    [Test]
    public void Load_ManifestWithBoxOfTheWrongLength_ThrowsInvalidData()
    {
        HandWrittenSquashed(low: [-1f], high: [1f]).Save(_dir);
        var path = Path.Combine(_dir, "manifest.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        json["ActionHigh"] = new System.Text.Json.Nodes.JsonArray(1, 2);
        File.WriteAllText(path, json.ToJsonString());
        FluentActions.Invoking(() => InferencePolicy.Load(_dir)).Should().Throw<InvalidDataException>().WithMessage("*ActionLow and ActionHigh*ActionSize = 1*");
    }
}

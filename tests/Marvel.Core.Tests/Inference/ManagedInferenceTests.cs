using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Inference;
using Marvel.Core.Networks;
using Marvel.Core.Abstractions.Seeding;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Inference;

/// <summary>
/// The managed SIMD forward pass of <see cref="InferencePolicy"/> (<see cref="InferenceBackend.Managed"/>, the default) against the
/// TorchSharp actors it replaces, by hand, and for allocations.
/// </summary>
public class ManagedInferenceTests
{
    /// <summary>Largest |managed − TorchSharp| accepted for an action: both compute in float32 and differ in summation order only.</summary>
    private const float Tolerance = 1e-5f;

    private const int Obs = 8, Act = 2;

    /// <summary>An artifact holding a freshly initialized actor (PyTorch's default initialization from <paramref name="seed"/>).</summary>
    private static HandoverArtifact RandomActor(string kind, int[] hidden, ulong seed, Activation activation = Activation.ReLU,
        BoxSpace? box = null, RunningMeanStdState? normalizer = null)
    {
        using var generator = new Generator(seed);
        using nn.Module actor = kind switch
        {
            "SquashedGaussianActor" => new SquashedGaussianActor(Obs, Act, hidden, generator),
            "DeterministicActor" => new DeterministicActor(Obs, Act, hidden, 1.0, generator),
            _ => new GaussianActor(Obs, Act, hidden, activation, 0, generator),
        };
        var weights = ModuleState.ToStateDict(actor);
        if (kind == "GaussianActor")
            // A log σ per coordinate other than the initial 0, so σ·ε is not ε.
            weights = new StateDict(weights.Entries.Select(e => e.Name == "log_std" ? e with { Values = [-0.7f, 0.4f] } : e));
        var manifest = new HandoverManifest
        {
            Algorithm = "Random",
            ObservationSize = Obs,
            ActionSize = Act,
            Networks = { [HandoverRoles.Actor] = new NetworkDescriptor(kind, hidden, 1, activation.ToString()) },
            ObservationNormalizer = normalizer,
            ActionLow = box is null ? null : box.Low.ToArray(),
            ActionHigh = box is null ? null : box.High.ToArray(),
        };
        return new HandoverArtifact(manifest, new Dictionary<string, StateDict> { [HandoverRoles.Actor] = weights });
    }

    private static float[] Observations(int count, ulong seed = 17, double scale = 3)
    {
        var random = new RandomSource(seed);
        var result = new float[count * Obs];
        for (int i = 0; i < result.Length; i++) result[i] = (float)(scale * random.NextGaussian());
        return result;
    }

    private static InferencePolicy Policy(HandoverArtifact artifact, InferenceBackend backend, ulong seed = 0) =>
        InferencePolicy.FromArtifact(artifact, new InferencePolicyOptions { Backend = backend, Seed = seed });

    private static float MaxDifference(float[] a, float[] b)
    {
        a.Length.Should().Be(b.Length);
        return a.Select((x, i) => Math.Abs(x - b[i])).Max();
    }

    // ---- the same actions as the TorchSharp actors --------------------------------------------------------------------

    [TestCase(new[] { 128, 128 })]
    [TestCase(new[] { 256, 256 })]
    [TestCase(new[] { 37 })]
    [TestCase(new[] { 37, 19 })]
    [TestCase(new[] { 1100 })]
    public void Act_DeterministicBatchOne_MatchesTheTorchSharpActor(int[] hidden)
    {
        // 37, 19 and 1100 are no multiple of any vector width, so the padded tails and the narrow last tile run; 128 and 256 only full
        // tiles. 1100 also needs more scratch than the stack holds (the pooled-array path).
        var artifact = RandomActor("SquashedGaussianActor", hidden, seed: 5, box: new BoxSpace([-2f, 0f], [4f, 1f]));
        using var managed = Policy(artifact, InferenceBackend.Managed);
        using var torchSharp = Policy(artifact, InferenceBackend.TorchSharp);
        managed.Backend.Should().Be(InferenceBackend.Managed);
        const int rows = 64;
        var obs = Observations(rows);
        var expected = new float[rows * Act];
        var actual = new float[rows * Act];
        for (int row = 0; row < rows; row++)
        {
            torchSharp.Act(obs.AsSpan(row * Obs, Obs), expected.AsSpan(row * Act, Act), deterministic: true);
            managed.Act(obs.AsSpan(row * Obs, Obs), actual.AsSpan(row * Act, Act), deterministic: true);
        }
        float max = MaxDifference(actual, expected);
        TestContext.Out.WriteLine($"hidden [{string.Join(", ", hidden)}]: max |managed − TorchSharp| over {rows} states = {max:E2}");
        max.Should().BeLessThanOrEqualTo(Tolerance);
        managed.Act(obs).Should().Equal(actual, "rows in pairs give the bits of rows one at a time");
        // Not trivially equal: the actions spread over the box.
        actual.Where((_, i) => i % Act == 0).Max().Should().BeGreaterThan(actual.Where((_, i) => i % Act == 0).Min() + 0.1f);
    }

    [TestCase("SquashedGaussianActor", Activation.ReLU)]
    [TestCase("DeterministicActor", Activation.ReLU)]
    [TestCase("GaussianActor", Activation.Tanh)]
    [TestCase("GaussianActor", Activation.ReLU)]
    [TestCase("GaussianActor", Activation.Identity)]
    public void Act_BatchWithNormalizer_MatchesTheTorchSharpActorForEveryFamily(string kind, Activation activation)
    {
        var normalizer = new RunningMeanStdState([0.5, -1, 2, 0, 3, 1, -2, 0.25], [4, 0.25, 1, 9, 2.25, 1, 16, 0.5], 1000);
        var artifact = RandomActor(kind, [37, 16], seed: 6, activation, BoxSpace.Uniform(Act, -1.5f, 1.5f), normalizer);
        using var managed = Policy(artifact, InferenceBackend.Managed);
        using var torchSharp = Policy(artifact, InferenceBackend.TorchSharp);
        var obs = Observations(100, scale: 5);
        MaxDifference(managed.Act(obs), torchSharp.Act(obs)).Should().BeLessThanOrEqualTo(Tolerance);
    }

    [TestCase("SquashedGaussianActor", Activation.ReLU)]
    [TestCase("GaussianActor", Activation.Tanh)]
    public void Act_Stochastic_DrawsTheSameNoiseAsTheTorchSharpActor(string kind, Activation activation)
    {
        // Same seed, same calls (batches of 1 and of 5): the managed backend draws ε with the same generator in the same amounts as
        // randn in SampleAction and Sample, so the sampled actions agree to rounding, call after call.
        var artifact = RandomActor(kind, [37, 16], seed: 7, activation);
        using var managed = Policy(artifact, InferenceBackend.Managed, seed: 12);
        using var torchSharp = Policy(artifact, InferenceBackend.TorchSharp, seed: 12);
        var obs = Observations(5);
        for (int call = 0; call < 6; call++)
        {
            var slice = call % 2 == 0 ? obs.AsSpan(0, Obs) : obs.AsSpan();
            var expected = torchSharp.Act(slice, deterministic: false);
            var actual = managed.Act(slice, deterministic: false);
            MaxDifference(actual, expected).Should().BeLessThanOrEqualTo(Tolerance, $"call {call}");
            actual.Should().NotEqual(managed.Act(slice, deterministic: true), "the sample is not the mode");
        }
    }

    [Test]
    public void Act_Managed_GivesTheSameBitsForARowAloneAndInAnyBatch()
    {
        // Each output is one fused multiply-add chain in input order, whatever the batch or the memory's alignment.
        var artifact = RandomActor("SquashedGaussianActor", [37, 19], seed: 8);
        using var policy = Policy(artifact, InferenceBackend.Managed);
        var obs = Observations(30);
        var batch = policy.Act(obs);
        var junk = new List<float[]>();
        for (int call = 0; call < 90; call++)
        {
            int row = call % 30;
            junk.Add(new float[1 + call % 7]);   // moves the next managed allocations by a few bytes
            var copy = obs.AsSpan(row * Obs, Obs).ToArray();
            policy.Act(copy).Should().Equal(batch.AsSpan(row * Act, Act).ToArray(), $"call {call}, row {row}");
        }
    }

    // ---- by hand ------------------------------------------------------------------------------------------------------

    [Test]
    public void Act_HandWrittenTwoInputOneHiddenLayer_GivesTheHandComputedAction()
    {
        // 2 observations, hidden [2], 1 action: W₁ = [[1, −2], [0.5, 1]], b₁ = [0.5, −1]; μ = 0.4·h₁ − 0.2·h₂ + 0.1.
        // s = (1, 2): W₁s + b₁ = (1 − 4 + 0.5, 0.5 + 2 − 1) = (−2.5, 1.5) → h = (0, 1.5) → μ = −0.3 + 0.1 = −0.2 → a = tanh(−0.2) = −0.19737532.
        // s = (3, 1): W₁s + b₁ = (3 − 2 + 0.5, 1.5 + 1 − 1) = (1.5, 1.5) → h = (1.5, 1.5) → μ = 0.6 − 0.3 + 0.1 = 0.4 → a = tanh(0.4) = 0.37994896.
        // Box [0, 10]: 5(a + 1) = 4.0131234 and 6.8997448.
        var weights = new StateDict(
        [
            new NamedTensor("trunk.net.0.weight", [2, 2], [1f, -2f, 0.5f, 1f]),
            new NamedTensor("trunk.net.0.bias", [2], [0.5f, -1f]),
            new NamedTensor("mu.weight", [1, 2], [0.4f, -0.2f]),
            new NamedTensor("mu.bias", [1], [0.1f]),
            new NamedTensor("log_std.weight", [1, 2], [0f, 0f]),
            new NamedTensor("log_std.bias", [1], [-1f]),
        ]);
        var manifest = new HandoverManifest
        {
            Algorithm = "Hand",
            ObservationSize = 2,
            ActionSize = 1,
            Networks = { [HandoverRoles.Actor] = new NetworkDescriptor("SquashedGaussianActor", [2]) },
        };
        var artifact = new HandoverArtifact(manifest, new Dictionary<string, StateDict> { [HandoverRoles.Actor] = weights });
        using var policy = InferencePolicy.FromArtifact(artifact);
        policy.Backend.Should().Be(InferenceBackend.Managed, "it is the default");
        var actions = policy.Act([1f, 2f, 3f, 1f]);
        actions[0].Should().BeApproximately(-0.19737532f, 1e-6f);
        actions[1].Should().BeApproximately(0.37994896f, 1e-6f);

        using var boxed = InferencePolicy.FromArtifact(artifact, new InferencePolicyOptions { ActionSpace = new BoxSpace([0f], [10f]) });
        var mapped = boxed.Act([1f, 2f, 3f, 1f]);
        mapped[0].Should().BeApproximately(4.0131234f, 1e-6f);
        mapped[1].Should().BeApproximately(6.8997448f, 1e-6f);
    }

    // ---- no allocation per call ---------------------------------------------------------------------------------------

    [TestCase(1, false)]
    [TestCase(1, true)]
    [TestCase(4, false)]
    [TestCase(4, true)]
    public void Act_Managed_AllocatesNothingPerCallAfterWarmUp(int batch, bool sampled)
    {
        var normalizer = new RunningMeanStdState(Enumerable.Repeat(0.5, Obs).ToArray(), Enumerable.Repeat(2.0, Obs).ToArray(), 100);
        using var policy = Policy(RandomActor("SquashedGaussianActor", [256, 256], seed: 9, box: BoxSpace.Uniform(Act, -1, 1), normalizer: normalizer),
            InferenceBackend.Managed);
        var obs = Observations(batch);
        var actions = new float[batch * Act];
        for (int i = 0; i < 10; i++) policy.Act(obs, actions, deterministic: !sampled);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++) policy.Act(obs, actions, deterministic: !sampled);
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    // ---- bad input ----------------------------------------------------------------------------------------------------

    [Test]
    public void Act_ObservationOfTheWrongLength_NamesTheExpectedAndTheGivenLength()
    {
        using var policy = Policy(RandomActor("SquashedGaussianActor", [37], seed: 10), InferenceBackend.Managed);
        FluentActions.Invoking(() => policy.Act(new float[Obs - 1], new float[Act], true)).Should().Throw<ArgumentException>()
            .WithMessage("*7 values*observation size 8*");
        FluentActions.Invoking(() => policy.Act(new float[Obs + 3])).Should().Throw<ArgumentException>()
            .WithMessage("*11 values*observation size 8*");
    }

    [Test]
    public void ManagedActorAct_BadLengths_NameTheExpectedAndTheGivenLength()
    {
        var artifact = RandomActor("SquashedGaussianActor", [37], seed: 10);
        var actor = ManagedActor.Create(ActorSpec.Resolve(artifact.Manifest, "test"), artifact.GetNetwork(HandoverRoles.Actor), "test");
        var scratch = new float[actor.ScratchLength];
        FluentActions.Invoking(() => actor.Act(new float[Obs + 1], new float[Act], ReadOnlySpan<float>.Empty, null, scratch))
            .Should().Throw<ArgumentException>().WithMessage("*9 values*observation size 8*");
        FluentActions.Invoking(() => actor.Act(new float[2 * Obs], new float[Act], ReadOnlySpan<float>.Empty, null, scratch))
            .Should().Throw<ArgumentException>().WithMessage("*2 values; 2 observations need 4*");
        FluentActions.Invoking(() => actor.Act(new float[Obs], new float[Act], new float[Act + 1], null, scratch))
            .Should().Throw<ArgumentException>().WithMessage("*noise*3 values; 1 observations need 2*");
        FluentActions.Invoking(() => actor.Act(new float[Obs], new float[Act], ReadOnlySpan<float>.Empty, null, new float[actor.ScratchLength - 1]))
            .Should().Throw<ArgumentException>().WithMessage($"*needs {actor.ScratchLength} floats of scratch; got {actor.ScratchLength - 1}*");
    }

    [Test]
    public void FromArtifact_UndefinedBackend_ThrowsArgumentExceptionListingTheBackends()
    {
        FluentActions.Invoking(() => InferencePolicy.FromArtifact(RandomActor("SquashedGaussianActor", [4], seed: 1),
                new InferencePolicyOptions { Backend = (InferenceBackend)7 }))
            .Should().Throw<ArgumentException>().WithMessage("*backend 7*Managed, TorchSharp*");
    }
}

using System.Buffers;
using System.Runtime.InteropServices;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;

namespace Marvel.Core.Inference;

/// <summary>How <see cref="InferencePolicy"/> computes the actor's forward pass.</summary>
public enum InferenceBackend
{
    /// <summary>
    /// Managed SIMD code over weights copied once into managed memory (default): no TorchSharp call and no allocation per deterministic
    /// action. Each output is one chain of fused multiply-adds in input order, so an observation's action has the same bits on every
    /// call, whatever the batch it comes in. It differs from <see cref="TorchSharp"/>'s by float rounding only (libtorch's matrix
    /// product sums in another order; measured ≤ 1e-6 on the library's tests), so it is not bit-identical to the learner's own policy.
    /// </summary>
    Managed,

    /// <summary>
    /// The actor's TorchSharp module, as the learner that trained it runs it: the same bits as the learner's own policy for the same
    /// batch, at the cost of a few µs of dispatch per tensor operation (≈ 20 µs per batch-1 action).
    /// </summary>
    TorchSharp,
}

/// <summary>Settings of <see cref="InferencePolicy"/>.</summary>
public sealed record InferencePolicyOptions
{
    /// <summary>
    /// The action box actions are mapped onto (squashed actors: low + (a + 1)/2 · (high − low); Gaussian actors: clipped into it).
    /// Default null: the box recorded in the artifact's manifest (<see cref="HandoverManifest.ActionLow"/>), or, for artifacts that
    /// predate it, none: actions are then the actor's own output (in [−1, 1] for squashed actors, unclipped for Gaussian ones).
    /// </summary>
    public BoxSpace? ActionSpace { get; set; }

    /// <summary>Seed of the noise ε of stochastic actions (<c>deterministic: false</c>). Default 0.</summary>
    public ulong Seed { get; set; }

    /// <summary>
    /// How the forward pass runs. Default <see cref="InferenceBackend.Managed"/>; <see cref="InferenceBackend.TorchSharp"/> to get the
    /// learner's own bits. Both draw the same noise ε from the same seed.
    /// </summary>
    public InferenceBackend Backend { get; set; }
}

/// <summary>
/// A trained actor loaded from a handover artifact, for acting in an application: the actor's weights only (no critic, no
/// optimizer state, no learner), its observation normalizer when the artifact carries one, and the action mapping of the learner
/// that trained it.
/// </summary>
/// <remarks>
/// <para>Actor kinds that load (<see cref="SupportedActorKinds"/>): the squashed-Gaussian actor of CPQ, BEAR-Lag, COptiDICE and
/// SAC-Lag (deterministic a = tanh(μ(s)), stochastic a = tanh(μ + σ·ε)); the deterministic actor of the BC variants
/// (a = tanh(MLP(s)) in both modes); the Gaussian actor of PPO-Lag (deterministic μ(s), stochastic μ + σ·ε, clipped into the box).
/// CDT's transformer and BCQ-Lag's perturbation actor need more than one observation or more than the actor, and fail with a
/// <see cref="NotSupportedException"/> that says so.</para>
/// <para>Thread safety: <see cref="Act(ReadOnlySpan{float}, Span{float}, bool)"/> may be called from several threads at once.
/// Deterministic calls share nothing mutable; stochastic calls draw from one seeded generator under a lock, so they run one at a
/// time and their noise depends on the order of the calls. Do not call <see cref="Dispose"/> while another thread acts.</para>
/// <para>Runs on the CPU, by default in managed SIMD code (<see cref="InferenceBackend.Managed"/>): a deterministic action allocates
/// nothing and calls no TorchSharp operation; a sampled one draws its noise ε from a libtorch generator in one call, the same draws as
/// the TorchSharp actors' <c>randn</c>. The same weights as an ONNX graph: <see cref="OnnxExport"/>.</para>
/// </remarks>
/// <example>
/// <code>
/// using var policy = InferencePolicy.Load("runs/ballcircle/final");
/// var action = policy.Act(observation);                 // deterministic, one observation
/// policy.Act(observations, actions, deterministic: false);  // a batch, sampled
/// </code>
/// </example>
public sealed class InferencePolicy : IPolicy, IDisposable
{
    private const string Receiver = "InferencePolicy";
    /// <summary>Scratch up to this many floats (16 KiB) lives on the stack; more is rented from the shared array pool.</summary>
    private const int StackScratchLimit = 4096;
    private readonly ActorSpec _spec;
    private readonly nn.Module<Tensor, Tensor>? _actor;
    private readonly ManagedActor? _managed;
    private readonly RunningMeanStd? _normalizer;
    private readonly Generator _noise;
    private readonly Lock _noiseLock = new();
    // The managed backend's ε: one libtorch tensor of batch · ActionSize values, refilled in place under _noiseLock.
    private Tensor? _noiseBuffer;
    private bool _disposed;

    private InferencePolicy(ActorSpec spec, StateDict weights, InferencePolicyOptions options)
    {
        if (!Enum.IsDefined(options.Backend))
            throw new ArgumentException($"{Receiver}: the backend {(int)options.Backend} is not one of {string.Join(", ", Enum.GetNames<InferenceBackend>())}.", nameof(options));
        _spec = spec;
        var m = spec.Manifest;
        ActionSpace = spec.ActionBox(options.ActionSpace, Receiver);
        if (m.ObservationNormalizer is { } state)
        {
            if (state.Mean.Length != m.ObservationSize)
                throw new InvalidDataException($"{Receiver}: the artifact's observation normalizer has {state.Mean.Length} coordinates, but ObservationSize is {m.ObservationSize}.");
            _normalizer = new RunningMeanStd(m.ObservationSize, state.Epsilon, state.Clip);
            _normalizer.SetState(state);
        }
        TorchNative.EnsureAvailable();
        // The strict load below overwrites every weight, so the initialization generator does not matter.
        using var staging = new Generator(0);
        var hidden = spec.Descriptor.HiddenSizes;
        nn.Module<Tensor, Tensor> actor = spec.Family switch
        {
            ActorFamily.SquashedGaussian => new SquashedGaussianActor(m.ObservationSize, m.ActionSize, hidden, staging),
            ActorFamily.Deterministic => new DeterministicActor(m.ObservationSize, m.ActionSize, hidden, 1.0, staging),
            _ => new GaussianActor(m.ObservationSize, m.ActionSize, hidden, spec.HiddenActivation, 0, staging),
        };
        // Both backends go through the strict load, so a bad artifact fails the same way whichever runs it.
        try
        {
            ModuleState.Load(actor, weights, HandoverRoles.Actor);
            if (options.Backend == InferenceBackend.Managed)
            {
                _managed = ManagedActor.Create(spec, weights, Receiver);
                actor.Dispose();
            }
            else
            {
                foreach (var p in actor.parameters()) p.requires_grad = false;
                actor.eval();
                _actor = actor;
            }
        }
        catch
        {
            actor.Dispose();
            throw;
        }
        Backend = options.Backend;
        _noise = new Generator(options.Seed);
    }

    /// <summary>The actor kinds (as written in manifests) that <see cref="Load"/> and <see cref="OnnxExport"/> accept.</summary>
    public static IReadOnlyList<string> SupportedActorKinds => ActorSpec.SupportedKinds;

    /// <summary>
    /// Loads the actor of the artifact folder <paramref name="directory"/>: reads <c>manifest.json</c> and <c>networks/actor.bin</c>
    /// only; the critics' and optimizers' files are never opened.
    /// </summary>
    /// <param name="directory">A folder written by <see cref="HandoverArtifact.Save"/> (a run's <c>handover</c>, <c>aligned</c> or <c>final</c>).</param>
    /// <param name="options">Action box and noise seed; defaults when null.</param>
    /// <exception cref="InvalidDataException">The folder is not an artifact, or its actor file is missing, corrupt or does not fit its descriptor.</exception>
    /// <exception cref="NotSupportedException">The actor's kind cannot act on its own (CDT, BCQ-Lag); the message says why.</exception>
    /// <exception cref="ArgumentException"><see cref="InferencePolicyOptions.ActionSpace"/> has another dimension than the actions, or
    /// <see cref="InferencePolicyOptions.Backend"/> is not a defined value.</exception>
    public static InferencePolicy Load(string directory, InferencePolicyOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var artifact = HandoverArtifact.LoadParts(directory, [HandoverRoles.Actor], optimizerStates: false);
        return FromArtifact(artifact, options);
    }

    /// <summary>Loads the actor of an artifact held in memory (e.g. <see cref="IOfflineSafeLearner.ExportHandover"/>'s result); other networks are ignored.</summary>
    /// <param name="artifact">The artifact.</param>
    /// <param name="options">Action box and noise seed; defaults when null.</param>
    /// <exception cref="InvalidDataException">The artifact has no actor, or its weights do not fit its descriptor.</exception>
    /// <exception cref="NotSupportedException">The actor's kind cannot act on its own (CDT, BCQ-Lag); the message says why.</exception>
    /// <exception cref="ArgumentException"><see cref="InferencePolicyOptions.ActionSpace"/> has another dimension than the actions, or
    /// <see cref="InferencePolicyOptions.Backend"/> is not a defined value.</exception>
    public static InferencePolicy FromArtifact(HandoverArtifact artifact, InferencePolicyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        var spec = ActorSpec.Resolve(artifact.Manifest, Receiver);
        return new InferencePolicy(spec, artifact.GetNetwork(HandoverRoles.Actor), (options ?? new InferencePolicyOptions()) with { });
    }

    /// <summary>The algorithm that produced the actor, e.g. "CPQ".</summary>
    public string Algorithm => _spec.Manifest.Algorithm;

    /// <summary>The actor's kind as written in the manifest, e.g. "SquashedGaussianActor".</summary>
    public string ActorKind => _spec.Descriptor.Kind;

    /// <summary>The task the actor was trained on, when the artifact records it.</summary>
    public string? TaskId => _spec.Manifest.TaskId;

    /// <inheritdoc />
    public int ObservationSize => _spec.Manifest.ObservationSize;

    /// <inheritdoc />
    public int ActionSize => _spec.Manifest.ActionSize;

    /// <summary>The box actions are mapped onto, or null when neither the options nor the artifact name one.</summary>
    public BoxSpace? ActionSpace { get; }

    /// <summary>Whether observations are normalized with the artifact's statistics before the actor sees them.</summary>
    public bool NormalizesObservations => _normalizer is not null;

    /// <summary>How the forward pass runs (<see cref="InferencePolicyOptions.Backend"/>).</summary>
    public InferenceBackend Backend { get; }

    /// <summary>Computes actions for a batch of observations (one observation is a batch of one).</summary>
    /// <param name="observations">[batch, ObservationSize] row-major, raw (the artifact's normalizer is applied here).</param>
    /// <param name="actions">Receives [batch, ActionSize] row-major, in the action box.</param>
    /// <param name="deterministic">True for the actor's mode; false to sample (the BC actor has no noise: both are the same).</param>
    /// <exception cref="ArgumentException">The span lengths do not describe the same batch.</exception>
    /// <exception cref="ObjectDisposedException">The policy was disposed.</exception>
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int batch = PolicyGuard.BatchSize(this, observations, actions);
        if (batch == 0) return;
        if (_managed is not null)
        {
            ActManaged(_managed, observations, actions, batch, deterministic);
            return;
        }
        var input = observations.ToArray();
        if (_normalizer is not null)
            for (int row = 0; row < batch; row++)
            {
                var span = input.AsSpan(row * ObservationSize, ObservationSize);
                _normalizer.Normalize(span, span);
            }
        var output = new float[actions.Length];
        if (deterministic || _spec.Family == ActorFamily.Deterministic)
        {
            Forward(input, batch, deterministic: true, output);
        }
        else
        {
            lock (_noiseLock) Forward(input, batch, deterministic: false, output);
        }
        if (ActionSpace is null) output.CopyTo(actions);
        else if (_spec.Squashed) ActionMapping.SquashedToBox(output, ActionSpace, actions);
        else ActionMapping.ClipToBox(output, ActionSpace, actions);
    }

    /// <summary>Computes the actions of a batch of observations and returns them.</summary>
    /// <param name="observations">[batch, ObservationSize] row-major; one observation gives one action.</param>
    /// <param name="deterministic">True (default) for the actor's mode; false to sample.</param>
    /// <returns>[batch, ActionSize] row-major.</returns>
    /// <exception cref="ArgumentException">The length is not a multiple of <see cref="ObservationSize"/>.</exception>
    public float[] Act(ReadOnlySpan<float> observations, bool deterministic = true)
    {
        if (observations.Length % ObservationSize != 0)
            throw new ArgumentException($"Observations have {observations.Length} values, not a multiple of the policy's observation size {ObservationSize}.", nameof(observations));
        var actions = new float[observations.Length / ObservationSize * ActionSize];
        Act(observations, actions, deterministic);
        return actions;
    }

    /// <summary>The managed backend: the batch through <see cref="ManagedActor"/>, then the box mapping in place.</summary>
    private void ActManaged(ManagedActor actor, ReadOnlySpan<float> observations, Span<float> actions, int batch, bool deterministic)
    {
        int length = actor.ScratchLength;
        float[]? rented = null;
        Span<float> scratch = length <= StackScratchLimit ? stackalloc float[length] : (rented = ArrayPool<float>.Shared.Rent(length));
        try
        {
            if (deterministic || !actor.Samples)
            {
                actor.Act(observations, actions, ReadOnlySpan<float>.Empty, _normalizer, scratch);
            }
            else
            {
                lock (_noiseLock)
                {
                    // One draw of batch · ActionSize values, as SquashedGaussianActor.SampleAction's and GaussianActor.Sample's randn.
                    int count = batch * ActionSize;
                    if (_noiseBuffer is null || _noiseBuffer.numel() != count)
                    {
                        _noiseBuffer?.Dispose();
                        _noiseBuffer = empty([count], ScalarType.Float32).DetachFromDisposeScope();
                    }
                    _noiseBuffer.normal_(0, 1, _noise);
                    actor.Act(observations, actions, MemoryMarshal.Cast<byte, float>(_noiseBuffer.bytes), _normalizer, scratch);
                }
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        }
        if (ActionSpace is null) return;
        if (_spec.Squashed) ActionMapping.SquashedToBox(actions, ActionSpace, actions);
        else ActionMapping.ClipToBox(actions, ActionSpace, actions);
    }

    /// <summary>Runs the actor without gradients in its own dispose scope; writes its raw output (before the box mapping).</summary>
    private void Forward(float[] input, int batch, bool deterministic, float[] output)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // In libtorch memory, not over the managed array (TorchInputs says why).
        var x = TorchInputs.Float32(input.AsSpan(0, batch * ObservationSize), [batch, ObservationSize], CPU);
        var y = _actor! switch
        {
            SquashedGaussianActor s => deterministic ? s.Deterministic(x) : s.SampleAction(x, _noise),
            GaussianActor g => deterministic ? g.forward(x) : g.Sample(x, _noise).Action,
            var other => other.forward(x),
        };
        y.data<float>().CopyTo(output);
    }

    /// <summary>Releases the actor's native tensors and the noise generator.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _actor?.Dispose();
        _noiseBuffer?.Dispose();
        _noise.Dispose();
    }
}

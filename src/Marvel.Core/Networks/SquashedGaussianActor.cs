using static TorchSharp.torch.nn;

namespace Marvel.Core.Networks;

/// <summary>
/// A tanh-squashed Gaussian policy: h = MLP(s) with ReLU after every hidden layer, μ = W_μ h, log σ = clamp(W_σ h, −20, 2),
/// u = μ + σ·ε, a = tanh(u), and the exact log-density
/// log π(a|s) = Σ_i [log N(u_i; μ_i, σ_i) − 2(ln 2 − u_i − softplus(−2u_i))].
/// </summary>
/// <remarks>Parameter names: <c>trunk.net.*</c>, <c>mu.*</c>, <c>log_std.*</c>. Actions are in [−1, 1]; map them onto the environment's action box outside.</remarks>
public sealed class SquashedGaussianActor : Module<Tensor, Tensor>
{
    /// <summary>Lower clamp of log σ.</summary>
    public const double LogStdMin = -20;
    /// <summary>Upper clamp of log σ.</summary>
    public const double LogStdMax = 2;
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);
    private static readonly double LogTwo = Math.Log(2);

    private readonly Mlp trunk;
    private readonly Linear mu;
    private readonly Linear log_std;
    private FusedHeads? _fusedHeads; // set by FuseHeads: [W_μ; W_σ] and [b_μ; b_σ] as one weight and one bias over the same memory

    /// <summary>Creates the actor.</summary>
    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length.</param>
    /// <param name="hiddenSizes">Hidden widths, e.g. [256, 256].</param>
    /// <param name="generator">Initialization generator.</param>
    public SquashedGaussianActor(int observationSize, int actionSize, IReadOnlyList<int> hiddenSizes, Generator? generator = null)
        : base(nameof(SquashedGaussianActor))
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        if (hiddenSizes.Count == 0) throw new ArgumentException("The actor needs at least one hidden layer.", nameof(hiddenSizes));
        trunk = new Mlp(new[] { observationSize }.Concat(hiddenSizes).ToArray(), Activation.ReLU, Activation.ReLU, generator);
        mu = NetworkInit.Linear(hiddenSizes[^1], actionSize, generator);
        log_std = NetworkInit.Linear(hiddenSizes[^1], actionSize, generator);
        ObservationSize = observationSize;
        ActionSize = actionSize;
        HiddenSizes = hiddenSizes.ToArray();
        RegisterComponents();
    }

    /// <summary>The action in the environment's units: the deterministic action, or one sampled with <paramref name="generator"/>, times
    /// <paramref name="maxAction"/> (a symmetric action box [−maxAction, maxAction]).</summary>
    /// <param name="observations">[B, observation size].</param>
    /// <param name="deterministic">True for tanh(μ), false for a sample.</param>
    /// <param name="generator">The sampling generator (unused when deterministic).</param>
    /// <param name="maxAction">The half-width of the action box.</param>
    public Tensor ScaledAction(Tensor observations, bool deterministic, Generator? generator, double maxAction)
    {
        using var action = deterministic ? Deterministic(observations) : SampleAction(observations, generator);
        return action.mul(TorchScalars.Of(maxAction));
    }

    /// <summary>
    /// Makes log σ state-independent and equal to <paramref name="logStd"/> (clamped to [<see cref="LogStdMin"/>, <see cref="LogStdMax"/>]):
    /// the log σ head's weights become zero and its bias <paramref name="logStd"/>. The mean head and the trunk are untouched, so the
    /// deterministic action does not change.
    /// </summary>
    /// <param name="logStd">The new log σ of every action dimension, in every state.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="logStd"/> is not finite.</exception>
    public void ResetLogStd(double logStd)
    {
        if (!double.IsFinite(logStd))
            throw new ArgumentOutOfRangeException(nameof(logStd), logStd, "The actor's new log σ must be finite.");
        using var value = Math.Clamp(logStd, LogStdMin, LogStdMax).ToScalar();
        using var noGrad = no_grad();
        log_std.weight!.zero_();
        log_std.bias!.fill_(value);
    }

    /// <summary>
    /// The log σ whose pre-squash Gaussian has entropy <paramref name="entropy"/> spread evenly over <paramref name="actionSize"/>
    /// dimensions: log σ = H/|A| − ½·ln(2πe). The tanh squashing only lowers the entropy, so an actor at this σ sits at or below the entropy.
    /// </summary>
    /// <param name="entropy">The entropy H of the whole action (nats), e.g. SAC's target −|A|.</param>
    /// <param name="actionSize">Action length |A| ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="actionSize"/> is below 1 or <paramref name="entropy"/> is not finite.</exception>
    public static double LogStdForEntropy(double entropy, int actionSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(actionSize, 1);
        if (!double.IsFinite(entropy))
            throw new ArgumentOutOfRangeException(nameof(entropy), entropy, "The entropy must be finite.");
        return entropy / actionSize - HalfLogTwoPi - 0.5;
    }

    /// <summary>True after <see cref="FuseHeads"/>: μ and log σ come from one linear product.</summary>
    internal bool HeadsFused => _fusedHeads is not null;

    /// <summary>
    /// Opt-in (off by default: the product rounds as a [2|A|, H] matrix rather than two [|A|, H] ones): flattens the actor into one
    /// <see cref="FlatParameters"/> buffer whose layout puts W_μ and W_σ next to each other, and b_μ and b_σ next to each other, so that
    /// [W_μ; W_σ] is one [2|A|, H] weight and [b_μ; b_σ] one [2|A|] bias over the same memory; from then on
    /// <see cref="Distribution"/> (hence <see cref="Sample"/>, <see cref="SampleAction"/>, <see cref="LogProb"/>) computes both heads with one
    /// linear product and splits its output. <see cref="Deterministic"/> still reads μ alone. The parameters keep their names, shapes and
    /// order, so state dicts, checkpoints, handover artifacts and Adam states are unchanged in format; gradients of the fused weight land in
    /// the heads' own gradient memory. Call it once the actor is on its device and before its optimizer is made, instead of
    /// <see cref="FlatParameters.Flatten"/>; a target actor is fused with <paramref name="gradients"/> false.
    /// </summary>
    /// <param name="gradients">Give the gradients a buffer (false for a target actor that is never trained by gradient).</param>
    /// <returns>The flat buffers (owned by the caller, like those of <see cref="FlatParameters.Flatten"/>).</returns>
    /// <exception cref="InvalidOperationException">The actor was already flattened with the default layout.</exception>
    internal FlatParameters FuseHeads(bool gradients = true)
    {
        if (_fusedHeads is not null) return _fusedHeads.Buffers;
        if (FlatParameters.Of(this) is not null) throw new InvalidOperationException("The actor is already flattened with the default layout; fuse its heads instead of flattening it.");
        var heads = new Parameter[] { mu.weight!, log_std.weight!, mu.bias!, log_std.bias! };
        var buffers = FlatParameters.Flatten(this, gradients, HeadsTogether);
        _fusedHeads = new FusedHeads(buffers, Index(mu.weight!), Index(mu.bias!), 2 * ActionSize, HiddenSizes[^1]);
        return buffers;

        int Index(Parameter p) => buffers.Parameters.Select((q, i) => (q, i)).First(x => x.q.Handle == p.Handle).i;

        // The trunk's parameters one after another as in the default layout, then W_μ directly followed by W_σ, then b_μ directly followed
        // by b_σ; each block starts on the buffer's alignment.
        long[] HeadsTogether(Parameter[] parameters)
        {
            static long Aligned(long n) => (n + FlatParameters.AlignmentElements - 1) / FlatParameters.AlignmentElements * FlatParameters.AlignmentElements;
            var offsets = new long[parameters.Length];
            long next = 0;
            int[] headIndex = heads.Select(h => Array.FindIndex(parameters, p => p.Handle == h.Handle)).ToArray();
            for (int i = 0; i < parameters.Length; i++)
            {
                if (Array.IndexOf(headIndex, i) >= 0) continue;
                offsets[i] = next;
                next += Aligned(parameters[i].numel());
            }
            for (int pair = 0; pair < 2; pair++)
            {
                int first = headIndex[2 * pair], second = headIndex[2 * pair + 1];
                offsets[first] = next;
                offsets[second] = next + parameters[first].numel();
                next += Aligned(parameters[first].numel() + parameters[second].numel());
            }
            return offsets;
        }
    }

    /// <summary>Observation length.</summary>
    public int ObservationSize { get; }

    /// <summary>Action length.</summary>
    public int ActionSize { get; }

    /// <summary>Hidden widths.</summary>
    public IReadOnlyList<int> HiddenSizes { get; }

    /// <summary>The deterministic action tanh(μ(s)), [batch, ActionSize].</summary>
    public override Tensor forward(Tensor observations) => Deterministic(observations);

    /// <summary>The deterministic action tanh(μ(s)).</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    public Tensor Deterministic(Tensor observations)
    {
        using var h = trunk.forward(observations);
        using var m = mu.forward(h);
        return m.tanh();
    }

    /// <summary>The pre-squash mean μ and clamped log σ.</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    public (Tensor Mean, Tensor LogStd) Distribution(Tensor observations)
    {
        using var h = trunk.forward(observations);
        if (_fusedHeads is not null)
        {
            // One product for both heads: [μ ‖ raw log σ] = h·[W_μ; W_σ]ᵀ + [b_μ; b_σ], then two column views of it.
            using var both = _fusedHeads.Forward(h, mu.weight!.requires_grad);
            var fusedMean = both.narrow(1, 0, ActionSize);
            using var fusedRaw = both.narrow(1, ActionSize, ActionSize);
            return (fusedMean, fusedRaw.clamp(TorchScalars.Of(LogStdMin), TorchScalars.Of(LogStdMax)));
        }
        var m = mu.forward(h);
        using var raw = log_std.forward(h);
        return (m, raw.clamp(TorchScalars.Of(LogStdMin), TorchScalars.Of(LogStdMax)));
    }

    /// <summary>Samples a = tanh(μ + σ·ε) with the reparameterization trick and returns its log-density.</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="generator">Generator for ε.</param>
    /// <returns>Action [batch, ActionSize] and log π(a|s) [batch].</returns>
    public (Tensor Action, Tensor LogProb) Sample(Tensor observations, Generator? generator)
    {
        var (mean, logStd) = Distribution(observations);
        using var noise = randn(mean.shape, dtype: mean.dtype, device: mean.device, generator: generator);
        using var std = logStd.exp();
        using var u = mean.add(std * noise, TorchScalars.One);
        using var logp = LogProbPreSquash(noise, logStd, u);
        var action = u.tanh();
        var logProb = logp.sum(-1);
        mean.Dispose();
        logStd.Dispose();
        return (action, logProb);
    }

    /// <summary>Samples a = tanh(μ + σ·ε) without computing its log-density (for acting; same draws as <see cref="Sample"/>).</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="generator">Generator for ε.</param>
    /// <returns>Action [batch, ActionSize].</returns>
    public Tensor SampleAction(Tensor observations, Generator? generator)
    {
        var (mean, logStd) = Distribution(observations);
        using var noise = randn(mean.shape, dtype: mean.dtype, device: mean.device, generator: generator);
        using var std = logStd.exp();
        using var scaled = std * noise;
        using var u = mean.add(scaled, TorchScalars.One);
        mean.Dispose();
        logStd.Dispose();
        return u.tanh();
    }

    /// <summary>log π(a|s) of given squashed actions a ∈ (−1, 1) (clamped to ±(1 − 1e-6) before atanh).</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="actions">[batch, ActionSize].</param>
    /// <returns>[batch].</returns>
    public Tensor LogProb(Tensor observations, Tensor actions)
    {
        var (mean, logStd) = Distribution(observations);
        using var clipped = actions.clamp(TorchScalars.Of(-1 + 1e-6), TorchScalars.Of(1 - 1e-6));
        using var u = clipped.atanh();
        using var std = logStd.exp();
        using var diff = u - mean;
        using var noise = diff / std;
        using var logp = LogProbPreSquash(noise, logStd, u);
        mean.Dispose();
        logStd.Dispose();
        return logp.sum(-1);
    }

    /// <summary>Per-dimension log-density of the squashed sample: log N(u; μ, σ) − log(1 − tanh² u), from ε, log σ and u = μ + σ·ε.</summary>
    internal static Tensor LogProbPreSquash(Tensor noise, Tensor logStd, Tensor u)
    {
        // log N(u; μ, σ) = −ε²/2 − log σ − ½ log 2π; tanh correction log(1 − tanh² u) = 2(ln 2 − u − softplus(−2u)).
        using var gauss = noise.Squared().mul(TorchScalars.Of(-0.5)).sub(logStd).sub(TorchScalars.Of(HalfLogTwoPi));
        using var sp = TorchScalars.Softplus(u.mul(TorchScalars.Of(-2)));
        using var correction = (TorchScalars.Minus(LogTwo, u) - sp).mul(TorchScalars.Of(2));
        return gauss - correction;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _fusedHeads?.Dispose();
            trunk.Dispose();
            mu.Dispose();
            log_std.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>
    /// The fused heads: a [2|A|, H] weight and a [2|A|] bias that are views of the flat value buffer and autograd leaves of their own, with
    /// their gradients views of the flat gradient buffer (the heads' own gradients are the same memory).
    /// </summary>
    private sealed class FusedHeads : IDisposable
    {
        private readonly Tensor _weight;
        private readonly Tensor _bias;
        private bool _requiresGrad;

        public FusedHeads(FlatParameters buffers, int weightIndex, int biasIndex, int outputs, int inputs)
        {
            Buffers = buffers;
            using var noGrad = no_grad();
            _weight = View(buffers.Values, buffers.Offsets[weightIndex], [outputs, inputs]);
            _bias = View(buffers.Values, buffers.Offsets[biasIndex], [outputs]);
            if (buffers.Gradients is null) return;
            using var weightGradient = View(buffers.Gradients, buffers.Offsets[weightIndex], [outputs, inputs]);
            using var biasGradient = View(buffers.Gradients, buffers.Offsets[biasIndex], [outputs]);
            _weight.requires_grad = true;
            _bias.requires_grad = true;
            _weight.grad = weightGradient;
            _bias.grad = biasGradient;
            _requiresGrad = true;
        }

        public FlatParameters Buffers { get; }

        private static Tensor View(Tensor buffer, long offset, long[] shape)
        {
            using var slice = buffer.narrow(0, offset, shape.Aggregate(1L, (a, x) => a * x));
            return slice.view(shape).DetachFromDisposeScope();
        }

        /// <summary>[batch, 2|A|] = h·Wᵀ + b; <paramref name="train"/> mirrors the heads' requires_grad (false while frozen or a target).</summary>
        public Tensor Forward(Tensor h, bool train)
        {
            if (Buffers.Gradients is not null && train != _requiresGrad)
            {
                _weight.requires_grad = train;
                _bias.requires_grad = train;
                _requiresGrad = train;
            }
            return functional.linear(h, _weight, _bias);
        }

        public void Dispose()
        {
            _weight.Dispose();
            _bias.Dispose();
        }
    }
}

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
            trunk.Dispose();
            mu.Dispose();
            log_std.Dispose();
        }
        base.Dispose(disposing);
    }
}

using static TorchSharp.torch.nn;

namespace Marvel.Core.Networks;

/// <summary>
/// A diagonal Gaussian policy with a state-independent log standard deviation, as used by PPO:
/// μ = MLP(s), σ = exp(log_std) with log_std a learned vector, a ~ N(μ, σ²) (unbounded; clip to the action box outside).
/// </summary>
/// <remarks>Parameter names: <c>mean.net.*</c> and <c>log_std</c>.</remarks>
public sealed class GaussianActor : Module<Tensor, Tensor>
{
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

    private readonly Mlp mean;
    private readonly Parameter log_std;

    /// <summary>Creates the actor.</summary>
    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length.</param>
    /// <param name="hiddenSizes">Hidden widths, e.g. [64, 64].</param>
    /// <param name="activation">Hidden activation (OmniSafe: tanh).</param>
    /// <param name="initialLogStd">Initial value of every log σ coordinate (OmniSafe 0, FSRL −0.5).</param>
    /// <param name="generator">Initialization generator.</param>
    public GaussianActor(int observationSize, int actionSize, IReadOnlyList<int> hiddenSizes, Activation activation = Activation.Tanh, double initialLogStd = 0, Generator? generator = null)
        : base(nameof(GaussianActor))
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        mean = new Mlp(new[] { observationSize }.Concat(hiddenSizes).Append(actionSize).ToArray(), activation, Activation.Identity, generator);
        log_std = new Parameter(full(actionSize, TorchScalars.Of(initialLogStd), ScalarType.Float32), requires_grad: true);
        ObservationSize = observationSize;
        ActionSize = actionSize;
        HiddenSizes = hiddenSizes.ToArray();
        RegisterComponents();
    }

    /// <summary>Observation length.</summary>
    public int ObservationSize { get; }

    /// <summary>Action length.</summary>
    public int ActionSize { get; }

    /// <summary>Hidden widths.</summary>
    public IReadOnlyList<int> HiddenSizes { get; }

    /// <summary>The log σ vector, [ActionSize] (a parameter; do not dispose).</summary>
    public Tensor LogStd => log_std;

    /// <summary>The mean action μ(s), [batch, ActionSize].</summary>
    public override Tensor forward(Tensor observations) => mean.forward(observations);

    /// <summary>Draws a ~ N(μ(s), σ²) and returns it with log π(a|s).</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="generator">Generator for the noise.</param>
    /// <returns>Action [batch, ActionSize] and log-density [batch].</returns>
    public (Tensor Action, Tensor LogProb) Sample(Tensor observations, Generator? generator)
    {
        using var mu = mean.forward(observations);
        using var noise = randn(mu.shape, dtype: mu.dtype, device: mu.device, generator: generator);
        using var std = log_std.exp();
        var action = mu.add(std * noise, TorchScalars.One);
        using var logp = noise.Squared().mul(TorchScalars.Of(-0.5)).sub(log_std).sub(TorchScalars.Of(HalfLogTwoPi));
        return (action, logp.sum(-1));
    }

    /// <summary>log π(a|s) = Σ_i log N(a_i; μ_i(s), σ_i²), [batch].</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="actions">[batch, ActionSize] (unclipped, as sampled).</param>
    public Tensor LogProb(Tensor observations, Tensor actions)
    {
        using var mu = mean.forward(observations);
        using var std = log_std.exp();
        using var z = (actions - mu) / std;
        using var logp = z.Squared().mul(TorchScalars.Of(-0.5)).sub(log_std).sub(TorchScalars.Of(HalfLogTwoPi));
        return logp.sum(-1);
    }

    /// <summary>The entropy of the Gaussian, Σ_i (½ + ½ log 2π + log σ_i), the same for every state (scalar).</summary>
    public Tensor Entropy()
    {
        using var perCoordinate = log_std.add(TorchScalars.Of(0.5 + HalfLogTwoPi), TorchScalars.One);
        return perCoordinate.sum();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            mean.Dispose();
            log_std.Dispose();
        }
        base.Dispose(disposing);
    }
}

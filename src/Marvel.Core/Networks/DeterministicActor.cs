using static TorchSharp.torch.nn;

namespace Marvel.Core.Networks;

/// <summary>
/// A deterministic policy a = maxAction · tanh(MLP(s)), ReLU hidden layers (behaviour cloning, algorithms spec §4.1).
/// Parameter names: <c>pi.net.0.weight</c>, …
/// </summary>
public sealed class DeterministicActor : Module<Tensor, Tensor>
{
    private readonly Mlp pi;

    /// <summary>Creates the actor.</summary>
    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length.</param>
    /// <param name="hiddenSizes">Hidden widths, e.g. [256, 256]; at least one.</param>
    /// <param name="maxAction">Bound of the action box, &gt; 0.</param>
    /// <param name="generator">Initialization generator.</param>
    /// <exception cref="ArgumentException">No hidden layer, or a bad size or bound.</exception>
    public DeterministicActor(int observationSize, int actionSize, IReadOnlyList<int> hiddenSizes, double maxAction, Generator? generator = null)
        : base(nameof(DeterministicActor))
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        if (hiddenSizes.Count == 0) throw new ArgumentException("The actor needs at least one hidden layer.", nameof(hiddenSizes));
        if (!(maxAction > 0) || !double.IsFinite(maxAction)) throw new ArgumentOutOfRangeException(nameof(maxAction), maxAction, "maxAction must be finite and positive.");
        pi = new Mlp(new[] { observationSize }.Concat(hiddenSizes).Append(actionSize).ToArray(), Activation.ReLU, Activation.Tanh, generator);
        ObservationSize = observationSize;
        ActionSize = actionSize;
        HiddenSizes = hiddenSizes.ToArray();
        MaxAction = maxAction;
        RegisterComponents();
    }

    /// <summary>Observation length.</summary>
    public int ObservationSize { get; }

    /// <summary>Action length.</summary>
    public int ActionSize { get; }

    /// <summary>Hidden widths.</summary>
    public IReadOnlyList<int> HiddenSizes { get; }

    /// <summary>Bound of the action box.</summary>
    public double MaxAction { get; }

    /// <summary>The action maxAction · tanh(MLP(s)).</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <returns>[batch, ActionSize].</returns>
    public override Tensor forward(Tensor observations)
    {
        using var squashed = pi.forward(observations);
        return squashed.mul(TorchScalars.Of(MaxAction));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) pi.Dispose();
        base.Dispose(disposing);
    }
}

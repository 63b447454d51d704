using Marvel.Core.Networks;
using static TorchSharp.torch.nn;

namespace Marvel.Core.Algorithms.Offline.BcqLag;

/// <summary>
/// BCQ's perturbation model: a = clamp(â + Φ · m · ξ(s, â), −m, m), with ξ = tanh-output MLP of [s ‖ â] and
/// Tanh hidden activations (algorithms spec §3.1), so |a − â| ≤ Φ · m.
/// </summary>
/// <remarks>Parameter names: <c>pi.net.0.weight</c>, … Only BCQ-Lag uses it, so it lives in the method's folder.</remarks>
public sealed class PerturbationActor : Module<Tensor, Tensor, Tensor>
{
    private readonly Mlp pi;

    /// <summary>Creates the actor.</summary>
    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length.</param>
    /// <param name="hiddenSizes">Hidden widths.</param>
    /// <param name="phi">Largest perturbation Φ as a fraction of <paramref name="maxAction"/>, in (0, 1].</param>
    /// <param name="maxAction">Bound m of the action box.</param>
    /// <param name="generator">Initialization generator.</param>
    public PerturbationActor(int observationSize, int actionSize, IReadOnlyList<int> hiddenSizes, double phi, double maxAction, Generator? generator = null)
        : base(nameof(PerturbationActor))
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        pi = new Mlp(new[] { observationSize + actionSize }.Concat(hiddenSizes).Append(actionSize).ToArray(), Activation.Tanh, Activation.Tanh, generator);
        Phi = phi;
        MaxAction = maxAction;
        RegisterComponents();
    }

    /// <summary>Φ.</summary>
    public double Phi { get; }

    /// <summary>m.</summary>
    public double MaxAction { get; }

    /// <summary>The perturbed action clamp(â + Φ · m · ξ(s, â), −m, m).</summary>
    /// <param name="observations">[batch, observationSize].</param>
    /// <param name="actions">Candidate actions â (VAE decodes), [batch, actionSize].</param>
    /// <returns>[batch, actionSize].</returns>
    public override Tensor forward(Tensor observations, Tensor actions)
    {
        using var input = cat(new[] { observations, actions }, -1);
        using var xi = pi.forward(input);
        using var perturbed = actions.add(xi.mul(TorchScalars.Of(Phi * MaxAction)), TorchScalars.One);
        return perturbed.clamp(TorchScalars.Of(-MaxAction), TorchScalars.Of(MaxAction));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) pi.Dispose();
        base.Dispose(disposing);
    }
}

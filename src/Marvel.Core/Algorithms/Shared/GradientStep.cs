using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>zero_grad → backward → optional clip → step, in one call, so learners state their losses and not the bookkeeping.</summary>
public static class GradientStep
{
    /// <summary>Applies one optimizer step on <paramref name="loss"/>.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="loss">A scalar loss with a graph.</param>
    /// <param name="maxGradNorm">Clip the global gradient norm to this value; null or ≤ 0 for no clipping.</param>
    /// <param name="parameters">The parameters to clip (those of the optimizer); required when clipping.</param>
    /// <param name="retainGraph">Keep the graph for another backward pass.</param>
    public static void Apply(optim.Optimizer optimizer, Tensor loss, double? maxGradNorm = null, IEnumerable<TorchSharp.Modules.Parameter>? parameters = null, bool retainGraph = false)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        optimizer.zero_grad();
        loss.backward(retain_graph: retainGraph);
        if (maxGradNorm is > 0)
        {
            ArgumentNullException.ThrowIfNull(parameters);
            nn.utils.clip_grad_norm_(parameters, maxGradNorm.Value);
        }
        optimizer.step();
    }
}

/// <summary>Polyak averaging of target networks: θ̄ ← τ·θ + (1 − τ)·θ̄.</summary>
public static class Polyak
{
    /// <summary>Moves every parameter of <paramref name="target"/> toward <paramref name="source"/> by <paramref name="tau"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">τ is outside (0, 1].</exception>
    /// <exception cref="ArgumentException">The modules differ in parameter count.</exception>
    public static void Update(double tau, nn.Module source, nn.Module target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (!(tau > 0 && tau <= 1)) throw new ArgumentOutOfRangeException(nameof(tau), tau, "Polyak rate tau must be in (0, 1].");
        using var _ = no_grad();
        if (FlatParameters.Of(source) is { } flatSource && FlatParameters.Of(target) is { } flatTarget && flatSource.SameLayout(flatTarget))
        {
            // Both networks are flattened alike: the same two operations per element, over the whole network at once.
            flatTarget.Values.mul_(TorchScalars.Of(1 - tau)).add_(flatSource.Values, alpha: TorchScalars.Of(tau));
            return;
        }
        var s = source.parameters().ToArray();
        var t = target.parameters().ToArray();
        if (s.Length != t.Length) throw new ArgumentException($"Source has {s.Length} parameters but target has {t.Length}.");
        for (int i = 0; i < s.Length; i++) t[i].mul_(TorchScalars.Of(1 - tau)).add_(s[i], alpha: TorchScalars.Of(tau));
    }

    /// <summary>Copies <paramref name="source"/>'s parameters into <paramref name="target"/> (τ = 1).</summary>
    public static void Copy(nn.Module source, nn.Module target) => Update(1.0, source, target);
}

/// <summary>
/// The parameters of some networks, switched off for gradients while a loss that must not train them is built and back-propagated
/// (e.g. the critics in an actor step): autograd then skips their weight gradients, which the critics' next <c>zero_grad</c> would discard
/// anyway, so the numbers are unchanged and the work is less. The parameter list is read once, so a step allocates nothing.
/// </summary>
internal sealed class ParameterFreeze
{
    private readonly Parameter[] _parameters;
    private bool _frozen;

    /// <summary>Collects the parameters of <paramref name="modules"/>.</summary>
    public ParameterFreeze(params nn.Module[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        _parameters = modules.SelectMany(m => m.parameters()).ToArray();
    }

    /// <summary>Turns <c>requires_grad</c> off until the returned scope is disposed, which turns it back on (once, however often it is disposed).</summary>
    public Scope Freeze()
    {
        Set(true);
        return new Scope(this);
    }

    private void Set(bool frozen)
    {
        if (_frozen == frozen) return;
        foreach (var p in _parameters) p.requires_grad = !frozen;
        _frozen = frozen;
    }

    /// <summary>Restores <c>requires_grad</c> on dispose.</summary>
    internal readonly struct Scope(ParameterFreeze owner) : IDisposable
    {
        /// <summary>Turns <c>requires_grad</c> back on.</summary>
        public void Dispose() => owner.Set(false);
    }
}

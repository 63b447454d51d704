using static TorchSharp.torch.nn;

namespace Marvel.Core.Networks;

/// <summary>
/// K independent critics Q_k(s, a) = MLP_k([s ‖ a]) (or V_k(s) when the action size is 0).
/// Parameter names: <c>members.0.net.0.weight</c>, …
/// </summary>
public sealed class QEnsemble : Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<Mlp> members;

    /// <summary>Creates the ensemble.</summary>
    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length (0 for a state-value ensemble).</param>
    /// <param name="hiddenSizes">Hidden widths of each member.</param>
    /// <param name="ensembleSize">Number of members K ≥ 1.</param>
    /// <param name="generator">Initialization generator.</param>
    public QEnsemble(int observationSize, int actionSize, IReadOnlyList<int> hiddenSizes, int ensembleSize, Generator? generator = null)
        : base(nameof(QEnsemble))
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ensembleSize);
        var sizes = new[] { observationSize + actionSize }.Concat(hiddenSizes).Append(1).ToArray();
        members = new ModuleList<Mlp>(Enumerable.Range(0, ensembleSize).Select(_ => new Mlp(sizes, Activation.ReLU, Activation.Identity, generator)).ToArray());
        ObservationSize = observationSize;
        ActionSize = actionSize;
        HiddenSizes = hiddenSizes.ToArray();
        EnsembleSize = ensembleSize;
        RegisterComponents();
    }

    /// <summary>Observation length.</summary>
    public int ObservationSize { get; }

    /// <summary>Action length (0 for state values).</summary>
    public int ActionSize { get; }

    /// <summary>Hidden widths.</summary>
    public IReadOnlyList<int> HiddenSizes { get; }

    /// <summary>Members K.</summary>
    public int EnsembleSize { get; }

    /// <summary>All members' values, [K, batch].</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="actions">[batch, ActionSize]; ignored for a state-value ensemble.</param>
    public override Tensor forward(Tensor observations, Tensor actions)
    {
        using var input = ActionSize > 0 ? cat(new[] { observations, actions }, 1) : observations.alias();
        var outputs = new Tensor[EnsembleSize];
        for (int k = 0; k < EnsembleSize; k++) outputs[k] = members[k].forward(input);
        using var stacked = stack(outputs, 0);
        foreach (var o in outputs) o.Dispose();
        return stacked.squeeze(-1);
    }

    /// <summary>Element-wise minimum over members, [batch].</summary>
    public Tensor Min(Tensor observations, Tensor actions)
    {
        using var all = forward(observations, actions);
        return all.min(0).values;
    }

    /// <summary>Mean over members, [batch].</summary>
    public Tensor Mean(Tensor observations, Tensor actions)
    {
        using var all = forward(observations, actions);
        return all.mean(new long[] { 0 });
    }

    /// <summary>Σ_k mean_batch((Q_k(s, a) − y)²): the ensemble's regression loss.</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="actions">[batch, ActionSize].</param>
    /// <param name="target">[batch], no gradient.</param>
    public Tensor Loss(Tensor observations, Tensor actions, Tensor target)
    {
        using var all = forward(observations, actions);
        using var diff = all - target.unsqueeze(0);
        using var perMember = diff.Squared().mean(new long[] { 1 });
        return perMember.sum();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) members.Dispose();
        base.Dispose(disposing);
    }
}

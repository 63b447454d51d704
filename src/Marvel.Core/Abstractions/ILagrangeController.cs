namespace Marvel.Core.Abstractions;

/// <summary>
/// Controls the Lagrange multiplier λ ≥ 0 of the constrained objective max_π J_r − λ (J_c − CostLimit).
/// </summary>
/// <remarks>
/// The input of <see cref="Update"/> is the <b>mean undiscounted episode cost</b> of the latest episodes and the
/// set point is <see cref="CostLimit"/> (also an undiscounted episode cost). Learners never name an
/// implementation: they receive λ as a number from whatever controller the pipeline or DI hands in.
/// Controllers save and restore their whole state, so checkpoints and handover artifacts resume exactly.
/// </remarks>
public interface ILagrangeController
{
    /// <summary>The current multiplier λ ≥ 0.</summary>
    double Lambda { get; }

    /// <summary>The set point: undiscounted episode cost budget.</summary>
    double CostLimit { get; }

    /// <summary>Feeds one measurement and moves λ.</summary>
    /// <param name="meanEpisodeCost">Mean undiscounted episode cost J_c of the latest episodes (finite, ≥ 0).</param>
    /// <returns>The new λ and the controller's internal terms, for logging.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="meanEpisodeCost"/> is negative or not finite.</exception>
    LagrangeUpdate Update(double meanEpisodeCost);

    /// <summary>The complete state (λ, integral, moving averages, gains, …).</summary>
    LagrangeControllerState GetState();

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    /// <exception cref="ArgumentException">The state belongs to another controller kind or lacks a field.</exception>
    void SetState(LagrangeControllerState state);
}

/// <summary>
/// A controller whose multiplier can be placed at a value before its first update, e.g. at the offline-to-online handover where the
/// offline learner's own multiplier is a far better start than 0 (the pipeline's <c>MarvelPipelineOptions.LambdaAtHandover</c>).
/// </summary>
public interface ILagrangeWarmStart
{
    /// <summary>Sets λ to <paramref name="lambda"/> (within the controller's bounds) and the controller's accumulated state so that λ stays
    /// there for zero error: for the PID controllers the integral, for dual ascent λ itself. Moving averages and gains keep their values.</summary>
    /// <param name="lambda">The multiplier to start from, finite and ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite.</exception>
    void WarmStart(double lambda);
}

/// <summary>The result of one <see cref="ILagrangeController.Update"/>.</summary>
/// <param name="Lambda">λ after the update.</param>
/// <param name="Error">J_c − CostLimit of this update.</param>
/// <param name="Terms">Named internal terms (e.g. "p", "i", "d", "kp"), for logging.</param>
public sealed record LagrangeUpdate(double Lambda, double Error, IReadOnlyDictionary<string, double> Terms);

/// <summary>Serializable state of an <see cref="ILagrangeController"/>.</summary>
/// <param name="Kind">The controller kind that wrote it, e.g. "AdaptivePid".</param>
/// <param name="Scalars">Named scalar state.</param>
/// <param name="Arrays">Named vector state (e.g. a delay line).</param>
public sealed record LagrangeControllerState(string Kind, IReadOnlyDictionary<string, double> Scalars, IReadOnlyDictionary<string, double[]> Arrays)
{
    /// <summary>Reads a scalar or throws an <see cref="ArgumentException"/> naming it.</summary>
    public double Scalar(string name) => Scalars.TryGetValue(name, out var v)
        ? v
        : throw new ArgumentException($"Lagrange controller state of kind '{Kind}' has no scalar '{name}'; it was written by another controller or version.");

    /// <summary>Reads an array or throws an <see cref="ArgumentException"/> naming it.</summary>
    public double[] Array(string name) => Arrays.TryGetValue(name, out var v)
        ? v
        : throw new ArgumentException($"Lagrange controller state of kind '{Kind}' has no array '{name}'; it was written by another controller or version.");

    /// <summary>Throws unless <see cref="Kind"/> equals <paramref name="expected"/>.</summary>
    public void EnsureKind(string expected)
    {
        if (!string.Equals(Kind, expected, StringComparison.Ordinal))
            throw new ArgumentException($"Cannot restore a '{Kind}' Lagrange controller state into a '{expected}' controller. Use the same controller kind that saved it.");
    }
}

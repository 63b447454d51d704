namespace Marvel.Core.Algorithms.Shared;

/// <summary>How a critic ensemble's K values of one sample are reduced to one.</summary>
public enum EnsembleReduction
{
    /// <summary>Element-wise minimum: pessimistic for rewards, optimistic for costs (the reference's choice for both).</summary>
    Min,
    /// <summary>Element-wise mean.</summary>
    Mean,
    /// <summary>Element-wise maximum: pessimistic for costs.</summary>
    Max,
}

/// <summary>Reductions over critic ensembles shaped [K, batch].</summary>
internal static class EnsembleOps
{
    /// <summary>Reduces [K, batch] to [batch].</summary>
    public static Tensor Reduce(Tensor all, EnsembleReduction reduction) => reduction switch
    {
        EnsembleReduction.Min => all.amin(new long[] { 0 }),
        EnsembleReduction.Max => all.amax(new long[] { 0 }),
        _ => all.mean(new long[] { 0 }),
    };

    /// <summary>
    /// BCQ's soft clipped double Q on an ensemble of two groups of <c>K/2</c> members (the reference's
    /// <c>EnsembleDoubleQCritic</c>). Pessimistic about a reward (<paramref name="pessimisticHigh"/> false):
    /// q1 = min of group 1, q2 = min of group 2, value = λ · min(q1, q2) + (1 − λ) · max(q1, q2).
    /// Pessimistic about a cost (<paramref name="pessimisticHigh"/> true), the mirror image:
    /// q1 = max of group 1, q2 = max of group 2, value = λ · max(q1, q2) + (1 − λ) · min(q1, q2).
    /// </summary>
    /// <param name="all">[2n, batch].</param>
    /// <param name="lambda">Weight λ in [0, 1] of the pessimistic side (reference 0.75).</param>
    /// <param name="pessimisticHigh">True for a cost critic: the high values are the pessimistic ones.</param>
    /// <returns>[batch].</returns>
    public static Tensor SoftClippedDoubleQ(Tensor all, double lambda, bool pessimisticHigh = false)
    {
        if (pessimisticHigh)
        {
            // −f(−x) with f the reward form: the group minima become maxima and λ moves onto max(q1, q2).
            using var negated = all.neg();
            using var mirrored = SoftClippedDoubleQ(negated, lambda);
            return mirrored.neg();
        }
        long n = all.shape[0] / 2;
        using var g1 = all.narrow(0, 0, n);
        using var g2 = all.narrow(0, n, n);
        using var q1 = g1.amin(new long[] { 0 });
        using var q2 = g2.amin(new long[] { 0 });
        using var low = minimum(q1, q2);
        using var high = maximum(q1, q2);
        using var a = low.mul(TorchScalars.Of(lambda));
        using var b = high.mul(TorchScalars.Of(1 - lambda));
        return a.add(b, TorchScalars.One);
    }

    /// <summary>
    /// The BCQ/BEAR backup value of a state from N sampled next actions: the soft clipped double Q of each
    /// (state, action) pair, then the maximum over the N samples of the state.
    /// </summary>
    /// <param name="all">[2n, batch · N], rows grouped by state (sample j of state i at column i · N + j).</param>
    /// <param name="samplesPerState">N.</param>
    /// <param name="lambda">Weight λ of the pessimistic side.</param>
    /// <param name="pessimisticHigh">True for a cost critic (see <see cref="SoftClippedDoubleQ"/>).</param>
    /// <returns>[batch].</returns>
    public static Tensor MaxOverSamples(Tensor all, int samplesPerState, double lambda, bool pessimisticHigh = false)
    {
        using var mixed = SoftClippedDoubleQ(all, lambda, pessimisticHigh);
        using var perState = mixed.view(-1, samplesPerState);
        return perState.amax(new long[] { 1 });
    }

    /// <summary>
    /// The BCQ/BEAR cost-critic reductions. Default (pessimistic about cost): the actor's Q_c is the maximum over the
    /// members and the backup puts λ on the higher group (<see cref="MaxOverSamples"/> with <c>pessimisticHigh</c>).
    /// <paramref name="referenceOptimistic"/> reproduces OSRL: min over the members, λ on the lower group.
    /// </summary>
    public static Tensor CostValue(Tensor all, bool referenceOptimistic) =>
        Reduce(all, referenceOptimistic ? EnsembleReduction.Min : EnsembleReduction.Max);

    /// <summary>The cost backup value of a state from N sampled next actions; see <see cref="CostValue"/>.</summary>
    /// <param name="all">[2n, batch · N], rows grouped by state.</param>
    /// <param name="samplesPerState">N.</param>
    /// <param name="lambda">Weight λ of the pessimistic side (of the lower group with <paramref name="referenceOptimistic"/>).</param>
    /// <param name="referenceOptimistic">Reproduce OSRL's min-weighted mix.</param>
    /// <returns>[batch].</returns>
    public static Tensor CostMaxOverSamples(Tensor all, int samplesPerState, double lambda, bool referenceOptimistic) =>
        MaxOverSamples(all, samplesPerState, lambda, pessimisticHigh: !referenceOptimistic);
}

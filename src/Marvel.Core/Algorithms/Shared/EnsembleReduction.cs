using static TorchSharp.torch;

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
    /// <c>EnsembleDoubleQCritic</c>): q1 = min of group 1, q2 = min of group 2,
    /// value = λ · min(q1, q2) + (1 − λ) · max(q1, q2).
    /// </summary>
    /// <param name="all">[2n, batch].</param>
    /// <param name="lambda">Mixing weight λ in [0, 1] (reference 0.75).</param>
    /// <returns>[batch].</returns>
    public static Tensor SoftClippedDoubleQ(Tensor all, double lambda)
    {
        long n = all.shape[0] / 2;
        using var g1 = all.narrow(0, 0, n);
        using var g2 = all.narrow(0, n, n);
        using var q1 = g1.amin(new long[] { 0 });
        using var q2 = g2.amin(new long[] { 0 });
        using var low = minimum(q1, q2);
        using var high = maximum(q1, q2);
        using var a = low.mul(lambda);
        using var b = high.mul(1 - lambda);
        return a + b;
    }

    /// <summary>
    /// The BCQ/BEAR backup value of a state from N sampled next actions: the soft clipped double Q of each
    /// (state, action) pair, then the maximum over the N samples of the state.
    /// </summary>
    /// <param name="all">[2n, batch · N], rows grouped by state (sample j of state i at column i · N + j).</param>
    /// <param name="samplesPerState">N.</param>
    /// <param name="lambda">Mixing weight λ.</param>
    /// <returns>[batch].</returns>
    public static Tensor MaxOverSamples(Tensor all, int samplesPerState, double lambda)
    {
        using var mixed = SoftClippedDoubleQ(all, lambda);
        using var perState = mixed.view(-1, samplesPerState);
        return perState.amax(new long[] { 1 });
    }
}

using System.Globalization;

namespace Marvel.Core.Data;

/// <summary>
/// Draws every batch from two transition sources in a fixed proportion: round(f·B) rows from <see cref="Secondary"/> and the rest
/// from <see cref="Primary"/>, each uniformly with replacement, the secondary rows spread evenly over the batch so that every consecutive
/// slice (a learner's mini-batch) carries the same share. For example value alignment on the offline
/// dataset mixed with a few on-policy episodes of the offline actor (<see cref="Pipeline.MarvelPipelineOptions.AlignmentRolloutEpisodes"/>).
/// </summary>
/// <remarks>
/// The split is fixed rather than drawn per batch, so a batch's composition does not vary (and a fraction of 0 or 1 uses one source
/// only and draws nothing from the other). Both sources must hold values in the same units (both task units, or both scaled).
/// </remarks>
public sealed class MixedTransitionSampler : ITransitionSampler
{
    /// <summary>Creates the mixture.</summary>
    /// <param name="primary">Source of the remaining rows (e.g. the offline dataset).</param>
    /// <param name="secondary">Source of round(<paramref name="secondaryFraction"/>·B) rows of every batch.</param>
    /// <param name="secondaryFraction">Share of each batch drawn from <paramref name="secondary"/>, in [0, 1].</param>
    /// <exception cref="ArgumentException">The sources' observation or action sizes differ, or the fraction is outside [0, 1] or NaN.</exception>
    public MixedTransitionSampler(ITransitionSampler primary, ITransitionSampler secondary, double secondaryFraction)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(secondary);
        if (!(secondaryFraction >= 0 && secondaryFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(secondaryFraction), secondaryFraction,
                $"The secondary fraction is {secondaryFraction.ToString(CultureInfo.InvariantCulture)}; it must be in [0, 1].");
        if (primary.ObservationSize != secondary.ObservationSize || primary.ActionSize != secondary.ActionSize)
            throw new ArgumentException($"The two sources differ in shape: primary has observation size {primary.ObservationSize} and action size {primary.ActionSize}, " +
                $"secondary {secondary.ObservationSize} and {secondary.ActionSize}. Mix transitions of the same task.", nameof(secondary));
        Primary = primary;
        Secondary = secondary;
        SecondaryFraction = secondaryFraction;
    }

    /// <summary>The source of the rows not taken from <see cref="Secondary"/>.</summary>
    public ITransitionSampler Primary { get; }

    /// <summary>The source of round(<see cref="SecondaryFraction"/>·B) rows of every batch.</summary>
    public ITransitionSampler Secondary { get; }

    /// <summary>Share of each batch drawn from <see cref="Secondary"/>.</summary>
    public double SecondaryFraction { get; }

    /// <summary>Transitions in both sources together.</summary>
    public int Count => Primary.Count + Secondary.Count;

    /// <inheritdoc />
    public int ObservationSize => Primary.ObservationSize;

    /// <inheritdoc />
    public int ActionSize => Primary.ActionSize;

    /// <summary>Number of rows of a batch of <paramref name="batchSize"/> that come from <see cref="Secondary"/>: round(f·B), halves away from zero.</summary>
    /// <param name="batchSize">The batch size B.</param>
    public int SecondaryRows(int batchSize) => (int)Math.Round(SecondaryFraction * batchSize, MidpointRounding.AwayFromZero);

    /// <summary>Draws round(f·B) rows from <see cref="Secondary"/> and B minus that from <see cref="Primary"/>; secondary row q sits at
    /// position ⌊(q + ½)·B/k⌋ (k secondary rows), so every consecutive slice carries the share up to one row.</summary>
    /// <param name="batchSize">Transitions to draw (≥ 1).</param>
    /// <param name="random">The sampling generator; the primary draws first, then the secondary.</param>
    /// <param name="device">Target device; CPU when null.</param>
    /// <exception cref="InvalidOperationException">A source that must contribute rows is empty.</exception>
    public TransitionBatch Sample(int batchSize, RandomSource random, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentNullException.ThrowIfNull(random);
        int fromSecondary = SecondaryRows(batchSize);
        int fromPrimary = batchSize - fromSecondary;
        if (fromSecondary == 0) return Primary.Sample(batchSize, random, device);
        if (fromPrimary == 0) return Secondary.Sample(batchSize, random, device);
        using var a = Primary.Sample(fromPrimary, random, device);
        using var b = Secondary.Sample(fromSecondary, random, device);
        // Spread the secondary rows evenly over the batch, so that every consecutive slice (a learner's mini-batch) carries the configured
        // share, not just the batch as a whole: concatenated, the first slices would hold primary rows only.
        using var order = tensor(InterleavedOrder(batchSize, fromSecondary), ScalarType.Int64, a.Observations.device);
        using var observations = cat([a.Observations, b.Observations], 0);
        using var actions = cat([a.Actions, b.Actions], 0);
        using var rewards = cat([a.Rewards, b.Rewards], 0);
        using var costs = cat([a.Costs, b.Costs], 0);
        using var nextObservations = cat([a.NextObservations, b.NextObservations], 0);
        using var terminated = cat([a.Terminated, b.Terminated], 0);
        using var truncated = cat([a.Truncated, b.Truncated], 0);
        return new TransitionBatch(
            observations.index_select(0, order), actions.index_select(0, order), rewards.index_select(0, order), costs.index_select(0, order),
            nextObservations.index_select(0, order), terminated.index_select(0, order), truncated.index_select(0, order));
    }

    /// <summary>
    /// Row order over the concatenation [primary rows; secondary rows] that puts secondary row q at position ⌊(q + ½)·B/k⌋, so any
    /// consecutive slice of length L holds L·k/B secondary rows up to one.
    /// </summary>
    /// <param name="batchSize">B, the batch size.</param>
    /// <param name="secondaryRows">k, the number of secondary rows (0 &lt; k &lt; B).</param>
    internal static long[] InterleavedOrder(int batchSize, int secondaryRows)
    {
        int primaryRows = batchSize - secondaryRows;
        var order = new long[batchSize];
        var isSecondary = new bool[batchSize];
        for (int q = 0; q < secondaryRows; q++)
            isSecondary[(int)Math.Floor((q + 0.5) * batchSize / secondaryRows)] = true;
        int nextPrimary = 0, nextSecondary = 0;
        for (int i = 0; i < batchSize; i++)
            order[i] = isSecondary[i] ? primaryRows + nextSecondary++ : nextPrimary++;
        return order;
    }
}

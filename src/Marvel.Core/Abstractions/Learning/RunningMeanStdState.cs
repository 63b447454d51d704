namespace Marvel.Core.Abstractions.Learning;

/// <summary>Saved statistics of an observation normalizer: per-coordinate mean and variance and the sample count.</summary>
/// <param name="Mean">Per-coordinate mean.</param>
/// <param name="Variance">Per-coordinate (population) variance.</param>
/// <param name="Count">Number of samples the statistics summarize (may be fractional, as with a prior count).</param>
/// <param name="Epsilon">Added to the variance before the square root when normalizing.</param>
/// <param name="Clip">Normalized values are clipped to [−Clip, Clip].</param>
public sealed record RunningMeanStdState(double[] Mean, double[] Variance, double Count, double Epsilon = 1e-8, double Clip = 10.0);

using System.Globalization;

namespace Marvel.Core.Pipeline.Datasets;

/// <summary>The cost limit κ of the frontier recipe's learner as a function of training progress (see <see cref="CostLimitScheduleKind"/>).</summary>
internal static class CostLimitSchedule
{
    /// <summary>
    /// κ at training progress <paramref name="progress"/> ∈ [0, 1]. With K = <see cref="FrontierDatasetOptions.ScheduleCycles"/>, cycle
    /// k = min(K − 1, ⌊p·K⌋) and position q = p·K − k in it. Sweep: x = clamp((q − s)/(e − s), 0, 1), κ = start + x·(end − start), with
    /// s, e the sweep fractions (DSRL's <c>x = clip(epoch − epoch_start, 0, epoch_end − epoch_start)</c> in units of a cycle). Random:
    /// κ = start + u_k·(end − start), u_k uniform in [0, 1) from stream "frontier/schedule/k" of <paramref name="seed"/>.
    /// </summary>
    public static double At(FrontierDatasetOptions options, double progress, ulong seed)
    {
        int cycles = options.ScheduleCycles;
        double p = Math.Clamp(progress, 0, 1) * cycles;
        int cycle = Math.Min(cycles - 1, (int)Math.Floor(p));
        double q = p - cycle;
        double start = options.CostLimitStart, end = options.CostLimitEnd;
        if (options.Schedule == CostLimitScheduleKind.Random)
        {
            var random = new RandomSource(SeedStreams.Derive(seed, "frontier/schedule/" + cycle.ToString(CultureInfo.InvariantCulture)));
            return start + random.NextDouble() * (end - start);
        }
        double x = Math.Clamp((q - options.SweepStartFraction) / (options.SweepEndFraction - options.SweepStartFraction), 0, 1);
        return start + x * (end - start);
    }
}

namespace Marvel.Core.Data.Dsrl;

/// <summary>
/// The names of the seven root datasets of a DSRL HDF5 file. A file holds exactly these, with N rows each:
/// <c>observations</c> and <c>next_observations</c> [N, observationSize], <c>actions</c> [N, actionSize], and
/// <c>rewards</c>, <c>costs</c>, <c>terminals</c>, <c>timeouts</c> [N] (or [N, 1]).
/// </summary>
/// <remarks>See <c>docs/datasets.md</c> for the dtypes we accept and write.</remarks>
public static class DsrlSchema
{
    /// <summary>s_t, [N, observationSize], float32 (float64 accepted on read).</summary>
    public const string Observations = "observations";

    /// <summary>s_{t+1}, [N, observationSize], float32 (float64 accepted on read).</summary>
    public const string NextObservations = "next_observations";

    /// <summary>a_t, [N, actionSize], float32 (float64 accepted on read).</summary>
    public const string Actions = "actions";

    /// <summary>r_t, [N] or [N, 1], float32 (float64 accepted on read), unscaled.</summary>
    public const string Rewards = "rewards";

    /// <summary>c_t, [N] or [N, 1], float32 (float64 accepted on read), each ≥ 0.</summary>
    public const string Costs = "costs";

    /// <summary>True where the episode ended by a termination condition, [N] or [N, 1]; bool, integer or float (non-zero is true).</summary>
    public const string Terminals = "terminals";

    /// <summary>True where the episode was cut by the time limit, [N] or [N, 1]; bool, integer or float (non-zero is true).</summary>
    public const string Timeouts = "timeouts";

    /// <summary>All seven keys, in the order the reader checks them.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        [Observations, NextObservations, Actions, Rewards, Costs, Terminals, Timeouts];

    /// <summary>The keys holding one value per row (rewards, costs, terminals, timeouts).</summary>
    internal static IReadOnlyList<string> PerRowKeys { get; } = [Rewards, Costs, Terminals, Timeouts];
}

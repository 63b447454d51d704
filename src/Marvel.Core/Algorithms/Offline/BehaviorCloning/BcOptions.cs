using Marvel.Core.Algorithms.Shared;

namespace Marvel.Core.Algorithms.Offline.BehaviorCloning;

/// <summary>Which episodes behaviour cloning imitates (OSRL <c>bc_mode</c>, algorithms spec §4.2). C is an episode's undiscounted cost, κ = CostLimit.</summary>
public enum BcMode
{
    /// <summary>BC-All: every transition.</summary>
    All,
    /// <summary>BC-Safe: episodes with C ≤ κ.</summary>
    Safe,
    /// <summary>Episodes with C ≥ 2κ (a diagnostic baseline).</summary>
    Risky,
    /// <summary>Episodes with 0.5κ &lt; C ≤ 1.5κ.</summary>
    Boundary,
}

/// <summary>
/// Settings of <see cref="BcLearner"/>: behaviour cloning of all episodes (BC-All) or of the safe ones (BC-Safe).
/// Defaults are OSRL's <c>bc_configs.py</c> (algorithms spec §4).
/// </summary>
public sealed record BcOptions : IOfflineOptions
{
    /// <summary>Which episodes to imitate. Default <see cref="BcMode.All"/> (OSRL's default bc_mode).</summary>
    public BcMode Mode { get; set; } = BcMode.All;

    /// <summary>Undiscounted episode cost budget κ (cost units per episode, unscaled). Default 10 (OSRL).
    /// BC-Safe compares each dataset episode's raw cost sum with κ directly; no discounting and no threshold conversion.
    /// <see cref="BcMode.All"/> ignores it.</summary>
    public double CostLimit { get; set; } = 10.0;

    /// <summary>Hidden widths of the deterministic actor. Default [256, 256] (OSRL).</summary>
    public int[] HiddenSizes { get; set; } = [256, 256];

    /// <summary>Adam learning rate. Default 1e-3 (OSRL actor_lr).</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Transitions per gradient step. Default 512 (OSRL).</summary>
    public int BatchSize { get; set; } = 512;
}

using Marvel.Core.Abstractions;
using Marvel.Core.Environments;
using Marvel.Environments.MuJoCo.Native;
using Marvel.Environments.MuJoCo.Tasks;

namespace Marvel.Environments.MuJoCo;

/// <summary>
/// The five MuJoCo velocity tasks by name, and their registration in an <see cref="EnvironmentRegistry"/>.
/// Each task is known under its short id (the key of its DSRL score reference, e.g. "HalfCheetahVelocity") and under its
/// Safety-Gymnasium name (e.g. "SafetyHalfCheetahVelocity-v1"); both create the same task.
/// </summary>
public static class MuJoCoTasks
{
    private static readonly (string Id, string SafetyGymnasiumId, Func<IEnvironment> Create)[] Tasks =
    [
        (HalfCheetahVelocity.Settings.Id, HalfCheetahVelocity.Settings.SafetyGymnasiumId, () => new HalfCheetahVelocity()),
        (HopperVelocity.Settings.Id, HopperVelocity.Settings.SafetyGymnasiumId, () => new HopperVelocity()),
        (SwimmerVelocity.Settings.Id, SwimmerVelocity.Settings.SafetyGymnasiumId, () => new SwimmerVelocity()),
        (Walker2dVelocity.Settings.Id, Walker2dVelocity.Settings.SafetyGymnasiumId, () => new Walker2dVelocity()),
        (AntVelocity.Settings.Id, AntVelocity.Settings.SafetyGymnasiumId, () => new AntVelocity()),
    ];

    /// <summary>The short ids: AntVelocity, HalfCheetahVelocity, HopperVelocity, SwimmerVelocity, Walker2dVelocity.</summary>
    public static IReadOnlyList<string> Ids { get; } = Tasks.Select(t => t.Id).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The Safety-Gymnasium names, e.g. "SafetyAntVelocity-v1".</summary>
    public static IReadOnlyList<string> SafetyGymnasiumIds { get; } = Tasks.Select(t => t.SafetyGymnasiumId).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The MuJoCo library version in use (222), loading the library if needed.</summary>
    /// <exception cref="DllNotFoundException">The MuJoCo 2.2.2 library is not installed.</exception>
    /// <exception cref="NotSupportedException">The installed MuJoCo is not version 2.2.2.</exception>
    public static int LibraryVersion => MuJoCoLibrary.Version;

    /// <summary>Creates task <paramref name="id"/> (short id or Safety-Gymnasium name).</summary>
    /// <exception cref="KeyNotFoundException">Unknown id; the message lists the known ones.</exception>
    public static IEnvironment Create(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        foreach (var t in Tasks)
            if (t.Id == id || t.SafetyGymnasiumId == id) return t.Create();
        throw new KeyNotFoundException($"Unknown MuJoCo velocity task '{id}'. Known: {string.Join(", ", Ids.Concat(SafetyGymnasiumIds))}.");
    }

    /// <summary>Registers the five tasks under both names in <paramref name="registry"/>.</summary>
    /// <param name="registry">The registry, e.g. <see cref="EnvironmentRegistry.Default"/>.</param>
    /// <param name="replace">Replace registrations of the same names instead of failing.</param>
    /// <returns>The registry, for chaining.</returns>
    /// <exception cref="ArgumentException">A name is already registered and <paramref name="replace"/> is false.</exception>
    /// <example>
    /// <code>
    /// EnvironmentRegistry.Default.RegisterMuJoCoVelocityTasks();
    /// using var env = EnvironmentRegistry.Default.MakeVector("SafetyHalfCheetahVelocity-v1", 4);
    /// </code>
    /// </example>
    public static EnvironmentRegistry RegisterMuJoCoVelocityTasks(this EnvironmentRegistry registry, bool replace = false)
    {
        ArgumentNullException.ThrowIfNull(registry);
        foreach (var t in Tasks)
        {
            registry.Register(t.Id, t.Create, replace);
            registry.Register(t.SafetyGymnasiumId, t.Create, replace);
        }
        return registry;
    }

    internal static IEnumerable<(string Name, Func<IEnvironment> Create)> AllNames() =>
        Tasks.SelectMany(t => new[] { (t.Id, t.Create), (t.SafetyGymnasiumId, t.Create) });
}

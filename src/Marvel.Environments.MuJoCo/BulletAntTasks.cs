using Marvel.Core.Abstractions;
using Marvel.Core.Environments;
using Marvel.Environments.MuJoCo.Tasks;

namespace Marvel.Environments.MuJoCo;

/// <summary>
/// The two Bullet-Safety-Gym ant tasks, AntCircle and AntRun, by name, and their registration in an
/// <see cref="EnvironmentRegistry"/>. Each task is known under its short id (the key of its DSRL score reference) and its
/// DSRL id ("OfflineAntCircle-v0", "OfflineAntRun-v0"); both create the same task.
/// </summary>
public static class BulletAntTasks
{
    private static readonly (string Id, Func<IEnvironment> Create)[] Tasks =
    [
        ("AntCircle", () => new AntCircle()),
        ("AntRun", () => new AntRun()),
    ];

    /// <summary>The short ids: AntCircle, AntRun.</summary>
    public static IReadOnlyList<string> Ids { get; } = Tasks.Select(t => t.Id).ToArray();

    /// <summary>The DSRL ids: OfflineAntCircle-v0, OfflineAntRun-v0.</summary>
    public static IReadOnlyList<string> DsrlIds { get; } = Tasks.Select(t => DsrlId(t.Id)).ToArray();

    /// <summary>Creates task <paramref name="id"/> (short id or DSRL id).</summary>
    /// <exception cref="KeyNotFoundException">Unknown id; the message lists the known ones.</exception>
    public static IEnvironment Create(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        foreach (var t in Tasks)
            if (t.Id == id || DsrlId(t.Id) == id) return t.Create();
        throw new KeyNotFoundException($"Unknown Bullet-Safety-Gym ant task '{id}'. Known: {string.Join(", ", Ids.Concat(DsrlIds))}.");
    }

    /// <summary>Registers AntCircle and AntRun under both names in <paramref name="registry"/>.</summary>
    /// <param name="registry">The registry, e.g. <see cref="EnvironmentRegistry.Default"/>.</param>
    /// <param name="replace">Replace registrations of the same names instead of failing.</param>
    /// <returns>The registry, for chaining.</returns>
    /// <exception cref="ArgumentException">A name is already registered and <paramref name="replace"/> is false.</exception>
    /// <example>
    /// <code>
    /// EnvironmentRegistry.Default.RegisterBulletAntTasks();
    /// using var env = EnvironmentRegistry.Default.MakeVector("OfflineAntRun-v0", 4);
    /// </code>
    /// </example>
    public static EnvironmentRegistry RegisterBulletAntTasks(this EnvironmentRegistry registry, bool replace = false)
    {
        ArgumentNullException.ThrowIfNull(registry);
        foreach (var (name, create) in AllNames()) registry.Register(name, create, replace);
        return registry;
    }

    internal static IEnumerable<(string Name, Func<IEnvironment> Create)> AllNames() =>
        Tasks.SelectMany(t => new[] { (t.Id, t.Create), (DsrlId(t.Id), t.Create) });

    private static string DsrlId(string id) => $"Offline{id}-v0";
}

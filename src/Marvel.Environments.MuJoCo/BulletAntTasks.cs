using Marvel.Core.Abstractions;
using Marvel.Core.Environments;
using Marvel.Environments.MuJoCo.Policies;
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

    /// <summary>
    /// The scripted cost sweep of task <paramref name="id"/> (short id) from which <c>DatasetCollector.GenerateBuiltIn</c> builds
    /// its dataset. AntRun: the gait of <see cref="ScriptedGaitPolicy.BulletAnt"/> with its stride (amplitude scale) rising
    /// from 0.2 to 2.5 and its pace from 0.9 to 1.25 with the aggressiveness f, under Gaussian action noise σ = 0.3; a short
    /// stride shuffles in place at no cost, the base stride walks at about the speed limit, the long strides lurch past
    /// 1.5 m/s and off the |y| ≤ 2 lane. AntCircle: the steered gait of <see cref="ScriptedGaitPolicy.BulletAntCircle"/> on a
    /// clockwise circle whose radius rises from 3 m to 7 m with f, under σ = 0.15 (the 0.1 s control step topples the ant
    /// more often under σ = 0.3); an inner circle that the gait holds stays inside |x| ≤ 6, the outer ones spend up to a third
    /// of each lap beyond it. docs/environments-mujoco.md lists the ranges.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Not AntCircle or AntRun.</exception>
    public static ScriptedSweep ScriptedSweep(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return id switch
        {
            "AntCircle" => new ScriptedSweep(f => ScriptedGaitPolicy.BulletAntCircle(radius: 3 + 4 * f), NoiseStandardDeviation: 0.15),
            "AntRun" => new ScriptedSweep(f => ScriptedGaitPolicy.BulletAnt(pace: 0.9 + 0.35 * f, stride: 0.2 + 2.3 * f)),
            _ => throw new KeyNotFoundException($"No scripted sweep for '{id}'. Known: {string.Join(", ", Ids)}."),
        };
    }

    /// <summary>
    /// Registers AntCircle and AntRun under both names in <paramref name="registry"/>, with their scripted sweeps
    /// (<see cref="ScriptedSweep"/>), so <c>DatasetCollector.GenerateBuiltIn</c> can build their datasets.
    /// </summary>
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
        foreach (var id in Ids) registry.RegisterScriptedSweep(id, ScriptedSweep(id), replace);
        return registry;
    }

    internal static IEnumerable<(string Name, Func<IEnvironment> Create)> AllNames() =>
        Tasks.SelectMany(t => new[] { (t.Id, t.Create), (DsrlId(t.Id), t.Create) });

    private static string DsrlId(string id) => $"Offline{id}-v0";
}

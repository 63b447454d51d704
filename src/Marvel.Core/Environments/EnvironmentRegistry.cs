using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Marvel.Core.Environments.Tasks;

namespace Marvel.Core.Environments;

/// <summary>
/// Maps task ids ("BallCircle", …) to factories. <see cref="Default"/> knows the built-in tasks; register your own
/// with <see cref="Register"/> and every tool that takes a task id (collector, evaluation, pipeline) can use it.
/// </summary>
public sealed class EnvironmentRegistry
{
    private readonly ConcurrentDictionary<string, Func<IEnvironment>> _factories = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ScriptedSweep> _sweeps = new(StringComparer.Ordinal);

    /// <summary>The built-in tasks by short id; their DSRL ids are <c>Offline{id}-v0</c>. Declared before <see cref="Default"/>, which reads it.</summary>
    internal static readonly (string Id, Func<IEnvironment> Create)[] BuiltIns =
    [
        ("BallCircle", () => new BallCircle()),
        ("BallRun", () => new BallRun()),
        ("CarCircle", () => new CarCircle()),
        ("CarRun", () => new CarRun()),
        ("DroneCircle", () => new DroneCircle()),
        ("DroneRun", () => new DroneRun()),
    ];

    /// <summary>The process-wide registry, holding the six built-in tasks (see <see cref="CreateWithBuiltIns"/>).</summary>
    public static EnvironmentRegistry Default { get; } = CreateWithBuiltIns();

    /// <summary>
    /// A registry with the six built-in tasks BallCircle, BallRun, CarCircle, CarRun, DroneCircle and DroneRun, each under
    /// its short id and its DSRL id (e.g. "OfflineDroneCircle-v0"); both names create the same task.
    /// </summary>
    public static EnvironmentRegistry CreateWithBuiltIns()
    {
        var r = new EnvironmentRegistry();
        foreach (var (id, create) in BuiltIns)
        {
            r.Register(id, create);
            r.Register($"Offline{id}-v0", create);
        }
        return r;
    }

    /// <summary>Registers a task.</summary>
    /// <param name="id">The id; case-sensitive.</param>
    /// <param name="factory">Creates a fresh instance.</param>
    /// <param name="replace">Replace an existing registration instead of failing.</param>
    /// <exception cref="ArgumentException">The id is taken and <paramref name="replace"/> is false.</exception>
    public void Register(string id, Func<IEnvironment> factory, bool replace = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(factory);
        if (replace) _factories[id] = factory;
        else if (!_factories.TryAdd(id, factory))
            throw new ArgumentException($"An environment with id '{id}' is already registered. Pass replace: true to override it.", nameof(id));
    }

    /// <summary>
    /// Registers the scripted cost sweep from which <c>DatasetCollector.GenerateBuiltIn</c> builds a dataset for task
    /// <paramref name="id"/>, a task it has no controllers of its own for. <c>GenerateBuiltIn</c> looks the sweep up under the id it
    /// is given and then under the task's <see cref="EnvironmentSpec.Id"/>, so registering the short id covers the task's other names.
    /// </summary>
    /// <param name="id">The task id; case-sensitive.</param>
    /// <param name="sweep">The controllers per aggressiveness level.</param>
    /// <param name="replace">Replace an existing sweep instead of failing.</param>
    /// <exception cref="ArgumentException">A sweep for the id is registered and <paramref name="replace"/> is false, or its noise is negative or not finite.</exception>
    public void RegisterScriptedSweep(string id, ScriptedSweep sweep, bool replace = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(sweep.PolicyAt, nameof(sweep));
        if (!(sweep.NoiseStandardDeviation >= 0) || !double.IsFinite(sweep.NoiseStandardDeviation))
            throw new ArgumentException($"The scripted sweep of '{id}' has noise σ = {sweep.NoiseStandardDeviation}; it must be finite and >= 0.", nameof(sweep));
        if (replace) _sweeps[id] = sweep;
        else if (!_sweeps.TryAdd(id, sweep))
            throw new ArgumentException($"A scripted sweep for '{id}' is already registered. Pass replace: true to override it.", nameof(id));
    }

    /// <summary>The scripted cost sweep registered for <paramref name="id"/>, if any (see <see cref="RegisterScriptedSweep"/>).</summary>
    public bool TryGetScriptedSweep(string id, [NotNullWhen(true)] out ScriptedSweep? sweep)
    {
        ArgumentNullException.ThrowIfNull(id);
        return _sweeps.TryGetValue(id, out sweep);
    }

    /// <summary>Creates a fresh instance of task <paramref name="id"/>.</summary>
    /// <exception cref="KeyNotFoundException">Unknown id; the message lists the registered ones.</exception>
    public IEnvironment Make(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (_factories.TryGetValue(id, out var f)) return f();
        throw new KeyNotFoundException($"Unknown environment id '{id}'. Registered: {string.Join(", ", Ids)}. Register custom tasks with EnvironmentRegistry.Register.");
    }

    /// <summary>Creates a vector of <paramref name="count"/> instances of task <paramref name="id"/>.</summary>
    public VectorEnvironment MakeVector(string id, int count) => new(() => Make(id), count);

    /// <summary>True when <paramref name="id"/> is registered.</summary>
    public bool Contains(string id) => _factories.ContainsKey(id);

    /// <summary>Registered ids, sorted.</summary>
    public IReadOnlyList<string> Ids => _factories.Keys.Order(StringComparer.Ordinal).ToArray();
}

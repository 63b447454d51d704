using Marvel.Core.Environments;
using Marvel.Core.Hosting;
using Marvel.Environments.MuJoCo;
using Microsoft.Extensions.DependencyInjection;

namespace Marvel.Cli;

/// <summary>
/// The tasks the tool knows beyond Marvel.Core's six: the MuJoCo package's five velocity tasks and its Bullet-Safety-Gym ant tasks
/// (AntCircle, AntRun, with their built-in dataset sweeps). Registering only stores factories; MuJoCo's native library is loaded
/// when a task is first created, so a machine without it still runs every other task and gets MuJoCo's install hint on first use.
/// </summary>
internal static class CliTasks
{
    private static readonly Lazy<bool> Registered = new(() =>
    {
        EnvironmentRegistry.Default.RegisterMuJoCoVelocityTasks(replace: true);
        EnvironmentRegistry.Default.RegisterBulletAntTasks(replace: true);
        return true;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Adds the tasks to <see cref="EnvironmentRegistry.Default"/> (used by <c>collect</c>, <c>evaluate</c>, <c>export</c> and the built-in datasets); once per process.</summary>
    public static void RegisterDefaults() => _ = Registered.Value;

    /// <summary>Adds the tasks to a Marvel host's catalog (used by <c>envs</c>, <c>check-env</c> and the pipeline).</summary>
    public static IMarvelBuilder AddCliTasks(this IMarvelBuilder builder) => builder.AddMuJoCoVelocityTasks().AddBulletAntTasks();

    /// <summary>The catalog of <c>AddMarvel()</c> with the tool's tasks.</summary>
    public static ServiceProvider BuildProvider() => new ServiceCollection().AddMarvel().AddCliTasks().Services.BuildServiceProvider();
}

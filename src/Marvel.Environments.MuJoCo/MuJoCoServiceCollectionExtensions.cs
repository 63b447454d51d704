using Marvel.Core.Hosting;
using Marvel.Environments.MuJoCo;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the MuJoCo tasks (the five velocity tasks, the Bullet-Safety-Gym ant tasks) with a Marvel host.</summary>
public static class MuJoCoServiceCollectionExtensions
{
    /// <summary>
    /// Registers the five MuJoCo velocity tasks as Marvel environments, under their short ids ("HalfCheetahVelocity", …) and
    /// their Safety-Gymnasium names ("SafetyHalfCheetahVelocity-v1", …).
    /// </summary>
    /// <param name="builder">The Marvel builder from <c>services.AddMarvel()</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="InvalidOperationException">One of the names is already registered as an environment.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddMuJoCoVelocityTasks();
    /// using var env = provider.GetRequiredService&lt;IMarvelComponents&gt;().CreateVectorEnvironment("HopperVelocity", 4);
    /// </code>
    /// </example>
    public static IMarvelBuilder AddMuJoCoVelocityTasks(this IMarvelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var (name, create) in MuJoCoTasks.AllNames())
            builder.AddEnvironment(name, create);
        return builder;
    }

    /// <summary>
    /// Registers the Bullet-Safety-Gym ant tasks AntCircle and AntRun as Marvel environments, under their short ids and their
    /// DSRL ids ("OfflineAntCircle-v0", "OfflineAntRun-v0").
    /// </summary>
    /// <param name="builder">The Marvel builder from <c>services.AddMarvel()</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="InvalidOperationException">One of the names is already registered as an environment.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddBulletAntTasks();
    /// using var env = provider.GetRequiredService&lt;IMarvelComponents&gt;().CreateEnvironment("AntRun");
    /// </code>
    /// </example>
    public static IMarvelBuilder AddBulletAntTasks(this IMarvelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var (name, create) in BulletAntTasks.AllNames())
            builder.AddEnvironment(name, create);
        return builder;
    }
}

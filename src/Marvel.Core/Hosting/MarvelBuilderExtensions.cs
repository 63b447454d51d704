using Marvel.Core.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers your own components by name on the builder that <c>AddMarvel</c> returns, so that
/// <see cref="IMarvelComponents"/> builds them exactly like the built-ins.
/// </summary>
/// <remarks>
/// Names are case-sensitive keys of keyed singleton factories. A name can be registered once per kind: a second
/// registration of yours throws <see cref="InvalidOperationException"/>. Registering a built-in name ("CPQ", "aPID",
/// "BallCircle", …) replaces the built-in, whether you register before or after <c>AddMarvel</c>, because the built-ins are
/// added with TryAdd semantics and yours with replace semantics.
/// </remarks>
public static class MarvelBuilderExtensions
{
    /// <summary>
    /// Registers an offline learner type under <paramref name="name"/>. Each <c>CreateOfflineLearner(name, context)</c> builds
    /// a new <typeparamref name="TLearner"/> through <see cref="ActivatorUtilities"/>: the <see cref="LearnerContext"/> is passed
    /// in, other constructor parameters come from the container or their default values.
    /// </summary>
    /// <typeparam name="TLearner">The learner; needs a public constructor taking a <see cref="LearnerContext"/>.</typeparam>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name, e.g. "MyCql".</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered an offline learner with this name.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddOfflineLearner&lt;MyCqlLearner&gt;("MyCql");
    /// using var learner = provider.GetRequiredService&lt;IMarvelComponents&gt;().CreateOfflineLearner("MyCql", context);
    /// </code>
    /// </example>
    public static IMarvelBuilder AddOfflineLearner<TLearner>(this IMarvelBuilder builder, string name)
        where TLearner : class, IOfflineSafeLearner
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddOfflineLearner(name, typeof(TLearner), (provider, context) => ActivatorUtilities.CreateInstance<TLearner>(provider, context));
    }

    /// <summary>
    /// Registers an offline learner type with its own options under <paramref name="name"/>. The options are named options
    /// (name = <paramref name="name"/>), configured by <paramref name="configure"/> and validated at start by every
    /// <see cref="IValidateOptions{TOptions}"/> you register; the learner's constructor receives them beside the context.
    /// </summary>
    /// <typeparam name="TLearner">The learner; needs a public constructor taking a <see cref="LearnerContext"/> and a <typeparamref name="TOptions"/>.</typeparam>
    /// <typeparam name="TOptions">Its options record.</typeparam>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name, which is also the options name (bind configuration with <c>services.Configure&lt;TOptions&gt;(name, section)</c>).</param>
    /// <param name="configure">Sets options; null keeps the record's defaults.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered an offline learner with this name.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddOfflineLearner&lt;MyCqlLearner, MyCqlOptions&gt;("MyCql", o =&gt; o.CostLimit = 20);
    /// </code>
    /// </example>
    public static IMarvelBuilder AddOfflineLearner<TLearner, TOptions>(this IMarvelBuilder builder, string name, Action<TOptions>? configure = null)
        where TLearner : class, IOfflineSafeLearner where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.AddOfflineLearner(name, typeof(TLearner), (provider, context) =>
            ActivatorUtilities.CreateInstance<TLearner>(provider, context, provider.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name)));
        builder.Services.AddOptions<TOptions>(name).Configure(configure ?? (_ => { })).ValidateOnStart();
        return builder;
    }

    /// <summary>Registers an offline learner built by a delegate under <paramref name="name"/>.</summary>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name.</param>
    /// <param name="create">Builds a new learner from the root service provider and the run's context.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="create"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered an offline learner with this name.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddOfflineLearner("CPQ-small", (provider, context) =&gt;
    ///     new CpqLearner(context, new CpqOptions { ActorHiddenSizes = [64, 64], CriticHiddenSizes = [64, 64] }));
    /// </code>
    /// </example>
    public static IMarvelBuilder AddOfflineLearner(this IMarvelBuilder builder, string name, Func<IServiceProvider, LearnerContext, IOfflineSafeLearner> create)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(create);
        return builder.AddOfflineLearner(name, typeof(IOfflineSafeLearner), create);
    }

    /// <summary>
    /// Registers an online learner type under <paramref name="name"/>; each <c>CreateOnlineLearner(name, context)</c> builds a new
    /// <typeparamref name="TLearner"/> through <see cref="ActivatorUtilities"/> with the context passed in.
    /// </summary>
    /// <typeparam name="TLearner">The learner; needs a public constructor taking a <see cref="LearnerContext"/>.</typeparam>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name, e.g. "MyTd3Lag".</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered an online learner with this name.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddOnlineLearner&lt;MyTd3LagLearner&gt;("TD3-Lag");
    /// </code>
    /// </example>
    public static IMarvelBuilder AddOnlineLearner<TLearner>(this IMarvelBuilder builder, string name)
        where TLearner : class, IOnlineSafeLearner
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddOnlineLearner(name, typeof(TLearner), (provider, context) => ActivatorUtilities.CreateInstance<TLearner>(provider, context));
    }

    /// <summary>Registers an online learner type with its own named options (name = <paramref name="name"/>), validated at start.</summary>
    /// <typeparam name="TLearner">The learner; needs a public constructor taking a <see cref="LearnerContext"/> and a <typeparamref name="TOptions"/>.</typeparam>
    /// <typeparam name="TOptions">Its options record.</typeparam>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name, which is also the options name.</param>
    /// <param name="configure">Sets options; null keeps the record's defaults.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered an online learner with this name.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddOnlineLearner&lt;MyTd3LagLearner, MyTd3LagOptions&gt;("TD3-Lag", o =&gt; o.Gamma = 0.98);
    /// </code>
    /// </example>
    public static IMarvelBuilder AddOnlineLearner<TLearner, TOptions>(this IMarvelBuilder builder, string name, Action<TOptions>? configure = null)
        where TLearner : class, IOnlineSafeLearner where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.AddOnlineLearner(name, typeof(TLearner), (provider, context) =>
            ActivatorUtilities.CreateInstance<TLearner>(provider, context, provider.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name)));
        builder.Services.AddOptions<TOptions>(name).Configure(configure ?? (_ => { })).ValidateOnStart();
        return builder;
    }

    /// <summary>Registers an online learner built by a delegate under <paramref name="name"/>.</summary>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name.</param>
    /// <param name="create">Builds a new learner from the root service provider and the run's context.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="create"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered an online learner with this name.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddOnlineLearner("SAC-Lag-small", (provider, context) =&gt;
    ///     new SacLagLearner(context, new SacLagOptions { ActorHiddenSizes = [64, 64] }));
    /// </code>
    /// </example>
    public static IMarvelBuilder AddOnlineLearner(this IMarvelBuilder builder, string name, Func<IServiceProvider, LearnerContext, IOnlineSafeLearner> create)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(create);
        return builder.AddOnlineLearner(name, typeof(IOnlineSafeLearner), create);
    }

    /// <summary>
    /// Registers a Lagrange controller type under <paramref name="name"/>. Each <c>CreateController(name)</c> builds a new
    /// <typeparamref name="TController"/> through <see cref="ActivatorUtilities"/> (constructor parameters such as
    /// <c>IOptions&lt;TOptions&gt;</c> come from the container), so every run starts from a fresh λ.
    /// </summary>
    /// <typeparam name="TController">The controller.</typeparam>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name, e.g. "BangBang".</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered a controller with this name.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddLagrangeController&lt;BangBangController&gt;("BangBang");
    /// var controller = provider.GetRequiredService&lt;IMarvelComponents&gt;().CreateController("BangBang");
    /// </code>
    /// </example>
    public static IMarvelBuilder AddLagrangeController<TController>(this IMarvelBuilder builder, string name)
        where TController : class, ILagrangeController
    {
        ArgumentNullException.ThrowIfNull(builder);
        MarvelRegistrations.Add(builder.Services, MarvelComponentKind.LagrangeController, name, typeof(TController), builtIn: false,
            provider => new DelegateLagrangeControllerFactory(name, () => ActivatorUtilities.CreateInstance<TController>(provider)));
        return builder;
    }

    /// <summary>Registers a Lagrange controller built by a delegate under <paramref name="name"/>.</summary>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name.</param>
    /// <param name="create">Builds a new controller from the root service provider; called once per <c>CreateController</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="create"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered a controller with this name.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddLagrangeController("PID-slow", _ =&gt; new PidLagrangeController(new PidLagrangeOptions { Kp = 0.01 }));
    /// </code>
    /// </example>
    public static IMarvelBuilder AddLagrangeController(this IMarvelBuilder builder, string name, Func<IServiceProvider, ILagrangeController> create)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(create);
        MarvelRegistrations.Add(builder.Services, MarvelComponentKind.LagrangeController, name, typeof(ILagrangeController), builtIn: false,
            provider => new DelegateLagrangeControllerFactory(name, () => create(provider)));
        return builder;
    }

    /// <summary>Registers a value aligner type under <paramref name="name"/>, built through <see cref="ActivatorUtilities"/> on each <c>CreateAligner(name)</c>.</summary>
    /// <typeparam name="TAligner">The aligner.</typeparam>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name, e.g. "ShiftOnly".</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered an aligner with this name.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddValueAligner&lt;MyAligner&gt;("Mine");
    /// var aligner = provider.GetRequiredService&lt;IMarvelComponents&gt;().CreateAligner("Mine");
    /// </code>
    /// </example>
    public static IMarvelBuilder AddValueAligner<TAligner>(this IMarvelBuilder builder, string name)
        where TAligner : class, IValueAligner
    {
        ArgumentNullException.ThrowIfNull(builder);
        MarvelRegistrations.Add(builder.Services, MarvelComponentKind.ValueAligner, name, typeof(TAligner), builtIn: false,
            provider => new DelegateValueAlignerFactory(name, () => ActivatorUtilities.CreateInstance<TAligner>(provider)));
        return builder;
    }

    /// <summary>Registers a value aligner built by a delegate under <paramref name="name"/>.</summary>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name.</param>
    /// <param name="create">Builds an aligner from the root service provider; called once per <c>CreateAligner</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="create"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered an aligner with this name.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddValueAligner("VPA-short", _ =&gt; new ValuePreAligner(new ValuePreAlignmentOptions { Steps = 1000 }));
    /// </code>
    /// </example>
    public static IMarvelBuilder AddValueAligner(this IMarvelBuilder builder, string name, Func<IServiceProvider, IValueAligner> create)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(create);
        MarvelRegistrations.Add(builder.Services, MarvelComponentKind.ValueAligner, name, typeof(IValueAligner), builtIn: false,
            provider => new DelegateValueAlignerFactory(name, () => create(provider)));
        return builder;
    }

    /// <summary>
    /// Registers an environment under <paramref name="name"/>; <c>CreateEnvironment(name)</c> calls <paramref name="create"/> for a
    /// fresh instance each time. The process-wide <c>EnvironmentRegistry.Default</c> is not touched.
    /// </summary>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name, e.g. "PointReach".</param>
    /// <param name="create">Builds a fresh environment.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="create"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered an environment with this name.</exception>
    /// <example>
    /// <code>
    /// EnvironmentChecker.Check(new PointReach()).ThrowIfInvalid();
    /// services.AddMarvel().AddEnvironment("PointReach", () =&gt; new PointReach());
    /// using var env = provider.GetRequiredService&lt;IMarvelComponents&gt;().CreateVectorEnvironment("PointReach", 4);
    /// </code>
    /// </example>
    public static IMarvelBuilder AddEnvironment(this IMarvelBuilder builder, string name, Func<IEnvironment> create)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(create);
        MarvelRegistrations.Add(builder.Services, MarvelComponentKind.Environment, name, typeof(IEnvironment), builtIn: false,
            _ => new DelegateEnvironmentFactory(name, create));
        return builder;
    }

    /// <summary>Registers an environment type under <paramref name="name"/>, built through <see cref="ActivatorUtilities"/> on each <c>CreateEnvironment(name)</c>.</summary>
    /// <typeparam name="TEnvironment">The environment.</typeparam>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="name">The name.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">You already registered an environment with this name.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel().AddEnvironment&lt;PointReach&gt;("PointReach");
    /// </code>
    /// </example>
    public static IMarvelBuilder AddEnvironment<TEnvironment>(this IMarvelBuilder builder, string name)
        where TEnvironment : class, IEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        MarvelRegistrations.Add(builder.Services, MarvelComponentKind.Environment, name, typeof(TEnvironment), builtIn: false,
            provider => new DelegateEnvironmentFactory(name, () => ActivatorUtilities.CreateInstance<TEnvironment>(provider)));
        return builder;
    }

    /// <summary>
    /// Configures every instance of <typeparamref name="TOptions"/> (all names, so both BC-All and BC-Safe for <c>BcOptions</c>).
    /// Runs after the configuration binding of <c>AddMarvel(configuration)</c> when registered after it, so the delegate wins.
    /// </summary>
    /// <typeparam name="TOptions">An options record, e.g. <c>CpqOptions</c> or <c>AdaptivePidLagrangeOptions</c>.</typeparam>
    /// <param name="builder">The Marvel builder.</param>
    /// <param name="configure">Sets fields.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="configure"/> is null.</exception>
    /// <example>
    /// <code>
    /// services.AddMarvel()
    ///         .Configure&lt;CpqOptions&gt;(o =&gt; { o.CostLimit = 20; o.ActorHiddenSizes = [128, 128]; })
    ///         .Configure&lt;AdaptivePidLagrangeOptions&gt;(o =&gt; o.CostLimit = 20);
    /// </code>
    /// </example>
    public static IMarvelBuilder Configure<TOptions>(this IMarvelBuilder builder, Action<TOptions> configure) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.ConfigureAll(configure);
        return builder;
    }

    private static IMarvelBuilder AddOfflineLearner(this IMarvelBuilder builder, string name, Type implementationType,
        Func<IServiceProvider, LearnerContext, IOfflineSafeLearner> create)
    {
        MarvelRegistrations.Add(builder.Services, MarvelComponentKind.OfflineLearner, name, implementationType, builtIn: false,
            provider => new DelegateOfflineLearnerFactory(name, context => create(provider, context)));
        return builder;
    }

    private static IMarvelBuilder AddOnlineLearner(this IMarvelBuilder builder, string name, Type implementationType,
        Func<IServiceProvider, LearnerContext, IOnlineSafeLearner> create)
    {
        MarvelRegistrations.Add(builder.Services, MarvelComponentKind.OnlineLearner, name, implementationType, builtIn: false,
            provider => new DelegateOnlineLearnerFactory(name, context => create(provider, context)));
        return builder;
    }
}

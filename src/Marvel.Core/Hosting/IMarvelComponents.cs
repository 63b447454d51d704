using Marvel.Core.Environments;
using Microsoft.Extensions.DependencyInjection;

namespace Marvel.Core.Hosting;

/// <summary>
/// The catalog of named components registered with <c>AddMarvel</c>: built-ins and your own. Resolve it from the
/// service provider and build learners, controllers, aligners and environments by the names a configuration file gives.
/// </summary>
/// <remarks>Names are case-sensitive. An unknown name throws an <see cref="ArgumentException"/> that lists the registered names.</remarks>
public interface IMarvelComponents
{
    /// <summary>The registered names of one kind, sorted ordinally.</summary>
    /// <param name="kind">The component kind.</param>
    IReadOnlyList<string> Names(MarvelComponentKind kind);

    /// <summary>Builds the offline learner registered as <paramref name="name"/>.</summary>
    /// <param name="name">E.g. "CPQ" or a name given to <c>AddOfflineLearner</c>.</param>
    /// <param name="context">Spaces, seeds, device and horizon of the run.</param>
    /// <exception cref="ArgumentException">No offline learner has that name; the message lists the registered ones.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The configured options are invalid.</exception>
    IOfflineSafeLearner CreateOfflineLearner(string name, LearnerContext context);

    /// <summary>Builds the online learner registered as <paramref name="name"/>.</summary>
    /// <param name="name">E.g. "SAC-Lag" or a name given to <c>AddOnlineLearner</c>.</param>
    /// <param name="context">Spaces, seeds, device and horizon of the run.</param>
    /// <exception cref="ArgumentException">No online learner has that name; the message lists the registered ones.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The configured options are invalid.</exception>
    IOnlineSafeLearner CreateOnlineLearner(string name, LearnerContext context);

    /// <summary>Builds the online learner registered as <paramref name="name"/>, sized for an artifact with <paramref name="manifest"/>
    /// when the method sizes itself from one (<see cref="IOnlineLearnerFactory.Create(LearnerContext, HandoverManifest)"/>).</summary>
    /// <param name="name">E.g. "SAC-Lag".</param>
    /// <param name="context">Spaces, seeds, device and horizon of the run.</param>
    /// <param name="manifest">The manifest of the artifact the learner will start from.</param>
    /// <exception cref="ArgumentException">No online learner has that name; the message lists the registered ones.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The configured options are invalid.</exception>
    IOnlineSafeLearner CreateOnlineLearner(string name, LearnerContext context, HandoverManifest manifest) => CreateOnlineLearner(name, context);

    /// <summary>Builds a fresh Lagrange controller registered as <paramref name="name"/>.</summary>
    /// <param name="name">E.g. "aPID" or a name given to <c>AddLagrangeController</c>.</param>
    /// <exception cref="ArgumentException">No controller has that name; the message lists the registered ones.</exception>
    ILagrangeController CreateController(string name);

    /// <summary>Builds the value aligner registered as <paramref name="name"/>.</summary>
    /// <param name="name">"VPA", "None" or a name given to <c>AddValueAligner</c>.</param>
    /// <exception cref="ArgumentException">No aligner has that name; the message lists the registered ones.</exception>
    IValueAligner CreateAligner(string name);

    /// <summary>Builds a fresh instance of the environment registered as <paramref name="name"/>.</summary>
    /// <param name="name">E.g. "BallCircle" or a name given to <c>AddEnvironment</c>.</param>
    /// <exception cref="ArgumentException">No environment has that name; the message lists the registered ones.</exception>
    IEnvironment CreateEnvironment(string name);

    /// <summary>Builds <paramref name="count"/> instances of environment <paramref name="name"/> as one vector environment.</summary>
    /// <param name="name">The environment name.</param>
    /// <param name="count">Number of copies, ≥ 1.</param>
    /// <exception cref="ArgumentException">No environment has that name; the message lists the registered ones.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    IVectorEnvironment CreateVectorEnvironment(string name, int count);
}

/// <summary>Resolves the keyed factories; the names come from the registrations that <c>AddMarvel</c> and the builder methods add.</summary>
internal sealed class MarvelComponents(IServiceProvider provider, IEnumerable<MarvelComponentRegistration> registrations) : IMarvelComponents
{
    private readonly MarvelComponentRegistration[] _registrations = registrations.ToArray();

    public IReadOnlyList<string> Names(MarvelComponentKind kind) =>
        _registrations.Where(r => r.Kind == kind).Select(r => r.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    public IOfflineSafeLearner CreateOfflineLearner(string name, LearnerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Factory<IOfflineLearnerFactory>(MarvelComponentKind.OfflineLearner, name).Create(context);
    }

    public IOnlineSafeLearner CreateOnlineLearner(string name, LearnerContext context, HandoverManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Factory<IOnlineLearnerFactory>(MarvelComponentKind.OnlineLearner, name).Create(context, manifest);
    }

    public IOnlineSafeLearner CreateOnlineLearner(string name, LearnerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Factory<IOnlineLearnerFactory>(MarvelComponentKind.OnlineLearner, name).Create(context);
    }

    public ILagrangeController CreateController(string name) => Factory<ILagrangeControllerFactory>(MarvelComponentKind.LagrangeController, name).Create();

    public IValueAligner CreateAligner(string name) => Factory<IValueAlignerFactory>(MarvelComponentKind.ValueAligner, name).Create();

    public IEnvironment CreateEnvironment(string name) => Factory<IEnvironmentFactory>(MarvelComponentKind.Environment, name).Create();

    public IVectorEnvironment CreateVectorEnvironment(string name, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var factory = Factory<IEnvironmentFactory>(MarvelComponentKind.Environment, name);
        return new VectorEnvironment(factory.Create, count);
    }

    /// <summary>Where a built-in component's options set its CostLimit, and the value; null for components without one (or custom ones).</summary>
    internal (string Name, double CostLimit)? CostLimitSetting<TFactory>(MarvelComponentKind kind, string name) where TFactory : class =>
        Factory<TFactory>(kind, name) is ICostLimitSetting { CostLimitSetting: { } read } ? read() : null;

    private TFactory Factory<TFactory>(MarvelComponentKind kind, string name) where TFactory : class
    {
        ArgumentNullException.ThrowIfNull(name);
        if (provider.GetKeyedService<TFactory>(name) is { } factory) return factory;
        throw new ArgumentException(UnknownNameMessage(kind, name, Names(kind)), nameof(name));
    }

    internal static string UnknownNameMessage(MarvelComponentKind kind, string name, IReadOnlyList<string> known)
    {
        string what = MarvelComponentRegistration.Describe(kind);
        string list = known.Count == 0 ? "none" : string.Join(", ", known);
        string? near = known.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
        string hint = near is null ? "" : $" Names are case-sensitive: did you mean '{near}'?";
        return $"Unknown {what} '{name}'. Registered {what}s: {list}.{hint} Register your own with builder.{MarvelComponentRegistration.AddMethod(kind)}(\"{name}\", ...) after services.AddMarvel().";
    }
}

using Microsoft.Extensions.DependencyInjection;

namespace Marvel.Core.Hosting;

/// <summary>
/// What <c>services.AddMarvel()</c> returns: the service collection Marvel registered into, so that further
/// Marvel registrations (<c>AddOfflineLearner</c>, <c>AddLagrangeController</c>, <c>AddEnvironment</c>, …) chain on it.
/// </summary>
public interface IMarvelBuilder
{
    /// <summary>The service collection the components are registered into.</summary>
    IServiceCollection Services { get; }
}

/// <summary>The one implementation of <see cref="IMarvelBuilder"/>.</summary>
internal sealed class MarvelBuilder(IServiceCollection services) : IMarvelBuilder
{
    public IServiceCollection Services { get; } = services;
}

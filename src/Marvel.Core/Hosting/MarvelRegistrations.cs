using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Marvel.Core.Hosting;

/// <summary>
/// Adds a named component: one <see cref="MarvelComponentRegistration"/> (so the catalog can list the name) and one keyed
/// singleton factory (so the catalog can resolve it). Built-ins never replace anything (TryAdd); a user registration
/// replaces a built-in of the same name whichever came first, and two user registrations of one name throw.
/// </summary>
internal static class MarvelRegistrations
{
    public static void Add(IServiceCollection services, MarvelComponentKind kind, string name, Type implementationType, bool builtIn,
        Func<IServiceProvider, object> createFactory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var factoryType = MarvelComponentRegistration.FactoryType(kind);
        var existing = Find(services, kind, name);
        if (existing is not null)
        {
            if (builtIn) return;
            if (!existing.Value.Registration.IsBuiltIn)
            {
                string what = MarvelComponentRegistration.Describe(kind);
                throw new InvalidOperationException(
                    $"A {what} named '{name}' is already registered ({existing.Value.Registration.ImplementationType.Name}); " +
                    $"cannot register {implementationType.Name} under the same name. Each name can be registered once: pick another name. " +
                    "(Registering a built-in name such as 'CPQ' or 'aPID' is allowed and replaces the built-in.)");
            }
            services.Remove(existing.Value.Descriptor);
            foreach (var keyed in services.Where(d => d.IsKeyedService && d.ServiceType == factoryType && Equals(d.ServiceKey, name)).ToList())
                services.Remove(keyed);
        }
        services.AddSingleton(new MarvelComponentRegistration(kind, name, implementationType, builtIn));
        services.AddKeyedSingleton(factoryType, name, (provider, _) => createFactory(provider));
    }

    private static (ServiceDescriptor Descriptor, MarvelComponentRegistration Registration)? Find(IServiceCollection services, MarvelComponentKind kind, string name)
    {
        foreach (var d in services)
        {
            // ImplementationInstance throws on keyed descriptors: test IsKeyedService first.
            if (!d.IsKeyedService && d.ServiceType == typeof(MarvelComponentRegistration)
                && d.ImplementationInstance is MarvelComponentRegistration r && r.Kind == kind && string.Equals(r.Name, name, StringComparison.Ordinal))
                return (d, r);
        }
        return null;
    }
}

/// <summary>Binds an options object from a configuration section; arrays in the section replace the defaults instead of extending them.</summary>
internal static class MarvelConfigurationBinder
{
    public static void Bind<TOptions>(IConfiguration section, TOptions options) where TOptions : class
    {
        // The binder fills an existing array by appending, so [256, 256] plus "16, 16" would become four layers: clear first.
        foreach (var property in typeof(TOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.PropertyType.IsArray && property.CanWrite && section.GetSection(property.Name).GetChildren().Any())
                property.SetValue(options, Array.CreateInstance(property.PropertyType.GetElementType()!, 0));
        }
        // A misspelt key ("CostLimt") fails at start instead of being ignored.
        section.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
    }
}

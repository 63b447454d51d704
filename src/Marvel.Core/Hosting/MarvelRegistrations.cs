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
        // A misspelt key ("CostLimt") fails at start instead of being ignored, naming the full key and the nearest setting.
        var names = typeof(TOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name).ToArray();
        foreach (var child in section.GetChildren())
            if (!names.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                throw new InvalidOperationException(UnknownKey(child.Path, child.Key, typeof(TOptions).Name, names));
        section.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
    }

    /// <summary>"'Marvel:Cpq:CostLimt' is not a setting of CpqOptions; did you mean 'CostLimit'? Its settings: …".</summary>
    internal static string UnknownKey(string path, string key, string optionsType, IReadOnlyList<string> names)
    {
        var nearest = names.Select(n => (Name: n, Distance: EditDistance(key.ToUpperInvariant(), n.ToUpperInvariant())))
            .Where(c => c.Distance <= Math.Max(2, key.Length / 3)).OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => c.Name).Take(3).ToList();
        string hint = nearest.Count == 0 ? "." : "; did you mean " + string.Join(" or ", nearest.Select(n => $"'{n}'")) + "?";
        return $"'{path}' is not a setting of {optionsType}{hint} Its settings: {string.Join(", ", names.Order(StringComparer.Ordinal))}.";
    }

    /// <summary>Levenshtein distance: the fewest single-character insertions, deletions and substitutions from <paramref name="a"/> to <paramref name="b"/>.</summary>
    internal static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}

using System.Globalization;
using System.Reflection;

namespace Marvel.Core.Tests.Algorithms.Offline;

/// <summary>Sets one property of an options record by name, converting a TestCase value (null for an empty array) to its type.</summary>
internal static class OptionSetter
{
    public static T With<T>(T options, string property, object? value) where T : class
    {
        var copy = (T)typeof(T).GetMethod("<Clone>$")!.Invoke(options, null)!;
        var p = typeof(T).GetProperty(property, BindingFlags.Public | BindingFlags.Instance) ?? throw new ArgumentException($"No property {property} on {typeof(T).Name}.");
        var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
        object? converted = value switch
        {
            null when type == typeof(int[]) => Array.Empty<int>(),
            null => null,
            _ when type.IsEnum => Enum.ToObject(type, value),
            _ => Convert.ChangeType(value, type, CultureInfo.InvariantCulture),
        };
        p.SetValue(copy, converted);
        return copy;
    }
}

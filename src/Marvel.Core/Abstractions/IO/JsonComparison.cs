using System.Text.Json;

namespace Marvel.Core.Abstractions.IO;

/// <summary>Compares two JSON objects property by property, for "this checkpoint was written with other options" messages.</summary>
internal static class JsonComparison
{
    /// <summary>"Name was X in the saved run but is Y now" for the first top-level property that differs (compact JSON compared), or null.</summary>
    /// <param name="saved">The saved object.</param>
    /// <param name="current">The current object.</param>
    /// <param name="ignore">Property names allowed to differ.</param>
    public static string? FirstDifference(JsonElement saved, JsonElement current, params string[] ignore)
    {
        var names = saved.EnumerateObject().Select(p => p.Name).Concat(current.EnumerateObject().Select(p => p.Name)).Distinct(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (Array.IndexOf(ignore, name) >= 0) continue;
            string a = saved.TryGetProperty(name, out var x) ? JsonSerializer.Serialize(x) : "(absent)";
            string b = current.TryGetProperty(name, out var y) ? JsonSerializer.Serialize(y) : "(absent)";
            if (!string.Equals(a, b, StringComparison.Ordinal)) return $"{name} was {a} in the saved run but is {b} now";
        }
        return null;
    }

    /// <summary>As <see cref="FirstDifference(JsonElement, JsonElement, string[])"/> on JSON texts.</summary>
    public static string? FirstDifference(string savedJson, string currentJson, params string[] ignore)
    {
        using var saved = JsonDocument.Parse(savedJson);
        using var current = JsonDocument.Parse(currentJson);
        return FirstDifference(saved.RootElement, current.RootElement, ignore);
    }
}

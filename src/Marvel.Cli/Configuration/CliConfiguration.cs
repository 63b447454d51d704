using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Hosting;
using Marvel.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Marvel.Cli.Configuration;

/// <summary>
/// The configuration of one command: a JSON file, then environment variables (<c>Marvel__Pipeline__Seed=3</c>), then
/// <c>--set Section:Key=value</c> overrides, later sources winning. The <c>Marvel</c> section is bound by
/// <c>AddMarvel(configuration)</c> to the library's own options classes; the <c>Run</c> section holds the tool's
/// <see cref="RunSettings"/>.
/// </summary>
public sealed class CliConfiguration : IDisposable
{
    /// <summary>The tool's default of <c>Marvel:Pipeline:CheckpointEvery</c> (the library's is 0, no checkpoints).</summary>
    public const int DefaultCheckpointEvery = 10;

    /// <summary>The tool's default of <c>Marvel:Pipeline:OfflineCheckpointEvery</c> in gradient steps (the library's is 0): about two
    /// minutes of CPQ at 11 steps/s, so a cancelled offline stage loses little.</summary>
    public const long DefaultOfflineCheckpointEvery = 1_000;

    /// <summary>The tool's default of <c>Marvel:Pipeline:AlignmentCheckpointEvery</c> in aligner calls (the library's is 0).</summary>
    public const int DefaultAlignmentCheckpointEvery = 500;

    private readonly ServiceProvider _provider;

    private CliConfiguration(IConfigurationRoot root, ServiceProvider provider, RunSettings run)
    {
        Root = root;
        _provider = provider;
        Run = run;
    }

    /// <summary>The merged configuration.</summary>
    public IConfigurationRoot Root { get; }

    /// <summary>The tool's settings from the <c>Run</c> section.</summary>
    public RunSettings Run { get; }

    /// <summary>The component catalog of <c>AddMarvel</c>.</summary>
    public IMarvelComponents Components => _provider.GetRequiredService<IMarvelComponents>();

    /// <summary>The pipeline factory of <c>AddMarvel</c>.</summary>
    public MarvelPipelineFactory PipelineFactory => _provider.GetRequiredService<MarvelPipelineFactory>();

    /// <summary>The library's warnings (through <c>ILogger</c>): set its writer to print them as <c>warning: …</c> lines.</summary>
    internal Running.CliWarningLog Warnings { get; private init; } = new();

    /// <summary>The logger a pipeline built outside <see cref="PipelineFactory"/> uses (the factory's pipelines get the same category).</summary>
    internal ILogger PipelineLogger => _provider.GetRequiredService<ILoggerFactory>().CreateLogger<MarvelPipeline>();

    /// <summary>The validated pipeline options bound from <c>Marvel:Pipeline</c>.</summary>
    public MarvelPipelineOptions Pipeline => _provider.GetRequiredService<IOptionsMonitor<MarvelPipelineOptions>>().CurrentValue with { };

    /// <summary>The validated options of type <typeparamref name="T"/> (default name).</summary>
    public T Options<T>() where T : class => _provider.GetRequiredService<IOptionsMonitor<T>>().CurrentValue;

    /// <summary>
    /// Loads, merges and validates. Every failure is a <see cref="UsageException"/> whose message names the file, the
    /// <c>--set</c> argument or the configuration key.
    /// </summary>
    /// <param name="configPath">JSON file, or null.</param>
    /// <param name="sets">The <c>--set</c> arguments, in order.</param>
    /// <param name="matrixLayer">Keys that sit with the JSON file (a sweep's run values), above it; may be null.</param>
    public static CliConfiguration Load(string? configPath, IReadOnlyList<string> sets, IReadOnlyDictionary<string, string?>? matrixLayer = null)
    {
        var overrides = ParseSets(sets);
        // Every section's CostLimit defaults to the pipeline's inside AddMarvel (one budget); the tool adds no copy of its own.
        var defaults = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        // The tool checkpoints by default (the library does not), so a cancelled or killed run leaves a checkpoint behind.
        defaults["Marvel:Pipeline:CheckpointEvery"] = DefaultCheckpointEvery.ToString(CultureInfo.InvariantCulture);
        defaults["Marvel:Pipeline:OfflineCheckpointEvery"] = DefaultOfflineCheckpointEvery.ToString(CultureInfo.InvariantCulture);
        defaults["Marvel:Pipeline:AlignmentCheckpointEvery"] = DefaultAlignmentCheckpointEvery.ToString(CultureInfo.InvariantCulture);
        var root = Build(configPath, matrixLayer, overrides, defaults);

        var run = RunSettings.Bind(root.GetSection(RunSettings.SectionName));
        var services = new ServiceCollection();
        var warnings = new Running.CliWarningLog();
        services.AddLogging(b => b.ClearProviders().AddProvider(warnings));
        services.AddMarvel(root).AddCliTasks();
        var provider = services.BuildServiceProvider();
        try
        {
            Validate(provider);
            var config = new CliConfiguration(root, provider, run) { Warnings = warnings };
            run.ValidateNames(config.Components);
            return config;
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    /// <summary>Parses <c>Section:Key=value</c> arguments into ordered pairs.</summary>
    internal static List<KeyValuePair<string, string?>> ParseSets(IReadOnlyList<string> sets)
    {
        var pairs = new List<KeyValuePair<string, string?>>();
        foreach (var s in sets)
        {
            int eq = s.IndexOf('=', StringComparison.Ordinal);
            string key = eq > 0 ? s[..eq].Trim() : "";
            if (eq <= 0 || key.Length == 0 || !key.Contains(':', StringComparison.Ordinal) || key.StartsWith(':') || key.EndsWith(':'))
                throw new UsageException($"--set '{s}': expected Section:Key=value, e.g. --set Marvel:Pipeline:Seed=3.");
            pairs.Add(new(key, s[(eq + 1)..]));
        }
        return pairs;
    }

    private static IConfigurationRoot Build(string? configPath, IReadOnlyDictionary<string, string?>? matrixLayer,
        List<KeyValuePair<string, string?>> overrides, Dictionary<string, string?>? defaults)
    {
        var builder = new ConfigurationBuilder();
        if (defaults is not null) builder.AddInMemoryCollection(defaults);
        if (configPath is not null)
        {
            var full = Path.GetFullPath(configPath);
            if (!File.Exists(full)) throw new UsageException($"--config: file '{configPath}' does not exist.");
            builder.AddJsonFile(full, optional: false, reloadOnChange: false);
        }
        if (matrixLayer is not null) builder.AddInMemoryCollection(matrixLayer);
        builder.AddEnvironmentVariables();
        var last = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in overrides) last[k] = v;   // a later --set of the same key wins
        builder.AddInMemoryCollection(last);
        try
        {
            return builder.Build();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or JsonException)
        {
            throw new UsageException($"--config: '{configPath}' is not valid JSON: {e.GetBaseException().Message}", e);
        }
    }

    private static void Validate(ServiceProvider provider)
    {
        try
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
        }
        catch (OptionsValidationException e)
        {
            throw new UsageException("bad configuration: " + Describe([e]), e);
        }
        catch (AggregateException e)
        {
            var failures = e.InnerExceptions.OfType<OptionsValidationException>().ToList();
            var others = e.InnerExceptions.Where(x => x is not OptionsValidationException).Select(x => x.Message).Distinct(StringComparer.Ordinal);
            throw new UsageException("bad configuration: " + string.Join(" ", others.Prepend(Describe(failures)).Where(t => t.Length > 0)), e);
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException("bad configuration: " + e.Message, e);
        }
    }

    /// <summary>
    /// One line per bad value, each naming its full key (<c>Marvel:SacLag:Gamma: must be in (0, 1), got 2.</c>). A value the tool copied
    /// into several sections (the pipeline's CostLimit) fails the same way in each: it is reported once, with the other keys in brackets.
    /// </summary>
    internal static string Describe(IReadOnlyList<OptionsValidationException> exceptions)
    {
        var lines = new List<(string Key, string Message)>();
        foreach (var e in exceptions)
        {
            string section = Section(e.OptionsType.Name, e.OptionsName);
            foreach (var failure in e.Failures)
            {
                // ValidateOptionsResultBuilder writes "Property Gamma: must be …"; name the configuration key instead.
                var m = System.Text.RegularExpressions.Regex.Match(failure, @"^Property (\w+): (.*)$", System.Text.RegularExpressions.RegexOptions.Singleline);
                lines.Add(m.Success ? ($"{section}:{m.Groups[1].Value}", m.Groups[2].Value) : (section, failure));
            }
        }
        // Validators word the same rule differently ("must be finite and >= 0, got -5." / "must be a finite … cost >= 0, got -5."):
        // failures of one property that quote the same value are one mistake.
        static string Value(string message) =>
            System.Text.RegularExpressions.Regex.Match(message, @"got (.+?)\.?$") is { Success: true } m ? "got " + m.Groups[1].Value : message;
        return string.Join(Environment.NewLine, lines
            .OrderBy(l => l.Key.StartsWith("Marvel:Pipeline", StringComparison.Ordinal) ? 0 : 1)
            .GroupBy(l => (Property: l.Key[(l.Key.LastIndexOf(':') + 1)..], Value: Value(l.Message)))
            .Select(g =>
            {
                var keys = g.Select(l => l.Key).Distinct(StringComparer.Ordinal).ToList();
                string also = keys.Count > 1 ? $" (the same value in {string.Join(", ", keys.Skip(1))})" : "";
                return $"{keys[0]}: {g.First().Message}{also}";
            }));
    }

    private static string Section(string optionsType, string? optionsName) => optionsType switch
    {
        "MarvelPipelineOptions" => "Marvel:" + MarvelConfigurationSections.Pipeline,
        "BcOptions" => "Marvel:" + (optionsName == MarvelComponentNames.BcSafe ? MarvelConfigurationSections.BcSafe : MarvelConfigurationSections.BcAll),
        "AdaptivePidLagrangeOptions" => "Marvel:" + MarvelConfigurationSections.AdaptivePid,
        "PidLagrangeOptions" => "Marvel:" + MarvelConfigurationSections.Pid,
        var n => "Marvel:" + n.Replace("Options", "", StringComparison.Ordinal),
    };

    /// <summary>
    /// The resolved <c>Marvel</c> and <c>Run</c> sections as a JSON tree of strings (what a later <c>--config</c> reads
    /// back to the same configuration).
    /// </summary>
    public JsonObject ToJson()
    {
        var tree = new JsonObject();
        foreach (var name in new[] { "Marvel", RunSettings.SectionName })
        {
            var section = Root.GetSection(name);
            if (section.Exists()) tree[name] = ToNode(section);
        }
        return tree;
    }

    private static JsonNode? ToNode(IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0) return section.Value is null ? null : JsonValue.Create(section.Value);
        if (children.All(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            var array = new JsonArray();
            foreach (var c in children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture))) array.Add(ToNode(c));
            return array;
        }
        var obj = new JsonObject();
        foreach (var c in children) obj[c.Key] = ToNode(c);
        return obj;
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> atomically.</summary>
    public void WriteResolved(string path) =>
        AtomicFile.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <inheritdoc />
    public void Dispose() => _provider.Dispose();
}

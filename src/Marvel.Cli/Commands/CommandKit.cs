using System.CommandLine;
using Marvel.Cli.Configuration;
using Spectre.Console;

namespace Marvel.Cli.Commands;

/// <summary>Options shared by several commands and small helpers for command definitions.</summary>
internal static class CommandKit
{
    public static Command Make(string name, string description, params string[] examples) =>
        new(name, description + "\n\nExample" + (examples.Length > 1 ? "s" : "") + ":\n" + string.Join("\n", examples.Select(e => "  " + e)));

    public static Option<string?> ConfigOption() => new("--config")
    {
        Description = "JSON configuration file: sections Marvel:<Options> (as for AddMarvel) and Run (components, dataset, threads).",
        HelpName = "file",
    };

    public static Option<string[]> SetOption() => new("--set")
    {
        Description = "Override one key, Section:Key=value (repeatable). Wins over the file and environment variables.",
        HelpName = "Section:Key=value",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<bool> QuietOption() => new("--quiet", "-q") { Description = "Print only the summary, no progress." };

    public static CliConfiguration LoadConfiguration(ParseResult parse, Option<string?> config, Option<string[]> set) =>
        CliConfiguration.Load(parse.GetValue(config), parse.GetValue(set) ?? []);

    /// <summary>A Spectre console that renders tables as plain text into <paramref name="writer"/>.</summary>
    public static IAnsiConsole Console(TextWriter writer, bool interactive)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!interactive) console.Profile.Width = 160;
        return console;
    }

    /// <summary>Adds a row of plain text cells (no Spectre markup parsing, so '[' is safe).</summary>
    public static void Row(Table table, params string[] cells) => table.AddRow(cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c)));

    public static string Number(double v, string format = "G4") => double.IsNaN(v) ? "n/a" : v.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
}

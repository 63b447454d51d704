using System.CommandLine;
using System.Globalization;
using Marvel.Cli.Commands;

namespace Marvel.Cli;

/// <summary>What a command needs from its host: where to write, and how to start a worker process of this tool.</summary>
/// <param name="Out">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="Interactive">True when <see cref="Out"/> is a terminal (progress bars instead of lines).</param>
/// <param name="WorkerCommand">The program and leading arguments that start this tool in a child process.</param>
public sealed record CliContext(TextWriter Out, TextWriter Error, bool Interactive, IReadOnlyList<string> WorkerCommand)
{
    /// <summary>Starts this tool as <c>dotnet marvel.dll</c> (works from the build output and from an installed tool).</summary>
    public static IReadOnlyList<string> DefaultWorkerCommand()
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        return [host, typeof(MarvelApp).Assembly.Location];
    }
}

/// <summary>
/// The <c>marvel</c> command line, callable in-process: <see cref="RunAsync(string[], TextWriter, TextWriter, CancellationToken)"/>
/// returns the exit code (<see cref="ExitCodes"/>).
/// </summary>
public static class MarvelApp
{
    /// <summary>Parses and runs <paramref name="args"/>, writing to <paramref name="output"/> and <paramref name="error"/>.</summary>
    /// <returns>0 success, 1 run failed (diverged, cancelled), 2 bad usage or input, 3 I/O error, 4 native or device error, 70 internal
    /// error (<see cref="ExitCodes"/>).</returns>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        RunAsync(args, new CliContext(output, error, Interactive: false, CliContext.DefaultWorkerCommand()), cancellationToken);

    /// <summary>Parses and runs <paramref name="args"/> with an explicit context.</summary>
    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(context);
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CliTasks.RegisterDefaults();
        var root = BuildRoot(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            string command = parse.CommandResult.Command == root ? "marvel" : "marvel " + parse.CommandResult.Command.Name;
            foreach (var e in parse.Errors) context.Error.WriteLine($"{command}: {e.Message}");
            context.Error.WriteLine($"Run '{command} --help' for usage and an example.");
            return ExitCodes.BadUsage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = context.Out,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Every exception maps to a documented exit code and one line (docs/cli.md, "Exit codes"); only a bug prints a stack trace.
            return CliErrors.Report(e, context.Error);
        }
    }

    internal static RootCommand BuildRoot(CliContext context)
    {
        var root = new RootCommand(
            "marvel: offline-to-online safe RL experiments with Marvel.Core. Datasets, pipeline runs, sweeps (local or Slurm), reports, plots, TensorBoard.\n\n" +
            "Example:\n  marvel sweep --config experiments/cli-smoke.json && marvel report runs/cli-smoke --out results\n\n" +
            "Configuration: --config file.json, then environment variables (Marvel__Pipeline__Seed=3), then --set Marvel:Pipeline:Seed=3; later wins.\n" +
            "Exit codes: 0 success, 1 run failed (diverged, cancelled), 2 bad usage or input, 3 I/O error (run folder not writable), " +
            "4 native library or device error, 70 internal error.");
        foreach (var command in new[]
                 {
                     EnvironmentCommands.Envs(context), EnvironmentCommands.CheckEnv(context), DataCommands.Collect(context), DataCommands.Inspect(context),
                     TrainingCommands.TrainOffline(context), TrainingCommands.Align(context), TrainingCommands.Finetune(context), TrainingCommands.Run(context),
                     TrainingCommands.Evaluate(context), SweepCommand.Create(context), ReportCommand.Create(context), PlotCommand.Create(context),
                     ExportCommand.Create(context),
                 })
            root.Add(command);
        return root;
    }
}

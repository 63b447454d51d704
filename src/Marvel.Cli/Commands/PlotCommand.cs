using Marvel.Plotting;
using System.CommandLine;
using Marvel.Cli.Reports;

namespace Marvel.Cli.Commands;

/// <summary><c>plot</c>: (re)draws <c>plots/*.png</c> of existing run folders (<see cref="RunPlots"/>).</summary>
internal static class PlotCommand
{
    public static Command Create(CliContext context)
    {
        var dirs = new Argument<string[]>("run-folders") { Description = "Run folders, or folders that contain them (searched recursively).", Arity = ArgumentArity.OneOrMore };
        var command = CommandKit.Make("plot",
            "Draw the plots of run folders into <run>/plots/, complete or not: return.png (training-episode return per online iteration and the " +
            "evaluations), cost.png (the same for cost, with the cost-limit line), lambda.png (λ and the controller's terms) and qbias.png (mean " +
            "relative bias of the reward and cost critics, handover/ against aligned/). A plot whose data file is missing is left out. " +
            "Runs draw them themselves unless Run:Plots is false.",
            "marvel plot runs/cli-smoke",
            "marvel plot runs/s1 runs/s2");
        command.Add(dirs);
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(dirs)!;
            foreach (var p in paths)
                if (!Directory.Exists(p))
                    throw new UsageException($"plot: '{p}' is not a folder{(File.Exists(p) ? " (it is a file; pass the run folder that holds it)" : "")}.");
            var folders = ReportBuilder.FindRunFolders(paths);
            if (folders.Count == 0)
                throw new UsageException($"plot: no run folder (a folder with status.json, result.json or run.json) under {string.Join(", ", paths)}.");
            int failed = 0;
            foreach (var folder in folders)
            {
                try
                {
                    context.Out.WriteLine(RunPlots.Describe(folder, RunPlots.Write(folder)));
                }
                catch (InvalidDataException e)
                {
                    failed++;
                    context.Error.WriteLine($"error: plot: {e.Message}");
                }
            }
            if (failed > 0)
            {
                context.Error.WriteLine($"plot: {failed} of {folders.Count} run folder(s) not plotted (their files named above).");
                return ExitCodes.BadUsage;
            }
            return ExitCodes.Success;
        });
        return command;
    }
}

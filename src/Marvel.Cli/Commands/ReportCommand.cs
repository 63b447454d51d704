using System.CommandLine;
using Marvel.Cli.Reports;
using Marvel.Core.Abstractions.IO;
using Spectre.Console;

namespace Marvel.Cli.Commands;

/// <summary><c>report</c>: run folders → results.md, results.csv and curves/*.png.</summary>
internal static class ReportCommand
{
    public static Command Create(CliContext context)
    {
        var dirs = new Argument<string[]>("dirs") { Description = "Run folders, or folders that contain them (searched recursively).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "Folder for results.md, results.csv, the raw per-run runs.csv, training.csv and evaluations.csv, and curves/.", DefaultValueFactory = _ => "report", HelpName = "folder" };
        var noPlots = new Option<bool>("--no-plots") { Description = "Write the tables only." };
        var command = CommandKit.Make("report",
            "Aggregate complete run folders, wherever they ran, into the paper-style table (mean ± std over seeds of normalized reward, normalized cost, " +
            "cumulative online violation and reward AUC) as Markdown and CSV, and evaluation curves with a ±std band and the cost-limit line as PNG.",
            "marvel report runs/paper-comparison --out docs/results/paper-comparison");
        command.Add(dirs);
        command.Add(output);
        command.Add(noPlots);
        command.SetAction(parse =>
        {
            var folders = ReportBuilder.FindRunFolders(parse.GetValue(dirs)!);
            var records = new List<RunRecord>();
            var skipped = new List<string>();
            foreach (var f in folders)
            {
                if (ReportBuilder.Read(f, out var reason) is { } r) records.Add(r);
                else skipped.Add($"{f}: {reason}");
            }
            if (records.Count == 0)
                throw new UsageException($"report: no complete run folder (with result.json) under {string.Join(", ", parse.GetValue(dirs)!)}; {folders.Count} incomplete.");
            var rows = ReportBuilder.Aggregate(records);
            string outDir = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(outDir);
            AtomicFile.WriteAllText(Path.Combine(outDir, "results.md"), ReportBuilder.Markdown(rows, skipped));
            AtomicFile.WriteAllText(Path.Combine(outDir, "results.csv"), ReportBuilder.Csv(rows));
            var (runsCsv, trainingCsv, evaluationsCsv) = ReportBuilder.RawCsv(rows);
            AtomicFile.WriteAllText(Path.Combine(outDir, "runs.csv"), runsCsv);
            AtomicFile.WriteAllText(Path.Combine(outDir, "training.csv"), trainingCsv);
            AtomicFile.WriteAllText(Path.Combine(outDir, "evaluations.csv"), evaluationsCsv);
            var table = new Table().AddColumns("task", "cost limit", "algorithm", "seeds", "normalized reward", "normalized cost", "cumulative violation", "reward AUC");
            foreach (var r in rows)
                CommandKit.Row(table, (r.Task), CommandKit.Number(r.CostLimit), (r.Algorithm + (r.Extra.Length > 0 ? " " + r.Extra : "")), r.Runs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    r.NormalizedReward.Format("F3"), r.NormalizedCost.Format("F2"), r.CumulativeViolation.Format("F1"), r.NormalizedRewardAuc.Format("F3"));
            CommandKit.Console(context.Out, context.Interactive).Write(table);
            if (!parse.GetValue(noPlots)) ReportPlots.Write(rows, Path.Combine(outDir, "curves"));
            foreach (var s in skipped) context.Error.WriteLine($"left out {s}");
            if (ReportBuilder.RuntimeWarning(rows) is { } warning) context.Error.WriteLine(warning);
            context.Out.WriteLine($"{records.Count} runs in {rows.Count} rows; wrote {Path.Combine(outDir, "results.md")}, results.csv, runs.csv, training.csv, evaluations.csv{(parse.GetValue(noPlots) ? "" : " and curves/")}.");
            return ExitCodes.Success;
        });
        return command;
    }
}

using Marvel.Cli;

namespace Marvel.Cli.Tests;

/// <summary>Runs the tool in-process and captures its output.</summary>
internal static class CliHarness
{
    public sealed record Outcome(int ExitCode, string Out, string Error)
    {
        public string All => Out + Error;
    }

    public static Outcome Run(params string[] args) => RunAsync(CancellationToken.None, args).GetAwaiter().GetResult();

    public static Task<Outcome> RunAsync(CancellationToken cancellationToken, params string[] args) =>
        RunWithWorkerAsync(CliContext.DefaultWorkerCommand(), cancellationToken, args);

    /// <summary>Runs the tool with <paramref name="workerCommand"/> as the program a sweep starts its worker processes with.</summary>
    public static async Task<Outcome> RunWithWorkerAsync(IReadOnlyList<string> workerCommand, CancellationToken cancellationToken, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(TextWriter.Synchronized(output), TextWriter.Synchronized(error), Interactive: false, workerCommand);
        int code = await MarvelApp.RunAsync(args, context, cancellationToken);
        return new Outcome(code, output.ToString(), error.ToString());
    }

    /// <summary>A fresh temporary folder, deleted by the caller.</summary>
    public static string TempFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "marvel-cli-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The repository root (the folder holding Marvel.Core.sln).</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Marvel.Core.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Marvel.Core.sln not found above the test folder.");
    }

    /// <summary>A tiny-budget sweep file: 1 task × the given algorithms × seeds, a few seconds per run.</summary>
    public static string WriteTinySweep(string folder, string name, int[] seeds, string algorithms = "\"Marvel\": { \"Run\": { \"Aligner\": \"VPA\" } }")
    {
        var path = Path.Combine(folder, name + ".json");
        File.WriteAllText(path, $$"""
        {
          "name": "{{name}}",
          "output": "runs",
          "base": {
            "Marvel": {
              "Pipeline": { "OfflineSteps": 20, "OnlineIterations": 2, "EvalEvery": 1, "EvalEpisodes": 2, "EnvironmentCount": 2, "OfflineReportEvery": 10 },
              "Cpq": { "ActorHiddenSizes": [16, 16], "CriticHiddenSizes": [16, 16], "VaeHiddenSize": 16, "BatchSize": 32 },
              "ValuePreAlignment": { "Steps": 5, "BatchSize": 32, "MiniBatches": 1 },
              "SacLag": { "EpisodesPerIteration": 2, "UpdatesPerIteration": 2, "MiniBatches": 1, "BatchSize": 32 }
            },
            "Run": { "DatasetEpisodes": 10, "QBiasStates": 4 }
          },
          "matrix": {
            "task": ["BallCircle"],
            "algorithm": { {{algorithms}} },
            "seed": [{{string.Join(", ", seeds)}}]
          }
        }
        """);
        return path;
    }
}

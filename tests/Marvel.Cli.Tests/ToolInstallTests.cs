using System.Diagnostics;
using System.Globalization;

namespace Marvel.Cli.Tests;

/// <summary>The packed tool installs from a local folder feed and runs: <c>dotnet pack</c> → <c>dotnet tool install --tool-path</c> → <c>marvel envs</c>.</summary>
[TestFixture]
[NonParallelizable]
public sealed class ToolInstallTests
{
    [Test]
    public void PackedTool_InstallsFromALocalFeed_AndListsTheTasks()
    {
        string root = CliHarness.RepositoryRoot();
        string work = CliHarness.TempFolder();
        try
        {
            string feed = Path.Combine(work, "feed"), tools = Path.Combine(work, "tools");
            // A unique prerelease version, so no earlier install in any cache can answer for this one.
            string version = "0.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
            string configuration = typeof(ToolInstallTests).Assembly.Location.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            Run("dotnet", root, "pack", Path.Combine(root, "src", "Marvel.Cli", "Marvel.Cli.csproj"), "-c", configuration, "--no-build", "-o", feed, $"-p:Version={version}", "-nologo");
            File.Exists(Path.Combine(feed, $"Marvel.Cli.{version}.nupkg")).Should().BeTrue();
            Run("dotnet", work, "tool", "install", "--tool-path", tools, "--add-source", feed, "Marvel.Cli", "--version", version);
            var (code, output) = Run(Path.Combine(tools, "marvel"), work, "envs");
            code.Should().Be(0);
            output.Should().Contain("BallCircle").And.Contain("CarRun");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static (int Code, string Output) Run(string program, string directory, params string[] args)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit(TimeSpan.FromMinutes(5)).Should().BeTrue($"{program} {string.Join(' ', args)} should finish within 5 minutes");
        string output = stdout.Result + stderr.Result;
        process.ExitCode.Should().Be(0, $"{program} {string.Join(' ', args)} failed:\n{output}");
        return (process.ExitCode, output);
    }
}

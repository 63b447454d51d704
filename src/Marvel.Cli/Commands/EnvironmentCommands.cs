using System.CommandLine;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Scoring;
using Marvel.Core.Environments;
using Marvel.Core.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Marvel.Cli.Commands;

/// <summary><c>envs</c> and <c>check-env</c>.</summary>
internal static class EnvironmentCommands
{
    public static Command Envs(CliContext context)
    {
        var command = CommandKit.Make("envs", "List the registered tasks with their observation and action spaces, horizon and score reference.", "marvel envs");
        command.SetAction(parse =>
        {
            using var provider = CliTasks.BuildProvider();
            var components = provider.GetRequiredService<IMarvelComponents>();
            var table = new Table().AddColumns("task", "observation", "action", "action bounds", "max episode steps", "DSRL id", "score reference");
            foreach (var name in components.Names(MarvelComponentKind.Environment))
            {
                IEnvironment env;
                try
                {
                    env = components.CreateEnvironment(name);
                }
                catch (Exception e) when (e is DllNotFoundException or NotSupportedException)
                {
                    // A MuJoCo task on a machine without MuJoCo 2.2.2: listed, with why it cannot run.
                    CommandKit.Row(table, name, "-", "-", "-", "-", "-",
                        $"unavailable: {(e is DllNotFoundException ? "native library not found" : "wrong native library version")} (marvel check-env {name} says more)");
                    continue;
                }
                using var _ = env;
                var a = env.ActionSpace;
                string bounds = a.Dimension == 0 ? "" : $"[{a.Low.ToArray().Min()}, {a.High.ToArray().Max()}]";
                CommandKit.Row(table, (name), env.ObservationSpace.Dimension.ToString(), a.Dimension.ToString(), bounds,
                    env.Spec.MaxEpisodeSteps.ToString(), (env.Spec.DsrlId ?? "-"), NormalizedScore.TryGetReference(name, out var _) ? "yes" : "no");
            }
            CommandKit.Console(context.Out, context.Interactive).Write(table);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command CheckEnv(CliContext context)
    {
        var task = new Argument<string>("task") { Description = "Registered task name, e.g. BallCircle (see marvel envs)." };
        var seed = new Option<ulong>("--seed") { Description = "Reset seed of the checks.", DefaultValueFactory = _ => 0 };
        var steps = new Option<int>("--steps") { Description = "Steps per rollout check.", DefaultValueFactory = _ => 50 };
        var command = CommandKit.Make("check-env", "Check a task: spaces, determinism under a seed, finite non-negative costs, truncation, bad actions. Exit 1 when a check fails.",
            "marvel check-env BallCircle --steps 200");
        command.Add(task);
        command.Add(seed);
        command.Add(steps);
        command.SetAction(parse =>
        {
            using var provider = CliTasks.BuildProvider();
            var components = provider.GetRequiredService<IMarvelComponents>();
            string name = parse.GetValue(task)!;
            if (!components.Names(MarvelComponentKind.Environment).Contains(name, StringComparer.Ordinal))
                throw new UsageException($"task '{name}' is not registered; registered: {string.Join(", ", components.Names(MarvelComponentKind.Environment))}.");
            int n = parse.GetValue(steps);
            if (n < 1) throw new UsageException($"--steps must be >= 1, got {n}.");
            using var env = components.CreateEnvironment(name);
            var report = EnvironmentChecker.Check(env, parse.GetValue(seed), n);
            foreach (var e in report.Errors) context.Out.WriteLine($"error: {e}");
            foreach (var w in report.Warnings) context.Out.WriteLine($"warning: {w}");
            context.Out.WriteLine(report.IsValid
                ? $"{name}: all checks passed ({report.Warnings.Count} warning(s))."
                : $"{name}: {report.Errors.Count} check(s) failed.");
            return report.IsValid ? ExitCodes.Success : ExitCodes.RunFailed;
        });
        return command;
    }
}

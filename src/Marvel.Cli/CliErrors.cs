using System.Reflection;
using System.Runtime.InteropServices;
using Marvel.Core.Abstractions;
using Microsoft.Extensions.Options;

namespace Marvel.Cli;

/// <summary>The process exit codes of <c>marvel</c> (docs/cli.md, "Exit codes").</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;
    /// <summary>A run failed: diverged, cancelled, or an environment check found errors.</summary>
    public const int RunFailed = 1;
    /// <summary>Bad usage or bad input: unknown argument, missing or corrupt file, invalid option value, a dataset or artifact that does
    /// not fit, an unsupported request (e.g. exporting a CDT actor to ONNX).</summary>
    public const int BadUsage = 2;
    /// <summary>An I/O failure outside the inputs: a run folder that cannot be written (read-only, full, a file in its place).</summary>
    public const int IoError = 3;
    /// <summary>The native library or the compute device failed (libtorch missing or failing, a CUDA error, out of memory).</summary>
    public const int DeviceError = 4;
    /// <summary>An unexpected error (a bug in the tool or library): the message and the stack trace are printed. A sweep restarts such a
    /// worker like a crashed one.</summary>
    public const int InternalError = 70;

    /// <summary>The codes a sweep does not retry: the same run fails the same way again.</summary>
    internal static bool IsFinal(int code) => code is Success or RunFailed or BadUsage or IoError or DeviceError;
}

/// <summary>Bad usage or configuration: the message names the argument, key or file; exit code 2.</summary>
public sealed class UsageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A run that started but did not complete (diverged, cancelled, failed check); exit code 1.</summary>
public sealed class RunFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Maps every exception a command can meet to its exit code and the one line the tool prints on standard error (the table of
/// docs/cli.md). Only an unexpected exception (<see cref="ExitCodes.InternalError"/>) gets its stack trace.
/// </summary>
internal static class CliErrors
{
    /// <summary>The exit code, the line to print and whether the stack trace follows it.</summary>
    internal readonly record struct Outcome(int ExitCode, string Message, bool StackTrace);

    public static Outcome Describe(Exception exception)
    {
        var e = Unwrap(exception);
        return e switch
        {
            UsageException u => Line(ExitCodes.BadUsage, "error: ", u.Message),
            RunFailedException r when r.InnerException is OperationCanceledException => Line(ExitCodes.RunFailed, "cancelled: ", r.Message),
            RunFailedException r => Line(ExitCodes.RunFailed, "run failed: ", r.Message),
            OperationCanceledException => Line(ExitCodes.RunFailed, "", "cancelled; run the same command to resume."),
            TrainingDivergedException d => Line(ExitCodes.RunFailed, "run failed: diverged: ", d.Message),
            OptionsValidationException o => Line(ExitCodes.BadUsage, "error: bad configuration: ", o.Message),
            TorchNativeLibraryException n => Line(ExitCodes.DeviceError, "error: native library: ", n.Message),
            DllNotFoundException or EntryPointNotFoundException or BadImageFormatException =>
                Line(ExitCodes.DeviceError, "error: native library: ", e.Message + " Run eng/install-prerequisites.sh, or reinstall the tool."),
            ExternalException x => Line(ExitCodes.DeviceError, "error: libtorch: ", x.Message + " (a device or native error; on a GPU, check its memory and driver)"),
            OutOfMemoryException => Line(ExitCodes.DeviceError, "error: out of memory: ", e.Message + " Use smaller networks, batches or replay capacity."),
            FileNotFoundException or DirectoryNotFoundException => Line(ExitCodes.BadUsage, "error: ", e.Message),
            InvalidDataException => Line(ExitCodes.BadUsage, "error: bad input: ", e.Message),
            NotSupportedException => Line(ExitCodes.BadUsage, "error: not supported: ", e.Message),
            ArgumentException => Line(ExitCodes.BadUsage, "error: ", e.Message),
            UnauthorizedAccessException => Line(ExitCodes.IoError, "error: no permission: ", e.Message + " Check the folder's permissions or choose another --run-dir/--out."),
            IOException => Line(ExitCodes.IoError, "error: I/O: ", e.Message + " Check the disk space and that the path is a writable folder."),
            _ => new Outcome(ExitCodes.InternalError, $"internal error: {e.GetType().FullName}: {e.Message} (please report this with the stack trace below)", true),
        };
    }

    /// <summary>Prints the outcome of <paramref name="exception"/> on <paramref name="error"/> and returns its exit code.</summary>
    public static int Report(Exception exception, TextWriter error)
    {
        var outcome = Describe(exception);
        error.WriteLine(outcome.Message);
        if (outcome.StackTrace) error.WriteLine(exception);
        return outcome.ExitCode;
    }

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: 1 } a:
                    e = a.InnerExceptions[0];
                    continue;
                case TargetInvocationException { InnerException: { } inner }:
                    e = inner;
                    continue;
                case TypeInitializationException { InnerException: { } inner }:
                    e = inner;
                    continue;
                default:
                    return e;
            }
        }
    }

    // One line: messages that span lines (a validator's list) are joined, so a log keeps one line per failure.
    private static Outcome Line(int code, string prefix, string message) =>
        new(code, prefix + string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)), false);
}

namespace Marvel.Cli;

/// <summary>The process exit codes of <c>marvel</c>.</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;
    /// <summary>A run failed: diverged, cancelled, or an environment check found errors.</summary>
    public const int RunFailed = 1;
    /// <summary>Bad usage or bad configuration (unknown argument, missing file, invalid option value).</summary>
    public const int BadUsage = 2;
}

/// <summary>Bad usage or configuration: the message names the argument, key or file; exit code 2.</summary>
public sealed class UsageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A run that started but did not complete (diverged, cancelled, failed check); exit code 1.</summary>
public sealed class RunFailedException(string message, Exception? inner = null) : Exception(message, inner);

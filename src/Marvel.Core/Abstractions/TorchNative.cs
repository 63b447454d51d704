
namespace Marvel.Core.Abstractions;

/// <summary>
/// Checks once per process that TorchSharp's native libraries load, and turns the misleading
/// TorchSharp error of a too-old C++ runtime into one that names the cause and the fix.
/// </summary>
public static class TorchNative
{
    private static readonly Lazy<Exception?> Failure = new(Probe, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The libstdc++ symbol version TorchSharp 0.107's native shim requires.</summary>
    public const string RequiredGlibcxxSymbol = "GLIBCXX_3.4.32";

    /// <summary>Throws <see cref="TorchNativeLibraryException"/> when TorchSharp's native backend cannot be used.</summary>
    /// <exception cref="TorchNativeLibraryException">The native library does not load; the message names the missing piece and the fix.</exception>
    public static void EnsureAvailable()
    {
        var failure = Failure.Value;
        if (failure is not null) throw new TorchNativeLibraryException(Describe(failure), failure);
    }

    /// <summary>True when TorchSharp's native backend loads.</summary>
    public static bool IsAvailable => Failure.Value is null;

    private static Exception? Probe()
    {
        try
        {
            using var t = TorchSharp.torch.zeros(1);
            return null;
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException or EntryPointNotFoundException or BadImageFormatException)
        {
            return e;
        }
    }

    private static string Describe(Exception failure)
    {
        if (OperatingSystem.IsLinux() && !SystemLibstdcxxHas(RequiredGlibcxxSymbol))
        {
            return $"TorchSharp's native library (libLibTorchSharp.so) cannot load: the system libstdc++ lacks symbol version {RequiredGlibcxxSymbol} " +
                   "(it needs the GCC 13 or newer C++ runtime; Debian 12 ships GCC 12's). " +
                   "Fix: run 'eng/install-prerequisites.sh' from the Marvel.Core repository, or on Debian 12 add the 'trixie' suite as an apt source " +
                   "pinned at priority 100 and run 'apt-get install -t trixie libstdc++6'.";
        }
        return "TorchSharp's native backend cannot load. Reference exactly one backend package in your application " +
               "(TorchSharp-cpu, or TorchSharp-cuda-linux / TorchSharp-cuda-windows for a GPU) with the same version as TorchSharp (0.107.0). " +
               $"Underlying error: {failure.GetBaseException().Message}";
    }

    private static bool SystemLibstdcxxHas(string symbol)
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };
        foreach (var path in candidates)
        {
            if (!File.Exists(path)) continue;
            try
            {
                var bytes = File.ReadAllBytes(path);
                var needle = System.Text.Encoding.ASCII.GetBytes(symbol);
                return bytes.AsSpan().IndexOf(needle) >= 0;
            }
            catch (IOException) { return true; }
        }
        // Unknown layout: do not claim the runtime is the problem.
        return true;
    }
}

/// <summary>TorchSharp's native backend is not usable on this machine; the message says why and how to fix it.</summary>
public sealed class TorchNativeLibraryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TorchNativeLibraryException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// A loss or value became NaN or infinite during training. The run stops instead of producing garbage;
/// the message names the stage, the loss and the step, and carries the last finite values.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="stage">Where it happened, e.g. "offline/CPQ" or "online/SAC-Lag".</param>
    /// <param name="quantity">The loss or value that diverged, e.g. "cost_critic_loss".</param>
    /// <param name="step">The gradient step (0-based) at which it was detected.</param>
    /// <param name="value">The offending value.</param>
    /// <param name="lastFinite">The last finite values of the logged quantities, if known.</param>
    public TrainingDivergedException(string stage, string quantity, long step, double value, IReadOnlyDictionary<string, double>? lastFinite = null)
        : base(BuildMessage(stage, quantity, step, value, lastFinite))
    {
        Stage = stage;
        Quantity = quantity;
        Step = step;
        Value = value;
        LastFiniteValues = lastFinite ?? new Dictionary<string, double>();
    }

    /// <summary>Wraps <paramref name="inner"/> with the enclosing stage (e.g. the pipeline stage "online"); quantity, step, value and
    /// last finite values are copied, <see cref="Exception.InnerException"/> is <paramref name="inner"/>.</summary>
    /// <param name="stage">The enclosing stage, which becomes <see cref="Stage"/>.</param>
    /// <param name="inner">The original divergence.</param>
    /// <param name="note">Extra text appended to the message (e.g. where the metrics so far were written); may be null.</param>
    public TrainingDivergedException(string stage, TrainingDivergedException inner, string? note = null)
        : base($"Stage '{stage}' stopped: {inner?.Message}{(note is null ? "" : " " + note)}", inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Stage = stage;
        Quantity = inner.Quantity;
        Step = inner.Step;
        Value = inner.Value;
        LastFiniteValues = inner.LastFiniteValues;
    }

    /// <summary>Where it happened.</summary>
    public string Stage { get; }

    /// <summary>The loss or value that diverged.</summary>
    public string Quantity { get; }

    /// <summary>The step at which it was detected.</summary>
    public long Step { get; }

    /// <summary>The offending value (NaN or ±Inf, or a value over a divergence bound).</summary>
    public double Value { get; }

    /// <summary>The last finite logged values.</summary>
    public IReadOnlyDictionary<string, double> LastFiniteValues { get; }

    private static string BuildMessage(string stage, string quantity, long step, double value, IReadOnlyDictionary<string, double>? lastFinite)
    {
        var text = $"Training diverged in {stage}: '{quantity}' became {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} at step {step}.";
        if (lastFinite is { Count: > 0 })
            text += " Last finite values: " + string.Join(", ", lastFinite.Select(kv => $"{kv.Key}={kv.Value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)}")) + ".";
        return text + " Lower the learning rates, check the data for extreme values, or enable gradient clipping.";
    }
}

using System.Globalization;
using System.Reflection;
using System.Runtime.Intrinsics.X86;

namespace Marvel.Core.Abstractions;

/// <summary>
/// What decides whether two CPU runs give bit-identical numbers: the library, TorchSharp and libtorch versions, the torch thread
/// count and the CPU kernel capability. libtorch dispatches AVX-512, AVX2 or plain kernels by CPU (or by the
/// <c>ATEN_CPU_CAPABILITY</c> environment variable), and they round differently, so the same seed on another CPU kind gives
/// close but not equal numbers. Written into every handover artifact's manifest and every run's <c>status.json</c>.
/// </summary>
internal static class RuntimeFingerprint
{
    /// <summary>The fingerprint of this process, as string pairs for JSON.</summary>
    public static Dictionary<string, string> Describe() => new(StringComparer.Ordinal)
    {
        ["marvelCore"] = Informational(typeof(RuntimeFingerprint).Assembly),
        ["torchSharp"] = Informational(typeof(TorchSharp.torch).Assembly),
        ["libtorch"] = TorchSharp.torch.__version__,
        ["cpuKernelCapability"] = CpuKernelCapability(),
        ["mklCbwr"] = MklReproducibility(),
        ["torchThreads"] = TorchSharp.torch.get_num_threads().ToString(CultureInfo.InvariantCulture),
        ["processor"] = ProcessorName(),
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
    };

    /// <summary>
    /// The kernel set libtorch 2.x selects here, inferred with its rule (TorchSharp does not expose libtorch's own answer):
    /// <c>ATEN_CPU_CAPABILITY</c> when set; on x64 "avx512" when AVX-512 F/BW/DQ/VL are present, else "avx2" with AVX2 and FMA,
    /// else "default"; other architectures "default (arch)".
    /// </summary>
    public static string CpuKernelCapability()
    {
        var forced = Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY");
        if (!string.IsNullOrWhiteSpace(forced)) return forced.Trim().ToLowerInvariant() + " (ATEN_CPU_CAPABILITY)";
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
            return "default (" + System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant() + ")";
        if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported) return "avx512";
        if (Avx2.IsSupported && Fma.IsSupported) return "avx2";
        return "default";
    }

    /// <summary>The entries that decide bit-identical numbers (processor name and OS are informative only).</summary>
    public static readonly string[] DecidingKeys = ["marvelCore", "torchSharp", "libtorch", "cpuKernelCapability", "mklCbwr", "torchThreads"];

    /// <summary>
    /// The MKL code path for matrix products: <c>MKL_CBWR</c> when set (e.g. "AVX2": the same path, hence the same bits, on every CPU
    /// that has AVX2), else "auto" (MKL picks by CPU; with AVX-512 its products round differently from an AVX2 machine's, measured
    /// in docs/algorithms/marvel-pipeline.md, "Checkpoints and resume").
    /// </summary>
    public static string MklReproducibility()
    {
        var mode = Environment.GetEnvironmentVariable("MKL_CBWR");
        return string.IsNullOrWhiteSpace(mode) ? "auto" : mode.Trim().ToUpperInvariant();
    }

    /// <summary>
    /// The deciding entries on which <paramref name="a"/> and <paramref name="b"/> differ, as "key a → b" texts (empty when they agree);
    /// a key missing on one side is not a difference (fingerprints written by older versions lack some).
    /// </summary>
    public static List<string> Differences(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b)
    {
        var differences = new List<string>();
        foreach (var key in DecidingKeys)
            if (a.TryGetValue(key, out var x) && b.TryGetValue(key, out var y) && !string.Equals(x, y, StringComparison.Ordinal))
                differences.Add($"{key} {x} → {y}");
        return differences;
    }

    private static string Informational(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? assembly.GetName().Version?.ToString() ?? "unknown";

    private static string ProcessorName()
    {
        try
        {
            if (OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? "unknown";
    }
}

using System.Reflection;
using System.Runtime.InteropServices;

namespace Marvel.Environments.MuJoCo.Native;

/// <summary>
/// Finds and checks the MuJoCo shared library once per process: the path in <c>MARVEL_MUJOCO_LIBRARY</c> if set, else
/// <c>libmujoco.so.2.2.2</c>, <c>libmujoco.so</c> and <c>mujoco</c> on the loader's search path. The library must report
/// <c>mj_version() == 222</c>, the version whose struct layout <see cref="MjLayout"/> encodes.
/// </summary>
internal static class MuJoCoLibrary
{
    /// <summary>Environment variable naming the MuJoCo shared library explicitly.</summary>
    public const string PathVariable = "MARVEL_MUJOCO_LIBRARY";

    private static readonly object Gate = new();
    private static IntPtr _handle;
    private static int _version;

    /// <summary>The names tried, in order, when <see cref="PathVariable"/> is not set.</summary>
    public static IReadOnlyList<string> DefaultCandidates { get; } = ["libmujoco.so.2.2.2", "libmujoco.so", "mujoco"];

    /// <summary>The loaded library's <c>mj_version()</c> (222).</summary>
    public static int Version
    {
        get
        {
            EnsureLoaded();
            return _version;
        }
    }

    /// <summary>Loads and checks the library on first use; later calls return at once.</summary>
    /// <exception cref="DllNotFoundException">No candidate could be loaded.</exception>
    /// <exception cref="NotSupportedException">The library is not MuJoCo 2.2.2.</exception>
    public static void EnsureLoaded()
    {
        if (Volatile.Read(ref _version) != 0) return;
        lock (Gate)
        {
            if (_version != 0) return;
            if (_handle == IntPtr.Zero)
            {
                string? explicitPath = Environment.GetEnvironmentVariable(PathVariable);
                var candidates = string.IsNullOrWhiteSpace(explicitPath) ? DefaultCandidates : [explicitPath];
                _handle = Load(candidates);
                NativeLibrary.SetDllImportResolver(typeof(MuJoCoLibrary).Assembly, Resolve);
            }
            int version = MuJoCoNative.Version();
            CheckVersion(version);
            Volatile.Write(ref _version, version);
        }
    }

    /// <summary>Loads the first loadable library of <paramref name="candidates"/>.</summary>
    /// <exception cref="DllNotFoundException">None loads; the message lists what was tried and how to install MuJoCo.</exception>
    internal static IntPtr Load(IReadOnlyList<string> candidates)
    {
        foreach (var name in candidates)
            if (NativeLibrary.TryLoad(name, out var handle)) return handle;
        throw new DllNotFoundException(
            $"Marvel.Environments.MuJoCo: the MuJoCo 2.2.2 C library was not found (tried {string.Join(", ", candidates)}). " +
            "Install it with 'bash eng/install-prerequisites.sh --mujoco' (Debian packages libmujoco2.2.2 and libmujoco-dev), " +
            $"or set {PathVariable} to the full path of libmujoco.so.2.2.2.");
    }

    /// <summary>Throws unless <paramref name="version"/> is the one <see cref="MjLayout"/> was written for.</summary>
    /// <exception cref="NotSupportedException">Another version: its struct layout may differ.</exception>
    internal static void CheckVersion(int version)
    {
        if (version != MjLayout.SupportedVersion)
            throw new NotSupportedException(
                $"Marvel.Environments.MuJoCo: the loaded MuJoCo library reports mj_version() = {version}, but these bindings read mjModel/mjData " +
                $"at the byte offsets of version {MjLayout.SupportedVersion} (2.2.2). Install libmujoco2.2.2 " +
                $"('bash eng/install-prerequisites.sh --mujoco') or point {PathVariable} at a 2.2.2 build.");
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == MuJoCoNative.LibraryName ? _handle : IntPtr.Zero;
}

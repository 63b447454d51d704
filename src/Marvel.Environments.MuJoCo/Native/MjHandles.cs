using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Marvel.Environments.MuJoCo.Native;

/// <summary>Owns one compiled <c>mjModel*</c>; released with <c>mj_deleteModel</c>.</summary>
internal sealed class MjModelHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public MjModelHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle()
    {
        MuJoCoNative.DeleteModel(handle);
        return true;
    }
}

/// <summary>Owns one <c>mjData*</c>; released with <c>mj_deleteData</c>, also from the finalizer if Dispose was missed.</summary>
internal sealed class MjDataHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public MjDataHandle() : base(ownsHandle: true) { }

    /// <summary>Allocates the data of <paramref name="model"/> (<c>mj_makeData</c>).</summary>
    /// <exception cref="InvalidOperationException">MuJoCo returned null.</exception>
    public static MjDataHandle Create(MjModelHandle model, string where)
    {
        var data = new MjDataHandle();
        bool added = false;
        model.DangerousAddRef(ref added);
        try
        {
            IntPtr p = MuJoCoNative.MakeData(model.DangerousGetHandle());
            if (p == IntPtr.Zero)
                throw new InvalidOperationException($"{where}: mj_makeData returned null (out of native memory?).");
            data.SetHandle(p);
        }
        finally
        {
            if (added) model.DangerousRelease();
        }
        return data;
    }

    protected override bool ReleaseHandle()
    {
        MuJoCoNative.DeleteData(handle);
        return true;
    }
}

/// <summary>
/// Compiles the embedded MJCF models, once per process and model: a compiled <c>mjModel</c> is read-only during
/// simulation, so every environment of a robot shares it and owns only its <c>mjData</c>.
/// </summary>
internal static class MjModelLibrary
{
    private static readonly ConcurrentDictionary<string, Lazy<MjModelHandle>> Models = new(StringComparer.Ordinal);

    /// <summary>The compiled model of embedded resource <c>Models/<paramref name="fileName"/></c>.</summary>
    /// <exception cref="InvalidDataException">MuJoCo rejected the XML; the message carries MuJoCo's error.</exception>
    public static MjModelHandle Get(string fileName) =>
        Models.GetOrAdd(fileName, name => new Lazy<MjModelHandle>(() => Compile(name, ReadEmbedded(name)), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    /// <summary>The MJCF text of an embedded model.</summary>
    public static string ReadEmbedded(string fileName)
    {
        string resource = "Marvel.Environments.MuJoCo.Models." + fileName;
        using var stream = typeof(MjModelLibrary).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Marvel.Environments.MuJoCo: the embedded model '{resource}' is missing from the assembly; the package is broken.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Compiles MJCF text into a new model (through a temporary file, which mj_loadXML needs).</summary>
    /// <exception cref="InvalidDataException">MuJoCo rejected the XML.</exception>
    public static unsafe MjModelHandle Compile(string name, string xml)
    {
        MuJoCoLibrary.EnsureLoaded();
        string path = Path.Combine(Path.GetTempPath(), $"marvel-mujoco-{Environment.ProcessId}-{Guid.NewGuid():N}.xml");
        File.WriteAllText(path, xml, new UTF8Encoding(false));
        try
        {
            const int errorSize = 1000;
            byte* error = stackalloc byte[errorSize];
            error[0] = 0;
            var model = new MjModelHandle();
            IntPtr p = MuJoCoNative.LoadXml(path, IntPtr.Zero, error, errorSize);
            if (p == IntPtr.Zero)
            {
                string message = Marshal.PtrToStringUTF8((IntPtr)error) ?? "";
                throw new InvalidDataException($"MuJoCo model '{name}' did not compile: {message.Trim()} Fix the MJCF text of '{name}'.");
            }
            Marshal.InitHandle(model, p);
            return model;
        }
        finally
        {
            File.Delete(path);
        }
    }
}

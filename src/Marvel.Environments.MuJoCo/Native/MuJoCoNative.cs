using System.Runtime.InteropServices;

namespace Marvel.Environments.MuJoCo.Native;

/// <summary>The few MuJoCo 2.2.2 C functions the velocity tasks need (mujoco.h). Call <see cref="MuJoCoLibrary.EnsureLoaded"/> first.</summary>
internal static unsafe partial class MuJoCoNative
{
    /// <summary>The logical library name; <see cref="MuJoCoLibrary"/> resolves it to the installed shared object.</summary>
    public const string LibraryName = "mujoco";

    [LibraryImport(LibraryName, EntryPoint = "mj_version")]
    public static partial int Version();

    [LibraryImport(LibraryName, EntryPoint = "mj_loadXML", StringMarshalling = StringMarshalling.Utf8)]
    public static partial IntPtr LoadXml(string filename, IntPtr vfs, byte* error, int errorSize);

    [LibraryImport(LibraryName, EntryPoint = "mj_deleteModel")]
    public static partial void DeleteModel(IntPtr model);

    [LibraryImport(LibraryName, EntryPoint = "mj_makeData")]
    public static partial IntPtr MakeData(IntPtr model);

    [LibraryImport(LibraryName, EntryPoint = "mj_deleteData")]
    public static partial void DeleteData(IntPtr data);

    [LibraryImport(LibraryName, EntryPoint = "mj_resetData")]
    public static partial void ResetData(IntPtr model, IntPtr data);

    [LibraryImport(LibraryName, EntryPoint = "mj_step")]
    public static partial void Step(IntPtr model, IntPtr data);

    [LibraryImport(LibraryName, EntryPoint = "mj_forward")]
    public static partial void Forward(IntPtr model, IntPtr data);

    [LibraryImport(LibraryName, EntryPoint = "mj_name2id", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int NameToId(IntPtr model, int type, string name);
}

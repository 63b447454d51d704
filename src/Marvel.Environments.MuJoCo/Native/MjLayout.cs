namespace Marvel.Environments.MuJoCo.Native;

/// <summary>
/// Byte offsets of the <c>mjModel</c> and <c>mjData</c> fields the bindings read, for MuJoCo 2.2.2 on 64-bit platforms
/// (from <c>/usr/include/mujoco/mjmodel.h</c> and <c>mjdata.h</c>). A test compiles a C probe with <c>offsetof</c>
/// against the installed headers and compares every constant here, so a different library version fails that test
/// instead of reading garbage.
/// </summary>
internal static class MjLayout
{
    /// <summary>The version these offsets belong to, as <c>mj_version()</c> reports it.</summary>
    public const int SupportedVersion = 222;

    /// <summary><c>sizeof(mjtNum)</c>: MuJoCo is built in double precision.</summary>
    public const int SizeOfMjtNum = 8;

    /// <summary><c>mjOBJ_BODY</c>, the object type of bodies for <c>mj_name2id</c>.</summary>
    public const int ObjectBody = 1;

    /// <summary><c>mjOBJ_GEOM</c>, the object type of geoms for <c>mj_name2id</c>.</summary>
    public const int ObjectGeom = 5;

    // mjContact: size and the two geom ids (int) of a contact.
    public const int SizeOfContact = 528;
    public const int ContactGeom1 = 508;
    public const int ContactGeom2 = 512;

    // mjModel: sizes (int).
    public const int ModelNq = 0;
    public const int ModelNv = 4;
    public const int ModelNu = 8;
    public const int ModelNa = 12;
    public const int ModelNbody = 16;
    public const int ModelNjnt = 20;

    // mjModel: opt.timestep (mjtNum inside the embedded mjOption).
    public const int ModelOptTimestep = 232;

    // mjModel: array pointers (mjtNum*).
    public const int ModelQpos0 = 1096;
    public const int ModelBodyMass = 1240;
    public const int ModelJntRange = 1368;
    public const int ModelActuatorCtrlrange = 2792;
    public const int ModelActuatorGear = 2816;

    // mjData: simulation time (mjtNum) and array pointers (mjtNum*).
    public const int DataTime = 40336;
    public const int DataQpos = 40376;
    public const int DataQvel = 40384;
    public const int DataCtrl = 40408;
    public const int DataXpos = 40480;

    // mjData: number of detected contacts (int) and the contact array (mjContact*).
    public const int DataNcon = 40332;
    public const int DataContact = 40752;

    // mjData: the constraint solver's warm start (mjtNum*, nv), saved by checkpoints so a restored run continues exactly.
    public const int DataQaccWarmstart = 40400;
}

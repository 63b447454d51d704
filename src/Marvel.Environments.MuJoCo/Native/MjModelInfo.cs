namespace Marvel.Environments.MuJoCo.Native;

/// <summary>Read-only views of compiled-model arrays, for tests and diagnostics.</summary>
internal static unsafe class MjModelInfo
{
    /// <summary>Body masses in kg, world body first (<c>body_mass</c>, nbody values).</summary>
    public static double[] BodyMasses(MjModelHandle model) => Copy(model, MjLayout.ModelNbody, MjLayout.ModelBodyMass, 1);

    /// <summary>Joint limits in radians or metres (<c>jnt_range</c>, 2 per joint).</summary>
    public static double[] JointRanges(MjModelHandle model) => Copy(model, MjLayout.ModelNjnt, MjLayout.ModelJntRange, 2);

    /// <summary>Actuator gears (<c>actuator_gear</c>, 6 per actuator; the first is the joint gear).</summary>
    public static double[] ActuatorGears(MjModelHandle model) => Copy(model, MjLayout.ModelNu, MjLayout.ModelActuatorGear, 6);

    /// <summary>Actuator control ranges (<c>actuator_ctrlrange</c>, 2 per actuator).</summary>
    public static double[] ControlRanges(MjModelHandle model) => Copy(model, MjLayout.ModelNu, MjLayout.ModelActuatorCtrlrange, 2);

    /// <summary>The physics timestep <c>opt.timestep</c> in seconds.</summary>
    public static double Timestep(MjModelHandle model) => *(double*)((byte*)model.DangerousGetHandle() + MjLayout.ModelOptTimestep);

    private static double[] Copy(MjModelHandle model, int countOffset, int arrayOffset, int stride)
    {
        byte* m = (byte*)model.DangerousGetHandle();
        int count = *(int*)(m + countOffset) * stride;
        double* source = *(double**)(m + arrayOffset);
        return new ReadOnlySpan<double>(source, count).ToArray();
    }
}

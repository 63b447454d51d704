using Marvel.Core.Environments.Tasks;

namespace Marvel.Core.Environments.Policies;

/// <summary>
/// Hand-written flight controllers for DroneCircle and DroneRun: hover in place, fly a clockwise circle, or fly a straight
/// line along +x, at a chosen altitude. Used for the built-in datasets, as baselines and as calibration evidence.
/// </summary>
/// <remarks>
/// <para>A cascade read from the observation: a desired horizontal velocity (circle tangent plus a radial correction, or
/// +x plus a pull back to y = 0, or zero), a climb rate toward the altitude, a desired acceleration
/// <c>a = k_v·(v* − v)</c> limited to a 30° tilt, the thrust vector m·(a + g·e_z), an attitude loop that turns the body
/// z axis toward it (gains scaled by the control step so the 0.1 s steps of DroneCircle stay stable), and a mixer that
/// turns collective thrust and roll/pitch moments into the four rotor speeds by inverting the thrust law (inflow
/// included). Yaw is left free: the controller works in the world frame.</para>
/// </remarks>
public sealed class ScriptedDronePolicy : IPolicy
{
    private const double MaxTilt = 30.0 * Math.PI / 180.0;
    private readonly Mode _mode;
    private readonly double _controlTimeStep;

    private ScriptedDronePolicy(Mode mode, bool isCircleTask, double controlTimeStep, double speed, double radius, double altitude)
    {
        _mode = mode;
        _controlTimeStep = controlTimeStep;
        ObservationSize = isCircleTask ? 18 : 17;
        TargetSpeed = speed;
        TargetRadius = radius;
        TargetAltitude = altitude;
    }

    /// <summary>Hovers at <paramref name="altitude"/> m over wherever the drone is.</summary>
    /// <param name="taskId">"DroneCircle" or "DroneRun".</param>
    /// <param name="altitude">Altitude of the centre (m), &gt; 0.</param>
    /// <exception cref="ArgumentException">Another task id, or a non-positive altitude.</exception>
    public static ScriptedDronePolicy Hover(string taskId, double altitude = 1.0) => Create(taskId, Mode.Hover, 0, 0, altitude);

    /// <summary>Flies clockwise on radius <paramref name="radius"/> m at <paramref name="speed"/> m/s (DroneCircle).</summary>
    /// <param name="radius">Circle radius (m), &gt; 0; 7 is the reward's optimum, below 6 stays inside |x| ≤ 6.</param>
    /// <param name="speed">Tangential speed (m/s), ≥ 0.</param>
    /// <param name="altitude">Altitude (m), &gt; 0; the default 2 m leaves room for the 30° banks at speed (at 1 m a sagging bank can
    /// put a rotor on the ground).</param>
    /// <exception cref="ArgumentException">A bad radius, speed or altitude.</exception>
    public static ScriptedDronePolicy Circle(double radius, double speed, double altitude = 2.0)
    {
        if (!(radius > 0) || !double.IsFinite(radius)) throw new ArgumentException($"The circle radius must be finite and > 0, got {radius}.", nameof(radius));
        return Create("DroneCircle", Mode.Circle, speed, radius, altitude);
    }

    /// <summary>Flies along +x at <paramref name="speed"/> m/s keeping y near 0 (DroneRun).</summary>
    /// <param name="speed">Forward speed (m/s), ≥ 0; 1.5 is the Run cost's limit.</param>
    /// <param name="altitude">Altitude (m), &gt; 0.</param>
    /// <exception cref="ArgumentException">A bad speed or altitude.</exception>
    public static ScriptedDronePolicy Line(double speed, double altitude = 1.0) => Create("DroneRun", Mode.Line, speed, 0, altitude);

    /// <summary>Speed target (m/s).</summary>
    public double TargetSpeed { get; }

    /// <summary>Radius target (m) of the circle controller; 0 otherwise.</summary>
    public double TargetRadius { get; }

    /// <summary>Altitude target (m).</summary>
    public double TargetAltitude { get; }

    /// <inheritdoc />
    public int ObservationSize { get; }

    /// <inheritdoc />
    public int ActionSize => 4;

    /// <summary>Computes the controller's actions; <paramref name="deterministic"/> is ignored (the controller has no noise).</summary>
    /// <inheritdoc />
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
    {
        int batch = PolicyGuard.BatchSize(this, observations, actions);
        for (int row = 0; row < batch; row++)
            ActOne(observations.Slice(row * ObservationSize, ObservationSize), actions.Slice(row * 4, 4));
    }

    private void ActOne(ReadOnlySpan<float> o, Span<float> a)
    {
        double x = 10.0 * o[0], y = 10.0 * o[1], z = 10.0 * o[2];
        double vx = 5.0 * o[3], vy = 5.0 * o[4], vz = 5.0 * o[5];
        var attitude = new DroneDynamics { Qx = o[6], Qy = o[7], Qz = o[8], Qw = o[9] };
        var (r00, r01, r02, r10, r11, r12, r20, r21, r22) = attitude.Rotation();
        double wx = 10.0 * o[10], wy = 10.0 * o[11], wz = 10.0 * o[12];

        // Desired horizontal velocity, and (circle) the centripetal acceleration V²/d toward the centre as feedforward.
        double dvx = 0, dvy = 0, fx = 0, fy = 0;
        if (_mode == Mode.Circle)
        {
            double d = Math.Max(Math.Sqrt(x * x + y * y), 1e-6);
            double radial = Math.Clamp(1.0 * (TargetRadius - d), -2.0, 2.0);
            dvx = TargetSpeed * y / d + radial * x / d;
            dvy = -TargetSpeed * x / d + radial * y / d;
            double centripetal = TargetSpeed * TargetSpeed / Math.Max(d, 0.5 * TargetRadius);
            fx = -centripetal * x / d;
            fy = -centripetal * y / d;
        }
        else if (_mode == Mode.Line)
        {
            dvx = TargetSpeed;
            dvy = Math.Clamp(-1.0 * y, -1.0, 1.0);
        }
        // While still near the ground, climb first: a bank there puts a rotor on the ground (and flips the drone). Horizontal
        // authority grows over the first 60 % of the climb (at least 0.3 m).
        double ramp = Math.Max(0.3, 0.6 * (TargetAltitude - DroneDynamics.StartHeight));
        double lift = Math.Clamp((z - DroneDynamics.StartHeight) / ramp, 0, 1);
        dvx *= lift;
        dvy *= lift;
        fx *= lift;
        fy *= lift;
        double dvz = Math.Clamp(1.5 * (TargetAltitude - z), -1.0, 1.5);

        // Desired acceleration, limited to the tilt the thrust reserve allows.
        double ax = fx + 1.5 * (dvx - vx), ay = fy + 1.5 * (dvy - vy), az = 2.5 * (dvz - vz);
        double horizontal = Math.Sqrt(ax * ax + ay * ay), maxHorizontal = DroneDynamics.Gravity * Math.Tan(MaxTilt);
        if (horizontal > maxHorizontal)
        {
            ax *= maxHorizontal / horizontal;
            ay *= maxHorizontal / horizontal;
        }
        double tx = DroneDynamics.Mass * ax, ty = DroneDynamics.Mass * ay, tz = DroneDynamics.Mass * (az + DroneDynamics.Gravity);
        double norm = Math.Sqrt(tx * tx + ty * ty + tz * tz);
        double bx = tx / norm, by = ty / norm, bz = tz / norm;
        // Collective thrust along the current body z axis.
        double collective = Math.Max(0, tx * r02 + ty * r12 + tz * r22);

        // Attitude: rotate the body z axis toward b; gains per control step (a deadbeat-like fraction of the error per step).
        double ex = r12 * bz - r22 * by, ey = r22 * bx - r02 * bz, ez = r02 * by - r12 * bx;
        double kAngle = 0.3 / _controlTimeStep, kRate = 0.5 / _controlTimeStep;
        double ox = kAngle * ex - wx, oy = kAngle * ey - wy, oz = kAngle * ez - wz;
        // Body-frame angular acceleration wanted, times the inertia: the roll and pitch moments (yaw left free).
        double mx = DroneDynamics.InertiaXx * kRate * (r00 * ox + r10 * oy + r20 * oz);
        double my = DroneDynamics.InertiaYy * kRate * (r01 * ox + r11 * oy + r21 * oz);

        // Mixer: moment x = L·(f₃ − f₁), moment y = L·(f₂ − f₀).
        double each = collective / 4, arm = 2 * DroneDynamics.ArmLength;
        double inflow = vx * r02 + vy * r12 + vz * r22;
        a[0] = Command(each - my / arm, inflow);
        a[1] = Command(each - mx / arm, inflow);
        a[2] = Command(each + my / arm, inflow);
        a[3] = Command(each + mx / arm, inflow);
    }

    /// <summary>The action whose rotor speed makes thrust <paramref name="force"/>: invert f = C·(t² − t·v₀) for t = ω·p/(2π).</summary>
    private static float Command(double force, double inflow)
    {
        double t = 0.5 * (inflow + Math.Sqrt(inflow * inflow + 4 * Math.Max(force, 0) / DroneDynamics.ThrustCoefficient));
        double speed = 2 * Math.PI * t / DroneDynamics.PropellerPitch;
        return (float)Math.Clamp((speed / DroneDynamics.HoverSpeed - 1) / DroneDynamics.ActionRange, -1, 1);
    }

    private static ScriptedDronePolicy Create(string taskId, Mode mode, double speed, double radius, double altitude)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        bool circle = taskId switch
        {
            "DroneCircle" => true,
            "DroneRun" => false,
            _ => throw new ArgumentException($"Drone controllers exist for DroneCircle and DroneRun, not '{taskId}'.", nameof(taskId)),
        };
        if (!(speed >= 0) || !double.IsFinite(speed)) throw new ArgumentException($"The speed must be finite and >= 0, got {speed}.", nameof(speed));
        if (!(altitude > 0) || !double.IsFinite(altitude)) throw new ArgumentException($"The altitude must be finite and > 0, got {altitude}.", nameof(altitude));
        return new ScriptedDronePolicy(mode, circle, circle ? 0.1 : 1.0 / 60.0, speed, radius, altitude);
    }

    private enum Mode
    {
        Hover,
        Circle,
        Line,
    }
}

using System.Runtime.CompilerServices;

namespace Marvel.Core.Environments.Tasks;

/// <summary>Four doubles stored inline (one per rotor), so the drone's state is a plain value without arrays.</summary>
[InlineArray(4)]
internal struct RotorValues
{
    private double _first;
}

/// <summary>
/// Bullet-like quadrotor of the Drone tasks (environments spec §5.2): one rigid body (the 0.6 × 0.6 × 0.34 m box of the
/// twice-scaled URDF, 1.4 kg, plus four 0.005 kg rotor disks of radius 0.28 m at ±0.34 m on the body x and y axes) under
/// gravity, the reference's propeller thrust, the reaction torques of its velocity-controlled rotor motors, and
/// inelastic Coulomb contact with the ground plane z = 0. Integrated with semi-implicit Euler at the reference substep.
/// </summary>
/// <remarks>
/// <para><b>Thrust</b> (the reference's <c>calculate_thrust_force</c>): rotor i's target speed is
/// ω_i = d_i·ω_h·(1 + 0.1·u_i) (spin directions d = +1, −1, +1, −1); with t = |ω_i|·p/(2π) and v₀ the world velocity
/// along the body z axis at the moment the action is applied, f_i = ρ·A·(t² − t·v₀)·(k₁·D/p)^k₂ (ρ 1.225, A = π·0.14²,
/// D 0.28, p = 4.7·0.0254 m, k₁ = 1/3.29546, k₂ = 1.5), i.e. f = 1.63499e-5·ω² at v₀ = 0. The hover speed ω_h balances
/// the total mass 1.42 kg: ω_h = 461.52 rad/s. Like PyBullet's <c>applyExternalForce</c> in the link frame, force and
/// moment are converted to the world frame once per control step and held over its substeps.</para>
/// <para><b>Yaw</b> comes only from the rotor motors: each motor drives its rotor's speed relative to the body toward
/// the target with at most 23.444 N·m, and the body takes the opposite angular impulse. Yaw angular momentum is
/// therefore conserved in the air: raising the counter-clockwise rotors (u₀, u₂) by Δ turns the body clockwise.</para>
/// <para><b>Inertia</b>: PyBullet recomputes link inertias from the collision shapes unless a load flag says otherwise
/// (the reference sets none), so the body uses the box's inertia (1.4/12·(b² + c²)), the rotors' cylinder inertias and
/// the parallel-axis terms of the rotor masses, not the URDF's diag(0.05, 0.05, 0.24).</para>
/// <para><b>Contact</b>: the eight box corners and the lowest rim point of each rotor disk are contact points against
/// the ground, resolved by sequential impulses (normal impulse ≥ 0, friction |λ_t| ≤ μ·λ_n with μ = 0.8 × 0.5, no
/// restitution since the drone's is 0). A link "touches the ground" when one of its points is within 1 cm of it.</para>
/// <para>Not Bullet: trajectories are not bit-compatible with DSRL data; the reference's closed-form parts (thrust,
/// hover speed, observation, alive rule) are exact.</para>
/// </remarks>
internal struct DroneDynamics
{
    public const double Gravity = 9.81;
    public const double BodyMass = 1.4;
    public const double RotorMass = 0.005;
    public const double Mass = BodyMass + 4 * RotorMass;
    public const double ArmLength = 0.34;
    public const double RotorHeight = 0.02;
    public const double BoxHalfX = 0.3;
    public const double BoxHalfY = 0.3;
    public const double BoxHalfZ = 0.17;
    public const double RotorDiskRadius = 0.28;
    public const double RotorDiskHalfThickness = 0.005;
    public const double StartHeight = 0.17;
    public const double AirDensity = 1.225;
    public const double PropellerRadius = 0.14;
    public const double PropellerPitch = 4.7 * 0.0254;
    public const double K1 = 1.0 / 3.29546;
    public const double K2 = 1.5;
    public const double ActionRange = 0.1;
    public const double MaxMotorTorque = 23.444;
    public const double GroundFriction = 0.8 * 0.5;
    public const double ContactDistance = 0.01;
    /// <summary>Largest distance of any body or rotor point from the centre of mass (√(0.34² + 0.02²) + 0.28 + 0.005 ≈ 0.626 m), rounded up.</summary>
    public const double Reach = 0.65;
    private const int SolverIterations = 10;
    private const double PositionCorrection = 0.2;

    /// <summary>ρ·A·(k₁·D/p)^k₂, so that f = ThrustCoefficient·(t² − t·v₀).</summary>
    public static readonly double ThrustCoefficient =
        AirDensity * Math.PI * PropellerRadius * PropellerRadius * Math.Pow(K1 * 2 * PropellerRadius / PropellerPitch, K2);

    /// <summary>Rotor speed (rad/s) at which four rotors carry the weight of 1.42 kg with v₀ = 0.</summary>
    public static readonly double HoverSpeed = 2 * Math.PI / PropellerPitch * Math.Sqrt(Mass * Gravity / 4 / ThrustCoefficient);

    /// <summary>Spin axis inertia of one rotor disk (½·m·r²).</summary>
    public const double RotorSpinInertia = 0.5 * RotorMass * RotorDiskRadius * RotorDiskRadius;

    /// <summary>Inertia of the whole drone about its body axes (box, rotor disks, parallel-axis terms), rotors locked.</summary>
    public static readonly double InertiaXx = BodyMass / 12 * (4 * BoxHalfY * BoxHalfY + 4 * BoxHalfZ * BoxHalfZ)
        + RotorMass * (2 * ArmLength * ArmLength + 4 * RotorHeight * RotorHeight)
        + 4 * RotorMass * (3 * RotorDiskRadius * RotorDiskRadius + 4 * RotorDiskHalfThickness * RotorDiskHalfThickness) / 12;

    /// <inheritdoc cref="InertiaXx"/>
    public static readonly double InertiaYy = InertiaXx;

    /// <inheritdoc cref="InertiaXx"/>
    public static readonly double InertiaZz = BodyMass / 12 * (4 * BoxHalfX * BoxHalfX + 4 * BoxHalfY * BoxHalfY)
        + RotorMass * 4 * ArmLength * ArmLength + 4 * RotorSpinInertia;

    /// <summary>Spin direction of rotor i: +1 counter-clockwise, −1 clockwise.</summary>
    public static double Direction(int i) => (i & 1) == 0 ? 1.0 : -1.0;

    /// <summary>Rotor i's position in the body frame: rotor 0 on +x, 1 on −y, 2 on −x, 3 on +y.</summary>
    public static (double X, double Y) RotorPosition(int i) => i switch
    {
        0 => (ArmLength, 0),
        1 => (0, -ArmLength),
        2 => (-ArmLength, 0),
        _ => (0, ArmLength),
    };

    /// <summary>Thrust (N) of a rotor turning at |ω| rad/s with inflow velocity v₀ (m/s) along its axis.</summary>
    public static double Thrust(double speed, double inflow)
    {
        double t = Math.Abs(speed) / (2 * Math.PI) * PropellerPitch;
        return ThrustCoefficient * (t * t - t * inflow);
    }

    /// <summary>Position, linear velocity (world), orientation quaternion (body to world, x y z w) and angular velocity (world).</summary>
    public double X, Y, Z, Vx, Vy, Vz, Qx, Qy, Qz, Qw, Wx, Wy, Wz;

    /// <summary>Rotor speeds relative to the body (rad/s, signed by spin direction) and the motors' targets.</summary>
    public RotorValues RotorSpeed, RotorTarget;

    /// <summary>Thrust force and moment about the centre of mass, world frame, held over the substeps of a control step.</summary>
    private double _fx, _fy, _fz, _tx, _ty, _tz;

    /// <summary>Links (the body box and the four rotors) within <see cref="ContactDistance"/> of the ground after the last substep.</summary>
    public int GroundContacts;

    public readonly void WriteState(BinaryWriter w)
    {
        w.Write(X); w.Write(Y); w.Write(Z); w.Write(Vx); w.Write(Vy); w.Write(Vz);
        w.Write(Qx); w.Write(Qy); w.Write(Qz); w.Write(Qw); w.Write(Wx); w.Write(Wy); w.Write(Wz);
        for (int i = 0; i < 4; i++) { w.Write(RotorSpeed[i]); w.Write(RotorTarget[i]); }
        w.Write(_fx); w.Write(_fy); w.Write(_fz); w.Write(_tx); w.Write(_ty); w.Write(_tz);
        w.Write(GroundContacts);
    }

    public void ReadState(BinaryReader r)
    {
        X = r.ReadDouble(); Y = r.ReadDouble(); Z = r.ReadDouble(); Vx = r.ReadDouble(); Vy = r.ReadDouble(); Vz = r.ReadDouble();
        Qx = r.ReadDouble(); Qy = r.ReadDouble(); Qz = r.ReadDouble(); Qw = r.ReadDouble(); Wx = r.ReadDouble(); Wy = r.ReadDouble(); Wz = r.ReadDouble();
        for (int i = 0; i < 4; i++) { RotorSpeed[i] = r.ReadDouble(); RotorTarget[i] = r.ReadDouble(); }
        _fx = r.ReadDouble(); _fy = r.ReadDouble(); _fz = r.ReadDouble(); _tx = r.ReadDouble(); _ty = r.ReadDouble(); _tz = r.ReadDouble();
        GroundContacts = r.ReadInt32();
    }

    /// <summary>Places the drone at rest at (x, y, z) with heading <paramref name="yaw"/>, rotors stopped, no commands.</summary>
    public void Place(double x, double y, double z, double yaw)
    {
        X = x; Y = y; Z = z;
        Vx = Vy = Vz = Wx = Wy = Wz = 0;
        Qx = Qy = 0;
        Qz = Math.Sin(0.5 * yaw);
        Qw = Math.Cos(0.5 * yaw);
        for (int i = 0; i < 4; i++) RotorSpeed[i] = RotorTarget[i] = 0;
        ClearCommands();
        GroundContacts = 0;
    }

    /// <summary>Sets the motor targets to zero and removes the held thrust (the reset step runs without commands).</summary>
    public void ClearCommands()
    {
        for (int i = 0; i < 4; i++) RotorTarget[i] = 0;
        _fx = _fy = _fz = _tx = _ty = _tz = 0;
    }

    /// <summary>
    /// Applies a clipped action u ∈ [−1, 1]⁴ as the reference does once per control step: motor targets
    /// d_i·ω_h·(1 + 0.1·u_i), and each rotor's thrust along the body z axis from its target speed and the current inflow.
    /// </summary>
    public void ApplyAction(double u0, double u1, double u2, double u3)
    {
        var (r00, r01, r02, r10, r11, r12, r20, r21, r22) = Rotation();
        double inflow = Vx * r02 + Vy * r12 + Vz * r22;
        double total = 0, momentX = 0, momentY = 0;
        for (int i = 0; i < 4; i++)
        {
            double u = i switch { 0 => u0, 1 => u1, 2 => u2, _ => u3 };
            double speed = HoverSpeed * (1 + ActionRange * u);
            RotorTarget[i] = Direction(i) * speed;
            double f = Thrust(speed, inflow);
            total += f;
            // Moment of (0, 0, f) at body (p_x, p_y, h) about the centre: (p_y·f, −p_x·f, 0).
            var (px, py) = RotorPosition(i);
            momentX += py * f;
            momentY -= px * f;
        }
        _fx = r02 * total; _fy = r12 * total; _fz = r22 * total;
        _tx = r00 * momentX + r01 * momentY;
        _ty = r10 * momentX + r11 * momentY;
        _tz = r20 * momentX + r21 * momentY;
    }

    /// <summary>One substep of length h.</summary>
    public void Substep(double h)
    {
        var (r00, r01, r02, r10, r11, r12, r20, r21, r22) = Rotation();

        // Rotor motors: each drives its relative speed toward the target with at most MaxMotorTorque; the body takes the
        // opposite angular impulse about its z axis (yaw angular momentum is conserved).
        double maxStep = MaxMotorTorque * h / RotorSpinInertia;
        double spinImpulse = 0, spinMomentum = 0;
        for (int i = 0; i < 4; i++)
        {
            double change = Math.Clamp(RotorTarget[i] - RotorSpeed[i], -maxStep, maxStep);
            RotorSpeed[i] += change;
            spinImpulse += RotorSpinInertia * change;
            spinMomentum += RotorSpinInertia * RotorSpeed[i];
        }
        if (spinImpulse != 0) ApplyAngularImpulse(-spinImpulse * r02, -spinImpulse * r12, -spinImpulse * r22);

        // Forces: held thrust and gravity.
        Vx += h * _fx / Mass;
        Vy += h * _fy / Mass;
        Vz += h * (_fz / Mass - Gravity);

        // Moments: held thrust moment and the gyroscopic term −ω × (I·ω + h_r·z_b).
        var (lx, ly, lz) = WorldInertiaTimes(Wx, Wy, Wz);
        lx += spinMomentum * r02; ly += spinMomentum * r12; lz += spinMomentum * r22;
        double gx = Wy * lz - Wz * ly, gy = Wz * lx - Wx * lz, gz = Wx * ly - Wy * lx;
        ApplyAngularImpulse(h * (_tx - gx), h * (_ty - gy), h * (_tz - gz));

        ResolveGroundContact(h);

        X += h * Vx;
        Y += h * Vy;
        Z += h * Vz;
        // q̇ = ½·(ω, 0) ⊗ q with ω in the world frame.
        double qx = Qx, qy = Qy, qz = Qz, qw = Qw;
        Qx += 0.5 * h * (Wx * qw + Wy * qz - Wz * qy);
        Qy += 0.5 * h * (Wy * qw + Wz * qx - Wx * qz);
        Qz += 0.5 * h * (Wz * qw + Wx * qy - Wy * qx);
        Qw += 0.5 * h * (-Wx * qx - Wy * qy - Wz * qz);
        double norm = Math.Sqrt(Qx * Qx + Qy * Qy + Qz * Qz + Qw * Qw);
        Qx /= norm; Qy /= norm; Qz /= norm; Qw /= norm;

        GroundContacts = CountGroundContacts();
    }

    /// <summary>Roll, pitch and yaw of the body as PyBullet's <c>getEulerFromQuaternion</c> defines them (R = R_z(yaw)·R_y(pitch)·R_x(roll)).</summary>
    public readonly (double Roll, double Pitch, double Yaw) Euler()
    {
        double sinPitch = Math.Clamp(-2 * (Qx * Qz - Qw * Qy), -1, 1);
        double pitch = Math.Asin(sinPitch);
        double roll = Math.Atan2(2 * (Qy * Qz + Qw * Qx), Qw * Qw - Qx * Qx - Qy * Qy + Qz * Qz);
        double yaw = Math.Atan2(2 * (Qx * Qy + Qw * Qz), Qw * Qw + Qx * Qx - Qy * Qy - Qz * Qz);
        return (roll, pitch, yaw);
    }

    /// <summary>The reference's alive rule: |roll| ≤ π/2 and |pitch| ≤ π/2.</summary>
    public readonly bool Alive
    {
        get
        {
            var (roll, pitch, _) = Euler();
            return Math.Abs(roll) <= 0.5 * Math.PI && Math.Abs(pitch) <= 0.5 * Math.PI;
        }
    }

    /// <summary>Squared norm of the angular velocity (rad²/s²).</summary>
    public readonly double AngularSpeedSquared => Wx * Wx + Wy * Wy + Wz * Wz;

    /// <summary>
    /// Writes the 17 agent values: 0.1·xyz, 0.2·v, quaternion (x, y, z, w) of the Euler angles, 0.1·ω, 2.5e-3·(rotor speed − hover_i).
    /// </summary>
    public readonly void WriteObservation(Span<float> o)
    {
        o[0] = (float)(0.1 * X);
        o[1] = (float)(0.1 * Y);
        o[2] = (float)(0.1 * Z);
        o[3] = (float)(0.2 * Vx);
        o[4] = (float)(0.2 * Vy);
        o[5] = (float)(0.2 * Vz);
        // The reference observes getQuaternionFromEuler(getEulerFromQuaternion(q)): q or −q, fixed by the Euler angles.
        var (roll, pitch, yaw) = Euler();
        double cr = Math.Cos(0.5 * roll), sr = Math.Sin(0.5 * roll);
        double cp = Math.Cos(0.5 * pitch), sp = Math.Sin(0.5 * pitch);
        double cy = Math.Cos(0.5 * yaw), sy = Math.Sin(0.5 * yaw);
        o[6] = (float)(sr * cp * cy - cr * sp * sy);
        o[7] = (float)(cr * sp * cy + sr * cp * sy);
        o[8] = (float)(cr * cp * sy - sr * sp * cy);
        o[9] = (float)(cr * cp * cy + sr * sp * sy);
        o[10] = (float)(0.1 * Wx);
        o[11] = (float)(0.1 * Wy);
        o[12] = (float)(0.1 * Wz);
        for (int i = 0; i < 4; i++) o[13 + i] = (float)(2.5e-3 * (RotorSpeed[i] - Direction(i) * HoverSpeed));
    }

    /// <summary>Octagon arena walls (Circle): inner faces at 11.9 m, 2 m tall; the drone (radius 0.65 m) stops at them.</summary>
    public void CollideWithOctagon()
    {
        const double reach = Reach;
        const double safe = OctagonNormals.InnerFace - reach;
        if (X * X + Y * Y < safe * safe || Z > 2.0 + reach) return;
        for (int k = 0; k < 8; k++)
        {
            double nx = OctagonNormals.X[k], ny = OctagonNormals.Y[k];
            double distance = OctagonNormals.InnerFace - (X * nx + Y * ny);
            if (distance < reach)
            {
                double push = reach - distance;
                X -= push * nx;
                Y -= push * ny;
                double vn = Vx * nx + Vy * ny;
                if (vn > 0)
                {
                    Vx -= vn * nx;
                    Vy -= vn * ny;
                }
            }
        }
    }

    /// <summary>Rotation matrix (body to world) of the orientation quaternion, row-major.</summary>
    public readonly (double, double, double, double, double, double, double, double, double) Rotation()
    {
        double xx = Qx * Qx, yy = Qy * Qy, zz = Qz * Qz;
        double xy = Qx * Qy, xz = Qx * Qz, yz = Qy * Qz, wx = Qw * Qx, wy = Qw * Qy, wz = Qw * Qz;
        return (1 - 2 * (yy + zz), 2 * (xy - wz), 2 * (xz + wy),
                2 * (xy + wz), 1 - 2 * (xx + zz), 2 * (yz - wx),
                2 * (xz - wy), 2 * (yz + wx), 1 - 2 * (xx + yy));
    }

    /// <summary>I_world·ω = R·I_body·Rᵀ·ω.</summary>
    private readonly (double, double, double) WorldInertiaTimes(double ax, double ay, double az)
    {
        var (r00, r01, r02, r10, r11, r12, r20, r21, r22) = Rotation();
        double bx = (r00 * ax + r10 * ay + r20 * az) * InertiaXx;
        double by = (r01 * ax + r11 * ay + r21 * az) * InertiaYy;
        double bz = (r02 * ax + r12 * ay + r22 * az) * InertiaZz;
        return (r00 * bx + r01 * by + r02 * bz, r10 * bx + r11 * by + r12 * bz, r20 * bx + r21 * by + r22 * bz);
    }

    /// <summary>I_world⁻¹·a = R·I_body⁻¹·Rᵀ·a.</summary>
    private readonly (double, double, double) WorldInverseInertiaTimes(double ax, double ay, double az)
    {
        var (r00, r01, r02, r10, r11, r12, r20, r21, r22) = Rotation();
        double bx = (r00 * ax + r10 * ay + r20 * az) / InertiaXx;
        double by = (r01 * ax + r11 * ay + r21 * az) / InertiaYy;
        double bz = (r02 * ax + r12 * ay + r22 * az) / InertiaZz;
        return (r00 * bx + r01 * by + r02 * bz, r10 * bx + r11 * by + r12 * bz, r20 * bx + r21 * by + r22 * bz);
    }

    private void ApplyAngularImpulse(double jx, double jy, double jz)
    {
        var (dx, dy, dz) = WorldInverseInertiaTimes(jx, jy, jz);
        Wx += dx; Wy += dy; Wz += dz;
    }

    /// <summary>World offset from the centre of contact point k: 0–7 box corners, 8–11 the lowest rim point of rotor k − 8.</summary>
    private readonly (double, double, double) ContactOffset(int k)
    {
        var (r00, r01, r02, r10, r11, r12, r20, r21, r22) = Rotation();
        if (k < 8)
        {
            double bx = (k & 1) == 0 ? BoxHalfX : -BoxHalfX;
            double by = (k & 2) == 0 ? BoxHalfY : -BoxHalfY;
            double bz = (k & 4) == 0 ? BoxHalfZ : -BoxHalfZ;
            return (r00 * bx + r01 * by + r02 * bz, r10 * bx + r11 * by + r12 * bz, r20 * bx + r21 * by + r22 * bz);
        }
        var (px, py) = RotorPosition(k - 8);
        double cx = r00 * px + r01 * py + r02 * RotorHeight;
        double cy = r10 * px + r11 * py + r12 * RotorHeight;
        double cz = r20 * px + r21 * py + r22 * RotorHeight;
        // Lower face of the disk, then the rim point farthest down: along −e_z projected onto the disk plane.
        double side = r22 >= 0 ? -RotorDiskHalfThickness : RotorDiskHalfThickness;
        cx += side * r02; cy += side * r12; cz += side * r22;
        double ux = r22 * r02, uy = r22 * r12, uz = r22 * r22 - 1;
        double length = Math.Sqrt(ux * ux + uy * uy + uz * uz);
        if (length > 1e-9)
        {
            double s = RotorDiskRadius / length;
            cx += s * ux; cy += s * uy; cz += s * uz;
        }
        return (cx, cy, cz);
    }

    private readonly int CountGroundContacts()
    {
        if (Z > Reach + ContactDistance) return 0;
        int links = 0;
        bool box = false;
        for (int k = 0; k < 8 && !box; k++) box = Z + ContactOffset(k).Item3 <= ContactDistance;
        if (box) links++;
        for (int k = 8; k < 12; k++)
            if (Z + ContactOffset(k).Item3 <= ContactDistance) links++;
        return links;
    }

    /// <summary>Sequential impulses on the contact points near the ground (speculative: a gap may close but not be crossed).</summary>
    private void ResolveGroundContact(double h)
    {
        const double reach = Reach;
        double margin = 0.02 + h * (Math.Max(0, -Vz) + reach * Math.Sqrt(AngularSpeedSquared));
        if (Z - reach > margin) return;
        Span<double> rx = stackalloc double[12], ry = stackalloc double[12], rz = stackalloc double[12];
        Span<double> target = stackalloc double[12], normal = stackalloc double[12], frictionX = stackalloc double[12], frictionY = stackalloc double[12];
        Span<double> massN = stackalloc double[12], massX = stackalloc double[12], massY = stackalloc double[12];
        int n = 0;
        for (int k = 0; k < 12; k++)
        {
            var (ox, oy, oz) = ContactOffset(k);
            double gap = Z + oz;
            if (gap > margin) continue;
            rx[n] = ox; ry[n] = oy; rz[n] = oz;
            // Penetration is pushed out at a fraction of it per substep; a positive gap may close within the substep.
            target[n] = gap < 0 ? -PositionCorrection * gap / h : -gap / h;
            massN[n] = 1 / EffectiveInverseMass(ox, oy, oz, 0, 0, 1);
            massX[n] = 1 / EffectiveInverseMass(ox, oy, oz, 1, 0, 0);
            massY[n] = 1 / EffectiveInverseMass(ox, oy, oz, 0, 1, 0);
            normal[n] = frictionX[n] = frictionY[n] = 0;
            n++;
        }
        for (int iteration = 0; iteration < SolverIterations; iteration++)
        {
            for (int c = 0; c < n; c++)
            {
                // Velocity of the point: v + ω × r.
                double pvz = Vz + Wx * ry[c] - Wy * rx[c];
                double old = normal[c];
                normal[c] = Math.Max(0, old + massN[c] * (target[c] - pvz));
                ApplyImpulse(rx[c], ry[c], rz[c], 0, 0, normal[c] - old);

                double limit = GroundFriction * normal[c];
                double pvx = Vx + Wy * rz[c] - Wz * ry[c];
                old = frictionX[c];
                frictionX[c] = Math.Clamp(old - massX[c] * pvx, -limit, limit);
                ApplyImpulse(rx[c], ry[c], rz[c], frictionX[c] - old, 0, 0);

                double pvy = Vy + Wz * rx[c] - Wx * rz[c];
                old = frictionY[c];
                frictionY[c] = Math.Clamp(old - massY[c] * pvy, -limit, limit);
                ApplyImpulse(rx[c], ry[c], rz[c], 0, frictionY[c] - old, 0);
            }
        }
    }

    /// <summary>1/m + (r × d)·I⁻¹·(r × d): the inverse mass the body shows to an impulse along d at offset r.</summary>
    private readonly double EffectiveInverseMass(double rx, double ry, double rz, double dx, double dy, double dz)
    {
        double cx = ry * dz - rz * dy, cy = rz * dx - rx * dz, cz = rx * dy - ry * dx;
        var (ix, iy, iz) = WorldInverseInertiaTimes(cx, cy, cz);
        return 1 / Mass + cx * ix + cy * iy + cz * iz;
    }

    private void ApplyImpulse(double rx, double ry, double rz, double px, double py, double pz)
    {
        if (px == 0 && py == 0 && pz == 0) return;
        Vx += px / Mass; Vy += py / Mass; Vz += pz / Mass;
        ApplyAngularImpulse(ry * pz - rz * py, rz * px - rx * pz, rx * py - ry * px);
    }
}

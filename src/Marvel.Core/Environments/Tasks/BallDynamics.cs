namespace Marvel.Core.Environments.Tasks;

/// <summary>
/// Bullet-like ball: a force-driven sphere (m = 0.3 kg, r = 0.5 m, I = 1.0 kg·m²) on a plane with Coulomb
/// slip/roll friction and rolling resistance, integrated with semi-implicit Euler (environments spec §1.5.1).
/// Not Bullet: trajectories are not bit-compatible with DSRL data, magnitudes are calibrated to match.
/// </summary>
internal struct BallDynamics
{
    public const double Mass = 0.3;
    public const double Radius = 0.5;
    public const double Inertia = 1.0;
    public const double Gravity = 9.81;
    public const double Friction = 0.77;
    public const double MaxForce = 3.5;
    public const double RollingResistanceTorque = 0.024 * Mass * Gravity;
    private const double RollingMass = Mass + Inertia / (Radius * Radius);
    private const double SlipEpsilon = 1e-6;

    public double X, Y, Vx, Vy, Wx, Wy, Wz;

    public readonly void WriteState(BinaryWriter w)
    {
        w.Write(X); w.Write(Y); w.Write(Vx); w.Write(Vy); w.Write(Wx); w.Write(Wy); w.Write(Wz);
    }

    public void ReadState(BinaryReader r)
    {
        X = r.ReadDouble(); Y = r.ReadDouble(); Vx = r.ReadDouble(); Vy = r.ReadDouble(); Wx = r.ReadDouble(); Wy = r.ReadDouble(); Wz = r.ReadDouble();
    }

    public void Place(double x, double y)
    {
        X = x; Y = y; Vx = Vy = Wx = Wy = Wz = 0;
    }

    /// <summary>One substep of length h under the world-frame force F = 3.5·u.</summary>
    public void Substep(double ux, double uy, double h)
    {
        double fx = MaxForce * ux, fy = MaxForce * uy;
        double sx = Vx - Radius * Wy, sy = Vy + Radius * Wx;
        double slip = Math.Sqrt(sx * sx + sy * sy);
        const double maxFriction = Friction * Mass * Gravity;
        if (slip < SlipEpsilon)
        {
            double ax = fx / RollingMass, ay = fy / RollingMass;
            double reqX = Mass * ax - fx, reqY = Mass * ay - fy;
            double req = Math.Sqrt(reqX * reqX + reqY * reqY);
            if (req <= maxFriction)
            {
                Vx += h * ax;
                Vy += h * ay;
                double speed = Math.Sqrt(Vx * Vx + Vy * Vy);
                if (speed > 0)
                {
                    double reduced = Math.Max(0, speed - h * RollingResistanceTorque / (Radius * RollingMass));
                    double k = reduced / speed;
                    Vx *= k;
                    Vy *= k;
                }
                Wx = -Vy / Radius;
                Wy = Vx / Radius;
            }
            else
            {
                double k = maxFriction / req;
                ApplySliding(fx, fy, reqX * k, reqY * k, h);
            }
        }
        else
        {
            double nx = sx / slip, ny = sy / slip;
            ApplySliding(fx, fy, -maxFriction * nx, -maxFriction * ny, h);
            double sx2 = Vx - Radius * Wy, sy2 = Vy + Radius * Wx;
            if (sx2 * nx + sy2 * ny <= 0)
            {
                Wx = -Vy / Radius;
                Wy = Vx / Radius;
            }
        }
        // Spin about z decays under the rolling-resistance torque.
        double dwz = h * RollingResistanceTorque / Inertia;
        Wz = Math.Abs(Wz) <= dwz ? 0 : Wz - Math.Sign(Wz) * dwz;
        X += h * Vx;
        Y += h * Vy;
    }

    private void ApplySliding(double fx, double fy, double frictionX, double frictionY, double h)
    {
        Vx += h * (fx + frictionX) / Mass;
        Vy += h * (fy + frictionY) / Mass;
        // Torque of the contact force applied at (0, 0, −r): τ = (r·f_y, −r·f_x, 0).
        Wx += h * Radius * frictionY / Inertia;
        Wy += h * -Radius * frictionX / Inertia;
    }

    /// <summary>Octagon arena walls: inner faces at 11.9 m; restitution 0.35 on the normal velocity.</summary>
    public void CollideWithOctagon()
    {
        // Inside the inscribed circle of the walls' inner faces minus the radius: no wall can be touched.
        const double safe = OctagonNormals.InnerFace - Radius;
        if (X * X + Y * Y < safe * safe) return;
        for (int k = 0; k < 8; k++)
        {
            double nx = OctagonNormals.X[k], ny = OctagonNormals.Y[k];
            double distance = OctagonNormals.InnerFace - (X * nx + Y * ny);
            if (distance < Radius)
            {
                double push = Radius - distance;
                X -= push * nx;
                Y -= push * ny;
                double vn = Vx * nx + Vy * ny;
                if (vn > 0)
                {
                    Vx -= (1 + 0.35) * vn * nx;
                    Vy -= (1 + 0.35) * vn * ny;
                }
            }
        }
    }

    public readonly void WriteObservation(Span<float> o)
    {
        o[0] = (float)(0.1 * X);
        o[1] = (float)(0.1 * Y);
        o[2] = (float)(0.2 * Vx);
        o[3] = (float)(0.2 * Vy);
        o[4] = (float)(0.1 * Wx);
        o[5] = (float)(0.1 * Wy);
        o[6] = (float)(0.1 * Wz);
    }
}

/// <summary>Outward unit normals of the eight octagon walls (yaw k·π/4) and the inner-face distance.</summary>
internal static class OctagonNormals
{
    public const double InnerFace = 11.9;
    public static readonly double[] X = Enumerable.Range(0, 8).Select(k => Math.Cos(k * Math.PI / 4)).ToArray();
    public static readonly double[] Y = Enumerable.Range(0, 8).Select(k => Math.Sin(k * Math.PI / 4)).ToArray();
}

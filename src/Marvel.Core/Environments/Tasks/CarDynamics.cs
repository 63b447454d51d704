namespace Marvel.Core.Environments.Tasks;

/// <summary>
/// Bullet-like race car: a kinematic bicycle (wheelbase 0.975 m) with a first-order speed lag (τ = 0.5 s,
/// top speed 6 m/s), a steering lag (τ = 0.05 s, ±0.5 rad) and a lateral-grip limit of 3 m/s²
/// (environments spec §1.5.2). Sign convention of the reference task: u₀ &lt; 0 drives task-forward and
/// u₁ &gt; 0 turns clockwise while moving forward.
/// </summary>
internal struct CarDynamics
{
    public const double Wheelbase = 0.975;
    public const double CenterOfMassOffset = 0.6;
    public const double MaxSpeed = 6.0;
    public const double SpeedLag = 0.5;
    public const double MaxSteering = 0.5;
    public const double SteeringLag = 0.05;
    public const double MaxLateralAcceleration = 3.0;

    /// <summary>Non-steered axle point, task heading θ, forward speed w, steering angle δ, yaw rate θ̇.</summary>
    public double Qx, Qy, Theta, W, Delta, ThetaDot;

    /// <summary>cos θ and sin θ, kept in step with <see cref="Theta"/> so observations need no trigonometry.</summary>
    private double _cos, _sin;

    public readonly double X => Qx - CenterOfMassOffset * _cos;
    public readonly double Y => Qy - CenterOfMassOffset * _sin;
    public readonly double Vx => W * _cos + CenterOfMassOffset * ThetaDot * _sin;
    public readonly double Vy => W * _sin - CenterOfMassOffset * ThetaDot * _cos;

    public readonly void WriteState(BinaryWriter w)
    {
        w.Write(Qx); w.Write(Qy); w.Write(Theta); w.Write(W); w.Write(Delta); w.Write(ThetaDot); w.Write(_cos); w.Write(_sin);
    }

    public void ReadState(BinaryReader r)
    {
        Qx = r.ReadDouble(); Qy = r.ReadDouble(); Theta = r.ReadDouble(); W = r.ReadDouble(); Delta = r.ReadDouble(); ThetaDot = r.ReadDouble();
        _cos = r.ReadDouble(); _sin = r.ReadDouble();
    }

    /// <summary>Places the centre of mass at (x, y) with task heading θ, at rest.</summary>
    public void Place(double x, double y, double theta, double steering)
    {
        Theta = theta;
        (_sin, _cos) = Math.SinCos(theta);
        Qx = x + CenterOfMassOffset * _cos;
        Qy = y + CenterOfMassOffset * _sin;
        W = 0;
        Delta = steering;
        ThetaDot = 0;
    }

    /// <summary>Sets the full state from the centre of mass (x, y), task heading θ, forward speed w, steering δ and yaw rate θ̇.</summary>
    public void SetState(double x, double y, double theta, double speed, double steering, double thetaDot)
    {
        Place(x, y, theta, steering);
        W = speed;
        ThetaDot = thetaDot;
    }

    public void Substep(double u0, double u1, double h)
    {
        double wCmd = -MaxSpeed * u0;
        W += h * (wCmd - W) / SpeedLag;
        double deltaCmd = MaxSteering * u1;
        Delta += h * (deltaCmd - Delta) / SteeringLag;
        double rate = -W * Math.Tan(Delta) / Wheelbase;
        double limit = MaxLateralAcceleration / Math.Max(Math.Abs(W), 0.1);
        ThetaDot = Math.Clamp(rate, -limit, limit);
        Theta += h * ThetaDot;
        (_sin, _cos) = Math.SinCos(Theta);
        Qx += h * W * _cos;
        Qy += h * W * _sin;
    }

    /// <summary>Octagon walls: keeps the car inside and removes the outward part of its speed (crude, rarely reached).</summary>
    public void CollideWithOctagon()
    {
        const double margin = 0.3;
        const double safe = OctagonNormals.InnerFace - margin - CenterOfMassOffset;
        if (Qx * Qx + Qy * Qy < safe * safe) return;
        for (int k = 0; k < 8; k++)
        {
            double nx = OctagonNormals.X[k], ny = OctagonNormals.Y[k];
            double x = X, y = Y;
            double distance = OctagonNormals.InnerFace - (x * nx + y * ny);
            if (distance < margin)
            {
                double push = margin - distance;
                Qx -= push * nx;
                Qy -= push * ny;
                double normalFraction = _cos * nx + _sin * ny;
                if (W * normalFraction > 0) W *= Math.Max(0, 1 - Math.Abs(normalFraction));
            }
        }
    }

    public readonly void WriteObservation(Span<float> o)
    {
        o[0] = (float)(0.1 * X);
        o[1] = (float)(0.1 * Y);
        o[2] = (float)Vx;
        o[3] = (float)Vy;
        // Observed yaw is the URDF body yaw ψ = θ + π.
        o[4] = (float)-_sin;
        o[5] = (float)-_cos;
        o[6] = (float)(0.1 * ThetaDot);
    }
}

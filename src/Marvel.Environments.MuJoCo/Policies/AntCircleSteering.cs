namespace Marvel.Environments.MuJoCo.Policies;

/// <summary>
/// The steered AntCircle gait behind <see cref="ScriptedGaitPolicy.BulletAntCircle"/>: a walking pattern that the controller
/// never turns, but re-assigns to the legs.
/// </summary>
/// <remarks>
/// <para>The Bullet-Safety-Gym ant is symmetric under a quarter turn about z: turning the body by 90° carries leg j onto leg
/// j + 1 with the same hip angle, and the same ankle angle up to the sign that flips between legs 1↔2 and 3↔4 (ankles 1 and 4
/// range over [30°, 100°], 2 and 3 over [−100°, −30°]). So a gait that walks in direction δ of the torso frame, played with
/// every leg's oscillator and posture target moved k legs on, walks in direction δ + k·90°. Instead of yawing the 182 kg body
/// (hip-swing asymmetry barely yaws it, docs/environments-mujoco.md), the controller picks, once per gait cycle, the k whose
/// walking direction is nearest the direction it wants in the world.</para>
/// <para>The direction it wants is the clockwise tangent at the torso's position turned toward the circle of the target
/// radius R by atan(r − R) (r the distance from the origin, 1 rad per m). The torso's yaw swings by up to ±0.7 rad within a
/// stride (the hips' reaction), so the controller reads the mean of the unwrapped yaw over the last gait cycle, not the
/// instantaneous one.</para>
/// <para>The walking pattern (per leg a hip sine, an ankle sine a fixed lag after it, and a PD posture with the ankles
/// flexed) was found by a cross-entropy search at AntCircle's 0.1 s control step, first for straight walking and then for the
/// return of this controller on radius 7; δ was measured from the torso-frame displacement over a cycle-averaged yaw.</para>
/// </remarks>
internal sealed class AntCircleSteering
{
    /// <summary>AntCircle's control step (s).</summary>
    private const double ControlTimeStep = 0.1;

    /// <summary>Gait frequency at pace 1 (Hz).</summary>
    private const double BaseFrequency = 0.933;

    /// <summary>Signed hip-swing amplitudes of legs 1–4 at stride 1 (action units).</summary>
    private static readonly double[] HipAmplitude = [-0.910, 0.683, -0.873, 1.334];

    /// <summary>Phases of legs 1–4 (rad); each ankle runs <see cref="AnkleLag"/> after its hip.</summary>
    private static readonly double[] LegPhase = [0.0, 2.162, -0.242, -0.633];

    /// <summary>Ankle-lift amplitude at stride 1 (action units; sign per leg from <see cref="AnkleSign"/>).</summary>
    private const double AnkleAmplitude = 0.111;

    /// <summary>Phase lag of each ankle behind its hip (rad).</summary>
    private const double AnkleLag = 1.339;

    /// <summary>PD gains on the observation's joint terms (0.5 × normalised angle, 0.05 × rate).</summary>
    private const double Kp = 0.879, Kd = 0.739;

    /// <summary>Ankle posture target in observation units for legs 1 and 4 (negated for 2 and 3): 0.234 ≈ 81° flexed.</summary>
    private const double AnkleTarget = 0.234;

    /// <summary>Walking direction of the unrotated pattern in the torso frame (rad, from +x toward +y).</summary>
    private const double WalkDirection = 2.204;

    /// <summary>Radial gain of the desired heading (rad per m of radius error, inside the atan).</summary>
    private const double RadialGain = 1.0;

    /// <summary>Sign that maps a leg's ankle from the leg-independent pattern: + for legs 1 and 4, − for 2 and 3.</summary>
    private static readonly int[] AnkleSign = [1, -1, -1, 1];

    private readonly double _radius, _frequency, _stride;
    private readonly int _window;
    private Row[] _rows = [];

    public AntCircleSteering(double radius, double pace, double stride)
    {
        _radius = radius;
        _frequency = BaseFrequency * pace;
        _stride = stride;
        _window = Math.Max(1, (int)Math.Round(1.0 / (_frequency * ControlTimeStep)));
    }

    /// <summary>Writes the 8 actions of one batch row at control step <paramref name="step"/> of its episode.</summary>
    public void Act(int row, int step, ReadOnlySpan<float> o, Span<float> action)
    {
        if (_rows.Length <= row) Array.Resize(ref _rows, row + 1);
        ref Row r = ref _rows[row];
        double yaw = Yaw(o);
        if (step == 0 || r.History is null) r.Start(yaw, _window);
        else r.Push(yaw);

        double t = step * ControlTimeStep;
        long cycle = (long)Math.Floor(_frequency * t);
        if (step == 0 || cycle != r.Cycle)
        {
            r.Cycle = cycle;
            double x = 10.0 * o[0], y = 10.0 * o[1];
            double distance = Math.Sqrt(x * x + y * y);
            // Clockwise tangent (y, −x)/r, turned inward when outside the circle and outward when inside.
            double wanted = Math.Atan2(-x, y) - Math.Atan(RadialGain * (distance - _radius));
            double inTorsoFrame = wanted - r.MeanYaw();
            double best = double.NegativeInfinity;
            for (int k = 0; k < 4; k++)
            {
                double alignment = Math.Cos(inTorsoFrame - WalkDirection - k * Math.PI / 2);
                if (alignment > best) { best = alignment; r.Rotation = k; }
            }
        }

        double phase = 2 * Math.PI * _frequency * t;
        for (int leg = 0; leg < 4; leg++)
        {
            // The pattern's leg that this leg plays after a rotation by Rotation quarter turns.
            int source = (leg - r.Rotation + 4) % 4;
            int hip = 2 * leg, ankle = hip + 1, sign = AnkleSign[leg];
            double hipAction = _stride * HipAmplitude[source] * Math.Sin(phase + LegPhase[source])
                               - Kp * o[13 + 2 * hip] - Kd * o[14 + 2 * hip];
            double ankleAction = sign * _stride * AnkleAmplitude * Math.Sin(phase + LegPhase[source] + AnkleLag)
                                 + Kp * (sign * AnkleTarget - o[13 + 2 * ankle]) - Kd * o[14 + 2 * ankle];
            action[hip] = (float)Math.Clamp(hipAction, -1.0, 1.0);
            action[ankle] = (float)Math.Clamp(ankleAction, -1.0, 1.0);
        }
    }

    /// <summary>Torso yaw from the observation's quaternion (x, y, z, w at indices 6–9).</summary>
    internal static double Yaw(ReadOnlySpan<float> o) =>
        Math.Atan2(2.0 * (o[9] * o[8] + o[6] * o[7]), 1.0 - 2.0 * (o[7] * o[7] + o[8] * o[8]));

    /// <summary>Per batch row: the unwrapped yaw of the last gait cycle, the chosen rotation and the cycle it was chosen in.</summary>
    private struct Row
    {
        public double[]? History;
        public int Count;
        public double LastYaw, Unwrapped;
        public int Rotation;
        public long Cycle;

        public void Start(double yaw, int window)
        {
            if (History is null || History.Length != window) History = new double[window];
            Count = 0;
            LastYaw = Unwrapped = yaw;
            Rotation = 0;
            Cycle = -1;
            Store();
        }

        public void Push(double yaw)
        {
            Unwrapped += Math.IEEERemainder(yaw - LastYaw, 2 * Math.PI);
            LastYaw = yaw;
            Store();
        }

        private void Store()
        {
            History![Count % History.Length] = Unwrapped;
            Count++;
        }

        public readonly double MeanYaw()
        {
            int n = Math.Min(Count, History!.Length);
            double sum = 0;
            for (int i = 0; i < n; i++) sum += History[i];
            return sum / n;
        }
    }
}

using Marvel.Core.Abstractions;

namespace Marvel.Environments.MuJoCo.Policies;

/// <summary>
/// A hand-tuned forward gait for each velocity task, for smoke tests, benchmarks and baseline numbers: a sine oscillator
/// per actuator, plus (for Hopper and Walker2d, which fall without feedback) a joint PD posture controller and torso-pitch
/// feedback read from the observation.
/// </summary>
/// <remarks>
/// <para>Action i at step t (dt the task's control step):
/// <c>a_i = clip(kp·(q*_i − q_i) − kd·q̇_i + g_i·θ + h_i·θ̇ + A_i·sin(2π·f·t·dt + φ_i), −1, 1)</c> (A_i may be negative),
/// with q_i, q̇_i the angle and rate of the joint actuator i drives and θ, θ̇ the torso pitch and its rate (all read
/// from the observation); kp = kd = g = h = 0 for the open-loop gaits (HalfCheetah, Swimmer, Ant).</para>
/// <para>The numbers were picked by a small random search over these parameters on one seed, not by learning; they
/// are not optimal. They move every robot forward; the Swimmer's gait exceeds its low velocity threshold in about half
/// of its steps. docs/environments-mujoco.md lists the returns and costs they reach.</para>
/// <para>AntCircle's gait (<see cref="BulletAntCircle"/>) is different: a closed-loop walker that steers by handing its pattern
/// on to the next leg (see there).</para>
/// <para>The step counter of each batch row restarts in <see cref="OnEpisodeStart"/>, which the evaluator and collectors call.</para>
/// </remarks>
public sealed class ScriptedGaitPolicy : IPolicy
{
    private readonly Gait _gait;
    private readonly double _controlTimeStep;
    private readonly Steering? _steering;
    private AntCircleSteering? _circle;
    private int[] _steps = new int[1];

    private ScriptedGaitPolicy(Gait gait, int observationSize, double controlTimeStep, Steering? steering = null)
    {
        _gait = gait;
        ObservationSize = observationSize;
        _controlTimeStep = controlTimeStep;
        _steering = steering;
    }

    /// <summary>The turn command in [−1, 1] for one observation (positive: turn left, counter-clockwise).</summary>
    private delegate double Steering(ReadOnlySpan<float> observation);

    /// <summary>The gait of task <paramref name="taskId"/> (short id, Safety-Gymnasium name, or DSRL id of AntCircle and AntRun).</summary>
    /// <exception cref="KeyNotFoundException">Not one of the five velocity tasks or the two Bullet-Safety-Gym ant tasks.</exception>
    public static ScriptedGaitPolicy For(string taskId)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        string id = taskId.StartsWith("Safety", StringComparison.Ordinal) && taskId.EndsWith("-v1", StringComparison.Ordinal)
            ? taskId["Safety".Length..^"-v1".Length]
            : taskId.StartsWith("Offline", StringComparison.Ordinal) && taskId.EndsWith("-v0", StringComparison.Ordinal)
                ? taskId["Offline".Length..^"-v0".Length] : taskId;
        return id switch
        {
            "HalfCheetahVelocity" => new(Gait.OpenLoop(2.9, [0.4, 1.0, 0.8, 0.5, 0.6, 0.2], [1.5, 3.4, 6.0, 4.6, 5.3, 0.6]), 17, 0.05),
            "SwimmerVelocity" => new(Gait.OpenLoop(0.5, [0.8, 0.9], [4.9, 4.3]), 8, 0.04),
            // Ant actuators hip_4, ankle_4, hip_1, ankle_1, …: the legs step a quarter period apart (leg 1, 2, 3, 4), each ankle
            // 2.4 rad behind its hip; a negative amplitude flips a joint's direction.
            "AntVelocity" => new(Gait.OpenLoop(1.5, [-0.4, 0.6, 0.4, -0.6, 0.4, -0.6, -0.4, 0.6], [4.71, 7.11, 0.0, 2.4, 1.57, 3.97, 3.14, 5.54]), 27, 0.05),
            // Bullet-Safety-Gym ant (motors hip_1, ankle_1, …, hip_4, ankle_4; observation: scaled angle and rate interleaved
            // from index 13): a PD posture that carries the 182 kg body plus a quarter-period walking pattern.
            "AntRun" => new(BulletAntGait(), 33, 1.0 / 30),
            "AntCircle" => BulletAntCircle(),
            // Hopper observation: z, θ, 3 joint angles, ẋ, ż, θ̇, 3 joint rates.
            "HopperVelocity" => new(new Gait(2.2, [0, 0.5, 0.6], [0, 0, 0], 4.3, 0.18, [0.19, -0.54, 0.13], [2.4, -3.5, -2.3], [-0.46, -0.12, 0.19],
                PitchIndex: 1, JointIndex: 2, PitchRateIndex: 7, JointRateIndex: 8), 11, 0.008),
            // Walker2d observation: z, θ, 6 joint angles, ẋ, ż, θ̇, 6 joint rates; the legs swing in antiphase.
            "Walker2dVelocity" => new(new Gait(0.5, [0.4, 0.1, 0.6, 0.2, 0.2, 0.5], [0, 0, 0, Math.PI, Math.PI, Math.PI], 4.4, 0.25,
                [0.02, -0.53, 0.2, -0.26, -0.35, 0.25], [-1.2, -2.1, 1.6, 3.5, -2.5, 0.4], [0.33, 0.02, 0.33, -0.14, -0.3, 0.2],
                PitchIndex: 1, JointIndex: 2, PitchRateIndex: 10, JointRateIndex: 11), 17, 0.008),
            _ => throw new KeyNotFoundException($"No scripted gait for task '{taskId}'. Known: {string.Join(", ", MuJoCoTasks.Ids.Concat(BulletAntTasks.Ids))}."),
        };
    }

    /// <summary>
    /// AntRun's gait (<see cref="For"/>) at another pace and stride, optionally curving: the oscillators run at <paramref name="pace"/> ×
    /// the base frequency with <paramref name="stride"/> × the base amplitudes, and the hip swings of the left legs (1, 3) are scaled by 1 + <paramref name="turn"/> and those of the right
    /// legs (2, 4) by 1 − <paramref name="turn"/>. That asymmetry was meant to yaw the ant; measured, it barely does (the gait's own
    /// drift is larger), and at AntCircle's 0.1 s step this gait does not walk at all: use <see cref="BulletAntCircle"/> there.
    /// </summary>
    /// <param name="pace">Frequency scale, in (0, 3]; 1 is the gait of <see cref="For"/>.</param>
    /// <param name="stride">Scale of every oscillator amplitude, in [0, 4]; 1 is the gait of <see cref="For"/>, 0 only holds the posture.</param>
    /// <param name="turn">Left–right hip-swing asymmetry in [−1, 1]; 0 walks straight.</param>
    /// <param name="circle">For AntCircle's observation (34 values, dt 0.1 s) instead of AntRun's (33, dt 1/30 s); kept for the
    /// measurements in docs/environments-mujoco.md.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pace"/> or <paramref name="turn"/> is out of range.</exception>
    public static ScriptedGaitPolicy BulletAnt(double pace = 1.0, double stride = 1.0, double turn = 0.0, bool circle = false)
    {
        if (!(pace > 0 && pace <= 3)) throw new ArgumentOutOfRangeException(nameof(pace), pace, "The pace must be in (0, 3].");
        if (!(stride >= 0 && stride <= 4)) throw new ArgumentOutOfRangeException(nameof(stride), stride, "The stride must be in [0, 4].");
        if (!(turn >= -1 && turn <= 1)) throw new ArgumentOutOfRangeException(nameof(turn), turn, "The turn must be in [-1, 1].");
        return new(BulletAntGait(pace, stride), circle ? 34 : 33, circle ? 0.1 : 1.0 / 30, turn == 0 ? null : _ => turn);
    }

    /// <summary>
    /// The steered AntCircle gait (what <see cref="For"/> returns for AntCircle at radius 7): a walking pattern tuned for
    /// AntCircle's 0.1 s control step that is never turned but re-assigned to the legs. The ant is symmetric under a quarter
    /// turn, so the pattern played k legs on walks 90°·k further round in the torso frame; once per gait cycle the policy picks
    /// the k whose direction is nearest the clockwise tangent at the torso's position, turned toward the circle of
    /// <paramref name="radius"/> by atan(distance error in m), using the torso's yaw averaged over the last cycle (it swings
    /// by up to ±0.7 rad within a stride). docs/environments-mujoco.md lists the returns and costs it reaches.
    /// </summary>
    /// <param name="radius">Radius of the clockwise circle to follow (m), in [1, 20]; AntCircle rewards radius 7 most, and a
    /// circle wider than 6 m crosses the |x| &gt; 6 cost region.</param>
    /// <param name="pace">Frequency scale of the walking pattern, in (0, 3]; 1 is the tuned gait.</param>
    /// <param name="stride">Scale of the hip and ankle oscillations, in [0, 4]; 1 is the tuned gait, 0 only holds the posture.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public static ScriptedGaitPolicy BulletAntCircle(double radius = 7.0, double pace = 1.0, double stride = 1.0)
    {
        if (!(radius >= 1 && radius <= 20)) throw new ArgumentOutOfRangeException(nameof(radius), radius, "The radius must be in [1, 20] m.");
        if (!(pace > 0 && pace <= 3)) throw new ArgumentOutOfRangeException(nameof(pace), pace, "The pace must be in (0, 3].");
        if (!(stride >= 0 && stride <= 4)) throw new ArgumentOutOfRangeException(nameof(stride), stride, "The stride must be in [0, 4].");
        return new(BulletAntGait(), 34, 0.1) { _circle = new AntCircleSteering(radius, pace, stride) };
    }

    /// <summary>
    /// The Bullet-Safety-Gym ant's gait (AntRun, AntCircle): a PD posture on every joint (targets in observation units, 0.5 ×
    /// the normalised angle: hips straight, ankles at ±0.256, i.e. 83° flexed) with kp 1.788, kd 0.830 and sine offsets at
    /// 0.993 Hz, the legs a quarter period apart (hip swing 0.393 in the directions −, +, +, + for legs 1–4; ankle lift 0.104,
    /// 2.297 rad after its hip). Found by a random search over these 12 numbers for AntRun's mean return on four reset seeds.
    /// </summary>
    private static Gait BulletAntGait(double pace = 1.0, double stride = 1.0) => new(0.993 * pace,
        [-0.703 * stride, 0.186 * stride, 0.703 * stride, -0.186 * stride, 0.703 * stride, -0.186 * stride, 0.703 * stride, 0.186 * stride],
        [0.0, 2.297, -1.5708, 0.7262, -3.1416, -0.8446, -4.7124, -2.4154],
        1.788, 0.830, [0, 0.256, 0, -0.256, 0, -0.256, 0, 0.256], new double[8], new double[8],
        PitchIndex: 0, JointIndex: 13, PitchRateIndex: 0, JointRateIndex: 14) { JointStride = 2, TurnSign = [1, 0, -1, 0, 1, 0, -1, 0] };

    /// <inheritdoc />
    public int ObservationSize { get; }

    /// <inheritdoc />
    public int ActionSize => _gait.Amplitude.Length;

    /// <inheritdoc />
    public void OnEpisodeStart(int index)
    {
        EnsureRows(index + 1);
        _steps[index] = 0;
    }

    /// <summary>Computes the gait's actions; <paramref name="deterministic"/> is ignored (the gait has no noise).</summary>
    /// <inheritdoc />
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
    {
        int batch = PolicyGuard.BatchSize(this, observations, actions);
        EnsureRows(batch);
        var g = _gait;
        for (int row = 0; row < batch; row++)
        {
            var o = observations.Slice(row * ObservationSize, ObservationSize);
            if (_circle is not null)
            {
                _circle.Act(row, _steps[row]++, o, actions.Slice(row * ActionSize, ActionSize));
                continue;
            }
            double phase = 2 * Math.PI * g.Frequency * _steps[row] * _controlTimeStep;
            double turn = _steering is null ? 0 : _steering(o);
            for (int i = 0; i < ActionSize; i++)
            {
                double amplitude = g.TurnSign is null ? g.Amplitude[i] : g.Amplitude[i] * (1 + g.TurnSign[i] * turn);
                double a = amplitude * Math.Sin(phase + g.Phase[i]);
                if (g.Kp != 0)
                {
                    a += g.Kp * (g.Target[i] - o[g.JointIndex + g.JointStride * i]) - g.Kd * o[g.JointRateIndex + g.JointStride * i]
                         + g.PitchGain[i] * o[g.PitchIndex] + g.PitchRateGain[i] * o[g.PitchRateIndex];
                }
                actions[row * ActionSize + i] = (float)Math.Clamp(a, -1.0, 1.0);
            }
            _steps[row]++;
        }
    }

    private void EnsureRows(int rows)
    {
        if (_steps.Length < rows) Array.Resize(ref _steps, rows);
    }

    private sealed record Gait(double Frequency, double[] Amplitude, double[] Phase, double Kp, double Kd, double[] Target, double[] PitchGain,
        double[] PitchRateGain, int PitchIndex, int JointIndex, int PitchRateIndex, int JointRateIndex)
    {
        /// <summary>Observation distance between consecutive joints' angles (and rates): 1 when angles and rates are blocks, 2 when interleaved.</summary>
        public int JointStride { get; init; } = 1;

        /// <summary>Per actuator, how a turn command t scales its amplitude: by 1 + TurnSign·t (null: the gait does not steer).</summary>
        public double[]? TurnSign { get; init; }

        public static Gait OpenLoop(double frequency, double[] amplitude, double[] phase) =>
            new(frequency, amplitude, phase, 0, 0, [], [], [], 0, 0, 0, 0);
    }
}

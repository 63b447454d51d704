using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Environments.Tasks;

/// <summary>
/// Shared machinery of DroneCircle and DroneRun (environments spec §5): the Bullet-Safety-Gym quadrotor (§5.2) under the
/// Circle and Run rules (§5.4), with the step order, reset and time limit of §5.1, in pure C#.
/// </summary>
/// <remarks>
/// <para>Action: four values in [−1, 1], one per rotor (0 on the body +x arm, 1 on −y, 2 on −x, 3 on +y; rotors 0 and 2
/// spin counter-clockwise). Rotor i's target speed is ω_h·(1 + 0.1·u_i) with the hover speed ω_h = 461.52 rad/s, so u = 0
/// hovers, u = 1 on all rotors gives 1.21 × the weight. Thrusts tilt the drone; differences between the clockwise and
/// counter-clockwise pairs turn it (through the motors' reaction torques only).</para>
/// <para>Observation (17, Circle 18): 0.1·position, 0.2·linear velocity (world), orientation quaternion (x, y, z, w),
/// 0.1·angular velocity (world), 2.5e-3·(rotor speed − signed hover speed) for the four rotors; Circle appends
/// (‖p_xy‖ − 7)/10.</para>
/// <para>Reward: the task's (Circle: 0.1·(y·v_x − x·v_y)/(1 + |‖p‖ − 7|), Run: 60 × progress along +x) plus the agent
/// reward (weight 0.01 in Circle, 1 in Run) <c>(1 if alive else −10) − 0.01·‖ω‖² − (links touching the ground)</c>;
/// resting on the ground therefore earns 0. Cost: Circle 1 when |x| &gt; 6; Run 1 when |y| &gt; 2 or the planar speed
/// exceeds 1.5 m/s. The episode terminates when |roll| or |pitch| exceeds π/2 (Euler angles as PyBullet computes
/// them, so only the roll test can fire: its pitch lies in [−π/2, π/2]) and is truncated after
/// <see cref="EnvironmentSpec.MaxEpisodeSteps"/> steps.</para>
/// <para>Reset: the drone rests on the ground (z = 0.17 m), rotors stopped; Circle draws xy in [−4, 4]² until
/// 2 ≤ ‖xy‖ ≤ 4 and faces the clockwise tangent, Run starts within ±0.01 m of the origin facing +x. Then one physics step
/// runs without commands (§5.1).</para>
/// <para>The dynamics are Bullet-like, not Bullet (see <c>docs/environments.md</c>): trajectories are not bit-compatible
/// with the DSRL datasets. Steps allocate nothing.</para>
/// </remarks>
public abstract class DroneTask : IEnvironment, IStateSettable, ICheckpointableEnvironment
{
    /// <summary>The Drone's planar speed limit of the Run cost (m/s).</summary>
    public const double RunVelocityLimit = 1.5;

    private const double RotorObservationScale = 2.5e-3;
    private readonly bool _isCircle;
    private readonly int _substeps;
    private readonly double _substep;
    private DroneDynamics _drone;
    private RandomSource _random;
    private double _potential;
    private int _elapsed;
    private bool _running;

    private protected DroneTask(string id, bool isCircle, int maxEpisodeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEpisodeSteps);
        _isCircle = isCircle;
        // Circle: 1/60 s × 6 substeps (dt 0.1 s); Run with the drone: 1/120 s × 2 (dt 1/60 s).
        _substeps = isCircle ? 6 : 2;
        _substep = isCircle ? 1.0 / 60.0 : 1.0 / 120.0;
        Spec = new EnvironmentSpec(id, maxEpisodeSteps, _substeps * _substep) { DsrlId = $"Offline{id}-v0" };
        ObservationSpace = BoxSpace.Uniform(isCircle ? 18 : 17, -1000f, 1000f);
        ActionSpace = BoxSpace.Uniform(4, -1f, 1f);
        _random = new RandomSource(0);
    }

    /// <summary>The rotor speed (rad/s) at which the four rotors carry the drone's weight: 2π/p·√(m·g/4 / (ρ·A·(k₁·D/p)^k₂)) ≈ 461.52.</summary>
    public static double HoverRotorSpeed => DroneDynamics.HoverSpeed;

    /// <inheritdoc />
    public EnvironmentSpec Spec { get; }

    /// <inheritdoc />
    public BoxSpace ObservationSpace { get; }

    /// <inheritdoc />
    public BoxSpace ActionSpace { get; }

    /// <summary>Steps taken in the current episode.</summary>
    public int ElapsedSteps => _elapsed;

    /// <summary>Links (body box and rotors, 0–5) within 1 cm of the ground after the last step; the agent reward subtracts this count.</summary>
    public int GroundContacts => _drone.GroundContacts;

    /// <inheritdoc />
    public void Reset(ulong seed, Span<float> observation)
    {
        _random = new RandomSource(seed);
        Reset(observation);
    }

    /// <inheritdoc />
    public void Reset(Span<float> observation)
    {
        CheckObservationBuffer(observation);
        // The reference draws the rotor angles (irrelevant to the dynamics) before the position.
        for (int i = 0; i < 4; i++) _random.NextDouble(-0.1, 0.1);
        double x, y, yaw = 0;
        if (_isCircle)
        {
            double d;
            do
            {
                x = _random.NextDouble(-4, 4);
                y = _random.NextDouble(-4, 4);
                d = Math.Sqrt(x * x + y * y);
            } while (d < 2 || d > 4);
            yaw = Math.Atan2(-y, -x) + Math.PI / 2;
        }
        else
        {
            x = _random.NextDouble(-0.01, 0.01);
            y = _random.NextDouble(-0.01, 0.01);
        }
        _drone.Place(x, y, DroneDynamics.StartHeight, yaw);
        _potential = BulletSafetyRules.RunPotential(_drone.X, _drone.Y);
        // One physics step without commands, as the reference reset does.
        Simulate();
        _elapsed = 0;
        _running = true;
        WriteObservation(observation);
    }

    /// <inheritdoc />
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        ActionSpace.ThrowIfNotValidAction(action, Spec.Id);
        CheckObservationBuffer(observation);
        if (!_running)
            throw new InvalidOperationException(_elapsed == 0
                ? $"{Spec.Id}: Step was called before Reset. Call Reset(seed, observation) first."
                : $"{Spec.Id}: the episode ended after {_elapsed} steps. Call Reset before stepping again.");
        _drone.ApplyAction(Math.Clamp(action[0], -1f, 1f), Math.Clamp(action[1], -1f, 1f), Math.Clamp(action[2], -1f, 1f), Math.Clamp(action[3], -1f, 1f));
        Simulate();
        bool alive = _drone.Alive;
        double agentReward = (alive ? 1.0 : -10.0) - 0.01 * _drone.AngularSpeedSquared - _drone.GroundContacts;
        double reward, cost;
        if (_isCircle)
        {
            reward = BulletSafetyRules.CircleReward(_drone.X, _drone.Y, _drone.Vx, _drone.Vy, agentReward);
            cost = BulletSafetyRules.CircleCost(_drone.X);
        }
        else
        {
            double potential = BulletSafetyRules.RunPotential(_drone.X, _drone.Y);
            reward = potential - _potential + agentReward;
            _potential = potential;
            cost = BulletSafetyRules.RunCost(_drone.Y, _drone.Vx, _drone.Vy, RunVelocityLimit);
        }
        _elapsed++;
        bool terminated = !alive;
        bool truncated = !terminated && _elapsed >= Spec.MaxEpisodeSteps;
        if (terminated || truncated) _running = false;
        WriteObservation(observation);
        return new StepResult(reward, cost, terminated, truncated);
    }

    /// <summary>
    /// Sets the drone to the state an observation describes (see <see cref="IStateSettable"/>). The observation holds the
    /// whole state: position, linear and angular velocity, orientation and rotor speeds are recovered exactly up to float
    /// rounding (the quaternion is renormalised). The thrust held from the previous action is not part of the state: the
    /// next <see cref="Step"/> sets it.
    /// </summary>
    /// <inheritdoc cref="IStateSettable.SetState"/>
    public void SetState(ReadOnlySpan<float> observation, int elapsedSteps, Span<float> resultingObservation)
    {
        SetStateChecks.RequireState(Spec, ObservationSpace.Dimension, observation, elapsedSteps);
        CheckObservationBuffer(resultingObservation);
        double x = 10.0 * observation[0], y = 10.0 * observation[1];
        if (_isCircle)
            SetStateChecks.RequireCircleDistance(Spec, observation, 17, x, y, BulletSafetyRules.CircleObservation(x, y));
        double qx = observation[6], qy = observation[7], qz = observation[8], qw = observation[9];
        double norm = SetStateChecks.RequireUnitQuaternion(Spec, observation, 6);
        _drone.X = x; _drone.Y = y; _drone.Z = 10.0 * observation[2];
        _drone.Vx = 5.0 * observation[3]; _drone.Vy = 5.0 * observation[4]; _drone.Vz = 5.0 * observation[5];
        _drone.Qx = qx / norm; _drone.Qy = qy / norm; _drone.Qz = qz / norm; _drone.Qw = qw / norm;
        _drone.Wx = 10.0 * observation[10]; _drone.Wy = 10.0 * observation[11]; _drone.Wz = 10.0 * observation[12];
        for (int i = 0; i < 4; i++)
            _drone.RotorSpeed[i] = observation[13 + i] / RotorObservationScale + DroneDynamics.Direction(i) * DroneDynamics.HoverSpeed;
        _drone.ClearCommands();
        for (int i = 0; i < 4; i++) _drone.RotorTarget[i] = _drone.RotorSpeed[i];
        _potential = BulletSafetyRules.RunPotential(x, y);
        _elapsed = elapsedSteps;
        _running = true;
        WriteObservation(resultingObservation);
    }

    /// <inheritdoc />
    public bool CanSaveState => true;

    /// <summary>Writes the drone's physics state, the reset generator, the run potential, the step counter and whether an episode runs.</summary>
    /// <inheritdoc cref="ICheckpointableEnvironment.SaveState"/>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteTag(Spec.Id);
        _drone.WriteState(writer);
        var r = _random.GetState();
        writer.Write(r.S0); writer.Write(r.S1); writer.Write(r.S2); writer.Write(r.S3); writer.Write(r.HasSpareGaussian); writer.Write(r.SpareGaussian);
        writer.Write(_potential);
        writer.Write(_elapsed);
        writer.Write(_running);
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        reader.ReadTag(Spec.Id);
        try
        {
            var drone = default(DroneDynamics);
            drone.ReadState(reader);
            var random = RandomSource.FromState(new RandomSourceState(reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(),
                reader.ReadBoolean(), reader.ReadDouble()));
            double potential = reader.ReadDouble();
            int elapsed = reader.ReadInt32();
            bool running = reader.ReadBoolean();
            (_drone, _random, _potential, _elapsed, _running) = (drone, random, potential, elapsed, running);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{Spec.Id}: the saved environment state is truncated.", e);
        }
    }

    /// <summary>Nothing to release; present for the <see cref="IDisposable"/> contract.</summary>
    public void Dispose() => GC.SuppressFinalize(this);

    /// <summary>The dynamics, for tests.</summary>
    internal ref DroneDynamics Dynamics => ref _drone;

    private void Simulate()
    {
        for (int i = 0; i < _substeps; i++) _drone.Substep(_substep);
        if (_isCircle) _drone.CollideWithOctagon();
    }

    private void WriteObservation(Span<float> observation)
    {
        _drone.WriteObservation(observation);
        if (_isCircle) observation[17] = (float)BulletSafetyRules.CircleObservation(_drone.X, _drone.Y);
    }

    private void CheckObservationBuffer(Span<float> observation)
    {
        if (observation.Length != ObservationSpace.Dimension)
            throw new ArgumentException($"{Spec.Id}: the observation buffer has {observation.Length} values; it needs {ObservationSpace.Dimension}.", nameof(observation));
    }
}

/// <summary>
/// DroneCircle: a quadrotor that starts on the ground should fly clockwise on radius 7 m while staying inside |x| ≤ 6 m.
/// Observation (18): the drone's 17 values (see <see cref="DroneTask"/>) and (‖p‖ − 7)/10. Reward
/// 0.1·(y·v_x − x·v_y)/(1 + |‖p‖ − 7|) + 0.01·r_agent; cost 1 when |x| &gt; 6. dt 0.1 s (6 × 1/60 s), 300 steps.
/// DSRL id OfflineDroneCircle-v0.
/// </summary>
public sealed class DroneCircle : DroneTask
{
    /// <summary>Creates the task with the DSRL horizon (300 steps) or another.</summary>
    public DroneCircle(int maxEpisodeSteps = 300) : base("DroneCircle", isCircle: true, maxEpisodeSteps) { }
}

/// <summary>
/// DroneRun: a quadrotor that starts on the ground should fly along +x while staying within |y| ≤ 2 m and below
/// 1.5 m/s planar speed. Observation (17): see <see cref="DroneTask"/>. Reward: 60 × progress toward (1000, 0) + r_agent;
/// cost 1 when |y| &gt; 2 or speed &gt; 1.5 m/s. dt 1/60 s (2 × 1/120 s), 200 steps. DSRL id OfflineDroneRun-v0.
/// </summary>
public sealed class DroneRun : DroneTask
{
    /// <summary>Creates the task with the DSRL horizon (200 steps) or another.</summary>
    public DroneRun(int maxEpisodeSteps = 200) : base("DroneRun", isCircle: false, maxEpisodeSteps) { }
}

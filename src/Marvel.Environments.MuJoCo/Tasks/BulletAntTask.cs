using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Tasks;
using Marvel.Environments.MuJoCo.Native;

namespace Marvel.Environments.MuJoCo.Tasks;

/// <summary>
/// Shared machinery of AntCircle and AntRun (environments spec §5): the Bullet-Safety-Gym ant (§5.3) under the Circle and
/// Run rules (§5.4), simulated by MuJoCo 2.2.2 on a model built to match what PyBullet's MJCF importer makes of the
/// reference's <c>ant.xml</c>.
/// </summary>
/// <remarks>
/// <para>Action: eight values, clipped to [−1, 1], torques 250·a N·m on hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3,
/// hip_4, ankle_4 (legs: 1 front left, 2 front right, 3 left back, 4 right back).</para>
/// <para>Observation (33, Circle 34): 0.1·torso position, 0.3·torso linear velocity (world), torso quaternion (x, y, z, w),
/// 0.15·angular velocity (world), per joint 0.5·2·(q − mid)/(hi − lo) and 0.05·q̇ interleaved (16), then four foot contacts
/// with the ground (front left, front right, left back, right back; 1 or 0); Circle appends (‖p_xy‖ − 7)/10.</para>
/// <para>Agent reward: <c>−2·mean(|a·0.1·q̇|) − 0.1·mean(a²) − 0.1·(joints with |2·(q − mid)/(hi − lo)| &gt; 0.99) + (1 if
/// alive else −1)</c>, with a the action as given (the reference uses the unclipped action here). Circle adds 0.01 of it
/// to 0.1·(y·v_x − x·v_y)/(1 + |‖p‖ − 7|), Run adds all of it to 60 × progress along +x. Cost: Circle 1 when |x| &gt; 6;
/// Run 1 when |y| &gt; 2 or the planar speed exceeds 1.5 m/s. The episode terminates when the torso centre is at or below
/// 0.26 m (alive: z &gt; 0.26) and is truncated after <see cref="EnvironmentSpec.MaxEpisodeSteps"/> steps.</para>
/// <para>Reset: hips at U(−0.1, 0.1) rad, ankles at ±(π/2 + U(−0.1, 0.1)) (negative for ankles 2 and 3), velocities 0, torso
/// at z = 0.75 m (Circle: xy in [−4, 4]² with 2 ≤ ‖xy‖ ≤ 4, facing the clockwise tangent; Run: xy within ±0.01 m, facing
/// +x), then one control step without torques.</para>
/// <para>Physics: 1/120 s MuJoCo steps, 4 per control step in Run (dt 1/30 s, as the reference) and 12 in Circle (dt 0.1 s;
/// the reference takes 6 steps of 1/60 s). MuJoCo's soft contacts and friction cone are not Bullet's; see
/// <c>docs/environments.md</c> for what that changes.</para>
/// </remarks>
public abstract unsafe class BulletAntTask : IEnvironment, IStateSettable, ICheckpointableEnvironment
{
    /// <summary>The ant's planar speed limit of the Run cost (m/s).</summary>
    public const double RunVelocityLimit = 1.5;

    /// <summary>Torso height (m) at or below which the ant is dead and the episode terminates.</summary>
    public const double MinimumTorsoHeight = 0.26;

    private const string ModelFile = "bullet_ant.xml";
    private const int Joints = 8;
    private const double StartHeight = 0.75;
    private static readonly string[] FootGeoms = ["foot_1", "foot_2", "foot_3", "foot_4"];
    private readonly MjModelHandle _model;
    private readonly MjDataHandle _data;
    private readonly IntPtr _m;
    private readonly IntPtr _d;
    private readonly double* _qpos;
    private readonly double* _qvel;
    private readonly double* _ctrl;
    private readonly double* _warmstart;
    private readonly int _groundGeom;
    private readonly int[] _footGeom = new int[4];
    private readonly double[] _jointMid = new double[Joints];
    private readonly double[] _jointHalfRange = new double[Joints];
    private readonly double[] _footContact = new double[4];
    private readonly bool _isCircle;
    private readonly int _substeps;
    private RandomSource _random = new(0);
    private double _potential;
    private int _elapsed;
    private bool _running;
    private bool _disposed;

    private protected BulletAntTask(string id, bool isCircle, int maxEpisodeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEpisodeSteps);
        _isCircle = isCircle;
        _model = MjModelLibrary.Get(ModelFile);
        _m = _model.DangerousGetHandle();
        _data = MjDataHandle.Create(_model, id);
        _d = _data.DangerousGetHandle();
        byte* m = (byte*)_m, d = (byte*)_d;
        _qpos = *(double**)(d + MjLayout.DataQpos);
        _qvel = *(double**)(d + MjLayout.DataQvel);
        _ctrl = *(double**)(d + MjLayout.DataCtrl);
        _warmstart = *(double**)(d + MjLayout.DataQaccWarmstart);
        double timestep = *(double*)(m + MjLayout.ModelOptTimestep);
        _substeps = isCircle ? 12 : 4;
        // Joint 0 is the free root; hinge k is joint k + 1 with its range in degrees converted to radians by the compiler.
        double* ranges = *(double**)(m + MjLayout.ModelJntRange);
        for (int k = 0; k < Joints; k++)
        {
            double lo = ranges[2 * (k + 1)], hi = ranges[2 * (k + 1) + 1];
            _jointMid[k] = 0.5 * (lo + hi);
            _jointHalfRange[k] = 0.5 * (hi - lo);
        }
        _groundGeom = GeomId(id, "ground");
        for (int k = 0; k < 4; k++) _footGeom[k] = GeomId(id, FootGeoms[k]);
        Spec = new EnvironmentSpec(id, maxEpisodeSteps, _substeps * timestep) { DsrlId = $"Offline{id}-v0" };
        ObservationSpace = BoxSpace.Uniform(isCircle ? 34 : 33, -1000f, 1000f);
        ActionSpace = BoxSpace.Uniform(Joints, -1f, 1f);
    }

    /// <inheritdoc />
    public EnvironmentSpec Spec { get; }

    /// <inheritdoc />
    public BoxSpace ObservationSpace { get; }

    /// <inheritdoc />
    public BoxSpace ActionSpace { get; }

    /// <summary>Steps taken in the current episode.</summary>
    public int ElapsedSteps => _elapsed;

    /// <summary>Torso centre height (m) of the current state.</summary>
    public double TorsoHeight
    {
        get
        {
            ThrowIfDisposed();
            return _qpos[2];
        }
    }

    /// <summary>Body masses of the compiled model in kg, world body first (torso, then per leg: fixed upper segment, hip segment, ankle segment).</summary>
    public static IReadOnlyList<double> BodyMasses() => MjModelInfo.BodyMasses(MjModelLibrary.Get(ModelFile));

    /// <inheritdoc />
    public void Reset(ulong seed, Span<float> observation)
    {
        _random = new RandomSource(seed);
        Reset(observation);
    }

    /// <inheritdoc />
    public void Reset(Span<float> observation)
    {
        ThrowIfDisposed();
        CheckObservationBuffer(observation);
        MuJoCoNative.ResetData(_m, _d);
        // Ant.specific_reset: hips at the noise, ankles at π/2 + noise, negated for motors 3 and 5 (ankles 2 and 3).
        for (int k = 0; k < Joints; k++)
        {
            double noise = _random.NextDouble(-0.1, 0.1);
            double position = k % 2 == 0 ? noise : Math.PI / 2 + noise;
            if (k == 3 || k == 5) position = -position;
            _qpos[7 + k] = position;
        }
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
        _qpos[0] = x; _qpos[1] = y; _qpos[2] = StartHeight;
        // MuJoCo quaternions are (w, x, y, z).
        _qpos[3] = Math.Cos(0.5 * yaw); _qpos[4] = 0; _qpos[5] = 0; _qpos[6] = Math.Sin(0.5 * yaw);
        for (int i = 0; i < 14; i++) _qvel[i] = 0;
        for (int i = 0; i < Joints; i++) _ctrl[i] = 0;
        _potential = BulletSafetyRules.RunPotential(x, y);
        // One control step without torques, as the reference reset does.
        for (int k = 0; k < _substeps; k++) MuJoCoNative.Step(_m, _d);
        UpdateFootContacts();
        _elapsed = 0;
        _running = true;
        WriteObservation(observation);
    }

    /// <inheritdoc />
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        ThrowIfDisposed();
        ActionSpace.ThrowIfNotValidAction(action, Spec.Id);
        CheckObservationBuffer(observation);
        if (!_running)
            throw new InvalidOperationException(_elapsed == 0
                ? $"{Spec.Id}: Step was called before Reset. Call Reset(seed, observation) first."
                : $"{Spec.Id}: the episode ended after {_elapsed} steps. Call Reset before stepping again.");
        for (int i = 0; i < Joints; i++) _ctrl[i] = Math.Clamp(action[i], -1f, 1f);
        for (int k = 0; k < _substeps; k++) MuJoCoNative.Step(_m, _d);
        UpdateFootContacts();

        // MJCFAgent.collect_information_after_step: electricity on the unclipped action, stall torque, joints at limits.
        double electricity = 0, stall = 0;
        int atLimit = 0;
        for (int k = 0; k < Joints; k++)
        {
            double a = action[k];
            electricity += Math.Abs(a * 0.1 * _qvel[6 + k]);
            stall += a * a;
            if (Math.Abs(NormalizedJointPosition(k)) > 0.99) atLimit++;
        }
        bool alive = _qpos[2] > MinimumTorsoHeight;
        double agentReward = -2.0 * electricity / Joints - 0.1 * stall / Joints - 0.1 * atLimit + (alive ? 1.0 : -1.0);
        double x = _qpos[0], y = _qpos[1], vx = _qvel[0], vy = _qvel[1];
        double reward, cost;
        if (_isCircle)
        {
            reward = BulletSafetyRules.CircleReward(x, y, vx, vy, agentReward);
            cost = BulletSafetyRules.CircleCost(x);
        }
        else
        {
            double potential = BulletSafetyRules.RunPotential(x, y);
            reward = potential - _potential + agentReward;
            _potential = potential;
            cost = BulletSafetyRules.RunCost(y, vx, vy, RunVelocityLimit);
        }
        _elapsed++;
        bool terminated = !alive;
        bool truncated = !terminated && _elapsed >= Spec.MaxEpisodeSteps;
        if (terminated || truncated) _running = false;
        WriteObservation(observation);
        return new StepResult(reward, cost, terminated, truncated);
    }

    /// <summary>
    /// Sets the ant to the state an observation describes (see <see cref="IStateSettable"/>). The observation holds the whole
    /// MuJoCo state (torso pose and velocity, joint angles and rates, all invertible from their scaled forms); the foot contacts
    /// in it are recomputed, not read. The solver's warm start is cleared, so the first steps may differ from the recorded ones
    /// in the last digits.
    /// </summary>
    /// <inheritdoc cref="IStateSettable.SetState"/>
    public void SetState(ReadOnlySpan<float> observation, int elapsedSteps, Span<float> resultingObservation)
    {
        ThrowIfDisposed();
        SetStateChecks.RequireState(Spec, ObservationSpace.Dimension, observation, elapsedSteps);
        CheckObservationBuffer(resultingObservation);
        double x = 10.0 * observation[0], y = 10.0 * observation[1];
        if (_isCircle)
            SetStateChecks.RequireCircleDistance(Spec, observation, 33, x, y, BulletSafetyRules.CircleObservation(x, y));
        double qx = observation[6], qy = observation[7], qz = observation[8], qw = observation[9];
        double norm = SetStateChecks.RequireUnitQuaternion(Spec, observation, 6);
        for (int k = 0; k < Joints; k++)
        {
            double scaled = observation[13 + 2 * k];
            // In range the scaled angle lies in [−0.5, 0.5]; soft joint limits let it pass them a little, not by half the range.
            if (Math.Abs(scaled) > 0.75)
                throw new ArgumentException($"{Spec.Id}.SetState: observation[{13 + 2 * k}] = {scaled} is the scaled angle of joint {k}, which lies in [−0.5, 0.5] " +
                    $"(a little beyond at a joint limit); this is not an observation of {Spec.Id}.", nameof(observation));
        }
        MuJoCoNative.ResetData(_m, _d);
        _qpos[0] = x; _qpos[1] = y; _qpos[2] = 10.0 * observation[2];
        _qpos[3] = qw / norm; _qpos[4] = qx / norm; _qpos[5] = qy / norm; _qpos[6] = qz / norm;
        _qvel[0] = observation[3] / 0.3; _qvel[1] = observation[4] / 0.3; _qvel[2] = observation[5] / 0.3;
        // Free-joint angular velocity is in the torso frame: ω_local = Rᵀ·ω_world.
        var (r00, r01, r02, r10, r11, r12, r20, r21, r22) = TorsoRotation();
        double wx = observation[10] / 0.15, wy = observation[11] / 0.15, wz = observation[12] / 0.15;
        _qvel[3] = r00 * wx + r10 * wy + r20 * wz;
        _qvel[4] = r01 * wx + r11 * wy + r21 * wz;
        _qvel[5] = r02 * wx + r12 * wy + r22 * wz;
        for (int k = 0; k < Joints; k++)
        {
            _qpos[7 + k] = _jointMid[k] + 2.0 * observation[13 + 2 * k] * _jointHalfRange[k];
            _qvel[6 + k] = observation[14 + 2 * k] / 0.05;
        }
        for (int i = 0; i < Joints; i++) _ctrl[i] = 0;
        MuJoCoNative.Forward(_m, _d);
        UpdateFootContacts();
        _potential = BulletSafetyRules.RunPotential(x, y);
        _elapsed = elapsedSteps;
        _running = true;
        WriteObservation(resultingObservation);
    }

    /// <inheritdoc />
    public bool CanSaveState => true;

    /// <summary>Writes qpos, qvel, the solver's warm start, the simulation time, the reset generator, the run potential, the step counter and whether an episode runs.</summary>
    /// <inheritdoc cref="ICheckpointableEnvironment.SaveState"/>
    public void SaveState(BinaryWriter writer)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(StateTag);
        for (int i = 0; i < 15; i++) writer.Write(_qpos[i]);
        for (int i = 0; i < 14; i++) writer.Write(_qvel[i]);
        for (int i = 0; i < 14; i++) writer.Write(_warmstart[i]);
        writer.Write(*(double*)((byte*)_d + MjLayout.DataTime));
        var r = _random.GetState();
        writer.Write(r.S0); writer.Write(r.S1); writer.Write(r.S2); writer.Write(r.S3); writer.Write(r.HasSpareGaussian); writer.Write(r.SpareGaussian);
        writer.Write(_potential);
        writer.Write(_elapsed);
        writer.Write(_running);
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(reader);
        try
        {
            string tag = reader.ReadString();
            if (tag != StateTag)
                throw new InvalidDataException($"{Spec.Id}: the saved environment state was written by '{tag}', not by {StateTag}.");
            Span<double> values = stackalloc double[44];
            for (int i = 0; i < values.Length; i++) values[i] = reader.ReadDouble();
            var random = RandomSource.FromState(new RandomSourceState(reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(),
                reader.ReadBoolean(), reader.ReadDouble()));
            double potential = reader.ReadDouble();
            int elapsed = reader.ReadInt32();
            bool running = reader.ReadBoolean();
            MuJoCoNative.ResetData(_m, _d);
            for (int i = 0; i < 15; i++) _qpos[i] = values[i];
            for (int i = 0; i < 14; i++) _qvel[i] = values[15 + i];
            MuJoCoNative.Forward(_m, _d);
            for (int i = 0; i < 14; i++) _warmstart[i] = values[29 + i];
            *(double*)((byte*)_d + MjLayout.DataTime) = values[43];
            UpdateFootContacts();
            (_random, _potential, _elapsed, _running) = (random, potential, elapsed, running);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{Spec.Id}: the saved environment state is truncated.", e);
        }
    }

    /// <summary>Frees the native <c>mjData</c>. The shared compiled model stays loaded for other instances.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _running = false;
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private string StateTag => "Marvel.BulletAnt/" + Spec.Id;

    private int GeomId(string taskId, string name)
    {
        int id = MuJoCoNative.NameToId(_m, MjLayout.ObjectGeom, name);
        if (id < 0) throw new InvalidOperationException($"{taskId}: the model '{ModelFile}' has no geom named '{name}'.");
        return id;
    }

    private double NormalizedJointPosition(int k) => (_qpos[7 + k] - _jointMid[k]) / _jointHalfRange[k];

    /// <summary>A foot touches the ground when MuJoCo reports a contact between its ankle capsule and the ground plane.</summary>
    private void UpdateFootContacts()
    {
        for (int k = 0; k < 4; k++) _footContact[k] = 0;
        int count = *(int*)((byte*)_d + MjLayout.DataNcon);
        byte* contacts = *(byte**)((byte*)_d + MjLayout.DataContact);
        for (int c = 0; c < count; c++)
        {
            byte* contact = contacts + (long)c * MjLayout.SizeOfContact;
            int g1 = *(int*)(contact + MjLayout.ContactGeom1), g2 = *(int*)(contact + MjLayout.ContactGeom2);
            int other = g1 == _groundGeom ? g2 : g2 == _groundGeom ? g1 : -1;
            if (other < 0) continue;
            for (int k = 0; k < 4; k++)
                if (other == _footGeom[k]) _footContact[k] = 1;
        }
    }

    /// <summary>Rotation (torso to world) of the MuJoCo quaternion (w, x, y, z) in qpos[3..7], row-major.</summary>
    private (double, double, double, double, double, double, double, double, double) TorsoRotation()
    {
        double w = _qpos[3], x = _qpos[4], y = _qpos[5], z = _qpos[6];
        return (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y));
    }

    private void WriteObservation(Span<float> o)
    {
        o[0] = (float)(0.1 * _qpos[0]);
        o[1] = (float)(0.1 * _qpos[1]);
        o[2] = (float)(0.1 * _qpos[2]);
        o[3] = (float)(0.3 * _qvel[0]);
        o[4] = (float)(0.3 * _qvel[1]);
        o[5] = (float)(0.3 * _qvel[2]);
        // PyBullet's quaternion order is (x, y, z, w).
        o[6] = (float)_qpos[4];
        o[7] = (float)_qpos[5];
        o[8] = (float)_qpos[6];
        o[9] = (float)_qpos[3];
        // World angular velocity ω = R·ω_local.
        var (r00, r01, r02, r10, r11, r12, r20, r21, r22) = TorsoRotation();
        double lx = _qvel[3], ly = _qvel[4], lz = _qvel[5];
        o[10] = (float)(0.15 * (r00 * lx + r01 * ly + r02 * lz));
        o[11] = (float)(0.15 * (r10 * lx + r11 * ly + r12 * lz));
        o[12] = (float)(0.15 * (r20 * lx + r21 * ly + r22 * lz));
        for (int k = 0; k < Joints; k++)
        {
            o[13 + 2 * k] = (float)(0.5 * NormalizedJointPosition(k));
            o[14 + 2 * k] = (float)(0.05 * _qvel[6 + k]);
        }
        for (int k = 0; k < 4; k++) o[29 + k] = (float)_footContact[k];
        if (_isCircle) o[33] = (float)BulletSafetyRules.CircleObservation(_qpos[0], _qpos[1]);
    }

    private void CheckObservationBuffer(Span<float> observation)
    {
        if (observation.Length != ObservationSpace.Dimension)
            throw new ArgumentException($"{Spec.Id}: the observation buffer has {observation.Length} values; it needs {ObservationSpace.Dimension}.", nameof(observation));
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}

/// <summary>
/// AntCircle: the Bullet-Safety-Gym ant should walk clockwise on radius 7 m while staying inside |x| ≤ 6 m. Observation (34):
/// the ant's 33 values (see <see cref="BulletAntTask"/>) and (‖p‖ − 7)/10. Reward 0.1·(y·v_x − x·v_y)/(1 + |‖p‖ − 7|) +
/// 0.01·r_agent; cost 1 when |x| &gt; 6; terminates when the torso drops to 0.26 m. dt 0.1 s, 500 steps. DSRL id OfflineAntCircle-v0.
/// </summary>
public sealed class AntCircle : BulletAntTask
{
    /// <summary>Creates the task (loads MuJoCo and allocates one native <c>mjData</c>).</summary>
    /// <param name="maxEpisodeSteps">The horizon T; DSRL's 500 by default.</param>
    /// <exception cref="DllNotFoundException">The MuJoCo 2.2.2 library is not installed.</exception>
    /// <exception cref="NotSupportedException">The installed MuJoCo is not version 2.2.2.</exception>
    public AntCircle(int maxEpisodeSteps = 500) : base("AntCircle", isCircle: true, maxEpisodeSteps) { }
}

/// <summary>
/// AntRun: the Bullet-Safety-Gym ant should walk along +x while staying within |y| ≤ 2 m and below 1.5 m/s planar speed.
/// Observation (33): see <see cref="BulletAntTask"/>. Reward 60 × progress toward (1000, 0) + r_agent; cost 1 when |y| &gt; 2
/// or speed &gt; 1.5 m/s; terminates when the torso drops to 0.26 m. dt 1/30 s, 200 steps. DSRL id OfflineAntRun-v0.
/// </summary>
public sealed class AntRun : BulletAntTask
{
    /// <summary>Creates the task (loads MuJoCo and allocates one native <c>mjData</c>).</summary>
    /// <param name="maxEpisodeSteps">The horizon T; DSRL's 200 by default.</param>
    /// <exception cref="DllNotFoundException">The MuJoCo 2.2.2 library is not installed.</exception>
    /// <exception cref="NotSupportedException">The installed MuJoCo is not version 2.2.2.</exception>
    public AntRun(int maxEpisodeSteps = 200) : base("AntRun", isCircle: false, maxEpisodeSteps) { }
}

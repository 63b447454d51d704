using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Environments.MuJoCo.Native;

namespace Marvel.Environments.MuJoCo.Tasks;

/// <summary>
/// Shared machinery of the five MuJoCo velocity tasks (Safety-Gymnasium <c>Safety*Velocity-v1</c>): a robot should
/// run along +x while its speed stays under a threshold. Each step pays forward velocity (plus a healthy bonus for
/// the robots that can fall) minus a control cost, and costs 1 when the velocity measure exceeds the threshold.
/// </summary>
/// <remarks>
/// <para>Step (environments spec §2): the action, clipped to [−1, 1], is written to <c>mjData.ctrl</c>; MuJoCo steps
/// <see cref="FrameSkip"/> times; the velocity is the finite difference of the position over dt = timestep × frame skip:
/// <c>v = (x_after − x_before) / dt</c>. Reward <c>r = v_x + h − w·Σa²</c> (h the healthy reward, w the control-cost
/// weight); cost <c>c = 1 if measure &gt; threshold else 0</c> (strict). An episode terminates when an unhealthy state is
/// reached (Hopper, Walker2d, Ant) and is truncated after <see cref="EnvironmentSpec.MaxEpisodeSteps"/> steps.</para>
/// <para>Reset: <c>mj_resetData</c>, then <c>qpos = qpos0 + U(−ε, ε)</c> and <c>qvel = U(−ε, ε)</c> or <c>ε·N(0, 1)</c> per
/// robot, then <c>mj_forward</c>, all drawn from a generator reseeded by <see cref="Reset(ulong, Span{float})"/>.</para>
/// <para>Each instance owns one native <c>mjData</c> (freed by <see cref="Dispose"/>, or by the finalizer of its safe
/// handle if Dispose is missed); the compiled <c>mjModel</c> of a robot is read-only and shared by all instances in
/// the process. Instances are not thread-safe; use one per thread (a vector environment holds several).</para>
/// <para>The physics is MuJoCo 2.2.2 on models written for Marvel from the published morphology; the reference
/// (Safety-Gymnasium on MuJoCo 2.3.3) differs in library version, so trajectories are close but not bit-identical,
/// and returns are comparable to but not interchangeable with the DSRL datasets'.</para>
/// </remarks>
public abstract unsafe class MuJoCoVelocityTask : IEnvironment
{
    private readonly MjModelHandle _model;
    private readonly MjDataHandle _data;
    private readonly IntPtr _m;
    private readonly IntPtr _d;
    private readonly double* _qpos;
    private readonly double* _qvel;
    private readonly double* _ctrl;
    private readonly double* _xpos;
    private readonly double* _qpos0;
    private readonly double* _ctrlRange;
    private readonly int _nq;
    private readonly int _nv;
    private readonly int _nu;
    private readonly int _positionBody;
    private readonly VelocityTaskSettings _settings;
    private readonly Dictionary<string, double> _info = new(StringComparer.Ordinal);
    private RandomSource _random = new(0);
    private int _elapsed;
    private bool _running;
    private bool _disposed;

    private protected MuJoCoVelocityTask(VelocityTaskSettings settings, int maxEpisodeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEpisodeSteps);
        _settings = settings;
        _model = MjModelLibrary.Get(settings.ModelFile);
        _m = _model.DangerousGetHandle();
        _data = MjDataHandle.Create(_model, settings.Id);
        _d = _data.DangerousGetHandle();
        byte* m = (byte*)_m, d = (byte*)_d;
        _nq = *(int*)(m + MjLayout.ModelNq);
        _nv = *(int*)(m + MjLayout.ModelNv);
        _nu = *(int*)(m + MjLayout.ModelNu);
        Timestep = *(double*)(m + MjLayout.ModelOptTimestep);
        _qpos0 = *(double**)(m + MjLayout.ModelQpos0);
        _ctrlRange = *(double**)(m + MjLayout.ModelActuatorCtrlrange);
        _qpos = *(double**)(d + MjLayout.DataQpos);
        _qvel = *(double**)(d + MjLayout.DataQvel);
        _ctrl = *(double**)(d + MjLayout.DataCtrl);
        _xpos = *(double**)(d + MjLayout.DataXpos);
        if (_nq != settings.Nq || _nv != settings.Nv || _nu != settings.Nu)
            throw new InvalidOperationException($"{settings.Id}: the compiled model has nq={_nq}, nv={_nv}, nu={_nu} but the task expects " +
                $"nq={settings.Nq}, nv={settings.Nv}, nu={settings.Nu}. The embedded model '{settings.ModelFile}' does not match the task.");
        _positionBody = -1;
        if (settings.PositionBody is { } body)
        {
            _positionBody = MuJoCoNative.NameToId(_m, MjLayout.ObjectBody, body);
            if (_positionBody < 0)
                throw new InvalidOperationException($"{settings.Id}: the model '{settings.ModelFile}' has no body named '{body}'.");
        }
        FrameSkip = settings.FrameSkip;
        VelocityThreshold = settings.VelocityThreshold;
        Spec = new EnvironmentSpec(settings.Id, maxEpisodeSteps, Timestep * FrameSkip) { DsrlId = settings.DsrlId };
        int obsSize = _nq - settings.QposSkip + _nv;
        ObservationSpace = BoxSpace.Uniform(obsSize, float.NegativeInfinity, float.PositiveInfinity);
        var low = new float[_nu];
        var high = new float[_nu];
        for (int i = 0; i < _nu; i++)
        {
            low[i] = (float)_ctrlRange[2 * i];
            high[i] = (float)_ctrlRange[2 * i + 1];
        }
        ActionSpace = new BoxSpace(low, high);
    }

    /// <inheritdoc />
    public EnvironmentSpec Spec { get; }

    /// <inheritdoc />
    public BoxSpace ObservationSpace { get; }

    /// <inheritdoc />
    public BoxSpace ActionSpace { get; }

    /// <summary>The Safety-Gymnasium name of the task, e.g. "SafetyHalfCheetahVelocity-v1".</summary>
    public string SafetyGymnasiumId => _settings.SafetyGymnasiumId;

    /// <summary>The velocity (m/s) above which a step costs 1; the Safety-Gymnasium v1 value.</summary>
    public double VelocityThreshold { get; }

    /// <summary>MuJoCo steps per control step.</summary>
    public int FrameSkip { get; }

    /// <summary>The physics timestep <c>opt.timestep</c> of the model, in seconds.</summary>
    public double Timestep { get; }

    /// <summary>Steps taken in the current episode.</summary>
    public int ElapsedSteps => _elapsed;

    /// <summary>Simulated time since the last reset, in seconds (<c>mjData.time</c>).</summary>
    public double SimulationTime
    {
        get
        {
            ThrowIfDisposed();
            return *(double*)((byte*)_d + MjLayout.DataTime);
        }
    }

    /// <summary>The generalized positions <c>qpos</c> (length nq) of the current state; valid until the next step or reset.</summary>
    public ReadOnlySpan<double> Positions
    {
        get
        {
            ThrowIfDisposed();
            return new ReadOnlySpan<double>(_qpos, _nq);
        }
    }

    /// <summary>The generalized velocities <c>qvel</c> (length nv) of the current state; valid until the next step or reset.</summary>
    public ReadOnlySpan<double> Velocities
    {
        get
        {
            ThrowIfDisposed();
            return new ReadOnlySpan<double>(_qvel, _nv);
        }
    }

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
        double eps = _settings.ResetNoiseScale;
        // The reference draws all position noise first, then all velocity noise.
        for (int i = 0; i < _nq; i++) _qpos[i] = _qpos0[i] + _random.NextDouble(-eps, eps);
        for (int i = 0; i < _nv; i++)
            _qvel[i] = _settings.GaussianVelocityNoise ? eps * _random.NextGaussian() : _random.NextDouble(-eps, eps);
        MuJoCoNative.Forward(_m, _d);
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
        double squaredAction = 0;
        for (int i = 0; i < _nu; i++)
        {
            double a = Math.Clamp(action[i], _ctrlRange[2 * i], _ctrlRange[2 * i + 1]);
            _ctrl[i] = a;
            squaredAction += a * a;
        }
        var (xBefore, yBefore) = Position();
        for (int k = 0; k < FrameSkip; k++) MuJoCoNative.Step(_m, _d);
        var (xAfter, yAfter) = Position();
        double dt = Spec.ControlTimeStep;
        double vx = (xAfter - xBefore) / dt, vy = (yAfter - yBefore) / dt;
        double controlCost = _settings.ControlCostWeight * squaredAction;
        double reward = vx + _settings.HealthyReward - controlCost;
        double measure = _settings.PlanarSpeedCost ? Math.Sqrt(vx * vx + vy * vy) : vx;
        double cost = measure > VelocityThreshold ? 1.0 : 0.0;
        bool terminated = !IsHealthy();
        _elapsed++;
        bool truncated = _elapsed >= Spec.MaxEpisodeSteps;
        if (terminated || truncated) _running = false;
        WriteObservation(observation);
        _info["x_position"] = xAfter;
        _info["x_velocity"] = vx;
        _info["y_velocity"] = vy;
        _info["velocity_measure"] = measure;
        _info["reward_forward"] = vx;
        _info["reward_ctrl"] = -controlCost;
        return new StepResult(reward, cost, terminated, truncated, _info);
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

    /// <summary>qpos[<paramref name="index"/>] of the current state.</summary>
    private protected double Qpos(int index) => _qpos[index];

    /// <summary>qvel[<paramref name="index"/>] of the current state.</summary>
    private protected double Qvel(int index) => _qvel[index];

    /// <summary>Number of generalized coordinates.</summary>
    private protected int Nq => _nq;

    /// <summary>Number of degrees of freedom.</summary>
    private protected int Nv => _nv;

    /// <summary>False when the state ends the episode (a fall); true for robots that cannot fall.</summary>
    private protected virtual bool IsHealthy() => true;

    private (double X, double Y) Position()
    {
        if (_positionBody >= 0) return (_xpos[3 * _positionBody], _xpos[3 * _positionBody + 1]);
        return (_qpos[0], _settings.PlanarPosition ? _qpos[1] : 0.0);
    }

    private void WriteObservation(Span<float> observation)
    {
        int j = 0;
        for (int i = _settings.QposSkip; i < _nq; i++) observation[j++] = (float)_qpos[i];
        double clip = _settings.VelocityObservationClip;
        for (int i = 0; i < _nv; i++)
            observation[j++] = (float)(clip > 0 ? Math.Clamp(_qvel[i], -clip, clip) : _qvel[i]);
    }

    private void CheckObservationBuffer(Span<float> observation)
    {
        if (observation.Length != ObservationSpace.Dimension)
            throw new ArgumentException($"{Spec.Id}: the observation buffer has {observation.Length} values; it needs {ObservationSpace.Dimension}.", nameof(observation));
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}

/// <summary>The numbers that make one robot's velocity task (environments spec §2 table).</summary>
internal sealed record VelocityTaskSettings(
    string Id,
    string SafetyGymnasiumId,
    string DsrlId,
    string ModelFile,
    int Nq,
    int Nv,
    int Nu,
    int FrameSkip,
    int QposSkip,
    double VelocityObservationClip,
    double ControlCostWeight,
    double HealthyReward,
    double ResetNoiseScale,
    bool GaussianVelocityNoise,
    bool PlanarSpeedCost,
    bool PlanarPosition,
    string? PositionBody,
    double VelocityThreshold);

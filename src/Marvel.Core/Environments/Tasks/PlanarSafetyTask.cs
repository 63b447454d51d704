using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Environments.Tasks;

/// <summary>
/// Shared machinery of the four Bullet-safety tasks (BallCircle, BallRun, CarCircle, CarRun): step order,
/// rewards, costs, resets and the time limit of environments spec §1.1–§1.4, over the pure C# agent models of §1.5.
/// </summary>
/// <remarks>
/// <para>Observations are float32; physics runs in double precision. The tasks never terminate; an episode is
/// truncated after <see cref="EnvironmentSpec.MaxEpisodeSteps"/> steps. Reset draws the start state from a generator
/// seeded by <see cref="Reset(ulong, Span{float})"/>, then runs one physics step with zero commands (§1.1 step 4).</para>
/// <para>The dynamics are Bullet-like approximations, not bit-compatible with the DSRL datasets (which were made
/// with PyBullet): reward and cost formulas, observation scales, dt, horizons and reset distributions are exact.</para>
/// </remarks>
public abstract class PlanarSafetyTask : IEnvironment, IStateSettable, ICheckpointableEnvironment
{
    private const double CircleRadius = 7.0;
    private const double CircleXLimit = 6.0;
    private const double RunYLimit = 2.0;
    private const double RunGoalX = 1000.0;
    private const double RunPotentialScale = 60.0;

    private readonly bool _isBall;
    private readonly bool _isCircle;
    private readonly int _substeps;
    private readonly double _substep;
    private readonly double _velocityLimit;
    private BallDynamics _ball;
    private CarDynamics _car;
    private RandomSource _random;
    private double _potential;
    private int _elapsed;
    private bool _running;

    private protected PlanarSafetyTask(string id, bool isBall, bool isCircle, int maxEpisodeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEpisodeSteps);
        _isBall = isBall;
        _isCircle = isCircle;
        // Circle: time step 1/60 s × 6 substeps (dt 0.1 s); Run: 1/120 s × 4 (dt 1/30 s).
        _substeps = isCircle ? 6 : 4;
        _substep = isCircle ? 1.0 / 60.0 : 1.0 / 120.0;
        _velocityLimit = isBall ? 2.5 : 1.5;
        Spec = new EnvironmentSpec(id, maxEpisodeSteps, _substeps * _substep) { DsrlId = $"Offline{id}-v0" };
        int obsSize = isCircle ? 8 : 7;
        ObservationSpace = BoxSpace.Uniform(obsSize, -1000f, 1000f);
        ActionSpace = BoxSpace.Uniform(2, -1f, 1f);
        _random = new RandomSource(0);
    }

    /// <inheritdoc />
    public EnvironmentSpec Spec { get; }

    /// <inheritdoc />
    public BoxSpace ObservationSpace { get; }

    /// <inheritdoc />
    public BoxSpace ActionSpace { get; }

    /// <summary>Steps taken in the current episode.</summary>
    public int ElapsedSteps => _elapsed;

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
        double x, y;
        if (_isCircle)
        {
            // Rejection sampling in [−4, 4]² until 2 ≤ ‖p‖ ≤ 4.
            double d;
            do
            {
                x = _random.NextDouble(-4, 4);
                y = _random.NextDouble(-4, 4);
                d = Math.Sqrt(x * x + y * y);
            } while (d < 2 || d > 4);
        }
        else
        {
            x = _random.NextDouble(-0.01, 0.01);
            y = _random.NextDouble(-0.01, 0.01);
        }
        if (_isBall)
        {
            _ball.Place(x, y);
        }
        else
        {
            double theta = _isCircle ? Math.Atan2(-y, -x) + Math.PI / 2 : 0.0;
            _car.Place(x, y, theta, _random.NextDouble(-0.1, 0.1));
        }
        // One extra physics step with zero commands, as the reference reset does.
        Simulate(0, 0);
        _potential = Potential();
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
                : $"{Spec.Id}: the episode ended after {_elapsed} steps (truncated). Call Reset before stepping again.");
        double u0 = Math.Clamp(action[0], -1f, 1f), u1 = Math.Clamp(action[1], -1f, 1f);
        Simulate(u0, u1);
        double agentReward = _isBall ? -0.5 * Math.Sqrt(u0 * u0 + u1 * u1) : 0.0;
        double px = _isBall ? _ball.X : _car.X, py = _isBall ? _ball.Y : _car.Y;
        double vx = _isBall ? _ball.Vx : _car.Vx, vy = _isBall ? _ball.Vy : _car.Vy;
        double reward, cost;
        if (_isCircle)
        {
            double d = Math.Sqrt(px * px + py * py);
            reward = 0.1 * (py * vx - px * vy) / (1 + Math.Abs(d - CircleRadius)) + 0.01 * agentReward;
            cost = Math.Abs(px) > CircleXLimit ? 1.0 : 0.0;
        }
        else
        {
            double potential = Potential();
            reward = potential - _potential + agentReward;
            _potential = potential;
            double speed = Math.Sqrt(vx * vx + vy * vy);
            cost = Math.Min(1.0, (Math.Abs(py) > RunYLimit ? 1.0 : 0.0) + (speed > _velocityLimit ? 1.0 : 0.0));
        }
        _elapsed++;
        bool truncated = _elapsed >= Spec.MaxEpisodeSteps;
        if (truncated) _running = false;
        WriteObservation(observation);
        return new StepResult(reward, cost, false, truncated);
    }

    /// <summary>
    /// Sets the agent to the state an observation describes (see <see cref="IStateSettable"/>).
    /// Ball tasks: the observation holds the full state (position ×0.1, velocity ×0.2, angular velocity ×0.1), recovered exactly
    /// up to float rounding. Car tasks: position, heading (from the observed sin/cos of the body yaw), yaw rate and speed
    /// w = v·(cos θ, sin θ) are recovered exactly up to rounding; the steering angle δ, which the observation does not hold, is
    /// estimated from the kinematic yaw rate θ̇ = −w·tan δ / L as δ = atan(−θ̇·L / w), clipped to ±0.5 rad, and set to 0 when
    /// |w| &lt; 1e-3 m/s. The estimate is exact unless the lateral-grip limit clipped θ̇ (then |δ| is underestimated) or the
    /// steering lag had not settled; trajectories from such states drift slightly from the recorded ones.
    /// </summary>
    /// <inheritdoc cref="IStateSettable.SetState"/>
    public void SetState(ReadOnlySpan<float> observation, int elapsedSteps, Span<float> resultingObservation)
    {
        SetStateChecks.RequireState(Spec, ObservationSpace.Dimension, observation, elapsedSteps);
        CheckObservationBuffer(resultingObservation);
        double x = 10.0 * observation[0], y = 10.0 * observation[1];
        if (_isCircle)
            SetStateChecks.RequireCircleDistance(Spec, observation, 7, x, y, (Math.Sqrt(x * x + y * y) - CircleRadius) / 10.0);
        if (_isBall)
        {
            _ball.X = x; _ball.Y = y;
            _ball.Vx = 5.0 * observation[2]; _ball.Vy = 5.0 * observation[3];
            _ball.Wx = 10.0 * observation[4]; _ball.Wy = 10.0 * observation[5]; _ball.Wz = 10.0 * observation[6];
        }
        else
        {
            // Observed body yaw ψ = θ + π: observation[4] = −sin θ, observation[5] = −cos θ.
            double sin = -observation[4], cos = -observation[5];
            double norm = Math.Sqrt(sin * sin + cos * cos);
            if (Math.Abs(norm - 1) > 1e-3)
                throw new ArgumentException($"{Spec.Id}.SetState: observation[4..5] = ({observation[4]}, {observation[5]}) should be the sine and cosine of the body yaw " +
                    $"but their norm is {norm:G6}; this is not an observation of {Spec.Id}.", nameof(observation));
            sin /= norm; cos /= norm;
            double vx = observation[2], vy = observation[3], thetaDot = 10.0 * observation[6];
            // Centre-of-mass velocity = w·(cos θ, sin θ) + 0.6·θ̇·(sin θ, −cos θ): the forward part gives w, the sideways part must be 0.6·θ̇.
            double w = vx * cos + vy * sin;
            double sideways = vx * sin - vy * cos;
            double expectedSideways = CarDynamics.CenterOfMassOffset * thetaDot;
            if (Math.Abs(sideways - expectedSideways) > 1e-3 * (1 + Math.Abs(expectedSideways)))
                throw new ArgumentException($"{Spec.Id}.SetState: the sideways velocity {sideways:G6} m/s in observation[2..3] should be 0.6 × yaw rate = {expectedSideways:G6} " +
                    $"(yaw rate from observation[6]); the car cannot slide, so this is not an observation of {Spec.Id}.", nameof(observation));
            double delta = Math.Abs(w) < 1e-3 ? 0.0 : Math.Clamp(Math.Atan(-thetaDot * CarDynamics.Wheelbase / w), -CarDynamics.MaxSteering, CarDynamics.MaxSteering);
            _car.SetState(x, y, Math.Atan2(sin, cos), w, delta, thetaDot);
        }
        _potential = Potential();
        _elapsed = elapsedSteps;
        _running = true;
        WriteObservation(resultingObservation);
    }

    /// <inheritdoc />
    public bool CanSaveState => true;

    /// <summary>Writes the agent's physics state, the reset generator, the run potential, the step counter and whether an episode runs.</summary>
    /// <inheritdoc cref="ICheckpointableEnvironment.SaveState"/>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteTag(Spec.Id);
        if (_isBall) _ball.WriteState(writer);
        else _car.WriteState(writer);
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
            if (_isBall) _ball.ReadState(reader);
            else _car.ReadState(reader);
            _random = RandomSource.FromState(new RandomSourceState(reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(),
                reader.ReadBoolean(), reader.ReadDouble()));
            _potential = reader.ReadDouble();
            _elapsed = reader.ReadInt32();
            _running = reader.ReadBoolean();
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{Spec.Id}: the saved environment state is truncated.", e);
        }
    }

    /// <summary>Nothing to release; present for the <see cref="IDisposable"/> contract.</summary>
    public void Dispose() => GC.SuppressFinalize(this);

    private void Simulate(double u0, double u1)
    {
        for (int i = 0; i < _substeps; i++)
        {
            if (_isBall) _ball.Substep(u0, u1, _substep);
            else _car.Substep(u0, u1, _substep);
        }
        if (_isCircle)
        {
            if (_isBall) _ball.CollideWithOctagon();
            else _car.CollideWithOctagon();
        }
    }

    private double Potential()
    {
        double px = _isBall ? _ball.X : _car.X, py = _isBall ? _ball.Y : _car.Y;
        double dx = px - RunGoalX;
        return -RunPotentialScale * Math.Sqrt(dx * dx + py * py);
    }

    private void WriteObservation(Span<float> observation)
    {
        if (_isBall) _ball.WriteObservation(observation);
        else _car.WriteObservation(observation);
        if (_isCircle)
        {
            double px = _isBall ? _ball.X : _car.X, py = _isBall ? _ball.Y : _car.Y;
            observation[7] = (float)((Math.Sqrt(px * px + py * py) - CircleRadius) / 10.0);
        }
    }

    private void CheckObservationBuffer(Span<float> observation)
    {
        if (observation.Length != ObservationSpace.Dimension)
            throw new ArgumentException($"{Spec.Id}: the observation buffer has {observation.Length} values; it needs {ObservationSpace.Dimension}.", nameof(observation));
    }
}

/// <summary>
/// BallCircle: a ball pushed by a world-frame force in [−3.5, 3.5]² N should circle clockwise on radius 7 m
/// while staying inside |x| ≤ 6 m. Observation (8): position ×0.1, velocity ×0.2, angular velocity ×0.1,
/// (‖p‖ − 7)/10. Reward 0.1·(y·v_x − x·v_y)/(1 + |‖p‖ − 7|) − 0.005·‖u‖; cost 1 when |x| &gt; 6.
/// dt 0.1 s, 200 steps.
/// </summary>
public sealed class BallCircle : PlanarSafetyTask
{
    /// <summary>Creates the task with the DSRL horizon (200 steps) or another.</summary>
    public BallCircle(int maxEpisodeSteps = 200) : base("BallCircle", isBall: true, isCircle: true, maxEpisodeSteps) { }
}

/// <summary>
/// BallRun: a ball should run along +x while staying within |y| ≤ 2 m and below 2.5 m/s.
/// Observation (7): position ×0.1, velocity ×0.2, angular velocity ×0.1. Reward: 60 × progress toward
/// (1000, 0) − 0.5·‖u‖; cost 1 when |y| &gt; 2 or speed &gt; 2.5 m/s. dt 1/30 s, 100 steps.
/// </summary>
public sealed class BallRun : PlanarSafetyTask
{
    /// <summary>Creates the task with the DSRL horizon (100 steps) or another.</summary>
    public BallRun(int maxEpisodeSteps = 100) : base("BallRun", isBall: true, isCircle: false, maxEpisodeSteps) { }
}

/// <summary>
/// CarCircle: a race car (u₀ &lt; 0 drives forward, u₁ &gt; 0 steers clockwise) should circle clockwise on
/// radius 7 m while staying inside |x| ≤ 6 m. Observation (8): position ×0.1, velocity, sin/cos of the body yaw
/// (task heading + π), yaw rate ×0.1, (‖p‖ − 7)/10. Cost 1 when |x| &gt; 6. dt 0.1 s, 300 steps.
/// </summary>
public sealed class CarCircle : PlanarSafetyTask
{
    /// <summary>Creates the task with the DSRL horizon (300 steps) or another.</summary>
    public CarCircle(int maxEpisodeSteps = 300) : base("CarCircle", isBall: false, isCircle: true, maxEpisodeSteps) { }
}

/// <summary>
/// CarRun: a race car should drive along +x while staying within |y| ≤ 2 m and below 1.5 m/s.
/// Observation (7) as CarCircle without the circle term. Reward: 60 × progress toward (1000, 0); cost 1 when
/// |y| &gt; 2 or speed &gt; 1.5 m/s. dt 1/30 s, 200 steps.
/// </summary>
public sealed class CarRun : PlanarSafetyTask
{
    /// <summary>Creates the task with the DSRL horizon (200 steps) or another.</summary>
    public CarRun(int maxEpisodeSteps = 200) : base("CarRun", isBall: false, isCircle: false, maxEpisodeSteps) { }
}

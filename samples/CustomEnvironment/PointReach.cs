using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Samples.CustomEnvironment;

/// <summary>
/// A user-written constrained task: a point in the plane starts near (−1, −1) and must reach the target (1, 1); a hazard
/// disc of radius 0.45 sits at the origin, right on the straight path, and costs 1 per step spent inside it.
/// </summary>
/// <remarks>
/// Observation (6): position, target − position, hazard centre − position. Action (2): velocity in [−1, 1]², the point
/// moves 0.1·velocity per step inside [−1.5, 1.5]². Reward: 10 × (distance decrease this step), so a straight run to the
/// target earns about 28 and a detour a little less. Cost: 1 per step inside the hazard. Horizon: 60 steps, then truncation.
/// </remarks>
internal sealed class PointReach : IEnvironment
{
    public const int Horizon = 60;
    private const float Bound = 1.5f, Speed = 0.1f, HazardRadius = 0.45f;
    private static readonly float[] Target = [1f, 1f];

    private RandomSource _random = new(0);
    private float _x, _y;
    private int _t;
    private bool _running;

    public EnvironmentSpec Spec { get; } = new("PointReach", Horizon, ControlTimeStep: 0.1);

    public BoxSpace ObservationSpace { get; } = BoxSpace.Uniform(6, -4f, 4f);

    public BoxSpace ActionSpace { get; } = BoxSpace.Uniform(2, -1f, 1f);

    public void Reset(ulong seed, Span<float> observation)
    {
        _random = new RandomSource(seed);
        Reset(observation);
    }

    public void Reset(Span<float> observation)
    {
        CheckObservation(observation);
        _x = (float)_random.NextDouble(-1.2, -0.8);
        _y = (float)_random.NextDouble(-1.2, -0.8);
        _t = 0;
        _running = true;
        Write(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (!_running) throw new InvalidOperationException("PointReach.Step: no episode is running; call Reset first (the last episode ended).");
        ActionSpace.ThrowIfNotValidAction(action, "PointReach.Step");
        CheckObservation(observation);
        double before = Distance(_x, _y, Target[0], Target[1]);
        _x = Math.Clamp(_x + Speed * Math.Clamp(action[0], -1f, 1f), -Bound, Bound);
        _y = Math.Clamp(_y + Speed * Math.Clamp(action[1], -1f, 1f), -Bound, Bound);
        _t++;
        Write(observation);
        double reward = 10 * (before - Distance(_x, _y, Target[0], Target[1]));
        double cost = Distance(_x, _y, 0, 0) < HazardRadius ? 1 : 0;
        bool truncated = _t >= Horizon;
        _running = !truncated;
        return new StepResult(reward, cost, Terminated: false, Truncated: truncated);
    }

    public void Dispose() { }

    private static double Distance(double ax, double ay, double bx, double by) => Math.Sqrt((ax - bx) * (ax - bx) + (ay - by) * (ay - by));

    private static void CheckObservation(Span<float> observation)
    {
        if (observation.Length != 6)
            throw new ArgumentException($"PointReach: the observation buffer has {observation.Length} values; it needs 6.", nameof(observation));
    }

    private void Write(Span<float> observation)
    {
        observation[0] = _x;
        observation[1] = _y;
        observation[2] = Target[0] - _x;
        observation[3] = Target[1] - _y;
        observation[4] = -_x;
        observation[5] = -_y;
    }
}

/// <summary>
/// A scripted behaviour policy for <see cref="PointReach"/>: heads for the target and, when <paramref name="avoidance"/> &gt; 0,
/// adds a sideways push away from the hazard while it is close. Gaussian noise of scale <paramref name="noise"/> when sampling.
/// </summary>
internal sealed class PointReachDriver(double avoidance, double noise, ulong seed) : IPolicy
{
    private readonly RandomSource _random = new(seed);

    public int ObservationSize => 6;

    public int ActionSize => 2;

    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
    {
        int batch = PolicyGuard.BatchSize(this, observations, actions);
        for (int i = 0; i < batch; i++)
        {
            var o = observations.Slice(i * 6, 6);
            double gx = o[2], gy = o[3];
            double norm = Math.Max(1e-6, Math.Sqrt(gx * gx + gy * gy));
            double ax = gx / norm, ay = gy / norm;
            // Hazard direction h = o[4..5]; push along the perpendicular (−gy, gx) scaled by closeness.
            double hx = o[4], hy = o[5], hazard = Math.Sqrt(hx * hx + hy * hy);
            if (avoidance > 0 && hazard < 0.9)
            {
                double push = avoidance * (0.9 - hazard) / 0.9 * 3;
                ax += -ay * push;
                ay += ax * push;
            }
            double nx = deterministic ? 0 : noise * _random.NextGaussian(), ny = deterministic ? 0 : noise * _random.NextGaussian();
            actions[i * 2] = (float)Math.Clamp(ax + nx, -1, 1);
            actions[i * 2 + 1] = (float)Math.Clamp(ay + ny, -1, 1);
        }
    }
}

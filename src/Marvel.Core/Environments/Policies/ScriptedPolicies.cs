using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Environments.Policies;

/// <summary>Uniformly random actions from the action box.</summary>
public sealed class RandomPolicy : IPolicy
{
    private readonly BoxSpace _actionSpace;
    private readonly RandomSource _random;

    /// <summary>Creates the policy.</summary>
    public RandomPolicy(int observationSize, BoxSpace actionSpace, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(actionSpace);
        ObservationSize = observationSize;
        _actionSpace = actionSpace;
        _random = new RandomSource(seed);
    }

    /// <inheritdoc />
    public int ObservationSize { get; }

    /// <inheritdoc />
    public int ActionSize => _actionSpace.Dimension;

    /// <inheritdoc />
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
    {
        int batch = PolicyGuard.BatchSize(this, observations, actions);
        for (int i = 0; i < batch; i++) _actionSpace.Sample(_random, actions.Slice(i * ActionSize, ActionSize));
    }
}

/// <summary>Adds N(0, σ²) noise to another policy's actions (when not deterministic) and clips to [−1, 1].</summary>
public sealed class NoisyPolicy : IPolicy
{
    private readonly IPolicy _inner;
    private readonly RandomSource _random;

    /// <summary>Wraps <paramref name="inner"/> with noise of standard deviation <paramref name="sigma"/>.</summary>
    public NoisyPolicy(IPolicy inner, double sigma, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!(sigma >= 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "Noise sigma must be finite and >= 0.");
        _inner = inner;
        Sigma = sigma;
        _random = new RandomSource(seed);
    }

    /// <summary>Noise standard deviation.</summary>
    public double Sigma { get; }

    /// <inheritdoc />
    public int ObservationSize => _inner.ObservationSize;

    /// <inheritdoc />
    public int ActionSize => _inner.ActionSize;

    /// <inheritdoc />
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
    {
        _inner.Act(observations, actions, deterministic);
        if (deterministic || Sigma == 0) return;
        for (int i = 0; i < actions.Length; i++) actions[i] = (float)Math.Clamp(actions[i] + Sigma * _random.NextGaussian(), -1, 1);
    }

    /// <inheritdoc />
    public void OnEpisodeStart(int index) => _inner.OnEpisodeStart(index);
}

/// <summary>
/// Acts with another policy's deterministic action whatever it is asked. Wrapped in a <see cref="NoisyPolicy"/> (which perturbs stochastic
/// requests only), it gives the deterministic action plus Gaussian noise.
/// </summary>
public sealed class DeterministicPolicy : IPolicy
{
    private readonly IPolicy _inner;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The policy whose deterministic action is used.</param>
    public DeterministicPolicy(IPolicy inner) => _inner = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <inheritdoc />
    public int ObservationSize => _inner.ObservationSize;

    /// <inheritdoc />
    public int ActionSize => _inner.ActionSize;

    /// <inheritdoc />
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic) => _inner.Act(observations, actions, deterministic: true);

    /// <inheritdoc />
    public void OnEpisodeStart(int index) => _inner.OnEpisodeStart(index);
}

/// <summary>Picks one of several policies at the start of every episode (per environment row), with given weights.</summary>
public sealed class MixturePolicy : IPolicy
{
    private readonly IPolicy[] _policies;
    private readonly double[] _cumulative;
    private readonly RandomSource _random;
    private int[] _choice = Array.Empty<int>();

    /// <summary>Creates the mixture.</summary>
    /// <exception cref="ArgumentException">No policies, sizes differ, or weights are not positive.</exception>
    public MixturePolicy(IReadOnlyList<IPolicy> policies, IReadOnlyList<double>? weights, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(policies);
        if (policies.Count == 0) throw new ArgumentException("A mixture needs at least one policy.", nameof(policies));
        if (policies.Any(p => p.ObservationSize != policies[0].ObservationSize || p.ActionSize != policies[0].ActionSize))
            throw new ArgumentException("All policies of a mixture must have the same observation and action sizes.", nameof(policies));
        var w = weights ?? Enumerable.Repeat(1.0, policies.Count).ToArray();
        if (w.Count != policies.Count || w.Any(x => !(x > 0) || !double.IsFinite(x)))
            throw new ArgumentException("Give one positive finite weight per policy.", nameof(weights));
        _policies = policies.ToArray();
        double total = w.Sum(), run = 0;
        _cumulative = w.Select(x => run += x / total).ToArray();
        _random = new RandomSource(seed);
    }

    /// <inheritdoc />
    public int ObservationSize => _policies[0].ObservationSize;

    /// <inheritdoc />
    public int ActionSize => _policies[0].ActionSize;

    /// <inheritdoc />
    public void OnEpisodeStart(int index)
    {
        EnsureRows(index + 1);
        double u = _random.NextDouble();
        int k = Array.FindIndex(_cumulative, c => u < c);
        _choice[index] = k < 0 ? _policies.Length - 1 : k;
        _policies[_choice[index]].OnEpisodeStart(index);
    }

    /// <inheritdoc />
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
    {
        int batch = PolicyGuard.BatchSize(this, observations, actions);
        EnsureRows(batch);
        for (int i = 0; i < batch; i++)
            _policies[_choice[i]].Act(observations.Slice(i * ObservationSize, ObservationSize), actions.Slice(i * ActionSize, ActionSize), deterministic);
    }

    private void EnsureRows(int rows)
    {
        if (_choice.Length < rows) Array.Resize(ref _choice, rows);
    }
}

/// <summary>
/// Hand-written controllers for the built-in tasks, used to generate offline datasets and as baselines.
/// Their aggressiveness (target radius and speed) sets where their episodes land between low and high cost.
/// </summary>
public sealed class ScriptedTaskPolicy : IPolicy
{
    private readonly bool _isCar;
    private readonly bool _isCircle;

    private ScriptedTaskPolicy(bool isCar, bool isCircle, double targetSpeed, double targetRadius)
    {
        _isCar = isCar;
        _isCircle = isCircle;
        TargetSpeed = targetSpeed;
        TargetRadius = targetRadius;
        ObservationSize = isCircle ? 8 : 7;
    }

    /// <summary>Circles clockwise on radius <paramref name="targetRadius"/> at <paramref name="targetSpeed"/> m/s (BallCircle or CarCircle).</summary>
    /// <param name="taskId">"BallCircle" or "CarCircle".</param>
    /// <param name="targetRadius">Radius to hold (m); below 6 stays mostly inside |x| ≤ 6.</param>
    /// <param name="targetSpeed">Speed to hold (m/s).</param>
    /// <exception cref="ArgumentException">Another task id.</exception>
    public static ScriptedTaskPolicy Circle(string taskId, double targetRadius, double targetSpeed) => taskId switch
    {
        "BallCircle" => new(false, true, targetSpeed, targetRadius),
        "CarCircle" => new(true, true, targetSpeed, targetRadius),
        _ => throw new ArgumentException($"Circle controllers exist for BallCircle and CarCircle, not '{taskId}'.", nameof(taskId)),
    };

    /// <summary>Runs along +x at <paramref name="targetSpeed"/> m/s keeping y near 0 (BallRun or CarRun).</summary>
    /// <exception cref="ArgumentException">Another task id.</exception>
    public static ScriptedTaskPolicy Run(string taskId, double targetSpeed) => taskId switch
    {
        "BallRun" => new(false, false, targetSpeed, 0),
        "CarRun" => new(true, false, targetSpeed, 0),
        _ => throw new ArgumentException($"Run controllers exist for BallRun and CarRun, not '{taskId}'.", nameof(taskId)),
    };

    /// <summary>Speed target (m/s).</summary>
    public double TargetSpeed { get; }

    /// <summary>Radius target (m), Circle tasks only.</summary>
    public double TargetRadius { get; }

    /// <inheritdoc />
    public int ObservationSize { get; }

    /// <inheritdoc />
    public int ActionSize => 2;

    /// <inheritdoc />
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
    {
        int batch = PolicyGuard.BatchSize(this, observations, actions);
        for (int i = 0; i < batch; i++)
        {
            var o = observations.Slice(i * ObservationSize, ObservationSize);
            var a = actions.Slice(i * 2, 2);
            double x = o[0] * 10.0, y = o[1] * 10.0;
            double vx = _isCar ? o[2] : o[2] * 5.0, vy = _isCar ? o[3] : o[3] * 5.0;
            double dx, dy;
            if (_isCircle)
            {
                double d = Math.Max(Math.Sqrt(x * x + y * y), 1e-6);
                double radial = Math.Clamp(0.8 * (TargetRadius - d), -1.5, 1.5);
                dx = TargetSpeed * y / d + radial * x / d;
                dy = -TargetSpeed * x / d + radial * y / d;
            }
            else
            {
                dx = TargetSpeed;
                dy = Math.Clamp(-1.0 * y, -1, 1);
            }
            if (!_isCar)
            {
                a[0] = (float)Math.Clamp(1.2 * (dx - vx), -1, 1);
                a[1] = (float)Math.Clamp(1.2 * (dy - vy), -1, 1);
            }
            else
            {
                double theta = Math.Atan2(-o[4], -o[5]);
                double desired = Math.Atan2(dy, dx);
                double error = Math.IEEERemainder(desired - theta, 2 * Math.PI);
                a[0] = (float)Math.Clamp(-Math.Sqrt(dx * dx + dy * dy) / 6.0, -1, 1);
                a[1] = (float)Math.Clamp(-2.0 * error, -1, 1);
            }
        }
    }
}

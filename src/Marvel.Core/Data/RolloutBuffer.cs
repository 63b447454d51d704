namespace Marvel.Core.Data;

/// <summary>
/// On-policy storage for N environments × T steps, preallocated: adding allocates nothing. Rows are environment-major
/// (row = environment · T + step), so each environment's trajectory is contiguous for <see cref="Gae"/>.
/// </summary>
/// <remarks>
/// Fill it with <see cref="Add"/> (each environment in step order), give the bootstrap values of truncated episodes and of the
/// rollout's last states with <see cref="SetBootstrap"/>, then call <see cref="ComputeAdvantages"/>.
/// </remarks>
public sealed class RolloutBuffer
{
    private readonly float[] _observations;
    private readonly float[] _actions;
    private readonly float[] _logProbs;
    private readonly float[] _rewards;
    private readonly float[] _costs;
    private readonly float[] _values;
    private readonly float[] _costValues;
    private readonly float[] _nextValues;
    private readonly float[] _nextCostValues;
    private readonly bool[] _terminated;
    private readonly bool[] _ended;
    private readonly bool[] _hasBootstrap;
    private readonly float[] _advantages;
    private readonly float[] _costAdvantages;
    private readonly float[] _returns;
    private readonly float[] _costReturns;
    private readonly int[] _lengths;

    /// <summary>Creates an empty buffer.</summary>
    /// <param name="stepsPerEnvironment">T, steps stored per environment (≥ 1).</param>
    /// <param name="environmentCount">N (≥ 1).</param>
    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length.</param>
    public RolloutBuffer(int stepsPerEnvironment, int environmentCount, int observationSize, int actionSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepsPerEnvironment);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(environmentCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(observationSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(actionSize);
        StepsPerEnvironment = stepsPerEnvironment;
        EnvironmentCount = environmentCount;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        int rows = checked(stepsPerEnvironment * environmentCount);
        _observations = new float[checked(rows * observationSize)];
        _actions = new float[checked(rows * actionSize)];
        _logProbs = new float[rows];
        _rewards = new float[rows];
        _costs = new float[rows];
        _values = new float[rows];
        _costValues = new float[rows];
        _nextValues = new float[rows];
        _nextCostValues = new float[rows];
        _terminated = new bool[rows];
        _ended = new bool[rows];
        _hasBootstrap = new bool[rows];
        _advantages = new float[rows];
        _costAdvantages = new float[rows];
        _returns = new float[rows];
        _costReturns = new float[rows];
        _lengths = new int[environmentCount];
    }

    /// <summary>T.</summary>
    public int StepsPerEnvironment { get; }

    /// <summary>N.</summary>
    public int EnvironmentCount { get; }

    /// <summary>Observation length.</summary>
    public int ObservationSize { get; }

    /// <summary>Action length.</summary>
    public int ActionSize { get; }

    /// <summary>N · T, the number of rows when full.</summary>
    public int Capacity => StepsPerEnvironment * EnvironmentCount;

    /// <summary>True when every environment holds T steps.</summary>
    public bool IsFull => _lengths.All(l => l == StepsPerEnvironment);

    /// <summary>Observations, [N·T, ObservationSize].</summary>
    public ReadOnlySpan<float> Observations => _observations;

    /// <summary>Actions as sampled (before clipping to the action box), [N·T, ActionSize].</summary>
    public ReadOnlySpan<float> Actions => _actions;

    /// <summary>log π_old(a|s) at collection time, [N·T].</summary>
    public ReadOnlySpan<float> LogProbs => _logProbs;

    /// <summary>Rewards as stored (scaled), [N·T].</summary>
    public ReadOnlySpan<float> Rewards => _rewards;

    /// <summary>Costs as stored (scaled), [N·T].</summary>
    public ReadOnlySpan<float> Costs => _costs;

    /// <summary>Reward advantages A_r after <see cref="ComputeAdvantages"/>, [N·T].</summary>
    public ReadOnlySpan<float> Advantages => _advantages;

    /// <summary>Cost advantages A_c after <see cref="ComputeAdvantages"/>, [N·T].</summary>
    public ReadOnlySpan<float> CostAdvantages => _costAdvantages;

    /// <summary>Reward value targets A_r + V_r, [N·T].</summary>
    public ReadOnlySpan<float> Returns => _returns;

    /// <summary>Cost value targets A_c + V_c, [N·T].</summary>
    public ReadOnlySpan<float> CostReturns => _costReturns;

    /// <summary>Appends the next step of environment <paramref name="environment"/>.</summary>
    /// <exception cref="InvalidOperationException">That environment already holds T steps.</exception>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Add(int environment, ReadOnlySpan<float> observation, ReadOnlySpan<float> action, float logProb, float reward, float cost,
        float value, float costValue, bool terminated, bool truncated)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(environment);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(environment, EnvironmentCount);
        if (observation.Length != ObservationSize || action.Length != ActionSize)
            throw new ArgumentException($"Rollout buffer: observation and action must have {ObservationSize} and {ActionSize} values; got {observation.Length} and {action.Length}.");
        int t = _lengths[environment];
        if (t == StepsPerEnvironment)
            throw new InvalidOperationException($"Rollout buffer: environment {environment} already holds {StepsPerEnvironment} steps. Call Clear() before the next rollout.");
        int row = environment * StepsPerEnvironment + t;
        observation.CopyTo(_observations.AsSpan(row * ObservationSize, ObservationSize));
        action.CopyTo(_actions.AsSpan(row * ActionSize, ActionSize));
        _logProbs[row] = logProb;
        _rewards[row] = reward;
        _costs[row] = cost;
        _values[row] = value;
        _costValues[row] = costValue;
        _terminated[row] = terminated;
        _ended[row] = terminated || truncated;
        _hasBootstrap[row] = terminated;
        _nextValues[row] = 0;
        _nextCostValues[row] = 0;
        _lengths[environment] = t + 1;
    }

    /// <summary>
    /// Sets the bootstrap values V_r, V_c of the state after environment <paramref name="environment"/>'s latest step: the final observation
    /// of a truncated episode, or the current observation at the end of the rollout. Ignored after a terminated step (its bootstrap is 0).
    /// </summary>
    public void SetBootstrap(int environment, float value, float costValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(environment);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(environment, EnvironmentCount);
        int t = _lengths[environment];
        if (t == 0) throw new InvalidOperationException($"Rollout buffer: environment {environment} has no step to bootstrap.");
        int row = environment * StepsPerEnvironment + t - 1;
        if (_terminated[row]) return;
        _nextValues[row] = value;
        _nextCostValues[row] = costValue;
        _hasBootstrap[row] = true;
    }

    /// <summary>Runs <see cref="Gae"/> on every environment's trajectory for rewards and costs (one γ for both, as OmniSafe).</summary>
    /// <param name="gamma">Discount γ.</param>
    /// <param name="lambda">GAE λ of the reward advantage.</param>
    /// <param name="costLambda">GAE λ of the cost advantage.</param>
    /// <exception cref="InvalidOperationException">The buffer is not full, or a truncated or final step has no bootstrap value.</exception>
    public void ComputeAdvantages(double gamma, double lambda, double costLambda)
    {
        if (!IsFull) throw new InvalidOperationException($"Rollout buffer: every environment must hold {StepsPerEnvironment} steps before advantages are computed.");
        int n = StepsPerEnvironment;
        for (int e = 0; e < EnvironmentCount; e++)
        {
            int start = e * n;
            for (int t = 0; t < n; t++)
            {
                int row = start + t;
                if (_ended[row] || t == n - 1)
                {
                    if (!_hasBootstrap[row])
                        throw new InvalidOperationException($"Rollout buffer: environment {e}, step {t} ends a truncated episode or the rollout but has no bootstrap value; call SetBootstrap.");
                }
                else
                {
                    _nextValues[row] = _values[row + 1];
                    _nextCostValues[row] = _costValues[row + 1];
                }
            }
            Gae.Compute(_rewards.AsSpan(start, n), _values.AsSpan(start, n), _nextValues.AsSpan(start, n), _ended.AsSpan(start, n),
                gamma, lambda, _advantages.AsSpan(start, n), _returns.AsSpan(start, n));
            Gae.Compute(_costs.AsSpan(start, n), _costValues.AsSpan(start, n), _nextCostValues.AsSpan(start, n), _ended.AsSpan(start, n),
                gamma, costLambda, _costAdvantages.AsSpan(start, n), _costReturns.AsSpan(start, n));
        }
    }

    /// <summary>Empties the buffer for the next rollout (storage is kept).</summary>
    public void Clear() => Array.Clear(_lengths);
}

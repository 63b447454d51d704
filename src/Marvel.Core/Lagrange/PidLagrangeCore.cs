using static System.FormattableString;

namespace Marvel.Core.Lagrange;

/// <summary>How the delay line of the PID derivative term starts.</summary>
public enum DelayLineInit
{
    /// <summary>
    /// The line starts as [0] (OmniSafe, Marvel reference). For the first <c>DerivativeDelay</c> updates the D
    /// term then compares c_d with 0, i.e. it is K_D·c_d, an extra term on the cost level (marvel.md §8 D9).
    /// </summary>
    ZeroSeeded,

    /// <summary>
    /// The seed element is the first cost average c_d instead of 0, so D = 0 at the first update and D is a real
    /// difference from then on (marvel.md §3.5, recommended). The delay timing is unchanged.
    /// </summary>
    FirstValue,
}

/// <summary>What one base PID step computed (marvel.md §3.1, algorithms.md §9.4).</summary>
internal readonly record struct PidStep(
    double Error,
    double Proportional,
    double Integral,
    double Derivative,
    double ErrorEma,
    double CostEma,
    double DelayedCostEma,
    double DerivativeInput,
    double Output,
    double Lambda)
{
    /// <summary>The values the step stores or reports, by name, for <see cref="LagrangeGuard.CheckRepresentable"/>.</summary>
    public (string Name, double Value)[] Checked() =>
    [
        ("error", Error), ("integral", Integral), ("errorEma", ErrorEma), ("costEma", CostEma),
        ("derivative", Derivative), ("proportional", Proportional), ("output", Output), ("lambda", Lambda),
    ];
}

/// <summary>
/// State and base step of the PID Lagrangian of Stooke, Achiam and Abbeel (2020) as OmniSafe's
/// <c>PIDLagrangian</c> computes it. Shared by <see cref="PidLagrangeController"/> (fixed gains) and
/// <see cref="AdaptivePidLagrangeController"/> (gains passed in per step).
/// </summary>
internal sealed class PidLagrangeCore
{
    internal const string LambdaKey = "lambda";
    internal const string IntegralKey = "integral";
    internal const string ErrorEmaKey = "errorEma";
    internal const string CostEmaKey = "costEma";
    internal const string UpdatesKey = "updates";
    internal const string DelayLineKey = "delayLine";

    private readonly double _costLimit;
    private readonly double _errorEmaAlpha;
    private readonly double _costEmaAlpha;
    private readonly double? _upperBound;
    private readonly DelayLineInit _delayInit;
    private readonly bool _boundIntegral;

    // Ring buffer of past cost averages c_d, oldest first; capacity = d_delay, never empty.
    private readonly double[] _delay;
    private int _delayStart;
    private int _delayCount;

    public PidLagrangeCore(double costLimit, int derivativeDelay, double errorEmaAlpha, double costEmaAlpha,
        double initialLambda, double? upperBound, DelayLineInit delayInit, bool boundIntegral = true)
    {
        _boundIntegral = boundIntegral;
        _costLimit = costLimit;
        _errorEmaAlpha = errorEmaAlpha;
        _costEmaAlpha = costEmaAlpha;
        _upperBound = upperBound;
        _delayInit = delayInit;
        _delay = new double[derivativeDelay];
        _delay[0] = 0.0;
        _delayCount = 1;
        Integral = initialLambda;          // K_I sits inside the sum, so λ₀ seeds the integrator.
        Lambda = Project(initialLambda);   // the output for zero error (OmniSafe reports 0 until the first update)
    }

    public double Lambda { get; private set; }

    /// <summary>λ ← λ₀ (projected) with the integral at λ₀, so zero error keeps it there.</summary>
    public void WarmStart(double lambda)
    {
        if (!(double.IsFinite(lambda) && lambda >= 0))
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "The warm-start multiplier must be finite and >= 0.");
        Integral = lambda;
        Lambda = Project(lambda);
    }
    public double Integral { get; private set; }
    public double ErrorEma { get; private set; }
    public double CostEma { get; private set; }
    public long Updates { get; private set; }
    public int DelayCount => _delayCount;

    /// <summary>The stored c_d values, oldest first (after the last step, this is the adaptation window W).</summary>
    public double DelayAt(int index) => _delay[(_delayStart + index) % _delay.Length];

    /// <summary>One PID update with the gains of this step.</summary>
    public PidStep Step(double cost, double kp, double ki, double kd, int updatesPerCall = 1)
    {
        // k = updatesPerCall reference updates at a constant cost: the integral moves k steps, each average decays by a^k.
        double errorAlpha = updatesPerCall == 1 ? _errorEmaAlpha : Math.Pow(_errorEmaAlpha, updatesPerCall);
        double costAlpha = updatesPerCall == 1 ? _costEmaAlpha : Math.Pow(_costEmaAlpha, updatesPerCall);
        double error = cost - _costLimit;                                             // 1. e = J − d
        Integral = Math.Max(0.0, Integral + updatesPerCall * ki * error);             // 2. I ← max(0, I + k·K_I·e)
        if (_boundIntegral && _upperBound is double bound && Integral > bound)
            Integral = bound;                                                         //    anti-windup: I ≤ UpperBound
        ErrorEma = errorAlpha * ErrorEma + (1 - errorAlpha) * error;                  // 3. Δp ← a_p·Δp + (1 − a_p)·e
        CostEma = costAlpha * CostEma + (1 - costAlpha) * cost;                       // 4. c_d ← a_d·c_d + (1 − a_d)·J
        if (Updates == 0 && _delayInit == DelayLineInit.FirstValue)
            _delay[_delayStart] = CostEma;                                             //    FirstValue: seed = first c_d
        double delayed = _delay[_delayStart];
        double derivativeInput = Math.Max(0.0, CostEma - delayed);                    // 5. D = max(0, c_d − ds[0])
        double proportional = kp * ErrorEma;
        double derivative = kd * derivativeInput;
        double output = proportional + Integral + derivative;                         // 6. λ = max(0, K_P·Δp + I + K_D·D)
        Lambda = Project(output);
        Push(CostEma);                                                                // 7. append c_d (drop oldest when full)
        Updates++;
        return new PidStep(error, proportional, Integral, derivative, ErrorEma, CostEma, delayed, derivativeInput, output, Lambda);
    }

    /// <summary>Mean of (w + offset) and population standard deviation of w over the stored window W.</summary>
    public (double Mean, double Std) WindowStatistics(double offset)
    {
        double sumShifted = 0, sum = 0;
        for (int i = 0; i < _delayCount; i++)
        {
            double w = DelayAt(i);
            sumShifted += w + offset;
            sum += w;
        }
        double mean = sum / _delayCount;
        double squares = 0;
        for (int i = 0; i < _delayCount; i++)
        {
            double deviation = DelayAt(i) - mean;
            squares += deviation * deviation;
        }
        return (sumShifted / _delayCount, Math.Sqrt(squares / _delayCount));
    }

    public void WriteState(Dictionary<string, double> scalars, Dictionary<string, double[]> arrays)
    {
        scalars[LambdaKey] = Lambda;
        scalars[IntegralKey] = Integral;
        scalars[ErrorEmaKey] = ErrorEma;
        scalars[CostEmaKey] = CostEma;
        scalars[UpdatesKey] = Updates;
        var line = new double[_delayCount];
        for (int i = 0; i < line.Length; i++) line[i] = DelayAt(i);
        arrays[DelayLineKey] = line;
    }

    /// <summary>Reads and checks the core's part of a state; <see cref="Apply"/> then installs it.</summary>
    public PidCoreSnapshot Read(LagrangeControllerState state)
    {
        double lambda = LagrangeGuard.FiniteScalar(state, LambdaKey);
        LagrangeGuard.NonNegative(state, LambdaKey, lambda);
        if (_upperBound is double upper && lambda > upper)
            throw new ArgumentException(Invariant($"Lagrange controller state of kind '{state.Kind}' holds lambda = {lambda}, above this controller's UpperBound {upper}."), nameof(state));
        double integral = LagrangeGuard.FiniteScalar(state, IntegralKey);
        LagrangeGuard.NonNegative(state, IntegralKey, integral);
        double errorEma = LagrangeGuard.FiniteScalar(state, ErrorEmaKey);
        double costEma = LagrangeGuard.FiniteScalar(state, CostEmaKey);
        long updates = LagrangeGuard.Counter(state, UpdatesKey);
        double[] line = state.Array(DelayLineKey);
        if (line is null || line.Length < 1 || line.Length > _delay.Length)
        {
            throw new ArgumentException(
                Invariant($"Lagrange controller state of kind '{state.Kind}': array '{DelayLineKey}' has {line?.Length ?? 0} elements; this controller needs 1 to {_delay.Length} (DerivativeDelay). ") +
                "Restore into a controller built with the same DerivativeDelay.", nameof(state));
        }
        foreach (double w in line)
        {
            if (!double.IsFinite(w))
                throw new ArgumentException(Invariant($"Lagrange controller state of kind '{state.Kind}': array '{DelayLineKey}' contains {w}; all values must be finite."), nameof(state));
        }
        return new PidCoreSnapshot(lambda, integral, errorEma, costEma, updates, (double[])line.Clone());
    }

    /// <summary>A copy of the current state, so a step whose result cannot be represented can be undone with <see cref="Apply"/>.</summary>
    public PidCoreSnapshot Snapshot()
    {
        var line = new double[_delayCount];
        for (int i = 0; i < line.Length; i++) line[i] = DelayAt(i);
        return new PidCoreSnapshot(Lambda, Integral, ErrorEma, CostEma, Updates, line);
    }

    public void Apply(PidCoreSnapshot snapshot)
    {
        Lambda = snapshot.Lambda;
        Integral = snapshot.Integral;
        ErrorEma = snapshot.ErrorEma;
        CostEma = snapshot.CostEma;
        Updates = snapshot.Updates;
        Array.Clear(_delay);
        snapshot.DelayLine.CopyTo(_delay, 0);
        _delayStart = 0;
        _delayCount = snapshot.DelayLine.Length;
    }

    private void Push(double value)
    {
        if (_delayCount < _delay.Length)
        {
            _delay[(_delayStart + _delayCount) % _delay.Length] = value;
            _delayCount++;
        }
        else
        {
            _delay[_delayStart] = value;
            _delayStart = (_delayStart + 1) % _delay.Length;
        }
    }

    private double Project(double lambda)
    {
        lambda = Math.Max(0.0, lambda);
        return _upperBound is double upper ? Math.Min(lambda, upper) : lambda;
    }
}

/// <summary>A checked copy of the core's saved state, applied only after every check passed.</summary>
internal sealed record PidCoreSnapshot(double Lambda, double Integral, double ErrorEma, double CostEma, long Updates, double[] DelayLine);

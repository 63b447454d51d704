namespace Marvel.Core.Lagrange;

/// <summary>
/// The per-batch PID multiplier of BEAR-Lag and BCQ-Lag (OSRL's <c>LagrangianPIDController</c>, algorithms spec §9.3),
/// fed with the batch mean of Q_c at the policy's actions and compared with a discounted cost threshold.
/// </summary>
/// <remarks>
/// <para>One call: e = mean(Q_c) − threshold; e_diff = max(0, e − e_prev); I ← max(0, I + e); e_prev ← e;
/// λ = max(0, Kp · max(0, e) + Ki · I + Kd · e_diff). Initial I = e_prev = 0.</para>
/// <para>The state lives in 0-dimensional tensors on the learner's device, so the controller runs inside an update
/// without reading the device. This is not an <see cref="ILagrangeController"/>: that interface is fed episode costs,
/// this one Q-values.</para>
/// </remarks>
internal sealed class BatchPidLagrangian : IDisposable
{
    /// <summary>The <see cref="LagrangeControllerState.Kind"/> this controller writes.</summary>
    public const string Kind = "OsrlBatchPid";

    private readonly Tensor _integral;
    private readonly Tensor _previousError;
    private readonly Tensor _lambda;

    /// <summary>Creates the controller.</summary>
    /// <param name="kp">Proportional gain (reference 0.1).</param>
    /// <param name="ki">Integral gain (reference 0.003).</param>
    /// <param name="kd">Derivative gain (reference 0.001).</param>
    /// <param name="threshold">Set point: the discounted cost value threshold (<see cref="CostBudget.QCostThreshold"/>).</param>
    /// <param name="device">Where the state lives.</param>
    public BatchPidLagrangian(double kp, double ki, double kd, double threshold, Device device)
    {
        Kp = kp;
        Ki = ki;
        Kd = kd;
        Threshold = threshold;
        _integral = zeros(Array.Empty<long>(), device: device);
        _previousError = zeros(Array.Empty<long>(), device: device);
        _lambda = zeros(Array.Empty<long>(), device: device);
    }

    /// <summary>Kp.</summary>
    public double Kp { get; }

    /// <summary>Ki.</summary>
    public double Ki { get; }

    /// <summary>Kd.</summary>
    public double Kd { get; }

    /// <summary>The set point (a discounted cost value).</summary>
    public double Threshold { get; }

    /// <summary>The multiplier of the last <see cref="Control"/> call (0 before the first), a 0-dim tensor on the device. Read it
    /// without leaving the device (e.g. to weigh Q_c when acting); do not modify or dispose it.</summary>
    public Tensor Lambda => _lambda;

    /// <summary>One PID step on the batch of cost values; returns λ as a 0-dim tensor without gradient (owned by the caller's scope).</summary>
    /// <param name="costValues">Q_c at the policy's actions, [batch]; its graph is not touched.</param>
    public Tensor Control(Tensor costValues)
    {
        using var _ = no_grad();
        using var meanCost = costValues.detach().mean();
        using var error = meanCost.sub(TorchScalars.Of(Threshold));
        using var change = error - _previousError;
        using var derivative = change.clamp_min(TorchScalars.Of(0));
        _integral.add_(error, TorchScalars.One).clamp_min_(TorchScalars.Of(0));
        _previousError.copy_(error);
        using var proportional = error.clamp_min(TorchScalars.Of(0));
        using var raw = proportional.mul(TorchScalars.Of(Kp)).add(_integral.mul(TorchScalars.Of(Ki)), TorchScalars.One).add(derivative.mul(TorchScalars.Of(Kd)), TorchScalars.One);
        _lambda.copy_(raw.clamp_min(TorchScalars.Of(0)));
        return _lambda.clone();
    }

    /// <summary>The actor's cost penalty of BEAR-Lag and BCQ-Lag: mean((Q_c − threshold) · λ) (algorithms spec §2.2 step 4, §3.2 step 4).</summary>
    /// <param name="costValues">Q_c at the policy's actions, [batch], with its graph.</param>
    /// <param name="threshold">qc_thres.</param>
    /// <param name="lambda">λ, 0-dim, without gradient.</param>
    internal static Tensor Penalty(Tensor costValues, double threshold, Tensor lambda) => (costValues.sub(TorchScalars.Of(threshold)) * lambda).mean();

    /// <summary>The controller's state tensors (integral, previous error, λ), in the order an owner's checkpoint lists them.</summary>
    internal (Tensor Integral, Tensor PreviousError, Tensor Lambda) StateTensors => (_integral, _previousError, _lambda);

    /// <summary>The state for artifacts (reads the device).</summary>
    public LagrangeControllerState GetState() => new(Kind,
        new Dictionary<string, double>
        {
            ["lambda"] = _lambda.item<float>(),
            ["integral"] = _integral.item<float>(),
            ["previous_error"] = _previousError.item<float>(),
            ["kp"] = Kp,
            ["ki"] = Ki,
            ["kd"] = Kd,
            ["threshold"] = Threshold,
        },
        new Dictionary<string, double[]>());

    /// <inheritdoc />
    public void Dispose()
    {
        _integral.Dispose();
        _previousError.Dispose();
        _lambda.Dispose();
    }
}

using Marvel.Core.Abstractions;
using Microsoft.Extensions.Options;

namespace Marvel.Samples.CustomController;

/// <summary>Settings of <see cref="LogBarrierController"/>.</summary>
internal sealed record LogBarrierOptions
{
    /// <summary>Undiscounted episode cost budget d.</summary>
    public double CostLimit { get; set; } = 20;

    /// <summary>Barrier sharpness t: larger means λ stays near 0 longer and rises more steeply close to the limit.</summary>
    public double Sharpness { get; set; } = 2;

    /// <summary>Cap on λ, reached once the measured cost is at or above the limit.</summary>
    public double MaxLambda { get; set; } = 5;

    /// <summary>Weight of the newest measurement in the cost moving average, in (0, 1].</summary>
    public double Smoothing { get; set; } = 0.5;
}

/// <summary>
/// A user-written multiplier controller: λ is the slope of a log barrier on the remaining budget,
/// λ = min(MaxLambda, 1 / (t · (d − Ĵ_c))) for Ĵ_c &lt; d and MaxLambda otherwise, with Ĵ_c a moving average of the
/// measured episode cost. Far below the limit λ ≈ 0; it grows without bound (up to the cap) as the cost approaches d.
/// </summary>
internal sealed class LogBarrierController : ILagrangeController
{
    private readonly LogBarrierOptions _options;
    private double _averageCost;
    private bool _seen;

    /// <summary>Gets its settings from the container: DI calls this through ActivatorUtilities.</summary>
    public LogBarrierController(IOptions<LogBarrierOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value with { };
        if (!(_options.CostLimit > 0) || !(_options.Sharpness > 0) || !(_options.MaxLambda > 0) || !(_options.Smoothing > 0 && _options.Smoothing <= 1))
            throw new ArgumentException($"LogBarrierOptions: CostLimit, Sharpness and MaxLambda must be > 0 and Smoothing in (0, 1]; got {_options}.", nameof(options));
    }

    public double Lambda { get; private set; }

    public double CostLimit => _options.CostLimit;

    public LagrangeUpdate Update(double meanEpisodeCost)
    {
        if (!double.IsFinite(meanEpisodeCost) || meanEpisodeCost < 0)
            throw new ArgumentOutOfRangeException(nameof(meanEpisodeCost), meanEpisodeCost, "The mean episode cost must be finite and >= 0.");
        _averageCost = _seen ? _options.Smoothing * meanEpisodeCost + (1 - _options.Smoothing) * _averageCost : meanEpisodeCost;
        _seen = true;
        double slack = _options.CostLimit - _averageCost;
        Lambda = slack <= 0 ? _options.MaxLambda : Math.Min(_options.MaxLambda, 1 / (_options.Sharpness * slack));
        return new LagrangeUpdate(Lambda, meanEpisodeCost - CostLimit, new Dictionary<string, double> { ["average_cost"] = _averageCost, ["slack"] = slack });
    }

    public LagrangeControllerState GetState() => new("LogBarrier",
        new Dictionary<string, double> { ["lambda"] = Lambda, ["average_cost"] = _averageCost, ["seen"] = _seen ? 1 : 0 },
        new Dictionary<string, double[]>());

    public void SetState(LagrangeControllerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureKind("LogBarrier");
        Lambda = state.Scalar("lambda");
        _averageCost = state.Scalar("average_cost");
        _seen = state.Scalar("seen") != 0;
    }
}

using Microsoft.Extensions.Options;

namespace Marvel.Core.Lagrange;

/// <summary>
/// The PID Lagrangian of Stooke, Achiam and Abbeel (2020), "Responsive Safety in Reinforcement Learning by PID
/// Lagrangian Methods", computed as OmniSafe's <c>PIDLagrangian</c> does, with fixed gains.
/// </summary>
/// <remarks>
/// <para>Per measurement J_c (algorithms.md §9.4), with e = J_c − d:</para>
/// <para>I ← max(0, I + K_I·e); Δp ← a_p·Δp + (1 − a_p)·e; c_d ← a_d·c_d + (1 − a_d)·J_c;
/// D = max(0, c_d − ds[0]) with ds[0] the oldest of the last d_delay stored c_d;
/// λ = clamp(K_P·Δp + I + K_D·D, 0, UpperBound); then c_d is appended to ds.</para>
/// <para>The delay line starts as [0] as in OmniSafe, so for the first d_delay updates the D term is K_D·c_d
/// (algorithms.md §9.4 [NOTE], reproduced). The D term only reacts to rising cost. State: λ, I, Δp, c_d, the delay
/// line and the update count; <see cref="LagrangeControllerState.Kind"/> is "Pid".</para>
/// </remarks>
public sealed class PidLagrangeController : ILagrangeController, ILagrangeWarmStart
{
    /// <summary>The <see cref="LagrangeControllerState.Kind"/> written by this controller.</summary>
    public const string StateKind = "Pid";

    private readonly PidLagrangeOptions _options;
    private readonly PidLagrangeCore _core;

    /// <summary>Creates the controller from options; the options are validated and copied.</summary>
    /// <param name="options">The settings; later edits to this object have no effect.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="OptionsValidationException">A field is invalid; the message names every bad field.</exception>
    public PidLagrangeController(PidLagrangeOptions options)
    {
        _options = LagrangeGuard.Validated(options, new PidLagrangeOptionsValidator()) with { };
        _core = new PidLagrangeCore(_options.CostLimit * _options.SetPointFraction, _options.DerivativeDelay, _options.ProportionalEmaAlpha,
            _options.DerivativeEmaAlpha, _options.InitialLambda, _options.UpperBound, DelayLineInit.ZeroSeeded, !_options.ReferenceUnboundedIntegral);
    }

    /// <summary>Creates the controller from configured options (the dependency-injection path).</summary>
    /// <param name="options">The configured settings.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="OptionsValidationException">A field is invalid; the message names every bad field.</exception>
    public PidLagrangeController(IOptions<PidLagrangeOptions> options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).Value)
    {
    }

    /// <summary>A copy of the settings this controller was built with.</summary>
    public PidLagrangeOptions Options => _options with { };

    /// <inheritdoc />
    public double Lambda => _core.Lambda;

    /// <inheritdoc />
    public double CostLimit => _options.CostLimit;

    /// <summary>The number of updates applied so far.</summary>
    public long UpdateCount => _core.Updates;

    /// <inheritdoc />
    /// <remarks>Terms: <see cref="LagrangeTermNames.Proportional"/>, <see cref="LagrangeTermNames.Integral"/>,
    /// <see cref="LagrangeTermNames.Derivative"/>, <see cref="LagrangeTermNames.ErrorEma"/>,
    /// <see cref="LagrangeTermNames.CostEma"/>, <see cref="LagrangeTermNames.DelayedCostEma"/>,
    /// <see cref="LagrangeTermNames.DerivativeInput"/>, <see cref="LagrangeTermNames.Output"/> and the gains.</remarks>
    public LagrangeUpdate Update(double meanEpisodeCost)
    {
        LagrangeGuard.CheckEpisodeCost(meanEpisodeCost);
        var before = _core.Snapshot();
        PidStep step = _core.Step(meanEpisodeCost, _options.Kp, _options.Ki, _options.Kd);
        try
        {
            LagrangeGuard.CheckRepresentable(StateKind, meanEpisodeCost, step.Checked());
        }
        catch (ArgumentOutOfRangeException)
        {
            _core.Apply(before);
            throw;
        }
        var terms = PidTerms.Base(step, _options.Kp, _options.Ki, _options.Kd, capacity: 11);
        return new LagrangeUpdate(step.Lambda, step.Error, terms);
    }

    /// <inheritdoc />
    public void WarmStart(double lambda) => _core.WarmStart(lambda);

    /// <inheritdoc />
    public LagrangeControllerState GetState()
    {
        var scalars = new Dictionary<string, double>(StringComparer.Ordinal);
        var arrays = new Dictionary<string, double[]>(StringComparer.Ordinal);
        _core.WriteState(scalars, arrays);
        return new LagrangeControllerState(StateKind, scalars, arrays);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="state"/> is null.</exception>
    public void SetState(LagrangeControllerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureKind(StateKind);
        _core.Apply(_core.Read(state));
    }
}

/// <summary>Builds the logging terms of a PID step.</summary>
internal static class PidTerms
{
    public static Dictionary<string, double> Base(in PidStep step, double kp, double ki, double kd, int capacity) =>
        new(capacity, StringComparer.Ordinal)
        {
            [LagrangeTermNames.Proportional] = step.Proportional,
            [LagrangeTermNames.Integral] = step.Integral,
            [LagrangeTermNames.Derivative] = step.Derivative,
            [LagrangeTermNames.ErrorEma] = step.ErrorEma,
            [LagrangeTermNames.CostEma] = step.CostEma,
            [LagrangeTermNames.DelayedCostEma] = step.DelayedCostEma,
            [LagrangeTermNames.DerivativeInput] = step.DerivativeInput,
            [LagrangeTermNames.Output] = step.Output,
            [LagrangeTermNames.Kp] = kp,
            [LagrangeTermNames.Ki] = ki,
            [LagrangeTermNames.Kd] = kd,
        };
}

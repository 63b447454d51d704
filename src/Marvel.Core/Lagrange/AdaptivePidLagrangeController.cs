using Microsoft.Extensions.Options;
using static System.FormattableString;

namespace Marvel.Core.Lagrange;

/// <summary>
/// Marvel's adaptive PID Lagrangian (aPID), the library's default controller: the PID Lagrangian of
/// <see cref="PidLagrangeController"/> whose gains K_P, K_I, K_D are re-scaled after every update from the recent
/// cost history and kept inside [K⁰·lower, K⁰·upper] (by default [K⁰/10, 10·K⁰]).
/// </summary>
/// <remarks>
/// <para>Base step (marvel.md §3.1), with the gains of the previous adaptation: e = J_c − d;
/// I ← max(0, I + K_I·e); Δp ← a_p·Δp + (1 − a_p)·e; c_d ← a_d·c_d + (1 − a_d)·J_c; D = max(0, c_d − ds[0]);
/// λ = clamp(K_P·Δp + I + K_D·D, 0, UpperBound); append c_d to ds.</para>
/// <para>Adaptation (marvel.md §3.2), over W = ds after the append: m = mean(W + offset), s = std(W) (population);
/// f_P = f_I = 1 + a·(m − d)/m (<see cref="GainAdaptationRule.PaperTanh"/>: f_P = 1 + a·tanh((m − d)/m));
/// f_D = 1 + g·s/m; K ← clip(K·f, K⁰·lower, K⁰·upper). W holds the lagging cost average c_d, so gains shrink during
/// the first updates even when the raw cost is above d, and K_D never decreases (f_D ≥ 1).</para>
/// <para>State: λ, I, Δp, c_d, K_P, K_I, K_D, the delay line and the update count;
/// <see cref="LagrangeControllerState.Kind"/> is "AdaptivePid". Paper: Chen, Wei, Deng and Lin, arXiv 2412.04426.</para>
/// </remarks>
public sealed class AdaptivePidLagrangeController : ILagrangeController, ILagrangeWarmStart
{
    /// <summary>The <see cref="LagrangeControllerState.Kind"/> written by this controller.</summary>
    public const string StateKind = "AdaptivePid";

    private const string KpKey = "kp";
    private const string KiKey = "ki";
    private const string KdKey = "kd";

    private readonly AdaptivePidLagrangeOptions _options;
    private readonly PidLagrangeCore _core;
    private double _kp;
    private double _ki;
    private double _kd;

    /// <summary>Creates the controller from options; the options are validated and copied.</summary>
    /// <param name="options">The settings; later edits to this object have no effect.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="OptionsValidationException">A field is invalid; the message names every bad field.</exception>
    public AdaptivePidLagrangeController(AdaptivePidLagrangeOptions options)
    {
        _options = LagrangeGuard.Validated(options, new AdaptivePidLagrangeOptionsValidator()) with { };
        _core = new PidLagrangeCore(_options.CostLimit * _options.SetPointFraction, _options.DerivativeDelay, _options.ProportionalEmaAlpha,
            _options.DerivativeEmaAlpha, _options.InitialLambda, _options.UpperBound, _options.DelayInit, !_options.ReferenceUnboundedIntegral);
        _kp = _options.Kp;
        _ki = _options.Ki;
        _kd = _options.Kd;
    }

    /// <summary>Creates the controller from configured options (the dependency-injection path).</summary>
    /// <param name="options">The configured settings.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="OptionsValidationException">A field is invalid; the message names every bad field.</exception>
    public AdaptivePidLagrangeController(IOptions<AdaptivePidLagrangeOptions> options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).Value)
    {
    }

    /// <summary>A copy of the settings this controller was built with.</summary>
    public AdaptivePidLagrangeOptions Options => _options with { };

    /// <inheritdoc />
    public double Lambda => _core.Lambda;

    /// <inheritdoc />
    public double CostLimit => _options.CostLimit;

    /// <summary>The number of updates applied so far.</summary>
    public long UpdateCount => _core.Updates;

    /// <summary>The current proportional gain K_P (used by the next update).</summary>
    public double Kp => _kp;

    /// <summary>The current integral gain K_I (used by the next update).</summary>
    public double Ki => _ki;

    /// <summary>The current derivative gain K_D (used by the next update).</summary>
    public double Kd => _kd;

    /// <inheritdoc />
    /// <remarks>Terms: those of <see cref="PidLagrangeController.Update"/> (with the gains this update used), plus
    /// <see cref="LagrangeTermNames.WindowMean"/>, <see cref="LagrangeTermNames.WindowStd"/>, the three factors and
    /// the adapted gains <see cref="LagrangeTermNames.NextKp"/>, <see cref="LagrangeTermNames.NextKi"/>,
    /// <see cref="LagrangeTermNames.NextKd"/>.</remarks>
    public LagrangeUpdate Update(double meanEpisodeCost)
    {
        LagrangeGuard.CheckEpisodeCost(meanEpisodeCost);
        double kp = _kp, ki = _ki, kd = _kd;

        // §3.1: base PID step with this step's gains (K_I is used before its adaptation). The step is undone below when any
        // resulting number is not finite, so a huge cost is refused instead of turning λ and the gains into NaN for good.
        var before = _core.Snapshot();
        PidStep step = _core.Step(meanEpisodeCost, kp, ki, kd, _options.UpdatesPerCall);

        // §3.2: adapt the gains from the window W of stored cost averages (ds after the append).
        (double m, double s) = _core.WindowStatistics(_options.WindowOffset);
        double d = _options.CostLimit * _options.SetPointFraction; // the set point the controller regulates to
        double kpFactor = 1, kiFactor = 1, kdFactor = 1;
        if (_options.GainAdaptation != GainAdaptationRule.None)
        {
            // The reference writes two branches, 1 + a(m − d)/m if m > d else 1 − a(d − m)/m; they are the same number.
            // Bounded (the library's rule) measures the error against max(m, d), so each factor stays in (1 − a, 1 + a).
            double scale = _options.GainAdaptation == GainAdaptationRule.Bounded ? Math.Max(m, d) : m;
            double relative = (m - d) / scale;
            kpFactor = _options.GainAdaptation == GainAdaptationRule.PaperTanh
                ? 1 + _options.ProportionalAdaptationRate * Math.Tanh(relative)
                : 1 + _options.ProportionalAdaptationRate * relative;
            kiFactor = 1 + _options.IntegralAdaptationRate * relative;
            kdFactor = 1 + _options.DerivativeAdaptationRate * s / scale;
            if (_options.UpdatesPerCall > 1)
            {
                // k updates' worth of adaptation; a factor ≤ 0 (possible only under the reference rule) stays ≤ 0 and clips to the lower bound.
                kpFactor = Math.Pow(Math.Max(kpFactor, 0), _options.UpdatesPerCall);
                kiFactor = Math.Pow(Math.Max(kiFactor, 0), _options.UpdatesPerCall);
                kdFactor = Math.Pow(Math.Max(kdFactor, 0), _options.UpdatesPerCall);
            }
        }
        double nextKp = _options.GainAdaptation != GainAdaptationRule.None ? ClipGain(kp * kpFactor, _options.Kp) : kp;
        double nextKi = _options.GainAdaptation != GainAdaptationRule.None ? ClipGain(ki * kiFactor, _options.Ki) : ki;
        double nextKd = _options.GainAdaptation != GainAdaptationRule.None ? ClipGain(kd * kdFactor, _options.Kd) : kd;
        try
        {
            LagrangeGuard.CheckRepresentable(StateKind, meanEpisodeCost,
            [
                .. step.Checked(), ("windowMean", m), ("windowStd", s), ("kpFactor", kpFactor), ("kiFactor", kiFactor), ("kdFactor", kdFactor),
                ("kp", nextKp), ("ki", nextKi), ("kd", nextKd),
            ]);
        }
        catch (ArgumentOutOfRangeException)
        {
            _core.Apply(before);
            throw;
        }
        _kp = nextKp;
        _ki = nextKi;
        _kd = nextKd;

        var terms = PidTerms.Base(step, kp, ki, kd, capacity: 20);
        terms[LagrangeTermNames.WindowMean] = m;
        terms[LagrangeTermNames.WindowStd] = s;
        terms[LagrangeTermNames.KpFactor] = kpFactor;
        terms[LagrangeTermNames.KiFactor] = kiFactor;
        terms[LagrangeTermNames.KdFactor] = kdFactor;
        terms[LagrangeTermNames.NextKp] = _kp;
        terms[LagrangeTermNames.NextKi] = _ki;
        terms[LagrangeTermNames.NextKd] = _kd;
        return new LagrangeUpdate(step.Lambda, step.Error, terms);
    }

    /// <inheritdoc />
    public void WarmStart(double lambda) => _core.WarmStart(lambda);

    /// <inheritdoc />
    public LagrangeControllerState GetState()
    {
        var scalars = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [KpKey] = _kp,
            [KiKey] = _ki,
            [KdKey] = _kd,
        };
        var arrays = new Dictionary<string, double[]>(StringComparer.Ordinal);
        _core.WriteState(scalars, arrays);
        return new LagrangeControllerState(StateKind, scalars, arrays);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="state"/> is null.</exception>
    /// <remarks>The gains must lie inside this controller's bounds [K⁰·lower, K⁰·upper]; a state saved under other
    /// gain options is refused rather than silently clipped.</remarks>
    public void SetState(LagrangeControllerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureKind(StateKind);
        PidCoreSnapshot core = _core.Read(state);
        double kp = ReadGain(state, KpKey, _options.Kp);
        double ki = ReadGain(state, KiKey, _options.Ki);
        double kd = ReadGain(state, KdKey, _options.Kd);

        _core.Apply(core);
        _kp = kp;
        _ki = ki;
        _kd = kd;
    }

    private double ClipGain(double gain, double initial) =>
        Math.Clamp(gain, initial * _options.GainLowerBoundFactor, initial * _options.GainUpperBoundFactor);

    private double ReadGain(LagrangeControllerState state, string name, double initial)
    {
        double gain = LagrangeGuard.FiniteScalar(state, name);
        double lower = initial * _options.GainLowerBoundFactor, upper = initial * _options.GainUpperBoundFactor;
        if (gain < lower || gain > upper)
        {
            throw new ArgumentException(
                Invariant($"The '{StateKind}' state holds {name} = {gain}, outside this controller's gain bounds [{lower}, {upper}]. ") +
                "Restore into a controller built with the same gains and bound factors.", nameof(state));
        }
        return gain;
    }
}

using Microsoft.Extensions.Options;
using static System.FormattableString;

namespace Marvel.Core.Lagrange;

/// <summary>
/// Projected dual ascent on the Lagrange multiplier: one gradient step (plain or Adam) on the loss
/// −λ·(J_c − CostLimit) per measurement, then λ ← clamp(λ, 0, UpperBound).
/// </summary>
/// <remarks>
/// <para>Rule (algorithms.md §9.1; OmniSafe <c>Lagrange</c>, Marvel <c>utils.Lagrange</c>), with e = J_c − d and
/// gradient g = −e:</para>
/// <para>SGD: λ ← max(0, λ + η·e).</para>
/// <para>Adam, step t: m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; λ ← λ − (η / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε);
/// then the projection. The moments are not touched by the projection, as with a clamped PyTorch parameter.</para>
/// <para>Everything is computed in double precision (the references hold λ in a float32 tensor).
/// State: λ, m, v, t and the update count; <see cref="LagrangeControllerState.Kind"/> is "DualAscent".</para>
/// </remarks>
public sealed class DualAscentController : ILagrangeController, ILagrangeWarmStart
{
    /// <summary>The <see cref="LagrangeControllerState.Kind"/> written by this controller.</summary>
    public const string StateKind = "DualAscent";

    private const string LambdaKey = "lambda";
    private const string OptimizerKey = "optimizer";
    private const string FirstMomentKey = "adamFirstMoment";
    private const string SecondMomentKey = "adamSecondMoment";
    private const string AdamStepKey = "adamStep";
    private const string UpdatesKey = "updates";

    private readonly DualAscentOptions _options;
    private double _lambda;
    private double _firstMoment;
    private double _secondMoment;
    private long _adamStep;
    private long _updates;

    /// <summary>Creates the controller from options; the options are validated and copied.</summary>
    /// <param name="options">The settings; later edits to this object have no effect.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="OptionsValidationException">A field is invalid; the message names every bad field.</exception>
    public DualAscentController(DualAscentOptions options)
    {
        _options = LagrangeGuard.Validated(options, new DualAscentOptionsValidator()) with { };
        _lambda = Project(Math.Max(_options.InitialLambda, _options.InitialLambdaFloor));
    }

    /// <summary>Creates the controller from configured options (the dependency-injection path).</summary>
    /// <param name="options">The configured settings.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="OptionsValidationException">A field is invalid; the message names every bad field.</exception>
    public DualAscentController(IOptions<DualAscentOptions> options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).Value)
    {
    }

    /// <summary>A copy of the settings this controller was built with.</summary>
    public DualAscentOptions Options => _options with { };

    /// <inheritdoc />
    public double Lambda => _lambda;

    /// <inheritdoc />
    public double CostLimit => _options.CostLimit;

    /// <summary>The number of updates applied so far.</summary>
    public long UpdateCount => _updates;

    /// <inheritdoc />
    /// <remarks>Terms: <see cref="LagrangeTermNames.Gradient"/>, <see cref="LagrangeTermNames.Step"/> and, for Adam,
    /// <see cref="LagrangeTermNames.AdamFirstMoment"/> and <see cref="LagrangeTermNames.AdamSecondMoment"/>.</remarks>
    public LagrangeUpdate Update(double meanEpisodeCost)
    {
        LagrangeGuard.CheckEpisodeCost(meanEpisodeCost);
        double error = meanEpisodeCost - _options.CostLimit;
        double gradient = -error; // ∂/∂λ of the loss −λ·(J_c − d)

        // Computed on copies and committed only when every number is finite: a huge cost (1e308 passes the input check)
        // would otherwise leave an infinite second moment in the state and freeze λ for good.
        double step, firstMoment = _firstMoment, secondMoment = _secondMoment;
        long adamStep = _adamStep;
        if (_options.Optimizer == DualAscentOptimizer.Sgd)
        {
            step = -_options.LearningRate * gradient;
        }
        else
        {
            double beta1 = _options.AdamBeta1, beta2 = _options.AdamBeta2;
            adamStep++;
            firstMoment = beta1 * firstMoment + (1 - beta1) * gradient;
            secondMoment = beta2 * secondMoment + (1 - beta2) * gradient * gradient;
            double biasCorrection1 = 1 - Math.Pow(beta1, adamStep);
            double biasCorrection2 = 1 - Math.Pow(beta2, adamStep);
            double denominator = Math.Sqrt(secondMoment) / Math.Sqrt(biasCorrection2) + _options.AdamEpsilon;
            step = -(_options.LearningRate / biasCorrection1) * firstMoment / denominator;
        }
        double lambda = Project(_lambda + step);
        LagrangeGuard.CheckRepresentable(StateKind, meanEpisodeCost,
            [("gradient", gradient), ("adamM", firstMoment), ("adamV", secondMoment), ("step", step), ("lambda", lambda)]);

        _firstMoment = firstMoment;
        _secondMoment = secondMoment;
        _adamStep = adamStep;
        _lambda = lambda;
        _updates++;

        var terms = new Dictionary<string, double>(4, StringComparer.Ordinal)
        {
            [LagrangeTermNames.Gradient] = gradient,
            [LagrangeTermNames.Step] = step,
        };
        if (_options.Optimizer == DualAscentOptimizer.Adam)
        {
            terms[LagrangeTermNames.AdamFirstMoment] = _firstMoment;
            terms[LagrangeTermNames.AdamSecondMoment] = _secondMoment;
        }
        return new LagrangeUpdate(_lambda, error, terms);
    }

    /// <inheritdoc />
    public void WarmStart(double lambda)
    {
        if (!(double.IsFinite(lambda) && lambda >= 0))
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "The warm-start multiplier must be finite and >= 0.");
        _lambda = Project(lambda);
    }

    /// <inheritdoc />
    public LagrangeControllerState GetState() => new(
        StateKind,
        new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [LambdaKey] = _lambda,
            [OptimizerKey] = (double)_options.Optimizer,
            [FirstMomentKey] = _firstMoment,
            [SecondMomentKey] = _secondMoment,
            [AdamStepKey] = _adamStep,
            [UpdatesKey] = _updates,
        },
        new Dictionary<string, double[]>(StringComparer.Ordinal));

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="state"/> is null.</exception>
    public void SetState(LagrangeControllerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureKind(StateKind);

        double optimizer = LagrangeGuard.FiniteScalar(state, OptimizerKey);
        if (optimizer != (double)_options.Optimizer)
        {
            throw new ArgumentException(
                Invariant($"The '{StateKind}' state was written by a controller using optimizer code {optimizer}, this one uses {_options.Optimizer} ({(int)_options.Optimizer}). ") +
                "Restore into a controller built with the same Optimizer option.", nameof(state));
        }
        double lambda = LagrangeGuard.FiniteScalar(state, LambdaKey);
        LagrangeGuard.NonNegative(state, LambdaKey, lambda);
        if (_options.UpperBound is double upper && lambda > upper)
            throw new ArgumentException(Invariant($"The '{StateKind}' state holds lambda = {lambda}, above this controller's UpperBound {upper}."), nameof(state));
        double firstMoment = LagrangeGuard.FiniteScalar(state, FirstMomentKey);
        double secondMoment = LagrangeGuard.FiniteScalar(state, SecondMomentKey);
        LagrangeGuard.NonNegative(state, SecondMomentKey, secondMoment);
        long adamStep = LagrangeGuard.Counter(state, AdamStepKey);
        long updates = LagrangeGuard.Counter(state, UpdatesKey);

        _lambda = lambda;
        _firstMoment = firstMoment;
        _secondMoment = secondMoment;
        _adamStep = adamStep;
        _updates = updates;
    }

    private double Project(double lambda)
    {
        lambda = Math.Max(0.0, lambda);
        return _options.UpperBound is double upper ? Math.Min(lambda, upper) : lambda;
    }
}

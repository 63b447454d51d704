using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Seeding;

namespace Marvel.Core.Tests.Lagrange;

/// <summary>
/// A stand-in for "policy learning under a penalty λ": the policy's expected episode cost x moves towards a
/// steady state J_ss(λ) with a first-order lag, and each iteration the controller sees a noisy mean episode cost.
/// </summary>
/// <remarks>
/// J_ss(λ) = max(0, 60 − 50·λ/(λ + 0.25)): 60 without penalty, 20 (the limit) at λ* = 1, 10 as λ → ∞.
/// x_{k+1} = x_k + β·(J_ss(λ_k) − x_k) with β = 0.2 (the policy needs about 5 iterations to follow λ);
/// observed J_k = max(0, x_k + σ·ε_k), σ = 1, ε from a seeded <see cref="RandomSource"/>. Starts at x₀ = 60.
/// </remarks>
internal sealed class SimulatedCostPlant
{
    public const double CostLimit = 20;
    public const double LambdaStar = 1.0;
    private const double Unpenalised = 60, Reducible = 50, LambdaScale = 0.25, Lag = 0.2, NoiseStd = 1.0;

    public static double SteadyStateCost(double lambda) => Math.Max(0, Unpenalised - Reducible * lambda / (lambda + LambdaScale));

    /// <summary>Runs <paramref name="iterations"/> measure → update → respond steps and returns the trajectories.</summary>
    public static ClosedLoopRun Run(ILagrangeController controller, ulong seed, int iterations = 200)
    {
        var random = new RandomSource(seed);
        double x = Unpenalised;
        var expectedCost = new double[iterations];
        var lambdas = new double[iterations];
        for (int k = 0; k < iterations; k++)
        {
            double measured = Math.Max(0, x + NoiseStd * random.NextGaussian());
            double lambda = controller.Update(measured).Lambda;
            x += Lag * (SteadyStateCost(lambda) - x);
            expectedCost[k] = x;
            lambdas[k] = lambda;
        }
        return new ClosedLoopRun(expectedCost, lambdas);
    }
}

/// <summary>Trajectories of one closed-loop run and the step-response metrics the tests compare.</summary>
/// <param name="ExpectedCost">The noise-free expected episode cost x after each update.</param>
/// <param name="Lambdas">λ after each update.</param>
internal sealed record ClosedLoopRun(double[] ExpectedCost, double[] Lambdas)
{
    private const double Limit = SimulatedCostPlant.CostLimit;

    /// <summary>Settling band: ±10 % of the limit.</summary>
    public const double Band = 2.0;

    /// <summary>First iteration at which x ≤ limit, or −1 if never.</summary>
    public int FirstCrossing => Array.FindIndex(ExpectedCost, x => x <= Limit);

    /// <summary>How far x falls below the limit after first reaching it (cost units): the set-point overshoot.</summary>
    public double Overshoot => FirstCrossing < 0 ? 0 : Math.Max(0, Limit - ExpectedCost.Skip(FirstCrossing).Min());

    /// <summary>First iteration after which x stays within ±<see cref="Band"/> of the limit (length if never).</summary>
    public int SettlingIteration
    {
        get
        {
            int k = ExpectedCost.Length;
            while (k > 0 && Math.Abs(ExpectedCost[k - 1] - Limit) <= Band) k--;
            return k;
        }
    }

    /// <summary>Σ_k max(0, x_k − limit): cumulative expected constraint violation (cost units × iterations).</summary>
    public double CumulativeViolation => ExpectedCost.Sum(x => Math.Max(0, x - Limit));

    /// <summary>Mean of x over the last 50 iterations.</summary>
    public double FinalCost => ExpectedCost.TakeLast(50).Average();

    /// <summary>Largest λ of the run.</summary>
    public double PeakLambda => Lambdas.Max();

    public override string ToString() =>
        $"cross {FirstCrossing,3}  overshoot {Overshoot,6:F3}  settle {SettlingIteration,3}  violation {CumulativeViolation,8:F1}  final {FinalCost,7:F3}  peak λ {PeakLambda,6:F3}";
}

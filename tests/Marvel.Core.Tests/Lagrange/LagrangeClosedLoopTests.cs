using Marvel.Core.Abstractions;
using Marvel.Core.Lagrange;

namespace Marvel.Core.Tests.Lagrange;

/// <summary>
/// Step response on <see cref="SimulatedCostPlant"/> (cost 60 → limit 20, λ* = 1, lag β = 0.2, noise σ = 1, 200
/// iterations, one controller update per iteration). Gains are chosen for this plant: the integral gain is the
/// same for dual ascent (η) and PID (K_I), so the comparison isolates what the P and D terms add.
/// </summary>
public class LagrangeClosedLoopTests
{
    private static readonly ulong[] Seeds = [1, 2, 3, 4, 5];

    internal static ILagrangeController DualAscentSgd() => new DualAscentController(new DualAscentOptions
    {
        CostLimit = SimulatedCostPlant.CostLimit, Optimizer = DualAscentOptimizer.Sgd, LearningRate = 0.01, InitialLambda = 0,
    });

    internal static ILagrangeController DualAscentAdam() => new DualAscentController(new DualAscentOptions
    {
        CostLimit = SimulatedCostPlant.CostLimit, Optimizer = DualAscentOptimizer.Adam, LearningRate = 0.05, InitialLambda = 0,
    });

    internal static ILagrangeController Pid() => new PidLagrangeController(new PidLagrangeOptions
    {
        CostLimit = SimulatedCostPlant.CostLimit, Kp = 0.1, Ki = 0.01, Kd = 0.01, DerivativeDelay = 10,
        ProportionalEmaAlpha = 0.5, DerivativeEmaAlpha = 0.5, InitialLambda = 0,
    });

    internal static ILagrangeController AdaptivePid(GainAdaptationRule rule = GainAdaptationRule.Reference) =>
        new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions
        {
            CostLimit = SimulatedCostPlant.CostLimit, Kp = 0.1, Ki = 0.01, Kd = 0.01,
            ProportionalEmaAlpha = 0.5, DerivativeEmaAlpha = 0.5, GainAdaptation = rule,
        });

    internal static ILagrangeController AdaptivePidReferenceGains() =>
        new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions
        {
            CostLimit = SimulatedCostPlant.CostLimit, Kp = AdaptivePidLagrangeOptions.ReferenceGain, Ki = AdaptivePidLagrangeOptions.ReferenceGain,
            Kd = AdaptivePidLagrangeOptions.ReferenceGain,
        });

    [Test]
    public void Pid_SettlesNearLimitWithLessOvershootThanDualAscent()
    {
        foreach (ulong seed in Seeds)
        {
            var dual = SimulatedCostPlant.Run(DualAscentSgd(), seed);
            var pid = SimulatedCostPlant.Run(Pid(), seed);
            TestContext.Out.WriteLine($"seed {seed}  dual ascent SGD: {dual}");
            TestContext.Out.WriteLine($"seed {seed}  PID            : {pid}");

            pid.FinalCost.Should().BeApproximately(SimulatedCostPlant.CostLimit, 1.0, $"PID settles near the limit (seed {seed})");
            dual.FinalCost.Should().BeApproximately(SimulatedCostPlant.CostLimit, 1.0, $"dual ascent also converges (seed {seed})");
            pid.Overshoot.Should().BeLessThan(0.75 * dual.Overshoot, $"seed {seed}");
            pid.SettlingIteration.Should().BeLessThan(dual.SettlingIteration / 2, $"seed {seed}");
            pid.CumulativeViolation.Should().BeLessThan(dual.CumulativeViolation, $"seed {seed}");
        }
    }

    [Test]
    public void AdaptivePid_WithGainsForThisPlant_SettlesNearLimit()
    {
        foreach (ulong seed in Seeds)
        {
            var controller = (AdaptivePidLagrangeController)AdaptivePid();
            var adaptive = SimulatedCostPlant.Run(controller, seed);
            var dual = SimulatedCostPlant.Run(DualAscentSgd(), seed);
            TestContext.Out.WriteLine($"seed {seed}  aPID (K⁰ 0.1/0.01/0.01): {adaptive}  final gains {controller.Kp:G4}/{controller.Ki:G4}/{controller.Kd:G4}");

            adaptive.FinalCost.Should().BeApproximately(SimulatedCostPlant.CostLimit, 1.0, $"seed {seed}");
            adaptive.Overshoot.Should().BeLessThan(dual.Overshoot, $"seed {seed}");
            adaptive.SettlingIteration.Should().BeLessThan(dual.SettlingIteration, $"seed {seed}");
        }
    }

    [Test]
    public void AdaptivePid_ReferenceGainsUpdatedOncePerIteration_NeverReachTheLimit()
    {
        // marvel.md §4.4 / §8 D8: K⁰ = 5e-6 is sized for 20 updates per iteration; at one update per iteration
        // λ stays far below λ* = 1 and the cost far above the limit for the whole run.
        var run = SimulatedCostPlant.Run(AdaptivePidReferenceGains(), seed: 1);
        TestContext.Out.WriteLine($"aPID reference gains 5e-6: {run}");

        run.FirstCrossing.Should().Be(-1);
        run.PeakLambda.Should().BeLessThan(0.25 * SimulatedCostPlant.LambdaStar);
        run.FinalCost.Should().BeGreaterThan(1.5 * SimulatedCostPlant.CostLimit);
    }

    [Test]
    public void Report_AllControllers()
    {
        // Evidence for docs/algorithms/lagrange.md: mean over seeds 1–5 of each metric, and checks that each row must pass.
        // Every controller must pull the cost down from the unpenalised 60 (a flipped sign leaves it at 60 or above); those whose gains
        // suit this plant must settle within ±0.5 of the limit 20 (the table has 20.09–20.11); the reference gains 5e-6 never reach it
        // (marvel.md §8 D8) but must still have lowered the cost.
        var controllers = new (string Name, Func<ILagrangeController> Make, bool Settles)[]
        {
            ("dual ascent SGD η=0.01", DualAscentSgd, true),
            ("dual ascent Adam lr=0.05", DualAscentAdam, true),
            ("PID 0.1/0.01/0.01", Pid, true),
            ("aPID Reference, FirstValue", () => AdaptivePid(GainAdaptationRule.Reference), true),
            ("aPID PaperTanh, FirstValue", () => AdaptivePid(GainAdaptationRule.PaperTanh), true),
            ("aPID None, FirstValue", () => AdaptivePid(GainAdaptationRule.None), true),
            ("aPID reference gains 5e-6", AdaptivePidReferenceGains, false),
        };
        double unpenalised = SimulatedCostPlant.SteadyStateCost(0);
        TestContext.Out.WriteLine("| controller | first crossing | overshoot | settling | cum. violation | final cost | peak λ |");
        TestContext.Out.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var (name, make, settles) in controllers)
        {
            var runs = Seeds.Select(seed => SimulatedCostPlant.Run(make(), seed)).ToArray();
            TestContext.Out.WriteLine(
                $"| {name} | {runs.Average(r => r.FirstCrossing):F1} | {runs.Average(r => r.Overshoot):F2} | {runs.Average(r => r.SettlingIteration):F1} | " +
                $"{runs.Average(r => r.CumulativeViolation):F1} | {runs.Average(r => r.FinalCost):F2} | {runs.Average(r => r.PeakLambda):F3} |");
            runs.Should().OnlyContain(r => r.Lambdas.All(l => l >= 0), name);
            runs.Should().OnlyContain(r => r.PeakLambda > 0, $"{name} must raise λ while the cost is 3× the limit");
            runs.Should().OnlyContain(r => r.FinalCost < unpenalised - 10, $"{name} must pull the cost below the unpenalised {unpenalised}");
            if (settles)
            {
                runs.Should().OnlyContain(r => r.FirstCrossing >= 0, $"{name} reaches the limit");
                runs.Average(r => r.FinalCost).Should().BeApproximately(SimulatedCostPlant.CostLimit, 0.5, name);
            }
            else
            {
                runs.Should().OnlyContain(r => r.FirstCrossing == -1, $"{name} is sized for 20 updates per iteration and never reaches the limit here");
            }
        }
    }
}

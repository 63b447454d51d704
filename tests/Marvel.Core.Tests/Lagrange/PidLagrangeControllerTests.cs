using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Lagrange;

namespace Marvel.Core.Tests.Lagrange;

public class PidLagrangeControllerTests
{
    // algorithms.md §9.5: K_p = 0.1, K_i = 0.01, K_d = 0.01, d_delay = 10, α_p = α_d = 0.95, λ_init = 0.001, κ = 25.
    private static PidLagrangeOptions WorkedExample() => new()
    {
        CostLimit = 25,
        Kp = 0.1,
        Ki = 0.01,
        Kd = 0.01,
        DerivativeDelay = 10,
        ProportionalEmaAlpha = 0.95,
        DerivativeEmaAlpha = 0.95,
        InitialLambda = 0.001,
    };

    [Test]
    public void Update_ThreeStepTrace_MatchesAlgorithmsSection95()
    {
        var controller = new PidLagrangeController(WorkedExample());

        // k = 1, J = 40: δ = 15; I = 0.001 + 0.01·15 = 0.151; δ_p = 0.05·15 = 0.75; C_d = 0.05·40 = 2.0;
        // D[0] = 0 ⇒ P_d = 2.0; λ = 0.1·0.75 + 0.151 + 0.01·2.0 = 0.075 + 0.151 + 0.02 = 0.246.
        var first = controller.Update(40);
        first.Error.Should().Be(15);
        first.Terms[LagrangeTermNames.Integral].Should().BeApproximately(0.151, Tolerance.Relative(0.151));
        first.Terms[LagrangeTermNames.ErrorEma].Should().BeApproximately(0.75, Tolerance.Relative(0.75));
        first.Terms[LagrangeTermNames.CostEma].Should().BeApproximately(2.0, Tolerance.Relative(2.0));
        first.Terms[LagrangeTermNames.DelayedCostEma].Should().Be(0);
        first.Terms[LagrangeTermNames.DerivativeInput].Should().BeApproximately(2.0, Tolerance.Relative(2.0));
        first.Lambda.Should().BeApproximately(0.246, Tolerance.Relative(0.246));

        // k = 2, J = 30: δ = 5; I = 0.201; δ_p = 0.95·0.75 + 0.05·5 = 0.9625; C_d = 0.95·2 + 1.5 = 3.4;
        // λ = 0.09625 + 0.201 + 0.034 = 0.33125.
        var second = controller.Update(30);
        second.Terms[LagrangeTermNames.Integral].Should().BeApproximately(0.201, Tolerance.Relative(0.201));
        second.Terms[LagrangeTermNames.ErrorEma].Should().BeApproximately(0.9625, Tolerance.Relative(0.9625));
        second.Terms[LagrangeTermNames.CostEma].Should().BeApproximately(3.4, Tolerance.Relative(3.4));
        second.Terms[LagrangeTermNames.DerivativeInput].Should().BeApproximately(3.4, Tolerance.Relative(3.4));
        second.Lambda.Should().BeApproximately(0.33125, Tolerance.Relative(0.33125));

        // k = 3, J = 20: δ = −5; I = 0.151; δ_p = 0.95·0.9625 − 0.25 = 0.664375; C_d = 0.95·3.4 + 1.0 = 4.23;
        // λ = 0.0664375 + 0.151 + 0.0423 = 0.2597375 (the table rounds it to 0.259738).
        var third = controller.Update(20);
        third.Terms[LagrangeTermNames.Integral].Should().BeApproximately(0.151, Tolerance.Relative(0.151));
        third.Terms[LagrangeTermNames.ErrorEma].Should().BeApproximately(0.664375, Tolerance.Relative(0.664375));
        third.Terms[LagrangeTermNames.CostEma].Should().BeApproximately(4.23, Tolerance.Relative(4.23));
        third.Terms[LagrangeTermNames.Proportional].Should().BeApproximately(0.0664375, Tolerance.Relative(0.0664375));
        third.Terms[LagrangeTermNames.Derivative].Should().BeApproximately(0.0423, Tolerance.Relative(0.0423));
        third.Lambda.Should().BeApproximately(0.2597375, Tolerance.Relative(0.2597375));

        // After update 3 the delay line is [0, 2.0, 3.4, 4.23].
        double[] line = controller.GetState().Array("delayLine");
        line.Should().HaveCount(4);
        line[0].Should().Be(0);
        line[1].Should().BeApproximately(2.0, Tolerance.Relative(2.0));
        line[2].Should().BeApproximately(3.4, Tolerance.Relative(3.4));
        line[3].Should().BeApproximately(4.23, Tolerance.Relative(4.23));
    }

    [Test]
    public void Update_EleventhUpdate_ComparesWithCostAverageOfFirstUpdate()
    {
        // d_delay = 10: ds keeps its seed 0 for ten updates; update 11 compares with c_d of update 1.
        var controller = new PidLagrangeController(WorkedExample());
        double firstCostEma = controller.Update(40).Terms[LagrangeTermNames.CostEma];
        for (int k = 2; k <= 10; k++)
            controller.Update(40).Terms[LagrangeTermNames.DelayedCostEma].Should().Be(0, $"update {k} still sees the seed");

        var eleventh = controller.Update(40);

        eleventh.Terms[LagrangeTermNames.DelayedCostEma].Should().Be(firstCostEma);
        controller.GetState().Array("delayLine").Should().HaveCount(10);
    }

    [Test]
    public void Update_LongRunBelowLimitThenOneAbove_LambdaRisesAtOnce()
    {
        // Integral only (K_p = K_d = 0), K_i = 0.01, κ = 25, λ₀ = 0. 200 updates at J = 15 (δ = −10): I = max(0, I − 0.1) stays 0,
        // so λ = 0 throughout. One update at J = 35 (δ = +10): I = max(0, 0 + 0.1) = 0.1 and λ = 0.1 at once. Without the clamp,
        // I would have wound down to −20 and λ = max(0, −19.9) would stay 0 for another 199 updates.
        var controller = new PidLagrangeController(WorkedExample() with { Kp = 0, Kd = 0, InitialLambda = 0 });
        for (int i = 0; i < 200; i++)
        {
            var below = controller.Update(15);
            below.Lambda.Should().Be(0);
            below.Terms[LagrangeTermNames.Integral].Should().Be(0, "the integral is clamped at 0 while the cost is below the limit");
        }

        var above = controller.Update(35);

        above.Terms[LagrangeTermNames.Integral].Should().BeApproximately(0.1, 1e-12);
        above.Lambda.Should().BeApproximately(0.1, 1e-12);
    }

    [Test]
    public void Update_LongRunBelowLimitThenOneAbove_WorkedExampleGains_LambdaRisesAtOnce()
    {
        // Worked-example gains (0.1/0.01/0.01, α = 0.95, κ = 25). After 300 updates at J = 15 (δ = −10) I = 0, the error EMA is
        // −10·(1 − 0.95³⁰⁰) ≈ −10 and the cost EMA and the whole delay line ≈ 15 (0.95³⁰⁰ ≈ 2e-7), and λ = 0 all along because the
        // P term is negative. One update at J = 95 (δ = +70): I = 0.01·70 = 0.7; δ_p = 0.95·(−10) + 0.05·70 = −6;
        // c_d = 0.95·15 + 0.05·95 = 19; D = max(0, 19 − 15) = 4; λ = 0.1·(−6) + 0.7 + 0.01·4 = −0.6 + 0.7 + 0.04 = 0.14.
        // Without the clamp, I would be −30 + 0.7 and λ would stay 0.
        var controller = new PidLagrangeController(WorkedExample() with { InitialLambda = 0 });
        for (int i = 0; i < 300; i++) controller.Update(15).Lambda.Should().Be(0);

        var above = controller.Update(95);

        above.Terms[LagrangeTermNames.Integral].Should().BeApproximately(0.7, 1e-9);
        above.Lambda.Should().BeApproximately(0.14, 1e-5);
    }

    [Test]
    public void Lambda_BeforeFirstUpdate_IsInitialLambda()
    {
        new PidLagrangeController(WorkedExample()).Lambda.Should().Be(0.001);
    }

    [Test]
    public void Update_RandomCosts_KeepsLambdaNonNegativeAndBelowUpperBound()
    {
        var options = WorkedExample() with { UpperBound = 3.0 };
        var controller = new PidLagrangeController(options);
        var random = new RandomSource(99);

        for (int i = 0; i < 5000; i++)
        {
            double cost = random.NextDouble() < 0.2 ? 0 : random.NextDouble(0, 100);
            controller.Update(cost).Lambda.Should().BeInRange(0, 3.0);
        }
    }

    [Test]
    public void SetState_SavedMidRun_ContinuesIdentically()
    {
        var original = new PidLagrangeController(WorkedExample());
        var random = new RandomSource(5);
        for (int i = 0; i < 17; i++) original.Update(random.NextDouble(0, 60));

        var restored = new PidLagrangeController(WorkedExample());
        restored.SetState(original.GetState());

        restored.Lambda.Should().Be(original.Lambda);
        for (int i = 0; i < 30; i++)
        {
            double cost = random.NextDouble(0, 60);
            var expected = original.Update(cost);
            var actual = restored.Update(cost);
            actual.Lambda.Should().Be(expected.Lambda);
            actual.Terms.Should().Equal(expected.Terms);
        }
        restored.GetState().Array("delayLine").Should().Equal(original.GetState().Array("delayLine"));
    }

    [Test]
    public void SetState_DelayLineLongerThanDerivativeDelay_ThrowsNamingIt()
    {
        var controller = new PidLagrangeController(WorkedExample() with { DerivativeDelay = 3 });
        var longLine = new PidLagrangeController(WorkedExample());
        for (int i = 0; i < 6; i++) longLine.Update(30);

        var act = () => controller.SetState(longLine.GetState());

        act.Should().Throw<ArgumentException>().WithMessage("*delayLine*DerivativeDelay*");
    }

    // Anti-windup (issue 23's DroneRun probe): with K_P = K_D = 0 and K_I = 1, limit 10, bound 2, three updates at cost 20 would wind
    // the integral to 10, 20, 30 (λ clipped to 2 each time); capped, it stays at 2. A cost-0 update then gives I = max(0, 2 − 10) = 0,
    // so λ = 0 at once, where the unbounded integral (30 − 10 = 20) would keep λ at the bound.
    private static PidLagrangeOptions IntegralOnly(bool referenceUnbounded) => new()
    {
        CostLimit = 10, Kp = 0, Ki = 1, Kd = 0, InitialLambda = 0, UpperBound = 2, ReferenceUnboundedIntegral = referenceUnbounded,
    };

    [Test]
    public void Update_CostFallsAfterLongViolation_LambdaLeavesTheBoundAtOnce()
    {
        var controller = new PidLagrangeController(IntegralOnly(referenceUnbounded: false));
        for (int i = 0; i < 3; i++)
        {
            var costly = controller.Update(20);
            costly.Lambda.Should().Be(2);
            costly.Terms[LagrangeTermNames.Integral].Should().Be(2, "the integral is capped at the bound");
        }

        var safe = controller.Update(0);

        safe.Terms[LagrangeTermNames.Integral].Should().Be(0);
        safe.Lambda.Should().Be(0);
    }

    [Test]
    public void Update_ReferenceUnboundedIntegral_WindsUpPastTheBound()
    {
        var controller = new PidLagrangeController(IntegralOnly(referenceUnbounded: true));
        for (int i = 0; i < 3; i++) controller.Update(20);

        var safe = controller.Update(0);

        safe.Terms[LagrangeTermNames.Integral].Should().Be(20);
        safe.Lambda.Should().Be(2);
    }
}

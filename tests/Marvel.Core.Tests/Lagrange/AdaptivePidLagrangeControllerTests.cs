using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Lagrange;

namespace Marvel.Core.Tests.Lagrange;

public class AdaptivePidLagrangeControllerTests
{
    // marvel.md §3.4: reference rule, K⁰ = 5e-6 (all three), d_delay 10, a_p = a_d = 0.9, λ₀ = 0, d = 20,
    // delay line seeded with 0 (the reference behaviour the trace was computed with).
    private static AdaptivePidLagrangeOptions ReferenceTrace(double initialGain = 5e-6) => new()
    {
        CostLimit = 20,
        Kp = initialGain,
        Ki = initialGain,
        Kd = initialGain,
        DerivativeDelay = 10,
        ProportionalEmaAlpha = 0.9,
        DerivativeEmaAlpha = 0.9,
        InitialLambda = 0,
        GainAdaptation = GainAdaptationRule.Reference,
        DelayInit = DelayLineInit.ZeroSeeded,
    };

    private static void ShouldBe(LagrangeUpdate update, string term, double expected) =>
        update.Terms[term].Should().BeApproximately(expected, Tolerance.Relative(expected), term);

    [Test]
    public void Defaults_AreTheSpecValues()
    {
        var options = new AdaptivePidLagrangeOptions();

        options.CostLimit.Should().Be(20);
        // The reference's 5e-6 × its 20 mini-batch steps per iteration (marvel.md §4.4): the controller is updated once per iteration.
        options.Kp.Should().BeApproximately(1e-4, 1e-18);
        options.Ki.Should().BeApproximately(1e-4, 1e-18);
        options.Kd.Should().BeApproximately(1e-4, 1e-18);
        options.DerivativeDelay.Should().Be(10);
        options.ProportionalEmaAlpha.Should().Be(0.9);
        options.DerivativeEmaAlpha.Should().Be(0.9);
        options.InitialLambda.Should().Be(0);
        options.UpperBound.Should().BeNull();
        options.GainAdaptation.Should().Be(GainAdaptationRule.Reference);
        options.DelayInit.Should().Be(DelayLineInit.FirstValue);
        options.WindowOffset.Should().Be(0.1);
        options.GainLowerBoundFactor.Should().Be(0.1);
        options.GainUpperBoundFactor.Should().Be(10);
        new AdaptivePidLagrangeController(options).Lambda.Should().Be(0);
    }

    [Test]
    public void ReferencePreset_IsTheTraceConfiguration()
    {
        var preset = AdaptivePidLagrangeOptions.Reference();
        preset.Should().BeEquivalentTo(ReferenceTrace());
        preset.Kp.Should().Be(5e-6);
    }

    [Test]
    public void Update_ReferenceRuleTrace_MatchesMarvelSection34()
    {
        var controller = new AdaptivePidLagrangeController(ReferenceTrace());

        // Update 1, J = 35: e = 15; I = 5e-6·15 = 7.5e-5; Δp = 0.1·15 = 1.5; c_d = 0.1·35 = 3.5; ds[0] = 0 ⇒ D = 3.5;
        // λ = 5e-6·1.5 + 7.5e-5 + 5e-6·3.5 = 7.5e-6 + 7.5e-5 + 1.75e-5 = 1.0e-4.
        // W = [0, 3.5]: m = (0.1 + 3.6)/2 = 1.85, s = 1.75; f_P = 1 − 0.05·(20 − 1.85)/1.85 = 0.5094595;
        // f_D = 1 + 0.05·1.75/1.85 = 1.0472973 ⇒ K_P = K_I = 2.547297e-6, K_D = 5.236486e-6.
        var u1 = controller.Update(35);
        u1.Error.Should().Be(15);
        ShouldBe(u1, LagrangeTermNames.Kp, 5.000000e-6);
        ShouldBe(u1, LagrangeTermNames.Kd, 5.000000e-6);
        ShouldBe(u1, LagrangeTermNames.Integral, 7.500000e-5);
        ShouldBe(u1, LagrangeTermNames.ErrorEma, 1.5);
        ShouldBe(u1, LagrangeTermNames.CostEma, 3.5);
        u1.Terms[LagrangeTermNames.DelayedCostEma].Should().Be(0);
        ShouldBe(u1, LagrangeTermNames.DerivativeInput, 3.5);
        ShouldBe(u1, LagrangeTermNames.Proportional, 7.500000e-6);
        ShouldBe(u1, LagrangeTermNames.Derivative, 1.750000e-5);
        u1.Lambda.Should().BeApproximately(1.000000e-4, Tolerance.Relative(1.000000e-4));
        ShouldBe(u1, LagrangeTermNames.WindowMean, 1.85);
        ShouldBe(u1, LagrangeTermNames.WindowStd, 1.75);
        ShouldBe(u1, LagrangeTermNames.KpFactor, 0.5094595);
        ShouldBe(u1, LagrangeTermNames.KiFactor, 0.5094595);
        ShouldBe(u1, LagrangeTermNames.KdFactor, 1.0472973);
        ShouldBe(u1, LagrangeTermNames.NextKp, 2.547297e-6);
        ShouldBe(u1, LagrangeTermNames.NextKi, 2.547297e-6);
        ShouldBe(u1, LagrangeTermNames.NextKd, 5.236486e-6);

        // Update 2, J = 28: e = 8; I = 7.5e-5 + 2.547297e-6·8 = 9.537838e-5; Δp = 0.9·1.5 + 0.8 = 2.15;
        // c_d = 0.9·3.5 + 2.8 = 5.95; D = 5.95; λ = 5.476689e-6 + 9.537838e-5 + 3.115709e-5 = 1.320122e-4.
        var u2 = controller.Update(28);
        ShouldBe(u2, LagrangeTermNames.Kp, 2.547297e-6);
        ShouldBe(u2, LagrangeTermNames.Ki, 2.547297e-6);
        ShouldBe(u2, LagrangeTermNames.Kd, 5.236486e-6);
        ShouldBe(u2, LagrangeTermNames.Integral, 9.537838e-5);
        ShouldBe(u2, LagrangeTermNames.ErrorEma, 2.15);
        ShouldBe(u2, LagrangeTermNames.CostEma, 5.95);
        ShouldBe(u2, LagrangeTermNames.DerivativeInput, 5.95);
        ShouldBe(u2, LagrangeTermNames.Proportional, 5.476689e-6);
        ShouldBe(u2, LagrangeTermNames.Derivative, 3.115709e-5);
        u2.Lambda.Should().BeApproximately(1.320122e-4, Tolerance.Relative(1.320122e-4));
        ShouldBe(u2, LagrangeTermNames.WindowMean, 3.25);
        ShouldBe(u2, LagrangeTermNames.WindowStd, 2.441652);
        ShouldBe(u2, LagrangeTermNames.KpFactor, 0.7423077);
        ShouldBe(u2, LagrangeTermNames.KdFactor, 1.0375639);
        ShouldBe(u2, LagrangeTermNames.NextKp, 1.890878e-6);
        ShouldBe(u2, LagrangeTermNames.NextKd, 5.433189e-6);

        // Update 3, J = 18: e = −2; I = 9.159662e-5; Δp = 1.735; c_d = 7.155; D = 7.155; λ = 1.337518e-4.
        var u3 = controller.Update(18);
        ShouldBe(u3, LagrangeTermNames.Kp, 1.890878e-6);
        ShouldBe(u3, LagrangeTermNames.Kd, 5.433189e-6);
        ShouldBe(u3, LagrangeTermNames.Integral, 9.159662e-5);
        ShouldBe(u3, LagrangeTermNames.ErrorEma, 1.735);
        ShouldBe(u3, LagrangeTermNames.CostEma, 7.155);
        ShouldBe(u3, LagrangeTermNames.DerivativeInput, 7.155);
        ShouldBe(u3, LagrangeTermNames.Proportional, 3.280674e-6);
        ShouldBe(u3, LagrangeTermNames.Derivative, 3.887447e-5);
        u3.Lambda.Should().BeApproximately(1.337518e-4, Tolerance.Relative(1.337518e-4));
        ShouldBe(u3, LagrangeTermNames.WindowMean, 4.25125);
        ShouldBe(u3, LagrangeTermNames.WindowStd, 2.734731);
        ShouldBe(u3, LagrangeTermNames.KpFactor, 0.8147751);
        ShouldBe(u3, LagrangeTermNames.KdFactor, 1.0321638);
        ShouldBe(u3, LagrangeTermNames.NextKp, 1.540641e-6);
        ShouldBe(u3, LagrangeTermNames.NextKi, 1.540641e-6);
        ShouldBe(u3, LagrangeTermNames.NextKd, 5.607942e-6);

        // Update 4, J = 18 (marvel.md §3.4 text): λ keeps rising below the limit because ds[0] is still 0.
        var u4 = controller.Update(18);
        ShouldBe(u4, LagrangeTermNames.Integral, 8.851534e-5);
        ShouldBe(u4, LagrangeTermNames.ErrorEma, 1.3615);
        ShouldBe(u4, LagrangeTermNames.CostEma, 8.2395);
        u4.Lambda.Should().BeApproximately(1.368196e-4, Tolerance.Relative(1.368196e-4));
        u4.Lambda.Should().BeGreaterThan(u3.Lambda);
        controller.Kp.Should().BeApproximately(1.313733e-6, Tolerance.Relative(1.313733e-6));
        controller.Ki.Should().BeApproximately(1.313733e-6, Tolerance.Relative(1.313733e-6));
        controller.Kd.Should().BeApproximately(5.770702e-6, Tolerance.Relative(5.770702e-6));
    }

    [Test]
    public void Update_ReferenceRuleWithGainsOneEMinus2_MatchesMarvelScaleTest()
    {
        var controller = new AdaptivePidLagrangeController(ReferenceTrace(initialGain: 1e-2));

        // λ scales with K⁰ as long as no gain hits a bound: 1e-2/5e-6 = 2000 × the 5e-6 trace.
        controller.Update(35).Lambda.Should().BeApproximately(0.2, Tolerance.Relative(0.2));
        controller.Kp.Should().BeApproximately(5.094595e-3, Tolerance.Relative(5.094595e-3));
        controller.Update(28).Lambda.Should().BeApproximately(0.2640243, Tolerance.Relative(0.2640243));
        controller.Update(18).Lambda.Should().BeApproximately(0.2675035, Tolerance.Relative(0.2675035));
    }

    [Test]
    public void Update_ZeroCostAtStart_NegativeFactorIsClippedToLowerBound()
    {
        var controller = new AdaptivePidLagrangeController(ReferenceTrace());

        // J = 0: c_d = 0 ⇒ W = [0, 0], m = 0.1, f_P = 1 − 0.05·(20 − 0.1)/0.1 = 1 − 0.05·199 = −8.95 ⇒ K_P = K⁰/10.
        var update = controller.Update(0);

        ShouldBe(update, LagrangeTermNames.KpFactor, -8.95);
        controller.Kp.Should().BeApproximately(5e-7, Tolerance.Relative(5e-7));
        controller.Ki.Should().BeApproximately(5e-7, Tolerance.Relative(5e-7));
        controller.Kd.Should().Be(5e-6); // s = 0 ⇒ f_D = 1
        update.Lambda.Should().Be(0);
    }

    [Test]
    public void Update_FirstValueDelayInit_DerivativeStartsAtZero()
    {
        var controller = new AdaptivePidLagrangeController(ReferenceTrace() with { DelayInit = DelayLineInit.FirstValue });

        // Update 1, J = 35: seed = c_d = 3.5 ⇒ D = 0; λ = 5e-6·1.5 + 7.5e-5 = 8.25e-5.
        // W = [3.5, 3.5]: m = 3.6, s = 0; f_P = 1 − 0.05·(20 − 3.6)/3.6 = 1 − 0.05·4.5555556 = 0.7722222;
        // K_P = K_I = 3.861111e-6, K_D unchanged (f_D = 1).
        var u1 = controller.Update(35);
        u1.Terms[LagrangeTermNames.DerivativeInput].Should().Be(0);
        ShouldBe(u1, LagrangeTermNames.DelayedCostEma, 3.5);
        u1.Lambda.Should().BeApproximately(8.25e-5, Tolerance.Relative(8.25e-5));
        ShouldBe(u1, LagrangeTermNames.WindowMean, 3.6);
        u1.Terms[LagrangeTermNames.WindowStd].Should().Be(0);
        controller.Kp.Should().BeApproximately(3.861111e-6, Tolerance.Relative(3.861111e-6));
        controller.Kd.Should().Be(5e-6);

        // Update 2, J = 28: c_d = 5.95, ds[0] = 3.5 ⇒ D = 2.45, a real difference.
        var u2 = controller.Update(28);
        ShouldBe(u2, LagrangeTermNames.DerivativeInput, 2.45);
        ShouldBe(u2, LagrangeTermNames.DelayedCostEma, 3.5);
        // I = 7.5e-5 + 3.861111e-6·8 = 1.058889e-4; λ = 3.861111e-6·2.15 + 1.058889e-4 + 5e-6·2.45 = 1.264403e-4.
        u2.Lambda.Should().BeApproximately(1.264403e-4, Tolerance.Relative(1.264403e-4));

        // Updates 3 and 4 at J = 18 < d (values from an independent float64 script): unlike the zero-seeded
        // trace of §3.4, λ now falls once the cost is below the limit.
        var u3 = controller.Update(18);
        u3.Lambda.Should().BeApproximately(1.235601e-4, Tolerance.Relative(1.235601e-4));
        var u4 = controller.Update(18);
        u4.Lambda.Should().BeApproximately(1.221715e-4, Tolerance.Relative(1.221715e-4));
        u4.Lambda.Should().BeLessThan(u3.Lambda);
        u3.Lambda.Should().BeLessThan(u2.Lambda);
    }

    [Test]
    public void Update_PaperTanhRule_BoundsProportionalStepAndKeepsReferenceIntegralRule()
    {
        var controller = new AdaptivePidLagrangeController(ReferenceTrace() with { GainAdaptation = GainAdaptationRule.PaperTanh });

        // Update 1 as in §3.4 (same gains used, λ = 1e-4); (m − d)/m = (1.85 − 20)/1.85 = −9.810811,
        // tanh(−9.810811) = −0.99999999 ⇒ f_P = 0.95 ⇒ K_P = 4.75e-6; K_I follows the reference: 2.547297e-6.
        var u1 = controller.Update(35);
        u1.Lambda.Should().BeApproximately(1.0e-4, Tolerance.Relative(1.0e-4));
        ShouldBe(u1, LagrangeTermNames.KpFactor, 0.95);
        controller.Kp.Should().BeApproximately(4.75e-6, Tolerance.Relative(4.75e-6));
        controller.Ki.Should().BeApproximately(2.547297e-6, Tolerance.Relative(2.547297e-6));
        controller.Kd.Should().BeApproximately(5.236486e-6, Tolerance.Relative(5.236486e-6));
    }

    [Test]
    public void Update_BoundedRuleAtZeroCost_ShrinksGainsByAtMostTheRate()
    {
        var controller = new AdaptivePidLagrangeController(ReferenceTrace() with { GainAdaptation = GainAdaptationRule.Bounded });

        // J = 0: W = [0, 0], m = 0.1, d = 20; (m − d)/max(m, d) = −19.9/20 = −0.995 ⇒ f = 1 − 0.05·0.995 = 0.95025
        // (the reference rule divides by m = 0.1: f = −8.95, clipped to K⁰/10).
        var update = controller.Update(0);

        ShouldBe(update, LagrangeTermNames.KpFactor, 0.95025);
        ShouldBe(update, LagrangeTermNames.KiFactor, 0.95025);
        controller.Kp.Should().BeApproximately(4.75125e-6, Tolerance.Relative(4.75125e-6));
        controller.Ki.Should().BeApproximately(4.75125e-6, Tolerance.Relative(4.75125e-6));
        controller.Kd.Should().Be(5e-6); // s = 0 ⇒ f_D = 1
    }

    [Test]
    public void Update_BoundedRuleBelowSetPoint_MeasuresErrorAndSpreadAgainstSetPoint()
    {
        var controller = new AdaptivePidLagrangeController(ReferenceTrace() with { GainAdaptation = GainAdaptationRule.Bounded });

        // J = 35 (zero-seeded line): c_d = 3.5, W = [0, 3.5], m = 1.85, s = 1.75, d = 20 = max(m, d);
        // f_P = f_I = 1 + 0.05·(1.85 − 20)/20 = 0.954625; f_D = 1 + 0.05·1.75/20 = 1.004375.
        var update = controller.Update(35);

        ShouldBe(update, LagrangeTermNames.KpFactor, 0.954625);
        ShouldBe(update, LagrangeTermNames.KdFactor, 1.004375);
        controller.Ki.Should().BeApproximately(4.773125e-6, Tolerance.Relative(4.773125e-6));
        controller.Kd.Should().BeApproximately(5.021875e-6, Tolerance.Relative(5.021875e-6));
    }

    [Test]
    public void Update_BoundedRuleAboveSetPoint_AgreesWithReferenceRule()
    {
        var bounded = new AdaptivePidLagrangeController(ReferenceTrace() with { GainAdaptation = GainAdaptationRule.Bounded, DelayInit = DelayLineInit.FirstValue });
        var reference = new AdaptivePidLagrangeController(ReferenceTrace() with { DelayInit = DelayLineInit.FirstValue });

        // J = 300 from the first update: c_d = 30 > d, and the window mean stays above d, so max(m, d) = m.
        for (int i = 0; i < 15; i++)
        {
            bounded.Update(300).Lambda.Should().Be(reference.Update(300).Lambda);
            bounded.Ki.Should().Be(reference.Ki);
            bounded.Kd.Should().Be(reference.Kd);
        }
        bounded.Ki.Should().BeGreaterThan(5e-6, "the cost is above the set point, so the gains grow");
    }

    [Test]
    public void Update_UpdatesPerCall_TakesKIntegralStepsAndDecaysAveragesByAlphaToTheK()
    {
        var options = new AdaptivePidLagrangeOptions
        {
            CostLimit = 4, Kp = 1, Ki = 0.5, Kd = 0, GainAdaptation = GainAdaptationRule.None, UpdatesPerCall = 3,
        };
        var controller = new AdaptivePidLagrangeController(options);

        // e = 10 − 4 = 6; I = 3·0.5·6 = 9; a³ = 0.729 ⇒ Δp = 0.271·6 = 1.626, c_d = 0.271·10 = 2.71; λ = 1·1.626 + 9 = 10.626.
        var update = controller.Update(10);

        ShouldBe(update, LagrangeTermNames.Integral, 9);
        ShouldBe(update, LagrangeTermNames.ErrorEma, 1.626);
        ShouldBe(update, LagrangeTermNames.CostEma, 2.71);
        update.Lambda.Should().BeApproximately(10.626, Tolerance.Relative(10.626));
    }

    [Test]
    public void Update_TwentyUpdatesPerCall_MatchesTwentyCallsAtConstantCost()
    {
        var perCall = new AdaptivePidLagrangeOptions { Kp = 0.1, Ki = 0.01, Kd = 0.01, GainAdaptation = GainAdaptationRule.None };
        var fine = new AdaptivePidLagrangeController(perCall);
        var coarse = new AdaptivePidLagrangeController(perCall with { UpdatesPerCall = 20 });

        LagrangeUpdate last = default!;
        for (int i = 0; i < 20; i++) last = fine.Update(90);
        var once = coarse.Update(90);

        once.Terms[LagrangeTermNames.Integral].Should().BeApproximately(last.Terms[LagrangeTermNames.Integral], 1e-12);
        once.Terms[LagrangeTermNames.ErrorEma].Should().BeApproximately(last.Terms[LagrangeTermNames.ErrorEma], 1e-12);
        once.Terms[LagrangeTermNames.CostEma].Should().BeApproximately(last.Terms[LagrangeTermNames.CostEma], 1e-12);
    }

    [Test]
    public void Update_UpdatesPerCallWithAdaptation_RaisesTheFactorToTheK()
    {
        var controller = new AdaptivePidLagrangeController(ReferenceTrace() with { GainAdaptation = GainAdaptationRule.Bounded, UpdatesPerCall = 2 });

        // J = 0 with k = 2: f = 0.95025² = 0.9029750625 (one update's factor is 0.95025, see the zero-cost test).
        var update = controller.Update(0);

        ShouldBe(update, LagrangeTermNames.KiFactor, 0.9029750625);
        controller.Ki.Should().BeApproximately(5e-6 * 0.9029750625, Tolerance.Relative(4.5e-6));
    }

    [Test]
    public void Update_NoAdaptation_KeepsInitialGains()
    {
        var controller = new AdaptivePidLagrangeController(ReferenceTrace() with { GainAdaptation = GainAdaptationRule.None });

        controller.Update(35).Lambda.Should().BeApproximately(1.0e-4, Tolerance.Relative(1.0e-4));
        // Update 2 with K = 5e-6: I = 7.5e-5 + 4e-5 = 1.15e-4; λ = 5e-6·2.15 + 1.15e-4 + 5e-6·5.95 = 1.555e-4.
        controller.Update(28).Lambda.Should().BeApproximately(1.555e-4, Tolerance.Relative(1.555e-4));
        controller.Kp.Should().Be(5e-6);
        controller.Ki.Should().Be(5e-6);
        controller.Kd.Should().Be(5e-6);
    }

    [TestCase(GainAdaptationRule.Reference, DelayLineInit.ZeroSeeded)]
    [TestCase(GainAdaptationRule.Reference, DelayLineInit.FirstValue)]
    [TestCase(GainAdaptationRule.PaperTanh, DelayLineInit.ZeroSeeded)]
    [TestCase(GainAdaptationRule.PaperTanh, DelayLineInit.FirstValue)]
    [TestCase(GainAdaptationRule.None, DelayLineInit.FirstValue)]
    [TestCase(GainAdaptationRule.Bounded, DelayLineInit.FirstValue)]
    public void Update_RandomCosts_KeepsGainsInsideBoundsAndLambdaNonNegative(GainAdaptationRule rule, DelayLineInit init)
    {
        var options = new AdaptivePidLagrangeOptions { Kp = 0.1, Ki = 0.01, Kd = 0.02, GainAdaptation = rule, DelayInit = init };
        var controller = new AdaptivePidLagrangeController(options);
        var random = new RandomSource(20240607);
        double previousKd = controller.Kd;

        for (int i = 0; i < 5000; i++)
        {
            // Phases of low, near-limit and high costs, with exact zeros, so both adaptation branches run.
            double level = (i / 250 % 3) switch { 0 => 2.0, 1 => 20.0, _ => 80.0 };
            double cost = random.NextDouble() < 0.05 ? 0 : Math.Max(0, level + 10 * random.NextGaussian());
            var update = controller.Update(cost);

            update.Lambda.Should().BeGreaterThanOrEqualTo(0);
            controller.Kp.Should().BeInRange(0.01, 1.0);
            controller.Ki.Should().BeInRange(0.001, 0.1);
            controller.Kd.Should().BeInRange(0.002, 0.2);
            controller.Kd.Should().BeGreaterThanOrEqualTo(previousKd, "f_D ≥ 1, so K_D never decreases");
            previousKd = controller.Kd;
        }
    }

    [Test]
    public void SetState_SavedMidRun_ContinuesIdentically()
    {
        var options = new AdaptivePidLagrangeOptions { Kp = 0.1, Ki = 0.01, Kd = 0.01 };
        var original = new AdaptivePidLagrangeController(options);
        var random = new RandomSource(11);
        for (int i = 0; i < 23; i++) original.Update(random.NextDouble(0, 60));

        var restored = new AdaptivePidLagrangeController(options);
        restored.SetState(original.GetState());

        restored.Lambda.Should().Be(original.Lambda);
        restored.Kp.Should().Be(original.Kp);
        restored.UpdateCount.Should().Be(23);
        for (int i = 0; i < 30; i++)
        {
            double cost = random.NextDouble(0, 60);
            var expected = original.Update(cost);
            var actual = restored.Update(cost);
            actual.Lambda.Should().Be(expected.Lambda);
            actual.Terms.Should().Equal(expected.Terms);
        }
    }

    [Test]
    public void SetState_FreshStateWithFirstValue_StillSeedsOnFirstUpdate()
    {
        var options = new AdaptivePidLagrangeOptions { Kp = 0.1, Ki = 0.01, Kd = 0.01 };
        var fresh = new AdaptivePidLagrangeController(options);
        var restored = new AdaptivePidLagrangeController(options);
        restored.SetState(fresh.GetState());

        restored.Update(35).Terms[LagrangeTermNames.DerivativeInput].Should().Be(0);
    }

    [Test]
    public void SetState_GainsOutsideTheseBounds_Throws()
    {
        var large = new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { Kp = 1, Ki = 1, Kd = 1 });
        var small = new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions());

        var act = () => small.SetState(large.GetState());

        act.Should().Throw<ArgumentException>().WithMessage("*kp*bounds*");
    }

    [Test]
    public void Update_CostFallsAfterLongViolation_LambdaLeavesTheBoundAtOnce()
    {
        // K_P = K_D = 0 stay 0 under adaptation; the Bounded rule keeps K_I within 5 % per update of K⁰ = 1, so K_I ∈ [0.85, 1.16]
        // after three updates. Three updates at cost 100 (limit 10): each would add ≥ 76 to the integral; capped, it is 2 (the bound).
        // A cost-0 update: I = max(0, 2 − K_I·10) = 0, so λ = 0. Without the cap I ≥ 228 − 12 and λ would stay at the bound 2.
        var controller = new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions
        {
            CostLimit = 10, Kp = 0, Ki = 1, Kd = 0, UpperBound = 2, GainAdaptation = GainAdaptationRule.Bounded,
        });
        for (int i = 0; i < 3; i++)
        {
            var costly = controller.Update(100);
            costly.Lambda.Should().Be(2);
            costly.Terms[LagrangeTermNames.Integral].Should().Be(2, "the integral is capped at the bound");
        }

        var safe = controller.Update(0);

        safe.Terms[LagrangeTermNames.Integral].Should().Be(0);
        safe.Lambda.Should().Be(0);
    }
}

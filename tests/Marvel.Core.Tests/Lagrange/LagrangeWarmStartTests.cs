using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;

namespace Marvel.Core.Tests.Lagrange;

public class LagrangeWarmStartTests
{
    [Test]
    public void Pid_WarmStart_SetsLambdaAndTheIntegral_SoZeroErrorKeepsIt()
    {
        var pid = new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20, Kp = 0.1, Ki = 0.01, Kd = 0, InitialLambda = 0 });

        pid.WarmStart(0.8);

        pid.Lambda.Should().Be(0.8);
        // e = 0: I = 0.8 + 0.01·0 = 0.8, Δp = 0, D weighted by K_D = 0: λ = 0.8.
        pid.Update(20).Lambda.Should().BeApproximately(0.8, 1e-12);
        // e = −10: I = 0.8 − 0.1 = 0.7; Δp = 0.95·0 + 0.05·(−10) = −0.5, K_P·Δp = −0.05: λ = 0.65.
        pid.Update(10).Lambda.Should().BeApproximately(0.65, 1e-12);
    }

    [Test]
    public void AdaptivePid_WarmStart_SetsLambda_AndTheFirstUpdateStartsFromIt()
    {
        var apid = new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = 20, Kp = 0.1, Ki = 0.01, Kd = 0 });

        apid.WarmStart(0.5);

        apid.Lambda.Should().Be(0.5);
        // e = +10: I = 0.5 + 0.01·10 = 0.6; Δp = 0.9·0 + 0.1·10 = 1, K_P·Δp = 0.1: λ = 0.7.
        apid.Update(30).Lambda.Should().BeApproximately(0.7, 1e-12);
    }

    [Test]
    public void DualAscent_WarmStart_SetsLambda()
    {
        var dual = new DualAscentController(new DualAscentOptions { CostLimit = 20 });

        dual.WarmStart(1.25);

        dual.Lambda.Should().Be(1.25);
    }

    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void WarmStart_BadLambda_IsRefusedAndLeavesTheStateAlone(double lambda)
    {
        var pid = new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20, InitialLambda = 0.3 });

        pid.Invoking(p => p.WarmStart(lambda)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("lambda");
        pid.Lambda.Should().Be(0.3);
    }

    private static HandoverManifest Manifest(LagrangeControllerState? state) =>
        new() { Algorithm = "BEAR-Lag", ObservationSize = 8, ActionSize = 2, Lagrange = state };

    private static LagrangeControllerState State(string kind, double lambda) =>
        new(kind, new Dictionary<string, double> { ["lambda"] = lambda }, new Dictionary<string, double[]>());

    [Test]
    public void HandoverLambda_TakesTheOfflinePidMultiplier_OnlyForTheSameActorLossForm()
    {
        new MarvelPipelineOptions().LambdaAtHandover.Should().Be(LambdaAtHandover.Controller, "the default since the 3-seed evidence (docs/results.md)");
        MarvelPipeline.HandoverLambda(new MarvelPipelineOptions(), Manifest(State("OsrlBatchPid", 0.82))).Should().BeNull("the controller's own start is the default");
        var options = new MarvelPipelineOptions { LambdaAtHandover = LambdaAtHandover.OfflineMultiplier };

        MarvelPipeline.HandoverLambda(options, Manifest(State("OsrlBatchPid", 0.82))).Should().Be(0.82);
        MarvelPipeline.HandoverLambda(options, Manifest(State("OsrlBatchPid", 1077))).Should().Be(10, "a runaway offline λ is clipped at MaxHandoverLambda");
        MarvelPipeline.HandoverLambda(options with { MaxHandoverLambda = 2 }, Manifest(State("OsrlBatchPid", 3))).Should().Be(2);
        MarvelPipeline.HandoverLambda(options, Manifest(State("CpqOodDual", 0.5))).Should().BeNull("CPQ's dual weighs the OOD penalty, not the cost");
        var reset = new CriticHandoverCheck(8, -1, 1, 1e4, 1, true, 0, 1, 0.5, 0, false);
        MarvelPipeline.HandoverLambda(options, Manifest(State("OsrlBatchPid", 0.82)), reset).Should().BeNull("the multiplier balanced critics that were replaced");
        MarvelPipeline.HandoverLambda(options, Manifest(State("OsrlBatchPid", 0.82)), reset with { RewardReset = false }).Should().Be(0.82);
        MarvelPipeline.HandoverLambda(options, Manifest(State("COptiDiceDual", 0.5))).Should().BeNull("COptiDICE's λ multiplies another objective");
        MarvelPipeline.HandoverLambda(options, Manifest(null)).Should().BeNull();
        MarvelPipeline.HandoverLambda(options with { LambdaAtHandover = LambdaAtHandover.Controller }, Manifest(State("OsrlBatchPid", 0.82)))
            .Should().BeNull("the reference keeps the controller's own start");
    }
}

public class LagrangeSetPointTests
{
    [Test]
    public void AdaptivePid_SetPointFraction_RegulatesToTheFractionOfTheLimit()
    {
        var apid = new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions
        {
            CostLimit = 20, SetPointFraction = 0.5, Kp = 0.1, Ki = 0.01, Kd = 0, GainAdaptation = GainAdaptationRule.None,
        });

        // Set point 0.5 · 20 = 10. J = 10: e = 0, λ = 0. J = 20: e = +10, I = 0.01 · 10 = 0.1, Δp = 0.9 · 0 + 0.1 · 10 = 1, K_P·Δp = 0.1: λ = 0.2.
        apid.Update(10).Lambda.Should().Be(0);
        var update = apid.Update(20);
        update.Error.Should().Be(10);
        update.Lambda.Should().BeApproximately(0.2, 1e-12);
        apid.CostLimit.Should().Be(20, "CostLimit stays the episode budget; only the set point moves");
    }

    [Test]
    public void Pid_SetPointFraction_RaisesLambdaBelowTheLimit()
    {
        var pid = new PidLagrangeController(new PidLagrangeOptions { CostLimit = 20, SetPointFraction = 0.8, Kp = 0, Ki = 0.01, Kd = 0, InitialLambda = 0 });

        // J = 18 is within the limit but above the set point 16: I = 0.01 · 2 = 0.02.
        pid.Update(18).Lambda.Should().BeApproximately(0.02, 1e-12);
    }

    [TestCase(0.0)]
    [TestCase(-0.5)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    public void SetPointFraction_OutsideZeroOne_IsRejectedNamingIt(double fraction)
    {
        var apid = () => new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { SetPointFraction = fraction });
        apid.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage("*SetPointFraction*");
        var pid = () => new PidLagrangeController(new PidLagrangeOptions { SetPointFraction = fraction });
        pid.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage("*SetPointFraction*");
    }
}

public class HandoverLambdaOptionsTests
{
    [TestCase(0.0)]
    [TestCase(-1.0)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void MaxHandoverLambda_NotPositiveAndFinite_IsRejectedNamingIt(double value)
    {
        var result = new MarvelPipelineOptionsValidator().Validate(null, new MarvelPipelineOptions { MaxHandoverLambda = value });
        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("MaxHandoverLambda");
    }

    [Test]
    public void ReturnedPolicy_UndefinedValue_IsRejectedNamingIt()
    {
        var result = new MarvelPipelineOptionsValidator().Validate(null, new MarvelPipelineOptions { ReturnedPolicy = (ReturnedPolicy)5 });
        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("ReturnedPolicy").And.Contain("5");
    }

    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void ReturnedPolicyStandardErrors_NegativeOrNotFinite_IsRejectedNamingIt(double value)
    {
        var result = new MarvelPipelineOptionsValidator().Validate(null, new MarvelPipelineOptions { ReturnedPolicyStandardErrors = value });
        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("ReturnedPolicyStandardErrors");
    }

    [Test]
    public void SafeFinetuningPreset_UsesTheBoundedGainRule()
    {
        var o = AdaptivePidLagrangeOptions.SafeFinetuning(25);
        o.GainAdaptation.Should().Be(GainAdaptationRule.Bounded);
        (o.CostLimit, o.Kp, o.Ki, o.Kd, o.SetPointFraction).Should().Be((25.0, 0.1, 0.01, 0.01, 0.5));
    }

    [Test]
    public void SafeFinetuningHandover_TakesOverTheActorAlone()
    {
        var o = HandoverLoadOptions.SafeFinetuning();
        o.LoadCritics.Should().BeFalse("round 5: the handed-over critics cost CarRun 0.33 of reward");
        o.LoadActorOptimizerState.Should().BeFalse();
        o.ShouldLoadCriticOptimizerStates(new HandoverManifest { Algorithm = "BEAR-Lag", ObservationSize = 8, ActionSize = 2, AlignedBy = "VPA" })
            .Should().BeFalse("no critics, no critic moments");
    }

    [Test]
    public void LambdaAtHandover_UndefinedValue_IsRejectedNamingIt()
    {
        var result = new MarvelPipelineOptionsValidator().Validate(null, new MarvelPipelineOptions { LambdaAtHandover = (LambdaAtHandover)7 });
        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("LambdaAtHandover");
    }
}

public class LagrangeSetPointInvarianceTests
{
    [Test]
    public void AdaptivePid_DependsOnlyOnTheSetPoint_IncludingTheGainAdaptation()
    {
        // Limit 20 at fraction 0.5 and limit 10 at fraction 1 share the set point 10, so every λ, error and adapted gain must agree.
        var half = new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = 20, SetPointFraction = 0.5, Kp = 0.1, Ki = 0.01, Kd = 0.01 });
        var full = new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions { CostLimit = 10, SetPointFraction = 1.0, Kp = 0.1, Ki = 0.01, Kd = 0.01 });

        foreach (double cost in new[] { 30.0, 25, 12, 4, 0, 18, 40, 9 })
        {
            var a = half.Update(cost);
            var b = full.Update(cost);
            a.Lambda.Should().Be(b.Lambda);
            a.Error.Should().Be(b.Error);
            half.Kp.Should().Be(full.Kp);
            half.Ki.Should().Be(full.Ki);
            half.Kd.Should().Be(full.Kd);
        }
        half.Ki.Should().NotBe(0.01, "the gains adapted over the sequence");
    }
}

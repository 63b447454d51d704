using Marvel.Core.Abstractions;
using Marvel.Core.Lagrange;

namespace Marvel.Core.Tests.Lagrange;

/// <summary>No finite input may turn a controller's state into NaN or ∞, or leave it unable to take normal costs afterwards.</summary>
public class UnrepresentableCostTests
{
    private static IEnumerable<TestCaseData> Controllers()
    {
        yield return new TestCaseData((Func<ILagrangeController>)(() => new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions()))).SetName("AdaptivePid_HugeCosts_AreRefusedAndTheControllerKeepsWorking");
        yield return new TestCaseData((Func<ILagrangeController>)(() => new PidLagrangeController(new PidLagrangeOptions()))).SetName("Pid_HugeCosts_AreRefusedAndTheControllerKeepsWorking");
        yield return new TestCaseData((Func<ILagrangeController>)(() => new DualAscentController(new DualAscentOptions()))).SetName("DualAscent_HugeCosts_AreRefusedAndTheControllerKeepsWorking");
    }

    [TestCaseSource(nameof(Controllers))]
    public void HugeCosts_AreRefused_StateStaysFinite_AndNormalCostsStillWork(Func<ILagrangeController> make)
    {
        var controller = make();
        // The trace: aPID.Update(1e308) was accepted, and 7 updates later λ and every gain were NaN for good.
        for (int i = 0; i < 10; i++)
        {
            var before = controller.GetState();
            var act = () => controller.Update(1e308);
            act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*1E+308*above the 1E+150*state is unchanged*");
            controller.GetState().Scalars.Should().BeEquivalentTo(before.Scalars, "a refused update changes nothing");
        }
        // The largest accepted cost, repeatedly, keeps every number finite, and normal costs work afterwards.
        for (int i = 0; i < 30; i++) controller.Update(1e150);   // LagrangeGuard.MaxEpisodeCost
        AllFinite(controller).Should().BeTrue();
        for (int i = 0; i < 30; i++) controller.Update(5);
        AllFinite(controller).Should().BeTrue();
    }

    [Test]
    public void Pid_UpdateThatWouldOverflowItsIntegral_IsRefusedWithTheQuantityNamed_AndUndone()
    {
        // K_I·e = 1e200 · 1e150 overflows; the step is computed, found non-finite and undone.
        var controller = new PidLagrangeController(new PidLagrangeOptions { Ki = 1e200 });
        controller.Update(30);
        var before = controller.GetState();

        var act = () => controller.Update(1e150);

        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Pid controller cannot take a mean episode cost of 1E+150*integral = Infinity*state is unchanged*");
        controller.GetState().Scalars.Should().BeEquivalentTo(before.Scalars);
        controller.GetState().Arrays["delayLine"].Should().Equal(before.Arrays["delayLine"]);
    }

    private static bool AllFinite(ILagrangeController controller)
    {
        var state = controller.GetState();
        return double.IsFinite(controller.Lambda)
            && state.Scalars.Values.All(double.IsFinite)
            && state.Arrays.Values.All(a => a.All(double.IsFinite));
    }
}

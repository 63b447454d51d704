using Marvel.Core.Abstractions;
using Marvel.Core.Lagrange;

namespace Marvel.Core.Tests.Lagrange;

/// <summary>Behaviour every controller of Marvel.Core.Lagrange shares through <see cref="ILagrangeController"/>.</summary>
public class LagrangeControllerContractTests
{
    private static readonly Func<ILagrangeController>[] Factories =
    [
        () => new DualAscentController(new DualAscentOptions()),
        () => new PidLagrangeController(new PidLagrangeOptions()),
        () => new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions()),
    ];

    private static IEnumerable<TestCaseData> BadCosts()
    {
        foreach (var factory in Factories)
        {
            string name = factory().GetType().Name;
            yield return new TestCaseData(factory, -0.5, "-0.5").SetName($"{name}_Update_NegativeCost_Throws");
            yield return new TestCaseData(factory, double.NaN, "NaN").SetName($"{name}_Update_NaN_Throws");
            yield return new TestCaseData(factory, double.PositiveInfinity, "Infinity").SetName($"{name}_Update_PositiveInfinity_Throws");
            yield return new TestCaseData(factory, double.NegativeInfinity, "-Infinity").SetName($"{name}_Update_NegativeInfinity_Throws");
        }
    }

    [TestCaseSource(nameof(BadCosts))]
    public void Update_InvalidCost_ThrowsNamingTheValueAndLeavesStateAlone(Func<ILagrangeController> factory, double cost, string printed)
    {
        var controller = factory();
        controller.Update(25);
        var before = controller.GetState();

        var act = () => controller.Update(cost);

        act.Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "meanEpisodeCost")
            .WithMessage($"*got {printed}*");
        controller.GetState().Scalars.Should().Equal(before.Scalars);
    }

    [Test]
    [SetCulture("de-DE")]
    public void Update_NegativeCostUnderCommaDecimalCulture_PrintsInvariantNumber()
    {
        var act = () => new AdaptivePidLagrangeController(new AdaptivePidLagrangeOptions()).Update(-0.5);

        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*got -0.5.*");
    }

    [Test]
    public void Kind_IsDistinctPerController()
    {
        Factories.Select(f => f().GetState().Kind).Should().OnlyHaveUniqueItems()
            .And.BeEquivalentTo(["DualAscent", "Pid", "AdaptivePid"]);
    }

    private static IEnumerable<TestCaseData> KindPairs()
    {
        foreach (var source in Factories)
        foreach (var target in Factories)
        {
            string from = source().GetType().Name, to = target().GetType().Name;
            if (from != to)
                yield return new TestCaseData(source, target).SetName($"SetState_{from}StateInto{to}_Throws");
        }
    }

    [TestCaseSource(nameof(KindPairs))]
    public void SetState_AnotherKind_Throws(Func<ILagrangeController> source, Func<ILagrangeController> target)
    {
        var state = source().GetState();

        var act = () => target().SetState(state);

        act.Should().Throw<ArgumentException>().WithMessage($"*'{state.Kind}'*");
    }

    [TestCaseSource(nameof(AllFactories))]
    public void SetState_MissingScalar_ThrowsNamingIt(Func<ILagrangeController> factory)
    {
        var controller = factory();
        var state = controller.GetState();
        var scalars = state.Scalars.Where(p => p.Key != "lambda").ToDictionary(p => p.Key, p => p.Value);

        var act = () => controller.SetState(state with { Scalars = scalars });

        act.Should().Throw<ArgumentException>().WithMessage("*'lambda'*");
    }

    [TestCaseSource(nameof(AllFactories))]
    public void SetState_NonFiniteScalar_Throws(Func<ILagrangeController> factory)
    {
        var controller = factory();
        var state = controller.GetState();
        var scalars = new Dictionary<string, double>(state.Scalars) { ["lambda"] = double.NaN };

        var act = () => controller.SetState(state with { Scalars = scalars });

        act.Should().Throw<ArgumentException>().WithMessage("*lambda*finite*");
    }

    private static IEnumerable<TestCaseData> AllFactories() =>
        Factories.Select(f => new TestCaseData(f).SetArgDisplayNames(f().GetType().Name));
}

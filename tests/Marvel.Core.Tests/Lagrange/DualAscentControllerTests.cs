using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Lagrange;

namespace Marvel.Core.Tests.Lagrange;

public class DualAscentControllerTests
{
    // algorithms.md §9.2: κ = 25, λ₀ = 0.001, η = 0.035, J_c = 40, 30, 20.
    private static DualAscentOptions WorkedExample(DualAscentOptimizer optimizer) => new()
    {
        CostLimit = 25,
        InitialLambda = 0.001,
        LearningRate = 0.035,
        Optimizer = optimizer,
    };

    [Test]
    public void Update_AdamOnWorkedExample_MatchesAlgorithmsSection92()
    {
        var controller = new DualAscentController(WorkedExample(DualAscentOptimizer.Adam));

        // t = 1: g = −15; m = 0.1·(−15) = −1.5; v = 0.001·225 = 0.225; m̂ = −15, v̂ = 225,
        // step = 0.035·15/(15 + 1e-8) ≈ 0.035 ⇒ λ = 0.001 + 0.035 = 0.036000.
        var first = controller.Update(40);
        first.Error.Should().Be(15);
        first.Terms[LagrangeTermNames.Gradient].Should().Be(-15);
        first.Terms[LagrangeTermNames.AdamFirstMoment].Should().BeApproximately(-1.5, Tolerance.Relative(1.5));
        first.Terms[LagrangeTermNames.AdamSecondMoment].Should().BeApproximately(0.225, Tolerance.Relative(0.225));
        first.Lambda.Should().BeApproximately(0.036000, Tolerance.SixDecimals);

        // t = 2: g = −5; m = 0.9·(−1.5) − 0.5 = −1.85; v = 0.999·0.225 + 0.001·25 = 0.249775;
        // m̂ = −1.85/0.19 = −9.736842, v̂ = 0.249775/0.001999 = 124.949975, √v̂ = 11.178103,
        // step = 0.035·9.736842/11.178103 = 0.030487 ⇒ λ = 0.066487.
        var second = controller.Update(30);
        second.Terms[LagrangeTermNames.AdamFirstMoment].Should().BeApproximately(-1.85, Tolerance.Relative(1.85));
        second.Terms[LagrangeTermNames.AdamSecondMoment].Should().BeApproximately(0.249775, Tolerance.Relative(0.249775));
        second.Terms[LagrangeTermNames.Step].Should().BeApproximately(0.030487, Tolerance.SixDecimals);
        second.Lambda.Should().BeApproximately(0.066487, Tolerance.SixDecimals);

        // t = 3: g = +5; m = 0.9·(−1.85) + 0.5 = −1.165; v = 0.999·0.249775 + 0.025 = 0.274525;
        // m̂ = −4.298893, v̂ = 91.599978, step = 0.015721 ⇒ λ = 0.082208 (still rising: m is negative).
        var third = controller.Update(20);
        third.Terms[LagrangeTermNames.AdamFirstMoment].Should().BeApproximately(-1.165, Tolerance.Relative(1.165));
        third.Terms[LagrangeTermNames.AdamSecondMoment].Should().BeApproximately(0.274525, Tolerance.Relative(0.274525));
        third.Terms[LagrangeTermNames.Step].Should().BeApproximately(0.015721, Tolerance.SixDecimals);
        third.Lambda.Should().BeApproximately(0.082208, Tolerance.SixDecimals);
        controller.Lambda.Should().Be(third.Lambda);
    }

    [Test]
    public void Update_SgdOnWorkedExample_MatchesAlgorithmsSection92()
    {
        var controller = new DualAscentController(WorkedExample(DualAscentOptimizer.Sgd));

        // λ ← λ + η(J − κ): 0.001 + 0.035·15 = 0.526; + 0.035·5 = 0.701; − 0.035·5 = 0.526.
        controller.Update(40).Lambda.Should().BeApproximately(0.526, Tolerance.Relative(0.526));
        controller.Update(30).Lambda.Should().BeApproximately(0.701, Tolerance.Relative(0.701));
        var third = controller.Update(20);
        third.Lambda.Should().BeApproximately(0.526, Tolerance.Relative(0.526));
        third.Terms[LagrangeTermNames.Step].Should().BeApproximately(-0.175, Tolerance.Relative(0.175));
        third.Terms.Should().NotContainKey(LagrangeTermNames.AdamFirstMoment);
    }

    [Test]
    public void Update_SgdBelowLimit_ProjectsLambdaToZero()
    {
        var controller = new DualAscentController(new DualAscentOptions { CostLimit = 20, Optimizer = DualAscentOptimizer.Sgd, LearningRate = 0.1, InitialLambda = 0.5 });

        // 0.5 + 0.1·(0 − 20) = −1.5 ⇒ projected to 0.
        controller.Update(0).Lambda.Should().Be(0);
    }

    [Test]
    public void Constructor_MarvelInitialFloor_StartsAtOneEMinus5()
    {
        // Marvel utils.Lagrange: init max(λ_init, 1e-5) with λ_init = 0.
        var controller = new DualAscentController(new DualAscentOptions { InitialLambda = 0, InitialLambdaFloor = 1e-5 });

        controller.Lambda.Should().Be(1e-5);
        new DualAscentController(new DualAscentOptions { InitialLambda = 0.3, InitialLambdaFloor = 1e-5 }).Lambda.Should().Be(0.3);
        new DualAscentController(new DualAscentOptions { InitialLambda = 0 }).Lambda.Should().Be(0);
    }

    [TestCase(DualAscentOptimizer.Sgd)]
    [TestCase(DualAscentOptimizer.Adam)]
    public void Update_CostFarAboveLimit_StopsAtUpperBound(DualAscentOptimizer optimizer)
    {
        var controller = new DualAscentController(new DualAscentOptions { Optimizer = optimizer, LearningRate = 1, UpperBound = 2.5 });

        for (int i = 0; i < 20; i++) controller.Update(1000);

        controller.Lambda.Should().Be(2.5);
    }

    [TestCase(DualAscentOptimizer.Sgd)]
    [TestCase(DualAscentOptimizer.Adam)]
    public void Update_RandomCosts_KeepsLambdaNonNegative(DualAscentOptimizer optimizer)
    {
        var controller = new DualAscentController(new DualAscentOptions { Optimizer = optimizer, LearningRate = 0.05 });
        var random = new RandomSource(1234);

        for (int i = 0; i < 5000; i++)
        {
            double cost = random.NextDouble() < 0.1 ? 0 : random.NextDouble(0, 60);
            controller.Update(cost).Lambda.Should().BeGreaterThanOrEqualTo(0);
        }
    }

    [TestCase(DualAscentOptimizer.Sgd)]
    [TestCase(DualAscentOptimizer.Adam)]
    public void SetState_SavedMidRun_ContinuesIdentically(DualAscentOptimizer optimizer)
    {
        var options = new DualAscentOptions { Optimizer = optimizer, LearningRate = 0.02 };
        var original = new DualAscentController(options);
        var random = new RandomSource(7);
        for (int i = 0; i < 25; i++) original.Update(random.NextDouble(0, 50));

        var saved = original.GetState();
        var restored = new DualAscentController(options);
        restored.SetState(saved);

        restored.Lambda.Should().Be(original.Lambda);
        restored.UpdateCount.Should().Be(25);
        for (int i = 0; i < 25; i++)
        {
            double cost = random.NextDouble(0, 50);
            var expected = original.Update(cost);
            var actual = restored.Update(cost);
            actual.Lambda.Should().Be(expected.Lambda);
            actual.Terms.Should().Equal(expected.Terms);
        }
    }

    [Test]
    public void SetState_OtherOptimizer_ThrowsNamingIt()
    {
        var adamState = new DualAscentController(new DualAscentOptions { Optimizer = DualAscentOptimizer.Adam }).GetState();
        var sgd = new DualAscentController(new DualAscentOptions { Optimizer = DualAscentOptimizer.Sgd });

        var act = () => sgd.SetState(adamState);

        act.Should().Throw<ArgumentException>().WithMessage("*Optimizer*");
    }

    [Test]
    public void SetState_NegativeLambda_ThrowsAndKeepsOldState()
    {
        var controller = new DualAscentController(new DualAscentOptions());
        controller.Update(30);
        double before = controller.Lambda;
        var state = controller.GetState();
        var scalars = new Dictionary<string, double>(state.Scalars) { ["lambda"] = -1 };

        var act = () => controller.SetState(state with { Scalars = scalars });

        act.Should().Throw<ArgumentException>().WithMessage("*lambda*");
        controller.Lambda.Should().Be(before);
    }

    [Test]
    public void Constructor_OptionsEditedLater_KeepsOriginalCopy()
    {
        var options = new DualAscentOptions { CostLimit = 20, LearningRate = 0.1, Optimizer = DualAscentOptimizer.Sgd, InitialLambda = 0 };
        var controller = new DualAscentController(options);

        options.CostLimit = 5;
        options.LearningRate = 100;

        controller.CostLimit.Should().Be(20);
        controller.Update(30).Lambda.Should().BeApproximately(1.0, 1e-12); // 0 + 0.1·(30 − 20)
    }
}

using Marvel.Core.Lagrange;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Tests.Lagrange;

public class LagrangeOptionsValidationTests
{
    private static TestCaseData Row<TOptions>(string field, Action<TOptions> breakIt, string label) =>
        new TestCaseData(breakIt, field).SetName($"{typeof(TOptions).Name}_{field}_{label}_IsRejected");

    private static IEnumerable<TestCaseData> DualAscentRows()
    {
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.CostLimit), o => o.CostLimit = -1, "Negative");
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.CostLimit), o => o.CostLimit = double.NaN, "NaN");
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.Optimizer), o => o.Optimizer = (DualAscentOptimizer)7, "Undefined");
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.LearningRate), o => o.LearningRate = 0, "Zero");
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.LearningRate), o => o.LearningRate = double.PositiveInfinity, "Infinite");
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.InitialLambda), o => o.InitialLambda = -0.1, "Negative");
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.InitialLambdaFloor), o => o.InitialLambdaFloor = -1e-5, "Negative");
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.UpperBound), o => o.UpperBound = 0, "Zero");
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.UpperBound), o => { o.InitialLambda = 2; o.UpperBound = 1; }, "BelowInitial");
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.AdamBeta1), o => o.AdamBeta1 = 1, "One");
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.AdamBeta2), o => o.AdamBeta2 = -0.1, "Negative");
        yield return Row<DualAscentOptions>(nameof(DualAscentOptions.AdamEpsilon), o => o.AdamEpsilon = 0, "Zero");
    }

    private static IEnumerable<TestCaseData> PidRows()
    {
        yield return Row<PidLagrangeOptions>(nameof(PidLagrangeOptions.CostLimit), o => o.CostLimit = -5, "Negative");
        yield return Row<PidLagrangeOptions>(nameof(PidLagrangeOptions.CostLimit), o => o.CostLimit = 0, "Zero");
        yield return Row<PidLagrangeOptions>("Kp/Ki/Kd", o => { o.Kp = 0; o.Ki = 0; o.Kd = 0; }, "AllZero");
        yield return Row<PidLagrangeOptions>(nameof(PidLagrangeOptions.Kp), o => o.Kp = -0.1, "Negative");
        yield return Row<PidLagrangeOptions>(nameof(PidLagrangeOptions.Ki), o => o.Ki = double.NaN, "NaN");
        yield return Row<PidLagrangeOptions>(nameof(PidLagrangeOptions.Kd), o => o.Kd = double.PositiveInfinity, "Infinite");
        yield return Row<PidLagrangeOptions>(nameof(PidLagrangeOptions.DerivativeDelay), o => o.DerivativeDelay = 0, "Zero");
        yield return Row<PidLagrangeOptions>(nameof(PidLagrangeOptions.ProportionalEmaAlpha), o => o.ProportionalEmaAlpha = 1, "One");
        yield return Row<PidLagrangeOptions>(nameof(PidLagrangeOptions.DerivativeEmaAlpha), o => o.DerivativeEmaAlpha = -0.5, "Negative");
        yield return Row<PidLagrangeOptions>(nameof(PidLagrangeOptions.InitialLambda), o => o.InitialLambda = -1, "Negative");
        yield return Row<PidLagrangeOptions>(nameof(PidLagrangeOptions.UpperBound), o => o.UpperBound = double.NaN, "NaN");
        yield return Row<PidLagrangeOptions>(nameof(PidLagrangeOptions.UpperBound), o => o.UpperBound = 0.0001, "BelowInitial");
    }

    private static IEnumerable<TestCaseData> AdaptivePidRows()
    {
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.CostLimit), o => o.CostLimit = double.NegativeInfinity, "Infinite");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.CostLimit), o => o.CostLimit = 0, "Zero");
        yield return Row<AdaptivePidLagrangeOptions>("Kp/Ki/Kd", o => { o.Kp = 0; o.Ki = 0; o.Kd = 0; }, "AllZero");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.Kp), o => o.Kp = -5e-6, "Negative");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.Ki), o => o.Ki = -5e-6, "Negative");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.Kd), o => o.Kd = double.NaN, "NaN");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.DerivativeDelay), o => o.DerivativeDelay = -3, "Negative");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.ProportionalEmaAlpha), o => o.ProportionalEmaAlpha = 1.5, "AboveOne");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.DerivativeEmaAlpha), o => o.DerivativeEmaAlpha = double.NaN, "NaN");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.InitialLambda), o => o.InitialLambda = double.NaN, "NaN");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.UpperBound), o => o.UpperBound = -1, "Negative");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.GainAdaptation), o => o.GainAdaptation = (GainAdaptationRule)42, "Undefined");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.DelayInit), o => o.DelayInit = (DelayLineInit)9, "Undefined");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.UpdatesPerCall), o => o.UpdatesPerCall = 0, "Zero");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.ProportionalAdaptationRate), o => o.ProportionalAdaptationRate = 1, "One");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.IntegralAdaptationRate), o => o.IntegralAdaptationRate = -0.05, "Negative");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.DerivativeAdaptationRate), o => o.DerivativeAdaptationRate = double.NaN, "NaN");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.WindowOffset), o => o.WindowOffset = 0, "Zero");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.GainLowerBoundFactor), o => o.GainLowerBoundFactor = 0, "Zero");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.GainLowerBoundFactor), o => o.GainLowerBoundFactor = 2, "AboveOne");
        yield return Row<AdaptivePidLagrangeOptions>(nameof(AdaptivePidLagrangeOptions.GainUpperBoundFactor), o => o.GainUpperBoundFactor = 0.5, "BelowOne");
    }

    [TestCaseSource(nameof(DualAscentRows))]
    public void DualAscentController_InvalidField_ThrowsNamingIt(Action<DualAscentOptions> breakIt, string field)
    {
        var options = new DualAscentOptions();
        breakIt(options);

        var act = () => new DualAscentController(options);

        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
        new DualAscentOptionsValidator().Validate(null, options).Failures.Should().ContainSingle().Which.Should().Contain(field);
    }

    [TestCaseSource(nameof(PidRows))]
    public void PidLagrangeController_InvalidField_ThrowsNamingIt(Action<PidLagrangeOptions> breakIt, string field)
    {
        var options = new PidLagrangeOptions();
        breakIt(options);

        var act = () => new PidLagrangeController(options);

        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
        new PidLagrangeOptionsValidator().Validate(null, options).Failures.Should().ContainSingle().Which.Should().Contain(field);
    }

    [TestCaseSource(nameof(AdaptivePidRows))]
    public void AdaptivePidLagrangeController_InvalidField_ThrowsNamingIt(Action<AdaptivePidLagrangeOptions> breakIt, string field)
    {
        var options = new AdaptivePidLagrangeOptions();
        breakIt(options);

        var act = () => new AdaptivePidLagrangeController(options);

        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
        new AdaptivePidLagrangeOptionsValidator().Validate(null, options).Failures.Should().ContainSingle().Which.Should().Contain(field);
    }

    [Test]
    public void Validators_AcceptTheDefaults()
    {
        new DualAscentOptionsValidator().Validate(null, new DualAscentOptions()).Succeeded.Should().BeTrue();
        new PidLagrangeOptionsValidator().Validate(null, new PidLagrangeOptions()).Succeeded.Should().BeTrue();
        new AdaptivePidLagrangeOptionsValidator().Validate(null, new AdaptivePidLagrangeOptions()).Succeeded.Should().BeTrue();
    }

    [Test]
    public void AdaptivePidLagrangeController_SeveralBadFields_ListsEveryOneInOneException()
    {
        var options = new AdaptivePidLagrangeOptions { CostLimit = -1, Kp = double.NaN, DerivativeDelay = 0, WindowOffset = -1 };

        var act = () => new AdaptivePidLagrangeController(options);

        act.Should().Throw<OptionsValidationException>()
            .Which.Failures.Should().HaveCount(4)
            .And.Contain(f => f.Contains("CostLimit"))
            .And.Contain(f => f.Contains("Kp"))
            .And.Contain(f => f.Contains("DerivativeDelay"))
            .And.Contain(f => f.Contains("WindowOffset"));
    }

    [Test]
    public void Constructors_NullOptions_Throw()
    {
        FluentActions.Invoking(() => new DualAscentController((DualAscentOptions)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new PidLagrangeController((PidLagrangeOptions)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new AdaptivePidLagrangeController((IOptions<AdaptivePidLagrangeOptions>)null!)).Should().Throw<ArgumentNullException>();
    }

    [Test]
    public void Constructor_FromIOptions_UsesTheConfiguredValue()
    {
        var controller = new AdaptivePidLagrangeController(Microsoft.Extensions.Options.Options.Create(new AdaptivePidLagrangeOptions { CostLimit = 7 }));

        controller.CostLimit.Should().Be(7);
    }
}

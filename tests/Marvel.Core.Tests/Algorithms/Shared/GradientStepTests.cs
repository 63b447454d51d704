using Marvel.Core.Algorithms.Shared;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Shared;

public class GradientStepTests
{
    private static Parameter Weight(float value) => new(tensor(new[] { value }), requires_grad: true);

    [Test]
    public void Apply_Sgd_StepsAgainstTheGradient()
    {
        // L = 3w at w = 1: ∂L/∂w = 3; SGD with lr 0.1: w ← 1 − 0.1·3 = 0.7.
        using var w = Weight(1);
        using var optimizer = optim.SGD(new[] { w }, 0.1);
        using var scope = NewDisposeScope();
        GradientStep.Apply(optimizer, (w * 3).sum());
        w.data<float>()[0].Should().BeApproximately(0.7f, 1e-6f);
    }

    [Test]
    public void Apply_ClearsTheOldGradientFirst()
    {
        // Two steps of L = 3w: each sees ∂L/∂w = 3 (not 6 from an accumulated gradient): 1 → 0.7 → 0.4.
        using var w = Weight(1);
        using var optimizer = optim.SGD(new[] { w }, 0.1);
        using var scope = NewDisposeScope();
        GradientStep.Apply(optimizer, (w * 3).sum());
        GradientStep.Apply(optimizer, (w * 3).sum());
        w.data<float>()[0].Should().BeApproximately(0.4f, 1e-6f);
    }

    [Test]
    public void Apply_MaxGradNorm_ClipsTheGradientBeforeTheStep()
    {
        // ∂L/∂w = 3 clipped to norm 1 (× 1/3, up to libtorch's 1e-6 in the denominator): w ← 1 − 0.1·1 = 0.9.
        using var w = Weight(1);
        using var optimizer = optim.SGD(new[] { w }, 0.1);
        using var scope = NewDisposeScope();
        GradientStep.Apply(optimizer, (w * 3).sum(), maxGradNorm: 1.0, parameters: new[] { w });
        w.data<float>()[0].Should().BeApproximately(0.9f, 1e-5f);
    }

    [TestCase(null)]
    [TestCase(0.0)]
    [TestCase(-1.0)]
    public void Apply_NoOrNonPositiveMaxGradNorm_DoesNotClip(double? maxGradNorm)
    {
        using var w = Weight(1);
        using var optimizer = optim.SGD(new[] { w }, 0.1);
        using var scope = NewDisposeScope();
        GradientStep.Apply(optimizer, (w * 3).sum(), maxGradNorm, parameters: new[] { w });
        w.data<float>()[0].Should().BeApproximately(0.7f, 1e-6f);
    }

    [Test]
    public void Apply_ClippingWithoutParameters_Throws()
    {
        using var w = Weight(1);
        using var optimizer = optim.SGD(new[] { w }, 0.1);
        using var scope = NewDisposeScope();
        var act = () => GradientStep.Apply(optimizer, (w * 3).sum(), maxGradNorm: 1.0);
        act.Should().Throw<ArgumentNullException>().WithParameterName("parameters");
    }

    [Test]
    public void Apply_RetainGraph_AllowsASecondBackwardThroughTheSameGraph()
    {
        using var w = Weight(1);
        using var optimizer = optim.SGD(new[] { w }, 0.1);
        using var scope = NewDisposeScope();
        var loss = (w.exp() * 3).sum();
        GradientStep.Apply(optimizer, loss, retainGraph: true);
        var again = () => GradientStep.Apply(optimizer, loss);
        again.Should().NotThrow();
    }

    [Test]
    public void Apply_NullArguments_Throw()
    {
        using var w = Weight(1);
        using var optimizer = optim.SGD(new[] { w }, 0.1);
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => GradientStep.Apply(null!, (w * 3).sum())).Should().Throw<ArgumentNullException>().WithParameterName("optimizer");
        FluentActions.Invoking(() => GradientStep.Apply(optimizer, null!)).Should().Throw<ArgumentNullException>().WithParameterName("loss");
    }
}

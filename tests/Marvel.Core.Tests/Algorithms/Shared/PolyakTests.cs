using Marvel.Core.Algorithms.Shared;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Shared;

public class PolyakTests
{
    private static nn.Module<Tensor, Tensor> Filled(float weight, float bias)
    {
        var layer = nn.Linear(2, 1);
        using (no_grad())
        {
            layer.weight!.fill_(weight);
            layer.bias!.fill_(bias);
        }
        return layer;
    }

    private static float[] Values(nn.Module module) => module.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();

    [Test]
    public void Update_QuarterRate_MovesTargetAQuarterOfTheWayToSource()
    {
        // θ̄ ← τθ + (1 − τ)θ̄ with τ = 0.25: weights 0.25·4 + 0.75·0 = 1; bias 0.25·(−8) + 0.75·4 = −2 + 3 = 1.
        // (τ and 1 − τ swapped would give 3 and −5.) The source is untouched.
        using var source = Filled(4, -8);
        using var target = Filled(0, 4);

        Polyak.Update(0.25, source, target);

        Values(target).Should().Equal(1f, 1f, 1f);
        Values(source).Should().Equal(4f, 4f, -8f);
    }

    [Test]
    public void Update_TwoSteps_CompoundsGeometrically()
    {
        // τ = 0.1, source 10, target 0: after one step 1; after two 0.1·10 + 0.9·1 = 1.9.
        using var source = Filled(10, 10);
        using var target = Filled(0, 0);

        Polyak.Update(0.1, source, target);
        Polyak.Update(0.1, source, target);

        Values(target).Should().AllSatisfy(v => v.Should().BeApproximately(1.9f, 1e-6f));
    }

    [Test]
    public void Copy_MakesTargetEqualToSource()
    {
        using var source = Filled(3, -1);
        using var target = Filled(7, 7);

        Polyak.Copy(source, target);

        Values(target).Should().Equal(3f, 3f, -1f);
    }

    [TestCase(0.0)]
    [TestCase(-0.1)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    public void Update_TauOutsideZeroOne_Throws(double tau)
    {
        using var source = Filled(1, 1);
        using var target = Filled(0, 0);
        var act = () => Polyak.Update(tau, source, target);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*tau must be in (0, 1]*");
        Values(target).Should().Equal(0f, 0f, 0f);
    }

    [Test]
    public void Update_TauOne_IsAllowedAndCopies()
    {
        using var source = Filled(2, 5);
        using var target = Filled(0, 0);
        Polyak.Update(1.0, source, target);
        Values(target).Should().Equal(2f, 2f, 5f);
    }

    [Test]
    public void Update_DifferentParameterCounts_Throws()
    {
        using var source = nn.Linear(2, 1, hasBias: false);
        using var target = nn.Linear(2, 1);
        var act = () => Polyak.Update(0.5, source, target);
        act.Should().Throw<ArgumentException>().WithMessage("*1 parameters*2*");
    }

    [Test]
    public void Update_NullModules_Throw()
    {
        using var layer = Filled(1, 1);
        FluentActions.Invoking(() => Polyak.Update(0.5, null!, layer)).Should().Throw<ArgumentNullException>().WithParameterName("source");
        FluentActions.Invoking(() => Polyak.Update(0.5, layer, null!)).Should().Throw<ArgumentNullException>().WithParameterName("target");
    }
}

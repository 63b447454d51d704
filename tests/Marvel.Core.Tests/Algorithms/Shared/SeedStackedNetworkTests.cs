using Marvel.Core.Abstractions;
using Marvel.Core.Networks;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Shared;

/// <summary>
/// <see cref="SeedStackedNetwork"/>: K seeds' copies of a network in one buffer, each seed's parameters views of its slice, plus stacked
/// [K, …] leaves over the same memory. Checked by hand on tiny networks: values, where gradients land, and freezing.
/// </summary>
public class SeedStackedNetworkTests
{
    private static Mlp Net(ulong seed)
    {
        using var g = new Generator(seed);
        return new Mlp([3, 4, 2], Activation.ReLU, Activation.Identity, g);
    }

    private static float[] Values(Tensor t)
    {
        using var c = t.detach().contiguous();
        return c.data<float>().ToArray();
    }

    [Test]
    public void Flatten_KeepsEachSeedsValues_AndTheStackedViewsShowThemSeedBySeed()
    {
        using var a = Net(1);
        using var b = Net(2);
        var before = new[] { a, b }.Select(n => n.parameters().Select(p => Values(p)).ToArray()).ToArray();
        using var stack = new SeedStackedNetwork(2, gradients: true);
        using var flatA = stack.Flatten(0, a);
        using var flatB = stack.Flatten(1, b);

        stack.SeedLength.Should().Be(16 + 16 + 16 + 16, "weights of 12 and 8 and biases of 4 and 2 elements, each slice rounded up to 16");
        stack.Values!.shape.Should().Equal(2 * stack.SeedLength);
        flatA.IsIntact.Should().BeTrue();
        flatB.IsIntact.Should().BeTrue();
        for (int i = 0; i < 4; i++)
        {
            Values(a.parameters().ElementAt(i)).Should().Equal(before[0][i], "flattening moves the values, it does not change them");
            Values(b.parameters().ElementAt(i)).Should().Equal(before[1][i]);
            using var stacked = stack.Stacked(i).detach();
            stacked.shape[0].Should().Be(2);
            using var first = stacked[0];
            using var second = stacked[1];
            Values(first).Should().Equal(before[0][i]);
            Values(second).Should().Equal(before[1][i]);
        }
        stack.Stacked(1).shape.Should().Equal(new long[] { 2, 1, 4 }, "a bias [4] is stacked as [K, 1, 4] to broadcast over the batch");

        // Writing a seed's parameter is visible in the stacked view (same memory).
        using (no_grad()) a.parameters().First().fill_(TorchScalars.Of(0.25));
        using var w = stack.Stacked(0).detach();
        using var w0 = w[0];
        using var w1 = w[1];
        Values(w0).Should().AllBeEquivalentTo(0.25f);
        Values(w1).Should().Equal(before[1][0]);
    }

    [Test]
    public void ALossThroughTheStackedViews_LeavesEachSeedsOwnGradient_AndFreezingStopsIt()
    {
        using var a = Net(3);
        using var b = Net(4);
        using var stack = new SeedStackedNetwork(2, gradients: true);
        using var flatA = stack.Flatten(0, a);
        using var flatB = stack.Flatten(1, b);
        using var scope = NewDisposeScope();

        // loss = 1·Σ W_0 + 3·Σ W_1 over the first weight: ∂loss/∂W_k is 1 for seed 0 and 3 for seed 1, everywhere.
        var weights = stack.Stacked(0);
        var factors = tensor(new float[] { 1, 3 }).view(2, 1, 1);
        stack.Gradients!.zero_();
        (weights * factors).sum().backward();
        Values(a.parameters().First().grad!).Should().AllBeEquivalentTo(1f);
        Values(b.parameters().First().grad!).Should().AllBeEquivalentTo(3f);
        Values(a.parameters().ElementAt(1).grad!).Should().AllBeEquivalentTo(0f, "the bias took no part");

        stack.SetRequiresGrad(false);
        stack.Stacked(0).requires_grad.Should().BeFalse();
        a.parameters().First().requires_grad.Should().BeFalse("the seeds' own parameters are frozen with the stack");
        stack.SetRequiresGrad(true);
        b.parameters().First().requires_grad.Should().BeTrue();
    }

    [Test]
    public void Flatten_RefusesASeedOfAnotherLayoutAndASecondJoin()
    {
        using var a = Net(5);
        using var wider = new Mlp([3, 5, 2]); // as many elements as [3, 4, 2] once each slice is rounded up to 16: the shapes must match, not the length
        using var again = Net(6);
        using var stack = new SeedStackedNetwork(2, gradients: false);
        using var flat = stack.Flatten(0, a);
        stack.Invoking(s => s.Flatten(1, wider)).Should().Throw<InvalidOperationException>().WithMessage("*same sizes*");
        stack.Invoking(s => s.Flatten(0, again)).Should().Throw<InvalidOperationException>().WithMessage("*already joined*");
    }
}

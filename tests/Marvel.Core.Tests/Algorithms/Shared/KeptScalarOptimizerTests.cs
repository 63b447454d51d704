using Marvel.Core.Abstractions;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Shared;

public class KeptScalarOptimizerTests
{
    private static nn.Module<Tensor, Tensor> Twin(nn.Module<Tensor, Tensor> source)
    {
        var copy = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1));
        using (no_grad())
            foreach (var (a, b) in source.parameters().Zip(copy.parameters())) b.copy_(a);
        return copy;
    }

    private static void Train(optim.Optimizer optimizer, nn.Module<Tensor, Tensor> net, int steps)
    {
        using var gen = new Generator(7);
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var x = randn(new long[] { 16, 3 }, generator: gen);
            var loss = net.forward(x).square().mean();
            GradientStep.Apply(optimizer, loss);
        }
    }

    [TestCase(0.0)]
    [TestCase(0.01)]
    public void Adam_MatchesTorchSharpAdamBitForBit(double weightDecay)
    {
        var reference = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1));
        var ours = Twin(reference);
        using var theirs = optim.Adam(reference.parameters(), 1e-2, weight_decay: weightDecay);
        using var kept = KeptScalarOptimizer.Adam(ours.parameters(), 1e-2, weightDecay);

        Train(theirs, reference, 25);
        Train(kept, ours, 25);

        foreach (var (a, b) in reference.parameters().Zip(ours.parameters()))
            b.data<float>().ToArray().Should().Equal(a.data<float>().ToArray());
        ModuleState.SaveOptimizer(kept).Should().Equal(ModuleState.SaveOptimizer(theirs), "saved states must stay byte-compatible with torch.optim.Adam");
    }

    [Test]
    public void AdamW_MatchesTorchSharpAdamWBitForBit()
    {
        var reference = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1));
        var ours = Twin(reference);
        using var theirs = optim.AdamW(reference.parameters(), 1e-2, weight_decay: 0.1);
        using var kept = KeptScalarOptimizer.AdamW(ours.parameters(), 1e-2, 0.1);

        Train(theirs, reference, 25);
        Train(kept, ours, 25);

        foreach (var (a, b) in reference.parameters().Zip(ours.parameters()))
            b.data<float>().ToArray().Should().Equal(a.data<float>().ToArray());
        ModuleState.SaveOptimizer(kept).Should().Equal(ModuleState.SaveOptimizer(theirs));
    }

    [Test]
    public void AdamFrom_TakesTheSavedMoments_ButKeepsItsOwnLearningRate_AndCheckAdamStateNamesTheRole()
    {
        torch.manual_seed(3);
        var net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1));
        using var producer = KeptScalarOptimizer.Adam(net.parameters(), 0.01);
        Train(producer, net, 3);
        var state = ModuleState.SaveOptimizer(producer);

        using var consumer = KeptScalarOptimizer.AdamFrom(net.parameters(), 0.5, state, "actor");
        consumer.ParamGroups.Single().LearningRate.Should().Be(0.5, "the consumer's options decide the rate (D14), not the producer's 0.01");
        using var blank = KeptScalarOptimizer.Adam(net.parameters(), 0.5);
        ModuleState.SaveOptimizer(consumer).Should().NotEqual(ModuleState.SaveOptimizer(blank), "the moments came along");
        using var fresh = KeptScalarOptimizer.AdamFrom(net.parameters(), 0.5, null, "actor");
        fresh.ParamGroups.Single().LearningRate.Should().Be(0.5);

        var other = nn.Sequential(nn.Linear(5, 2));
        FluentActions.Invoking(() => KeptScalarOptimizer.CheckAdamState(other.parameters(), state, "reward_critic"))
            .Should().Throw<Exception>().WithMessage("*reward_critic*");
        FluentActions.Invoking(() => KeptScalarOptimizer.AdamFrom(other.parameters(), 0.5, state, "cost_critic"))
            .Should().Throw<Exception>().WithMessage("*cost_critic*");
        KeptScalarOptimizer.CheckAdamState(other.parameters(), null, "unused");   // nothing to check
    }

    [Test]
    public void Adam_LoadsAStateSavedByTorchSharpAdam_AndTheReverse()
    {
        var net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1));
        using var theirs = optim.Adam(net.parameters(), 1e-2);
        Train(theirs, net, 3);
        var saved = ModuleState.SaveOptimizer(theirs);

        using var kept = KeptScalarOptimizer.Adam(net.parameters(), 1e-2);
        ModuleState.LoadOptimizer(kept, saved, "test");
        ModuleState.SaveOptimizer(kept).Should().Equal(saved);

        using var back = optim.Adam(net.parameters(), 1e-2);
        ModuleState.LoadOptimizer(back, ModuleState.SaveOptimizer(kept), "test");
        ModuleState.SaveOptimizer(back).Should().Equal(saved);
    }

    [Test]
    public void Softplus_EqualsTorchSharpSoftplusBitForBit_WithItsGradient()
    {
        using var x = linspace(-30, 30, 241).requires_grad_(true);
        using var y = x.detach().clone().requires_grad_(true);
        using var theirs = nn.functional.softplus(x);
        using var ours = TorchScalars.Softplus(y);
        ours.data<float>().ToArray().Should().Equal(theirs.data<float>().ToArray());
        theirs.sum().backward();
        ours.sum().backward();
        y.grad!.data<float>().ToArray().Should().Equal(x.grad!.data<float>().ToArray());
    }

    [Test]
    public void Squared_EqualsTorchSharpSquareBitForBit_WithItsGradient()
    {
        using var x = linspace(-3, 3, 97).requires_grad_(true);
        using var y = x.detach().clone().requires_grad_(true);
        using var theirs = x.square();
        using var ours = y.Squared();
        ours.data<float>().ToArray().Should().Equal(theirs.data<float>().ToArray());
        theirs.sum().backward();
        ours.sum().backward();
        y.grad!.data<float>().ToArray().Should().Equal(x.grad!.data<float>().ToArray());
    }
}

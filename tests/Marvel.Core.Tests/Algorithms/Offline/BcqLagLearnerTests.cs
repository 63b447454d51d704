using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.BcqLag;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Offline;

public class BcqLagLearnerTests
{
    private static BcqLagOptions Tiny() => new()
    {
        BatchSize = 32,
        ActorHiddenSizes = [16, 16],
        CriticHiddenSizes = [16, 16],
        VaeHiddenSize = 16,
        SampleActionCount = 4,
        RewardCriticsPerGroup = 1,
        CostCriticsPerGroup = 1,
    };

    [Test]
    public void PerturbationActor_StaysWithinPhiTimesMaxActionAndTheBox()
    {
        // Φ = 0.05, m = 2: |a − â| ≤ 0.1 and |a| ≤ 2. Output weights ×100 saturate the tanh so the bound is reached.
        using var scope = NewDisposeScope();
        using var actor = new PerturbationActor(3, 2, [8], phi: 0.05, maxAction: 2, new Generator(1));
        using (no_grad())
            foreach (var p in actor.parameters()) p.mul_(100);
        var obs = randn(256, 3, generator: new Generator(2));
        var candidates = (rand(256, 2, generator: new Generator(3)) * 4 - 2);   // in [−2, 2], some near the edges
        var perturbed = actor.forward(obs, candidates);
        var shift = (perturbed - candidates).abs();
        shift.max().item<float>().Should().BeLessThanOrEqualTo(0.1f + 1e-6f);
        shift.max().item<float>().Should().BeGreaterThan(0.099f);
        perturbed.abs().max().item<float>().Should().BeLessThanOrEqualTo(2f);
    }

    [Test]
    public void Threshold_ComesFromCostBudget()
    {
        // κ = 10, γ = 0.99, T = 300: 10 · 0.316986 = 3.16986 (spec §0.6 table).
        using var learner = new BcqLagLearner(TinyDatasets.Context(), Tiny() with { EpisodeLength = 300 });
        learner.QCostThreshold.Should().BeApproximately(3.16986, 1e-4);
    }

    [Test]
    public void Smoke_TrainsWithFiniteLossesAndExports()
    {
        var data = TinyDatasets.BallCircle();
        using var learner = new BcqLagLearner(TinyDatasets.Context(), Tiny());
        learner.Attach(data);
        var last = learner.Train(60);
        last.Values.Should().OnlyContain(v => double.IsFinite(v));
        var artifact = learner.ExportHandover();
        artifact.Manifest.Algorithm.Should().Be("BCQ-Lag");
        artifact.Networks.Keys.Should().BeEquivalentTo(HandoverRoles.Actor, BcqLagLearner.VaeRole, HandoverRoles.RewardCritic, HandoverRoles.CostCritic);
        artifact.Manifest.Networks[HandoverRoles.Actor].Kind.Should().Be("PerturbationActor");

        var obs = data.ObservationAt(0).ToArray();
        var a1 = new float[2];
        var a2 = new float[2];
        learner.Policy.Act(obs, a1, deterministic: true);
        learner.Policy.Act(obs, a2, deterministic: true);
        a1.Should().Equal(a2);
        a1.Should().OnlyContain(a => a >= -1 && a <= 1);
    }

    [Test]
    public void ReferenceMode_TrainsWithFiniteLosses()
    {
        using var learner = new BcqLagLearner(TinyDatasets.Context(), BcqLagOptions.Reference() with
        {
            BatchSize = 16, ActorHiddenSizes = [16], CriticHiddenSizes = [16], VaeHiddenSize = 16, SampleActionCount = 3,
        });
        learner.Attach(TinyDatasets.BallCircle(episodes: 3));
        learner.Train(20).Values.Should().OnlyContain(v => double.IsFinite(v));
    }

    [Test]
    public void CostEnsemble_PessimisticByDefault_ReferenceSwitchReproducesOsrl()
    {
        new BcqLagOptions().ReferenceOptimisticCostEnsemble.Should().BeFalse();
        BcqLagOptions.Reference().ReferenceOptimisticCostEnsemble.Should().BeTrue();
        // Same seed, one update: the logged Q_c (the PID's input) is the maximum over the four cost members by default and the
        // minimum with the switch; one small gradient step cannot close the spread of the randomly initialised members.
        var data = TinyDatasets.BallCircle(episodes: 3);
        double CostValue(bool optimistic)
        {
            using var learner = new BcqLagLearner(TinyDatasets.Context(seed: 5), Tiny() with { CostCriticsPerGroup = 2, ReferenceOptimisticCostEnsemble = optimistic });
            learner.Options.ReferenceOptimisticCostEnsemble.Should().Be(optimistic);
            learner.Attach(data);
            return learner.Train(1)["cost_value"];
        }
        CostValue(optimistic: false).Should().BeGreaterThan(CostValue(optimistic: true));
    }

    [Test]
    public void Update_NaNReward_ThrowsNamingLossAndStep()
    {
        var data = TinyDatasets.BallCircle(episodes: 2);
        using var learner = new BcqLagLearner(TinyDatasets.Context(), Tiny());
        using var batch = TinyDatasets.BatchWithNaNReward(data);
        learner.Invoking(l => l.Update(batch)).Should().Throw<TrainingDivergedException>()
            .Where(e => e.Quantity == "reward_critic_loss" && e.Step == 0);
    }

    [Test]
    public void Attach_MismatchedDataset_NamesTheKey()
    {
        using var learner = new BcqLagLearner(TinyDatasets.ContextWithObservationSize(4), Tiny());
        learner.Invoking(l => l.Attach(TinyDatasets.BallCircle(episodes: 1))).Should().Throw<InvalidDataException>().WithMessage("*'observations'*");
    }

    [TestCase(nameof(BcqLagOptions.CostLimit), double.PositiveInfinity)]
    [TestCase(nameof(BcqLagOptions.EpisodeLength), -3)]
    [TestCase(nameof(BcqLagOptions.Gamma), 1.0)]
    [TestCase(nameof(BcqLagOptions.Tau), 0.0)]
    [TestCase(nameof(BcqLagOptions.RewardScale), -0.1)]
    [TestCase(nameof(BcqLagOptions.CostScale), 0.0)]
    [TestCase(nameof(BcqLagOptions.BatchSize), -5)]
    [TestCase(nameof(BcqLagOptions.ActorHiddenSizes), null)]
    [TestCase(nameof(BcqLagOptions.CriticHiddenSizes), null)]
    [TestCase(nameof(BcqLagOptions.VaeHiddenSize), 0)]
    [TestCase(nameof(BcqLagOptions.RewardCriticsPerGroup), 0)]
    [TestCase(nameof(BcqLagOptions.CostCriticsPerGroup), 0)]
    [TestCase(nameof(BcqLagOptions.ActorLearningRate), 0.0)]
    [TestCase(nameof(BcqLagOptions.CriticLearningRate), 0.0)]
    [TestCase(nameof(BcqLagOptions.VaeLearningRate), 0.0)]
    [TestCase(nameof(BcqLagOptions.VaeKlWeight), double.NaN)]
    [TestCase(nameof(BcqLagOptions.SampleActionCount), 0)]
    [TestCase(nameof(BcqLagOptions.DoubleQMix), -0.1)]
    [TestCase(nameof(BcqLagOptions.Phi), 0.0)]
    [TestCase(nameof(BcqLagOptions.PidKp), -1.0)]
    [TestCase(nameof(BcqLagOptions.PidKi), -1.0)]
    [TestCase(nameof(BcqLagOptions.PidKd), -1.0)]
    public void Constructor_InvalidOption_NamesTheField(string field, object? value)
    {
        var act = () => new BcqLagLearner(TinyDatasets.Context(), OptionSetter.With(Tiny(), field, value));
        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
    }
}

using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;
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
        // κ = 10, γ = 0.99, T = 300, critics bootstrapping through truncation: 10 / (300 · 0.01) = 3.33333.
        using var learner = new BcqLagLearner(TinyDatasets.Context(), Tiny() with { EpisodeLength = 300 });
        learner.QCostThreshold.Should().BeApproximately(10.0 / 3.0, 1e-9);
        // Reference (timeouts terminal): 10 · 0.316986 = 3.16986 (spec §0.6 table); CostScale 2 doubles it: 6.33972.
        using var reference = new BcqLagLearner(TinyDatasets.Context(), Tiny() with { EpisodeLength = 300, TreatTimeoutAsTerminal = true, CostScale = 2 });
        reference.QCostThreshold.Should().BeApproximately(6.33972, 1e-4);
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
    public void SelectedCostValue_IsTheMixedCostOfTheCandidateTheActingRulePicks()
    {
        // Two states × N = 2 candidates; one reward member: [5, 3 | 1, 2]; cost groups of one member: g1 [10, 0 | 4, 6], g2 [8, 2 | 4, 2].
        // Score Q_r − λ·max(g1, g2). λ = 0.5: [5 − 5, 3 − 1 | 1 − 2, 2 − 3] = [0, 2 | −1, −1] → candidate 1, then 0 (ties: first).
        // Mixed cost 0.75·max + 0.25·min: state 1 (0, 2) → 1.5; state 2 (4, 4) → 4.
        // λ = 0 ranks by Q_r: candidates 0 and 1, mixed (10, 8) → 9.5 and (6, 2) → 5 — here the same as the maximum over samples.
        using var scope = NewDisposeScope();
        var reward = tensor(new float[] { 5, 3, 1, 2 }).view(1, 4);
        var cost = tensor(new float[] { 10, 0, 4, 6, 8, 2, 4, 2 }).view(2, 4);
        BcqLagLearner.SelectedCostValue(reward, cost, tensor(0.5f), 2, 0.75, referenceOptimisticCost: false).data<float>().ToArray()
            .Should().Equal([1.5f, 4f], (x, y) => Math.Abs(x - y) < 1e-5f);
        BcqLagLearner.SelectedCostValue(reward, cost, tensor(0f), 2, 0.75, referenceOptimisticCost: false).data<float>().ToArray()
            .Should().Equal([9.5f, 5f], (x, y) => Math.Abs(x - y) < 1e-5f);
        EnsembleOps.CostMaxOverSamples(cost, 2, 0.75, referenceOptimistic: false).data<float>().ToArray()
            .Should().Equal([9.5f, 5f], (x, y) => Math.Abs(x - y) < 1e-5f);
    }

    [Test]
    public void CostBackup_AtTheSelectedCandidateByDefault_MaxOverSamplesInReference()
    {
        new BcqLagOptions().ReferenceCostBackupMaxOverSamples.Should().BeFalse();
        BcqLagOptions.Reference().ReferenceCostBackupMaxOverSamples.Should().BeTrue();
    }

    [Test]
    public void StartObservations_AreTheFirstObservationOfEveryEpisode()
    {
        var data = TinyDatasets.BallCircle(episodes: 3);
        using var starts = OfflineLearning.StartObservations(data, CPU);
        starts.shape.Should().Equal(3, data.ObservationSize);
        for (int i = 0; i < 3; i++)
            starts[i].data<float>().ToArray().Should().Equal(data.ObservationAt(data.Episodes[i].Start).ToArray());
    }

    [Test]
    public void PidMeasurement_IsTheStartStateCostValueByDefault_AndTheBatchMeanInReference()
    {
        new BcqLagOptions().ConstraintStates.Should().Be(CostConstraintStates.EpisodeStarts);
        BcqLagOptions.Reference().ConstraintStates.Should().Be(CostConstraintStates.Batch);
        var data = TinyDatasets.BallCircle(episodes: 3);
        IReadOnlyDictionary<string, double> OneUpdate(bool batchStates)
        {
            using var learner = new BcqLagLearner(TinyDatasets.Context(seed: 5), Tiny() with { ConstraintStates = batchStates ? CostConstraintStates.Batch : CostConstraintStates.EpisodeStarts });
            learner.Attach(data);
            return learner.Train(1);
        }
        var reference = OneUpdate(batchStates: true);
        reference["constraint_cost_value"].Should().Be(reference["cost_value"]);
        var fixedForm = OneUpdate(batchStates: false);
        fixedForm["cost_value"].Should().Be(reference["cost_value"]);   // same seed, same batch, same actor step input
        fixedForm["constraint_cost_value"].Should().NotBe(fixedForm["cost_value"]);
    }

    [Test]
    public void CostTarget_IsClampedToTheRangeOfCostValues()
    {
        // y_c = c + γ · continues · q̂_c, γ = 0.99, bounds [0, 100]:
        //   row 0: 1 + 0.99 · 1 · 500 = 496 → 100;  row 1: 0.5 + 0.99 · 0 · 500 = 0.5 (terminal);  row 2: 1 + 0.99 · (−50) = −48.5 → 0.
        using var scope = NewDisposeScope();
        var costs = tensor(new[] { 1f, 0.5f, 1f });
        var continues = tensor(new[] { 1f, 0f, 1f });
        var next = tensor(new[] { 500f, 500f, -50f });
        OfflineLearning.CostTarget(costs, continues, next, 0.99, (0, 100)).data<float>().ToArray()
            .Should().Equal([100f, 0.5f, 0f], (x, y) => Math.Abs(x - y) < 1e-4f);
        OfflineLearning.CostTarget(costs, continues, next, 0.99, null).data<float>().ToArray()
            .Should().Equal([496f, 0.5f, -48.5f], (x, y) => Math.Abs(x - y) < 1e-3f);
    }

    [Test]
    public void CostValueBounds_ComeFromTheAttachedCosts_AndTheReferenceLeavesTheTargetUnbounded()
    {
        new BcqLagOptions().ReferenceUnboundedCostTarget.Should().BeFalse();
        BcqLagOptions.Reference().ReferenceUnboundedCostTarget.Should().BeTrue();
        // The tiny BallCircle transitions with costs 0 and 1.5 alternating: [min c, max c] · scale/(1 − γ) = [0, 1.5 · 2 · 50] = [0, 150].
        var data = TinyDatasets.WithCosts(TinyDatasets.BallCircle(episodes: 3), i => i % 2 == 0 ? 0f : 1.5f, "tiny BallCircle, costs 0 and 1.5");
        using var learner = new BcqLagLearner(TinyDatasets.Context(), Tiny() with { CostScale = 2, Gamma = 0.98 });
        learner.CostValueBounds.Should().BeNull();
        learner.Attach(data);
        learner.CostValueBounds!.Value.Min.Should().Be(0);
        learner.CostValueBounds!.Value.Max.Should().BeApproximately(150, 1e-9);
    }

    // Two states, N = 3 candidates each (rows 0–2 state 0, rows 3–5 state 1); candidate row r is [value, r] so the picked row shows.
    //   reward members  m0 = [1.0, 3.0, 2.0 | 0.5, 0.4, 0.9 ]   m1 = [1.2, 2.5, 4.0 | 0.6, 0.7, 0.35]
    //   Q_r = min       =    [1.0, 2.5, 2.0 | 0.5, 0.4, 0.35]   (the mean would be 1.1, 2.75, 3.0 for state 0: a different pick)
    //   cost members    c0 = [0.2, 1.0, 0.1 | 0.1, 0.0, 0.0 ]   c1 = [0.4, 0.5, 0.3 | 0.2, 0.3, 0.1 ]
    //   Q_c = max       =    [0.4, 1.0, 0.3 | 0.2, 0.3, 0.1 ]   (reference min: [0.2, 0.5, 0.1 | 0.1, 0.0, 0.0])
    private static readonly float[] SelectionValues = [0.1f, 0.2f, 0.3f, -0.1f, -0.2f, -0.3f];
    private static Tensor SelectionCandidates() =>
        stack(SelectionValues.Select((v, row) => tensor(new[] { v, (float)row })).ToArray(), 0);
    private static Tensor RewardMembers() => tensor(new[] { 1.0f, 3.0f, 2.0f, 0.5f, 0.4f, 0.9f, 1.2f, 2.5f, 4.0f, 0.6f, 0.7f, 0.35f }, 2, 6);
    private static Tensor CostMembers() => tensor(new[] { 0.2f, 1.0f, 0.1f, 0.1f, 0.0f, 0.0f, 0.4f, 0.5f, 0.3f, 0.2f, 0.3f, 0.1f }, 2, 6);

    [Test]
    public void BestOfN_Scores_AreMinRewardMinusLambdaTimesMaxCost()
    {
        // λ = 2: Q_r − 2 · Q_c = [1.0 − 0.8, 2.5 − 2.0, 2.0 − 0.6 | 0.5 − 0.4, 0.4 − 0.6, 0.35 − 0.2] = [0.2, 0.5, 1.4 | 0.1, −0.2, 0.15].
        using var scope = NewDisposeScope();
        var scores = BestOfNSelection.Scores(RewardMembers(), CostMembers(), tensor(2f), referenceOptimisticCost: false);
        scores.data<float>().ToArray().Should().Equal([0.2f, 0.5f, 1.4f, 0.1f, -0.2f, 0.15f], (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [TestCase(0f, false, 1, 3)]   // λ = 0: state 0 [1.0, 2.5, 2.0] → row 1; state 1 [0.5, 0.4, 0.35] → row 3 (the highest reward).
    [TestCase(2f, false, 2, 5)]   // λ = 2: state 0 [0.2, 0.5, 1.4] → row 2; state 1 [0.1, −0.2, 0.15] → row 5 (cheaper candidates).
    [TestCase(2f, true, 2, 4)]    // λ = 2, reference min over cost members: state 0 [1.0 − 0.4, 2.5 − 1.0, 2.0 − 0.2] = [0.6, 1.5, 1.8] → row 2;
                                  //   state 1 [0.5 − 0.2, 0.4 − 0, 0.35 − 0] = [0.3, 0.4, 0.35] → row 4.
    public void BestOfN_PicksTheCandidateWithHighestRewardMinusLambdaCost(float lambda, bool referenceOptimistic, int row0, int row1)
    {
        using var scope = NewDisposeScope();
        var scores = BestOfNSelection.Scores(RewardMembers(), CostMembers(), tensor(lambda), referenceOptimistic);
        var picked = BestOfNSelection.Pick(SelectionCandidates(), scores, candidatesPerState: 3);
        picked.shape.Should().Equal(2, 2);
        picked.data<float>().ToArray().Should().Equal(SelectionValues[row0], row0, SelectionValues[row1], row1);
    }

    [TestCase(0.5f, 0.9f)]   // Q_r − 0.5 · Q_c = 0.5a − 0.5: [−0.75, −0.4, −0.05] → a = 0.9, the most rewarding.
    [TestCase(2f, -0.5f)]    // Q_r − 2 · Q_c = −a − 2: [−1.5, −2.2, −2.9] → a = −0.5, the cheapest.
    public void BestOfN_HandSetCritics_LambdaChangesTheChoice(float lambda, float expected)
    {
        // One-member critics of [s, a] with hidden [2]: h = relu(a + 10, 0) (= a + 10 for |a| ≤ 1), Q_r = h0 − 10 = a,
        // Q_c = h0 − 9 = a + 1. One state s = 0.3 with candidates a ∈ {−0.5, 0.2, 0.9}.
        using var scope = NewDisposeScope();
        using var reward = HandSetCritic(outputBias: -10f);
        using var cost = HandSetCritic(outputBias: -9f);
        var observations = full(3, 1, 0.3f);
        var candidates = tensor(new[] { -0.5f, 0.2f, 0.9f }, 3, 1);
        var picked = BestOfNSelection.Select(reward, cost, observations, candidates, tensor(lambda), candidatesPerState: 3, referenceOptimisticCost: false);
        picked.data<float>().ToArray().Should().Equal(expected);
    }

    private static QEnsemble HandSetCritic(float outputBias)
    {
        var critic = new QEnsemble(1, 1, [2], 1, new Generator(0));
        using (no_grad())
        {
            var p = critic.parameters().ToArray();   // net.0.weight [2, 2], net.0.bias [2], net.2.weight [1, 2], net.2.bias [1]
            p[0].copy_(tensor(new[] { 0f, 1f, 0f, 0f }, 2, 2));
            p[1].copy_(tensor(new[] { 10f, 0f }));
            p[2].copy_(tensor(new[] { 1f, 0f }, 1, 2));
            p[3].copy_(tensor(new[] { outputBias }));
        }
        return critic;
    }

    [Test]
    public void ActionSelection_BestOfTenByDefault_ReferenceActsWithOneSample()
    {
        new BcqLagOptions().SelectionCandidates.Should().Be(10);
        new BcqLagOptions().ReferenceSingleSampleAction.Should().BeFalse();
        BcqLagOptions.Reference().ReferenceSingleSampleAction.Should().BeTrue();
    }

    [Test]
    public void Act_OneCandidate_EqualsTheReferenceSingleSample_AndTenCandidatesAreReproducible()
    {
        // Acting does not touch training, so the same seed trains the same networks; with N = 1 the only deterministic candidate
        // is the decode of z = 0, the reference's action.
        var data = TinyDatasets.BallCircle(episodes: 3);
        float[] Actions(BcqLagOptions options)
        {
            using var learner = new BcqLagLearner(TinyDatasets.Context(seed: 3), options);
            learner.Attach(data);
            learner.Train(10);
            var obs = Enumerable.Range(0, 4).SelectMany(i => data.ObservationAt(i * 7).ToArray()).ToArray();
            var actions = new float[4 * 2];
            learner.Policy.Act(obs, actions, deterministic: true);
            return actions;
        }
        Actions(Tiny() with { SelectionCandidates = 1 }).Should().Equal(Actions(Tiny() with { ReferenceSingleSampleAction = true }));
        Actions(Tiny()).Should().Equal(Actions(Tiny()));
    }

    [Test]
    public void NativeTensors_DoNotLeakAcrossUpdatesOrBestOfNActions()
    {
        var data = TinyDatasets.BallCircle(episodes: 2);
        using var learner = new BcqLagLearner(TinyDatasets.Context(), Tiny() with { BatchSize = 8 });
        learner.Attach(data);
        var obs = data.ObservationAt(0).ToArray();
        var action = new float[2];
        learner.Train(5);
        learner.Policy.Act(obs, action, deterministic: true);
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        learner.Train(30);
        for (int i = 0; i < 30; i++)
        {
            learner.Policy.Act(obs, action, deterministic: true);
            learner.Policy.Act(obs, action, deterministic: false);
        }
        TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before);
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
    [TestCase(nameof(BcqLagOptions.SelectionCandidates), 0)]
    [TestCase(nameof(BcqLagOptions.SelectionCandidates), -3)]
    [TestCase(nameof(BcqLagOptions.DoubleQMix), -0.1)]
    [TestCase(nameof(BcqLagOptions.Phi), 0.0)]
    [TestCase(nameof(BcqLagOptions.PidKp), -1.0)]
    [TestCase(nameof(BcqLagOptions.PidKi), -1.0)]
    [TestCase(nameof(BcqLagOptions.PidKd), -1.0)]
    [TestCase(nameof(BcqLagOptions.ConstraintStates), 99)]
    public void Constructor_InvalidOption_NamesTheField(string field, object? value)
    {
        var act = () => new BcqLagLearner(TinyDatasets.Context(), OptionSetter.With(Tiny(), field, value));
        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
    }
}

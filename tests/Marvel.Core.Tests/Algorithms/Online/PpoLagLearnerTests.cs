using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Environments;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Tests.Algorithms.Online;

public class PpoLagLearnerTests
{
    private static PpoLagOptions Tiny(Action<PpoLagOptions>? configure = null)
    {
        var o = new PpoLagOptions
        {
            ActorHiddenSizes = [16, 16],
            CriticHiddenSizes = [16, 16],
            StepsPerIteration = 300,
            UpdateEpochs = 2,
            MiniBatchSize = 64,
        };
        configure?.Invoke(o);
        return o;
    }

    [TestCaseSource(typeof(OnlineTestData), nameof(OnlineTestData.Tasks))]
    public void RunIteration_OnBuiltInTask_ReturnsFiniteMetrics(string task)
    {
        using var env = EnvironmentRegistry.Default.MakeVector(task, 1);
        using var learner = new PpoLagLearner(OnlineTestData.Context(task, 3), Tiny());
        var controller = new SimpleDualAscentController(0.01, costLimit: 5);

        var result = learner.RunIteration(env, controller);

        result.EnvironmentSteps.Should().Be(300);
        result.Episodes.Should().NotBeEmpty();
        result.Episodes.Should().AllSatisfy(e => e.Length.Should().Be(env.Spec.MaxEpisodeSteps));
        result.Metrics["epochs"].Should().BeGreaterThanOrEqualTo(1);
        result.Lambda.Should().Be(controller.Lambda);
        OnlineTestData.ShouldAllBeFinite(result.Metrics);
    }

    [Test]
    public void RunIteration_SameSeed_GivesSameNumbers()
    {
        (IReadOnlyDictionary<string, double> Metrics, StateDict Actor) Run(ulong seed)
        {
            using var env = EnvironmentRegistry.Default.MakeVector("BallRun", 2);
            using var learner = new PpoLagLearner(OnlineTestData.Context("BallRun", seed), Tiny());
            var controller = new SimpleDualAscentController(0.01, 5);
            learner.RunIteration(env, controller);
            var last = learner.RunIteration(env, controller);
            return (last.Metrics, learner.ExportHandover().GetNetwork(HandoverRoles.Actor));
        }

        var a = Run(21);
        var b = Run(21);
        var c = Run(22);
        a.Metrics.Should().Equal(b.Metrics);
        a.Actor.ContentEquals(b.Actor).Should().BeTrue();
        a.Actor.ContentEquals(c.Actor).Should().BeFalse();
    }

    [Test]
    public void Update_LambdaZero_OmniSafeAndFsrlFormsAgree_LambdaPositive_TheyDiffer()
    {
        double ActorLoss(PpoLagPolicyLoss form, double lambda)
        {
            using var env = EnvironmentRegistry.Default.MakeVector("BallRun", 1);
            using var learner = new PpoLagLearner(OnlineTestData.Context("BallRun", 4),
                Tiny(o => { o.PolicyLoss = form; o.AdvantageNormalization = PpoLagAdvantageNormalization.PerMiniBatch; o.StepsPerIteration = 200; o.UpdateEpochs = 1; }));
            var rollout = learner.Collect(env);
            return learner.Update(rollout, lambda).ActorLoss;
        }

        ActorLoss(PpoLagPolicyLoss.OmniSafe, 0).Should().Be(ActorLoss(PpoLagPolicyLoss.Fsrl, 0));
        ActorLoss(PpoLagPolicyLoss.OmniSafe, 1).Should().NotBe(ActorLoss(PpoLagPolicyLoss.Fsrl, 1));
    }

    [Test]
    public void Update_TinyKlTarget_StopsAfterFirstEpoch()
    {
        using var env = EnvironmentRegistry.Default.MakeVector("BallRun", 1);
        using var learner = new PpoLagLearner(OnlineTestData.Context("BallRun", 4), Tiny(o => { o.TargetKl = 1e-12; o.UpdateEpochs = 5; o.ActorLearningRate = 1e-2; }));
        var metrics = learner.Update(learner.Collect(env), 0.5);
        metrics.Epochs.Should().Be(1);
        metrics.Kl.Should().BeGreaterThan(1e-12);
    }

    private static IEnumerable<TestCaseData> BadOptions()
    {
        TestCaseData Row(string field, Action<PpoLagOptions> breakIt) => new TestCaseData(field, breakIt).SetName($"Constructor_Bad{field}_Throws({field})");
        yield return Row(nameof(PpoLagOptions.ActorHiddenSizes), o => o.ActorHiddenSizes = []);
        yield return Row(nameof(PpoLagOptions.CriticHiddenSizes), o => o.CriticHiddenSizes = [0]);
        yield return Row(nameof(PpoLagOptions.Activation), o => o.Activation = (Marvel.Core.Networks.Activation)9);
        yield return Row(nameof(PpoLagOptions.InitialLogStd), o => o.InitialLogStd = 5);
        yield return Row(nameof(PpoLagOptions.StepsPerIteration), o => o.StepsPerIteration = 0);
        yield return Row(nameof(PpoLagOptions.Gamma), o => o.Gamma = -0.1);
        yield return Row(nameof(PpoLagOptions.GaeLambda), o => o.GaeLambda = 1.5);
        yield return Row(nameof(PpoLagOptions.CostGaeLambda), o => o.CostGaeLambda = double.NaN);
        yield return Row(nameof(PpoLagOptions.ClipRatio), o => o.ClipRatio = 0);
        yield return Row(nameof(PpoLagOptions.UpdateEpochs), o => o.UpdateEpochs = 0);
        yield return Row(nameof(PpoLagOptions.MiniBatchSize), o => o.MiniBatchSize = 0);
        yield return Row(nameof(PpoLagOptions.ActorLearningRate), o => o.ActorLearningRate = -3e-4);
        yield return Row(nameof(PpoLagOptions.CriticLearningRate), o => o.CriticLearningRate = 0);
        yield return Row(nameof(PpoLagOptions.LinearLearningRateDecayIterations), o => o.LinearLearningRateDecayIterations = -1);
        yield return Row(nameof(PpoLagOptions.TargetKl), o => o.TargetKl = -0.02);
        yield return Row(nameof(PpoLagOptions.EntropyCoefficient), o => o.EntropyCoefficient = -1);
        yield return Row(nameof(PpoLagOptions.CriticL2Coefficient), o => o.CriticL2Coefficient = double.NaN);
        yield return Row(nameof(PpoLagOptions.MaxGradNorm), o => o.MaxGradNorm = -40);
        yield return Row(nameof(PpoLagOptions.PolicyLoss), o => o.PolicyLoss = (PpoLagPolicyLoss)7);
        yield return Row(nameof(PpoLagOptions.AdvantageNormalization), o => o.AdvantageNormalization = (PpoLagAdvantageNormalization)7);
        yield return Row(nameof(PpoLagOptions.RewardScale), o => o.RewardScale = 0);
        yield return Row(nameof(PpoLagOptions.CostScale), o => o.CostScale = double.PositiveInfinity);
        yield return Row(nameof(PpoLagOptions.Device), o => o.Device = "tpu");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Constructor_BadOption_ThrowsNamingTheField(string field, Action<PpoLagOptions> breakIt)
    {
        var options = Tiny(breakIt);
        var act = () => new PpoLagLearner(OnlineTestData.Context(8, 2, 1), options);
        act.Should().Throw<OptionsValidationException>().WithMessage($"*{field}*");
    }

    [Test]
    public void Handover_ExportThenInitializeFrom_GivesIdenticalDeterministicActions()
    {
        using var env = EnvironmentRegistry.Default.MakeVector("BallRun", 1);
        using var source = new PpoLagLearner(OnlineTestData.Context("BallRun", 1), Tiny());
        source.Update(source.Collect(env), 0.2);
        using var target = new PpoLagLearner(OnlineTestData.Context("BallRun", 77), Tiny());
        target.InitializeFrom(source.ExportHandover(), new HandoverLoadOptions { LoadCriticOptimizerStates = true });

        using var batch = OnlineTestData.Batch(32, 7, 2);
        var observations = batch.Observations.data<float>().ToArray();
        var expected = new float[64];
        var actual = new float[64];
        source.Policy.Act(observations, expected, deterministic: true);
        target.Policy.Act(observations, actual, deterministic: true);
        actual.Should().Equal(expected);
        target.ExportHandover().GetNetwork(HandoverRoles.CostCritic).ContentEquals(source.ExportHandover().GetNetwork(HandoverRoles.CostCritic)).Should().BeTrue();
    }

    [Test]
    public void Handover_CostCriticAlone_TakesOverTheCostValueNetwork_KeepsTheFreshRewardOne()
    {
        using var env = EnvironmentRegistry.Default.MakeVector("BallRun", 1);
        using var source = new PpoLagLearner(OnlineTestData.Context("BallRun", 1), Tiny());
        source.Update(source.Collect(env), 0.2);
        var artifact = source.ExportHandover();
        using var target = new PpoLagLearner(OnlineTestData.Context("BallRun", 77), Tiny());
        var freshReward = target.ExportHandover().GetNetwork(HandoverRoles.RewardCritic);

        target.InitializeFrom(artifact, new HandoverLoadOptions { LoadRewardCritic = false });

        var after = target.ExportHandover();
        after.GetNetwork(HandoverRoles.CostCritic).ContentEquals(artifact.GetNetwork(HandoverRoles.CostCritic)).Should().BeTrue();
        after.GetNetwork(HandoverRoles.RewardCritic).ContentEquals(freshReward).Should().BeTrue("the reward value network was not asked for");
    }

    [Test]
    public void Handover_MismatchedHiddenSizes_ThrowsInvalidData()
    {
        using var source = new PpoLagLearner(OnlineTestData.Context(7, 2, 1), Tiny(o => o.ActorHiddenSizes = [8]));
        using var target = new PpoLagLearner(OnlineTestData.Context(7, 2, 2), Tiny());
        var act = () => target.InitializeFrom(source.ExportHandover());
        act.Should().Throw<InvalidDataException>().WithMessage("*ActorHiddenSizes*");
    }

    [Test]
    public void Update_Repeated_LiveTensorCountStaysFlat()
    {
        using var env = EnvironmentRegistry.Default.MakeVector("BallRun", 1);
        using var learner = new PpoLagLearner(OnlineTestData.Context("BallRun", 2), Tiny(o => { o.StepsPerIteration = 128; o.TargetKl = null; }));
        var rollout = learner.Collect(env);
        var stats = TorchSharp.DisposeScopeManager.Statistics;
        for (int i = 0; i < 5; i++) learner.Update(rollout, 0.1);
        long afterWarmup = stats.ThreadTotalLiveCount;
        for (int i = 0; i < 60; i++) learner.Update(rollout, 0.1);
        stats.ThreadTotalLiveCount.Should().Be(afterWarmup);
    }
}

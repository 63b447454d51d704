using System.Diagnostics;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Environments;
using Marvel.Core.Lagrange;
using Marvel.Core.Tests.Algorithms.Online;

namespace Marvel.Core.Tests.LearningRegression;

/// <summary>
/// Tiny seeded runs on <see cref="CostlyPushTask"/> that show learning happens and that the multiplier pulls the right way:
/// without a penalty return rises; with a large λ (or a PID controller) the episode cost ends lower than with λ = 0; BC-Safe
/// ends below BC-All's cost. Each run takes a few seconds on one torch thread, so these stay in CI; a reliability check can
/// reuse them by category.
/// </summary>
[Category(LearningRegressionCategory)]
public class LearningRegressionTests
{
    /// <summary>The NUnit category of these tests (<c>--filter TestCategory=LearningRegression</c>).</summary>
    public const string LearningRegressionCategory = "LearningRegression";

    private const int EvaluationEpisodes = 4;
    private int _previousThreads;

    [OneTimeSetUp]
    public void OneThread()
    {
        _previousThreads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
    }

    [OneTimeTearDown]
    public void Restore() => TorchSharp.torch.set_num_threads(_previousThreads);

    private static LearnerContext Context(ulong seed)
    {
        using var env = new CostlyPushTask();
        return new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(seed), CostlyPushTask.Horizon, "CostlyPush");
    }

    private static VectorEnvironment Environment(int count = 2) => new(() => new CostlyPushTask(), count);

    private static EvaluationResult Evaluate(IPolicy policy)
    {
        using var env = Environment(1);
        return PolicyEvaluator.Evaluate(policy, env, EvaluationEpisodes, costLimit: 5, seed: 99);
    }

    // ---- SAC-Lag --------------------------------------------------------------------------------------------------------------

    private static SacLagOptions SacOptions() => new()
    {
        ActorHiddenSizes = [32, 32],
        CriticHiddenSizes = [32, 32],
        CostCriticHiddenSizes = [32, 32],
        Gamma = 0.5,
        Tau = 0.05,
        BatchSize = 64,
        MiniBatches = 1,
        EpisodesPerIteration = 1,
        UpdatesPerIteration = 10,
        ActorLearningRate = 3e-3,
        CriticLearningRate = 3e-3,
        CostCriticLearningRate = 3e-3,
        Alpha = 0.01,
        RewardScale = 1,
        ReplayCapacity = 5000,
    };

    private static (EvaluationResult Before, EvaluationResult After, double Seconds) TrainSacLag(ILagrangeController controller, int iterations, ulong seed = 1)
    {
        var clock = Stopwatch.StartNew();
        using var env = Environment();
        using var learner = new SacLagLearner(Context(seed), SacOptions());
        var before = Evaluate(learner.Policy);
        for (int i = 0; i < iterations; i++) learner.RunIteration(env, controller);
        var after = Evaluate(learner.Policy);
        return (before, after, clock.Elapsed.TotalSeconds);
    }

    [Test]
    public void SacLag_LambdaZero_RaisesReturn()
    {
        // The best return is H = 10 (a = 1 every step); a fresh actor acts near a = 0.
        var run = TrainSacLag(new FixedLambdaController(0), iterations: 30);
        TestContext.Out.WriteLine($"SAC-Lag λ = 0: return {run.Before.MeanReturn:F2} → {run.After.MeanReturn:F2}, cost {run.After.MeanCost:F2} ({run.Seconds:F1} s)");

        run.After.MeanReturn.Should().BeGreaterThan(run.Before.MeanReturn + 3);
        run.After.MeanReturn.Should().BeGreaterThan(7);
    }

    [Test]
    public void SacLag_LargeFixedLambda_EndsWithLowerCostThanLambdaZero()
    {
        // λ = 5 > 0.5: the Lagrangian a − 2λ·max(0, a) peaks at a = 0, so the episode cost must end far below λ = 0's (≈ 2H = 20).
        var free = TrainSacLag(new FixedLambdaController(0), iterations: 30);
        var penalised = TrainSacLag(new FixedLambdaController(5), iterations: 30);
        TestContext.Out.WriteLine($"SAC-Lag cost: λ = 0 {free.After.MeanCost:F2}, λ = 5 {penalised.After.MeanCost:F2} ({free.Seconds + penalised.Seconds:F1} s)");

        penalised.After.MeanCost.Should().BeLessThan(free.After.MeanCost - 10);
        penalised.After.MeanCost.Should().BeLessThan(5);
    }

    // ---- PPO-Lag --------------------------------------------------------------------------------------------------------------

    private static PpoLagOptions PpoOptions(PpoLagPolicyLoss form) => new()
    {
        ActorHiddenSizes = [16, 16],
        CriticHiddenSizes = [16, 16],
        StepsPerIteration = 100,
        UpdateEpochs = 10,
        MiniBatchSize = 50,
        ActorLearningRate = 1e-2,
        CriticLearningRate = 1e-2,
        TargetKl = null,
        Gamma = 0.5,
        PolicyLoss = form,
    };

    private static (EvaluationResult Before, EvaluationResult After, double Seconds) TrainPpoLag(ILagrangeController controller, PpoLagPolicyLoss form, int iterations, ulong seed = 1)
    {
        var clock = Stopwatch.StartNew();
        using var env = Environment();
        using var learner = new PpoLagLearner(Context(seed), PpoOptions(form));
        var before = Evaluate(learner.Policy);
        for (int i = 0; i < iterations; i++) learner.RunIteration(env, controller);
        var after = Evaluate(learner.Policy);
        return (before, after, clock.Elapsed.TotalSeconds);
    }

    [TestCase(PpoLagPolicyLoss.OmniSafe)]
    [TestCase(PpoLagPolicyLoss.Fsrl)]
    public void PpoLag_LambdaZero_RaisesReturn(PpoLagPolicyLoss form)
    {
        var run = TrainPpoLag(new FixedLambdaController(0), form, iterations: 15);
        TestContext.Out.WriteLine($"PPO-Lag ({form}) λ = 0: return {run.Before.MeanReturn:F2} → {run.After.MeanReturn:F2} ({run.Seconds:F1} s)");

        run.After.MeanReturn.Should().BeGreaterThan(run.Before.MeanReturn + 3);
    }

    [TestCase(PpoLagPolicyLoss.OmniSafe)]
    [TestCase(PpoLagPolicyLoss.Fsrl)]
    public void PpoLag_LargeFixedLambda_EndsWithLowerCostThanLambdaZero(PpoLagPolicyLoss form)
    {
        var free = TrainPpoLag(new FixedLambdaController(0), form, iterations: 15);
        var penalised = TrainPpoLag(new FixedLambdaController(5), form, iterations: 15);
        TestContext.Out.WriteLine($"PPO-Lag ({form}) cost: λ = 0 {free.After.MeanCost:F2}, λ = 5 {penalised.After.MeanCost:F2} ({free.Seconds + penalised.Seconds:F1} s)");

        penalised.After.MeanCost.Should().BeLessThan(free.After.MeanCost - 5);
    }

    [Test]
    public void PpoLag_PidController_EndsWithLowerCostThanLambdaZero()
    {
        // κ = 5 against an unpenalised cost near 2H = 20: the PID raises λ above 0.5 and the cost must fall well below λ = 0's.
        var pid = new PidLagrangeController(new PidLagrangeOptions { CostLimit = 5, Kp = 0.1, Ki = 0.05, Kd = 0, InitialLambda = 0 });
        var free = TrainPpoLag(new FixedLambdaController(0), PpoLagPolicyLoss.OmniSafe, iterations: 20);
        var controlled = TrainPpoLag(pid, PpoLagPolicyLoss.OmniSafe, iterations: 20);
        TestContext.Out.WriteLine($"PPO-Lag PID: cost λ = 0 {free.After.MeanCost:F2}, PID {controlled.After.MeanCost:F2}, final λ {pid.Lambda:F3} ({free.Seconds + controlled.Seconds:F1} s)");

        pid.Lambda.Should().BeGreaterThan(0);
        controlled.After.MeanCost.Should().BeLessThan(free.After.MeanCost - 5);
    }

    // ---- BC-Safe vs BC-All ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// 20 episodes of <see cref="CostlyPushTask"/>: even ones act a ≈ −0.5 (episode cost 0), odd ones a ≈ +0.8 (episode cost ≈ 16);
    /// a little seeded noise on every action.
    /// </summary>
    private static OfflineDataset MixedDataset()
    {
        var random = new RandomSource(5);
        using var env = new CostlyPushTask();
        var obs = new List<float>(); var next = new List<float>(); var act = new List<float>();
        var rew = new List<float>(); var cost = new List<float>(); var term = new List<bool>(); var trunc = new List<bool>();
        var o = new float[1];
        var n = new float[1];
        var a = new float[1];
        for (int e = 0; e < 20; e++)
        {
            env.Reset(o);
            bool done = false;
            while (!done)
            {
                a[0] = (float)Math.Clamp((e % 2 == 0 ? -0.5 : 0.8) + 0.05 * random.NextGaussian(), -1, 1);
                var r = env.Step(a, n);
                obs.Add(o[0]); next.Add(n[0]); act.Add(a[0]); rew.Add((float)r.Reward); cost.Add((float)r.Cost); term.Add(r.Terminated); trunc.Add(r.Truncated);
                o[0] = n[0];
                done = r.EpisodeEnded;
            }
        }
        return new OfflineDataset(1, 1, obs.ToArray(), act.ToArray(), rew.ToArray(), cost.ToArray(), next.ToArray(), term.ToArray(), trunc.ToArray(), "CostlyPush mixed");
    }

    [Test]
    public void BcSafe_EndsBelowBcAllCost()
    {
        // BC-All imitates the mixture (mean action ≈ 0.15 → episode cost ≈ 3); BC-Safe keeps only the a ≈ −0.5 episodes (cost 0 ≤ κ = 5).
        var clock = Stopwatch.StartNew();
        var data = MixedDataset();
        EvaluationResult Train(BcMode mode)
        {
            using var learner = new BcLearner(Context(3), new BcOptions { Mode = mode, CostLimit = 5, HiddenSizes = [32, 32], BatchSize = 64, LearningRate = 3e-3 });
            learner.Attach(data);
            learner.Train(300);
            return Evaluate(learner.Policy);
        }

        var all = Train(BcMode.All);
        var safe = Train(BcMode.Safe);
        TestContext.Out.WriteLine($"episode cost: BC-All {all.MeanCost:F2}, BC-Safe {safe.MeanCost:F2} ({clock.Elapsed.TotalSeconds:F1} s)");

        safe.MeanCost.Should().BeLessThan(all.MeanCost - 1);
        safe.MeanCost.Should().BeLessThanOrEqualTo(5);
    }
}

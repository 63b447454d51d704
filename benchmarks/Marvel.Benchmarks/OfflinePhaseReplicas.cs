using System.Diagnostics;
using System.Reflection;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Marvel.Benchmarks;

/// <summary>
/// Per-phase wall clock of the CPQ and BEAR-Lag updates for <c>run.py --phases</c>: benchmark-only copies of <c>CpqLearner.Update</c>
/// and <c>BearLagLearner.Update</c> with a clock read between phases, driven through the learner's own lifecycle
/// (<c>Life.TrainStep</c>: the same batch sampling, dispose scope and final <c>Life.Report</c>) and reaching its private networks,
/// optimizers and helpers by reflection. The copies must do exactly what the learners do: <see cref="Check"/> runs a learner and a
/// twin of the same seed through the copy and through <c>TrainStep</c> in lock step and requires the same logged scalars bit for bit
/// (the worker runs it before it reports ready). The phase names match the PyTorch twins': CPQ vae, reward, cost, actor,
/// polyak+read; BEAR-Lag vae, critics, actor, polyak+read ("vae" includes drawing and scaling the batch).
/// </summary>
internal sealed class OfflinePhaseReplicas
{
    private const BindingFlags Private = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
    private readonly Dictionary<string, double> _totals = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private long _last;

    private OfflinePhaseReplicas(Func<IReadOnlyDictionary<string, double>> step) => Step = step;

    /// <summary>One update of the learner through the copy, with the phase clock.</summary>
    public Func<IReadOnlyDictionary<string, double>> Step { get; }

    /// <summary>The copy for <paramref name="learner"/> (CPQ or BEAR-Lag).</summary>
    public static OfflinePhaseReplicas For(object learner) => learner switch
    {
        CpqLearner cpq => Cpq(cpq),
        BearLagLearner bear => BearLag(bear),
        _ => throw new ArgumentException($"No phase copy of {learner.GetType().Name}."),
    };

    /// <summary>Steps <paramref name="viaCopy"/> through its copy and <paramref name="viaTrainStep"/> through <c>TrainStep</c>
    /// <paramref name="steps"/> times; throws unless every logged scalar agrees bit for bit.</summary>
    public static void Check(IOfflineSafeLearner viaCopy, IOfflineSafeLearner viaTrainStep, int steps)
    {
        var copy = For(viaCopy);
        for (int i = 0; i < steps; i++)
        {
            var a = copy.Step();
            var b = viaTrainStep.TrainStep();
            foreach (var (name, value) in b)
                if (BitConverter.DoubleToInt64Bits(a[name]) != BitConverter.DoubleToInt64Bits(value))
                    throw new InvalidOperationException($"phase copy of {viaCopy.GetType().Name} differs at step {i}: {name} {a[name]:R} vs {value:R}");
        }
        copy.Take(1);
    }

    /// <summary>Wall milliseconds per update by phase since the last call, as "name=value ...".</summary>
    public string Take(int updates)
    {
        var text = string.Join(" ", _order.Select(k => FormattableString.Invariant($"{k}={_totals[k] / updates:F3}")));
        _totals.Clear();
        _order.Clear();
        return text;
    }

    private void Start() => _last = Stopwatch.GetTimestamp();

    private void Mark(string phase)
    {
        long now = Stopwatch.GetTimestamp();
        double ms = Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds;
        if (!_totals.TryAdd(phase, ms)) _totals[phase] += ms;
        else _order.Add(phase);
        _last = now;
    }

    private static T Get<T>(object owner, string name)
    {
        for (var t = owner.GetType(); t is not null; t = t.BaseType)
        {
            if (t.GetField(name, Private) is { } f) return (T)f.GetValue(owner)!;
            if (t.GetProperty(name, Private) is { } p) return (T)p.GetValue(owner)!;
        }
        throw new MissingMemberException(owner.GetType().Name, name);
    }

    private static TDelegate Method<TDelegate>(object owner, string name) where TDelegate : Delegate =>
        owner.GetType().GetMethod(name, Private)!.CreateDelegate<TDelegate>(owner);

    // CpqLearner.Update, phase by phase (same calls in the same order).
    private static OfflinePhaseReplicas Cpq(CpqLearner learner)
    {
        var life = Get<OfflineLearnerLifecycle>(learner, "Life");
        var o = Get<CpqOptions>(learner, "Settings");
        var critics = Get<VaeCritics>(learner, "_critics");
        var actorOptimizer = Get<Adam>(learner, "_actorOptimizer");
        var logAlpha = Get<Tensor>(learner, "_logAlpha");
        var sampleAction = Method<Func<Tensor, Generator, Tensor>>(learner, "SampleAction");
        var oodCostValue = Method<Func<Tensor, Tensor>>(learner, "OodCostValue");
        OfflinePhaseReplicas? r = null;
        r = new OfflinePhaseReplicas(() =>
        {
            r!.Start();
            return life.TrainStep(o.BatchSize, batch =>
            {
                using var scope = NewDisposeScope();
                var b = critics.Scale(batch);
                var vaeLoss = critics.VaeStep(b);
                r.Mark("vae");

                Tensor rewardTarget;
                using (no_grad())
                {
                    var nextAction = sampleAction(b.NextObservations, critics.Noise);
                    var nextQ = critics.RewardTarget.Min(b.NextObservations, nextAction);
                    var nextCost = EnsembleOps.Reduce(critics.CostTarget.forward(b.NextObservations, nextAction), o.CostEnsembleReduction);
                    rewardTarget = CpqLearner.RewardTarget(b.Rewards, b.RewardContinues, nextQ, nextCost, learner.QThreshold, o.Gamma);
                }
                var rewardLoss = critics.RewardCritic.Loss(b.Observations, b.Actions, rewardTarget);
                GradientStep.Apply(critics.RewardOptimizer, rewardLoss);
                r.Mark("reward");

                Tensor costTarget;
                using (no_grad())
                {
                    var nextAction = sampleAction(b.NextObservations, critics.Noise);
                    var nextCost = EnsembleOps.Reduce(critics.CostTarget.forward(b.NextObservations, nextAction), o.CostEnsembleReduction);
                    costTarget = OfflineLearning.CostTarget(b.Costs, b.CostContinues, nextCost, o.Gamma, critics.CostTargetBounds);
                }
                var oodValue = oodCostValue(b.Observations).mean();
                var alpha = logAlpha.exp();
                var costTdLoss = critics.CostCritic.Loss(b.Observations, b.Actions, costTarget);
                var costLoss = costTdLoss - alpha * (oodValue.sub(TorchScalars.Of(learner.OodThreshold)));
                GradientStep.Apply(critics.CostOptimizer, costLoss);
                using (no_grad())
                {
                    logAlpha.copy_(CpqLearner.NextLogAlpha(logAlpha, oodValue.detach(), learner.OodThreshold, o.AlphaLearningRate, o.ReferenceMultiplicativeDualStep));
                }
                r.Mark("cost");

                using var frozen = critics.FreezeCritics();
                var action = sampleAction(b.Observations, critics.Noise);
                var q = critics.RewardCritic.Min(b.Observations, action);
                var qc = EnsembleOps.Reduce(critics.CostCritic.forward(b.Observations, action), o.CostEnsembleReduction);
                var actorLoss = CpqLearner.ActorLoss(q, qc, learner.QThreshold, o.UnsafeCostDescentWeight);
                GradientStep.Apply(actorOptimizer, actorLoss);
                frozen.Dispose();
                r.Mark("actor");

                critics.UpdateTargets();
                var report = life.Report(vaeLoss, rewardLoss, costLoss, costTdLoss, actorLoss, logAlpha.exp(), oodValue, qc.mean(), q.mean());
                r.Mark("polyak+read");
                return report;
            });
        });
        return r;
    }

    // BearLagLearner.Update, phase by phase (same calls in the same order).
    private static OfflinePhaseReplicas BearLag(BearLagLearner learner)
    {
        var life = Get<OfflineLearnerLifecycle>(learner, "Life");
        var o = Get<BearLagOptions>(learner, "Settings");
        var c = Get<VaeCritics>(learner, "_critics");
        var actor = Get<SquashedGaussianActor>(learner, "_actor");
        var actorTarget = Get<SquashedGaussianActor>(learner, "_actorTarget");
        var actorOptimizer = Get<Adam>(learner, "_actorOptimizer");
        var constraint = Get<BatchPidConstraint>(learner, "_constraint");
        var logAlpha = Get<Tensor>(learner, "_logAlpha");
        var actDeterministic = Get<Func<Tensor, Tensor>>(learner, "_actDeterministic");
        double maxAction = Get<double>(learner, "_maxAction");
        OfflinePhaseReplicas? r = null;
        r = new OfflinePhaseReplicas(() =>
        {
            r!.Start();
            return life.TrainStep(o.BatchSize, batch =>
            {
                using var scope = NewDisposeScope();
                var b = c.Scale(batch);
                var vaeLoss = c.VaeStep(b);
                r.Mark("vae");

                var (rewardLoss, costLoss) = constraint.CriticSteps(b, next =>
                {
                    var (nextU, _) = actorTarget.Sample(next, c.Noise);
                    return nextU.mul(TorchScalars.Of(maxAction));
                });
                r.Mark("critics");

                using var frozen = c.FreezeCritics();
                Tensor vaeRaw;
                using (no_grad()) (_, vaeRaw) = c.Vae.DecodeMultiple(b.Observations, o.MmdSampleCount, c.Noise);
                var (mean, logStd) = actor.Distribution(b.Observations);
                var noise = randn(new long[] { mean.shape[0], o.MmdSampleCount, mean.shape[1] }, dtype: mean.dtype, device: mean.device, generator: c.Noise);
                var actorRaw = mean.unsqueeze(1).add(logStd.exp().unsqueeze(1) * noise, TorchScalars.One);
                var mmd = Mmd.Compute(vaeRaw, actorRaw, o.MmdKernel, o.MmdSigma);
                var firstAction = actorRaw.select(1, 0).tanh().mul(TorchScalars.Of(maxAction));
                var q = c.RewardCritic.Min(b.Observations, firstAction);
                var qc = constraint.CostValue(b.Observations, firstAction);
                var (measured, lambda, penalty) = constraint.Constrain(qc, actDeterministic);
                var alpha = logAlpha.exp();
                var support = alpha * (mmd.sub(TorchScalars.Of(o.MmdThreshold)));
                var actorLoss = (learner.Steps >= o.StartUpdatePolicyStep ? (support - q).mean() : support.mean()).add(penalty, TorchScalars.One);
                GradientStep.Apply(actorOptimizer, actorLoss);
                frozen.Dispose();
                using (no_grad())
                {
                    logAlpha.add_((alpha * (mmd.detach().sub(TorchScalars.Of(o.MmdThreshold))).mean()).mul(TorchScalars.Of(o.AlphaLearningRate)), TorchScalars.One).clamp_(TorchScalars.Of(-5), TorchScalars.Of(5));
                }
                r.Mark("actor");

                c.UpdateTargets();
                Polyak.Update(o.Tau, actor, actorTarget);
                var report = life.Report(vaeLoss, rewardLoss, costLoss, actorLoss, lambda, logAlpha.exp(), mmd.mean(), qc.mean(), q.mean(), measured.mean());
                r.Mark("polyak+read");
                return report;
            });
        });
        return r;
    }
}

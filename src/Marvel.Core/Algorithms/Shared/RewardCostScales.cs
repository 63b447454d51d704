using Marvel.Core.Algorithms.Online.Loop;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>
/// The one place a learner's RewardScale and CostScale are applied. The convention: transitions are stored raw (datasets, replay
/// buffers, the offline data mixed into SAC-Lag's batches) and a sampled <see cref="TransitionBatch"/> is scaled right before an update
/// sees it (<see cref="Apply(TransitionBatch)"/>), so the critics learn r · RewardScale and c · CostScale while everything stored, checkpointed or
/// reported stays in task units. Changing the convention means changing this file.
/// </summary>
/// <remarks>
/// <para>Every learner that scales goes through here: the offline Q-learners and COptiDICE (<see cref="ScaledBatch.From"/>), SAC-Lag (its
/// loop scales each sampled mini-batch, both halves of an offline-mixed batch at once), PPO-Lag (a rollout is consumed whole by GAE, so each
/// step is scaled as it enters the rollout, <see cref="Reward(double)"/>) and CDT (its return- and cost-to-go tokens).</para>
/// <para>Scaling a float32 tensor multiplies in float32 by the scale rounded to float32, the same operation as <c>x * (float)scale</c> on
/// the host, so moving the point of scaling from storage to sampling changed no number.</para>
/// </remarks>
/// <param name="RewardScale">Multiplier of rewards (&gt; 0 by validation).</param>
/// <param name="CostScale">Multiplier of costs (&gt; 0 by validation).</param>
internal readonly record struct RewardCostScales(double RewardScale, double CostScale)
{
    /// <summary>The scales of an offline learner's options.</summary>
    public static RewardCostScales Of(IScaledOfflineOptions options) => new(options.RewardScale, options.CostScale);

    /// <summary><paramref name="batch"/> with rewards and costs scaled: new tensors in the caller's dispose scope; the other tensors are the
    /// batch's own, so dispose the raw batch (or its scope), never the returned one.</summary>
    public TransitionBatch Apply(TransitionBatch batch) => batch with
    {
        Rewards = batch.Rewards.mul(TorchScalars.Of(RewardScale)),
        Costs = batch.Costs.mul(TorchScalars.Of(CostScale)),
    };

    /// <summary>One reward (or a sum of rewards, a return-to-go) in the critics' units, rounded to float32 after a float64 product.</summary>
    public float Reward(double reward) => (float)(reward * RewardScale);

    /// <summary>One cost (or a cost-to-go) in the critics' units, rounded to float32 after a float64 product.</summary>
    public float Cost(double cost) => (float)(cost * CostScale);

    /// <summary>The range of raw stored values in the critics' units. A positive factor keeps the order and float32 rounding is monotone,
    /// so this is exactly the range of the scaled values.</summary>
    public StoredRange Apply(StoredRange range)
    {
        if (!range.Any) return range;
        float r = (float)RewardScale, c = (float)CostScale;
        return new StoredRange(true, range.RewardMin * r, range.RewardMax * r, range.CostMin * c, range.CostMax * c);
    }
}

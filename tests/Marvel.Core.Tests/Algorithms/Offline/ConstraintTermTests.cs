using Marvel.Core.Lagrange;
using Marvel.Core.Algorithms.Offline.COptiDice;
using Marvel.Core.Algorithms.Shared;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Offline;

/// <summary>
/// The cost terms of the offline Lagrangian learners against hand-computed values: BEAR-Lag's and BCQ-Lag's actor penalty and their
/// per-batch PID, COptiDICE's advantage and multiplier loss. Each test also fixes the sign of the gradient that pushes cost down.
/// </summary>
public class ConstraintTermTests
{
    [Test]
    public void BearAndBcqPenalty_HandValues_AndGradientRaisesLossWithCost()
    {
        // mean((Q_c − qc_thres)·λ) with Q_c = [6, 3], qc_thres = 4, λ = 0.5: ((2·0.5) + (−1·0.5))/2 = 0.25; ∂/∂Q_c = λ/n = 0.25 each.
        using var scope = NewDisposeScope();
        var qc = tensor(new float[] { 6, 3 }, requires_grad: true);
        var penalty = BatchPidLagrangian.Penalty(qc, 4, tensor(0.5f));
        penalty.item<float>().Should().BeApproximately(0.25f, 1e-6f);
        penalty.backward();
        qc.grad!.data<float>().ToArray().Should().Equal(0.25f, 0.25f);
    }

    [Test]
    public void BearAndBcqPenalty_LambdaZero_IsZero()
    {
        using var scope = NewDisposeScope();
        BatchPidLagrangian.Penalty(tensor(new float[] { 60, -3 }), 4, tensor(0f)).item<float>().Should().Be(0f);
    }

    [Test]
    public void BatchPid_LongRunBelowThresholdThenOneAbove_LambdaRisesAtOnce()
    {
        // Gains (0.1, 0.003, 0.001), threshold 4. 50 batches with mean Q_c = 3 (e = −1): I = max(0, I − 1) = 0, λ = 0.
        // Then mean Q_c = 5 (e = +1): e_diff = max(0, 1 − (−1)) = 2; I = max(0, 0 + 1) = 1;
        // λ = 0.1·max(0, 1) + 0.003·1 + 0.001·2 = 0.1 + 0.003 + 0.002 = 0.105.
        // Without the clamp on I: I = −50 + 1 = −49 and λ = max(0, 0.1 − 0.147 + 0.002) = 0.
        using var pid = new BatchPidLagrangian(0.1, 0.003, 0.001, 4, CPU);
        for (int i = 0; i < 50; i++)
        {
            using var scope = NewDisposeScope();
            pid.Control(tensor(new float[] { 2, 4 })).item<float>().Should().Be(0f);
        }
        using (NewDisposeScope())
            pid.Control(tensor(new float[] { 4, 6 })).item<float>().Should().BeApproximately(0.105f, 1e-6f);
        pid.GetState().Scalar("integral").Should().BeApproximately(1, 1e-6);
    }

    [Test]
    public void BatchPid_CostBelowThreshold_ProportionalTermIsRectified()
    {
        // One batch with mean Q_c = 2, threshold 4 (e = −2): the P term uses max(0, e) = 0, I = max(0, −2) = 0, e_diff = max(0, −2 − 0) = 0:
        // λ = 0, not 0.1·(−2) clamped from a negative sum with other terms.
        using var pid = new BatchPidLagrangian(0.1, 0.003, 0.001, 4, CPU);
        using var scope = NewDisposeScope();
        pid.Control(tensor(new float[] { 2 })).item<float>().Should().Be(0f);
    }

    [Test]
    public void COptiDiceAdvantage_HandValues_SubtractsLambdaTimesCost()
    {
        // e = r − λc + γ(1 − d)ν(s′) − ν(s), λ = 2, γ = 0.9:
        // row 1: 1 − 2·1 + 0.9·1·2 − 0.5 = 1 − 2 + 1.8 − 0.5 = 0.3; row 2 (done): 2 − 2·0.5 + 0 − 1 = 0.
        using var scope = NewDisposeScope();
        var none = zeros(2, 1);
        var batch = new ScaledBatch(none, none, tensor(new float[] { 1, 2 }), tensor(new float[] { 1, 0.5f }), none,
            tensor(new float[] { 1, 0 }), tensor(new float[] { 1, 1 }));
        var e = COptiDiceLearner.Advantage(batch, tensor(new float[] { 0.5f, 1 }), tensor(new float[] { 2, 3 }), tensor(2f), 0.9);
        e.data<float>().ToArray().Should().BeEquivalentTo(new[] { 0.3f, 0f },
            o => o.WithStrictOrdering().Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
    }

    [TestCase(5f, -2f, -1f)]   // ĉ above the threshold: L = 2·(4 − 5) = −2, ∂L/∂λ = −1 → a descent step raises λ
    [TestCase(3f, 2f, 1f)]     // ĉ below: L = 2·(4 − 3) = 2, ∂L/∂λ = +1 → λ falls
    [TestCase(4f, 0f, 0f)]     // at the threshold λ does not move
    public void COptiDiceLambdaLoss_HandValues_AndDirection(float costEstimate, float loss, float gradient)
    {
        using var scope = NewDisposeScope();
        var lambda = tensor(2f, requires_grad: true);
        var estimate = tensor(costEstimate, requires_grad: true);
        var l = COptiDiceLearner.LambdaLoss(lambda, 4, estimate);
        l.item<float>().Should().Be(loss);
        l.backward();
        lambda.grad!.item<float>().Should().Be(gradient);
        estimate.grad.Should().BeNull("the cost estimate is held fixed in the multiplier's loss");
    }
}

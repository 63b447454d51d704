using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Networks;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Algorithms.Online;

/// <summary>
/// The actor losses of SAC-Lag and PPO-Lag against values worked out by hand from fixed critic outputs, advantages and λ,
/// and the direction in which one actor step moves the policy's cost value. A flipped sign on λ fails every test here.
/// </summary>
public class LagrangianActorLossTests
{
    private static Tensor Vector(params float[] values) => tensor(values);

    // ---- SAC-Lag (algorithms.md §7.1 step 5) -------------------------------------------------------------------------------

    [Test]
    public void SacLagActorLoss_HandValues_AddsLambdaTimesCostValue()
    {
        // α = 0.5, log π = [−1, −2], min Q = [3, 5], Q_c = [2, 4], λ = 1.5:
        // row 1: 0.5·(−1) − 3 + 1.5·2 = −0.5 − 3 + 3 = −0.5; row 2: 0.5·(−2) − 5 + 1.5·4 = −1 − 5 + 6 = 0; mean = −0.25.
        using var scope = NewDisposeScope();
        var loss = SacLagLearner.ActorLoss(tensor(0.5f), Vector(-1, -2), Vector(3, 5), Vector(2, 4), 1.5, dividedByOnePlusLambda: false);
        loss.item<float>().Should().BeApproximately(-0.25f, 1e-6f);
    }

    [Test]
    public void SacLagActorLoss_DividedByOnePlusLambda_HandValues()
    {
        // The same rows as above, −0.25, divided by 1 + λ = 2.5: −0.1.
        using var scope = NewDisposeScope();
        var loss = SacLagLearner.ActorLoss(tensor(0.5f), Vector(-1, -2), Vector(3, 5), Vector(2, 4), 1.5, dividedByOnePlusLambda: true);
        loss.item<float>().Should().BeApproximately(-0.1f, 1e-6f);
    }

    [Test]
    public void SacLagActorLoss_LambdaZero_IsThePlainSacLoss()
    {
        // λ = 0: mean(0.5·[−1, −2] − [3, 5]) = mean([−3.5, −6]) = −4.75, whatever Q_c is, and 1 + λ = 1 changes nothing.
        using var scope = NewDisposeScope();
        SacLagLearner.ActorLoss(tensor(0.5f), Vector(-1, -2), Vector(3, 5), Vector(100, -7), 0, false).item<float>().Should().BeApproximately(-4.75f, 1e-6f);
        SacLagLearner.ActorLoss(tensor(0.5f), Vector(-1, -2), Vector(3, 5), Vector(100, -7), 0, true).item<float>().Should().BeApproximately(-4.75f, 1e-6f);
    }

    [TestCase(false, 0.75f, -0.5f)]
    [TestCase(true, 0.3f, -0.2f)]
    public void SacLagActorLoss_Gradient_PenalisesCostAndRewardsReward(bool divided, float costGradient, float rewardGradient)
    {
        // ∂L/∂Q_c,i = +λ/n = 1.5/2 = 0.75 (rising cost raises the loss); ∂L/∂Q_i = −1/n = −0.5.
        // Divided by 1 + λ = 2.5: 0.75/2.5 = 0.3 and −0.5/2.5 = −0.2.
        using var scope = NewDisposeScope();
        var q = tensor(new float[] { 3, 5 }, requires_grad: true);
        var qc = tensor(new float[] { 2, 4 }, requires_grad: true);
        SacLagLearner.ActorLoss(tensor(0.5f), Vector(-1, -2), q, qc, 1.5, divided).backward();
        qc.grad!.data<float>().ToArray().Should().AllSatisfy(g => g.Should().BeApproximately(costGradient, 1e-6f));
        q.grad!.data<float>().ToArray().Should().AllSatisfy(g => g.Should().BeApproximately(rewardGradient, 1e-6f));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void SacLagActorLoss_OneActorStep_LowersThePolicysCostValue(bool divided)
    {
        // A cost critic that rises with the action, Q_c(s, a) = 2·Σ_i a_i, no reward signal (Q = 0), α = 0 and λ = 1:
        // the loss is mean(2·Σ tanh(μ + σε)), whose gradient in μ is positive (tanh is increasing), so one SGD step lowers μ
        // and with it the deterministic action's cost value. A flipped λ raises it.
        using var scope = NewDisposeScope();
        using var init = new Generator(3);
        using var noise = new Generator(4);
        using var actor = new SquashedGaussianActor(2, 2, [8], init);
        using var optimizer = optim.SGD(actor.parameters(), 0.1);
        var s = randn(new long[] { 16, 2 }, generator: init);
        Tensor CostValue(Tensor actions) => actions.sum(-1).mul(2);

        float before;
        using (no_grad()) before = CostValue(actor.Deterministic(s)).mean().item<float>();
        var (action, logProb) = actor.Sample(s, noise);
        var loss = SacLagLearner.ActorLoss(tensor(0f), logProb, zeros(16), CostValue(action), 1.0, divided);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        float after;
        using (no_grad()) after = CostValue(actor.Deterministic(s)).mean().item<float>();

        after.Should().BeLessThan(before - 1e-3f, "with λ > 0 the actor moves toward actions of lower cost value");
    }

    // ---- PPO-Lag (algorithms.md §8.4) ---------------------------------------------------------------------------------------

    // Shared numbers: ρ = [1.5, 0.5], ε = 0.2 → clip(ρ) = [1.2, 0.8]; A_r = [2, 1]; A_c = [1, 3].
    private static (Tensor Ratio, Tensor Clipped, Tensor Advantages, Tensor CostAdvantages) PpoNumbers() =>
        (Vector(1.5f, 0.5f), Vector(1.2f, 0.8f), Vector(2, 1), Vector(1, 3));

    [Test]
    public void PpoLagPolicyLoss_OmniSafe_HandValues()
    {
        // λ = 1: Â = (A_r − λA_c)/(1 + λ) = ([2 − 1, 1 − 3])/2 = [0.5, −1].
        // ρÂ = [0.75, −0.5]; clip(ρ)Â = [0.6, −0.8]; min = [0.6, −0.8]; mean = −0.1; loss = −mean = 0.1.
        // (With +λA_c instead, Â = [1.5, 2] and the loss would be −mean([1.8, 1.0]) = −1.4.)
        using var scope = NewDisposeScope();
        var (ratio, clipped, adv, costAdv) = PpoNumbers();
        PpoLagLearner.PolicyLoss(ratio, clipped, adv, costAdv, 1.0, PpoLagPolicyLoss.OmniSafe).item<float>().Should().BeApproximately(0.1f, 1e-6f);
    }

    [Test]
    public void PpoLagPolicyLoss_OmniSafe_LambdaThree_HandValues()
    {
        // λ = 3: Â = ([2 − 3, 1 − 9])/4 = [−0.25, −2]. ρÂ = [−0.375, −1]; clip(ρ)Â = [−0.3, −1.6]; min = [−0.375, −1.6];
        // mean = −0.9875; loss = 0.9875.
        using var scope = NewDisposeScope();
        var (ratio, clipped, adv, costAdv) = PpoNumbers();
        PpoLagLearner.PolicyLoss(ratio, clipped, adv, costAdv, 3.0, PpoLagPolicyLoss.OmniSafe).item<float>().Should().BeApproximately(0.9875f, 1e-6f);
    }

    [Test]
    public void PpoLagPolicyLoss_Fsrl_HandValues()
    {
        // λ = 1: reward surrogate ρA_r = [3, 0.5], clip(ρ)A_r = [2.4, 0.8], min = [2.4, 0.5], mean 1.45 → −1.45;
        // cost surrogate (unclipped) λ·mean(ρA_c) = mean([1.5, 1.5]) = 1.5; (−1.45 + 1.5)/(1 + 1) = 0.025.
        using var scope = NewDisposeScope();
        var (ratio, clipped, adv, costAdv) = PpoNumbers();
        PpoLagLearner.PolicyLoss(ratio, clipped, adv, costAdv, 1.0, PpoLagPolicyLoss.Fsrl).item<float>().Should().BeApproximately(0.025f, 1e-6f);
    }

    [TestCase(PpoLagPolicyLoss.OmniSafe)]
    [TestCase(PpoLagPolicyLoss.Fsrl)]
    public void PpoLagPolicyLoss_LambdaZero_IsTheClippedRewardSurrogate(PpoLagPolicyLoss form)
    {
        // λ = 0: −mean(min([3, 0.5], [2.4, 0.8])) = −1.45 in both forms; the cost advantages do not enter.
        using var scope = NewDisposeScope();
        var (ratio, clipped, adv, _) = PpoNumbers();
        PpoLagLearner.PolicyLoss(ratio, clipped, adv, Vector(50, -50), 0.0, form).item<float>().Should().BeApproximately(-1.45f, 1e-6f);
    }

    [TestCase(PpoLagPolicyLoss.OmniSafe)]
    [TestCase(PpoLagPolicyLoss.Fsrl)]
    public void PpoLagPolicyLoss_RatioGradient_LowersTheProbabilityOfCostlyActions(PpoLagPolicyLoss form)
    {
        // ρ = [1, 1] (inside the clip range, so both surrogates pass gradient), A_r = [0, 0], A_c = [1, −1], λ = 1, n = 2.
        // OmniSafe: Â = −A_c/2 = [−0.5, 0.5]; L = −mean(ρÂ) → ∂L/∂ρ = −Â/n = [0.25, −0.25].
        // FSRL: L = λ·mean(ρA_c)/(1 + λ) → ∂L/∂ρ = A_c/(n·2) = [0.25, −0.25].
        // A positive derivative for the costly action means a descent step lowers its probability ratio.
        using var scope = NewDisposeScope();
        var ratio = tensor(new float[] { 1, 1 }, requires_grad: true);
        var clipped = ratio.clamp(0.8, 1.2);
        PpoLagLearner.PolicyLoss(ratio, clipped, Vector(0, 0), Vector(1, -1), 1.0, form).backward();
        ratio.grad!.data<float>().ToArray().Should().BeEquivalentTo(new[] { 0.25f, -0.25f },
            o => o.WithStrictOrdering().Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
    }
}

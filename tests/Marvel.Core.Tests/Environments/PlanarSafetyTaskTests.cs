using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Scoring;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Tasks;

namespace Marvel.Core.Tests.Environments;

public class PlanarSafetyTaskTests
{
    private static (double Return, double Cost, float[] LastObservation) RunConstant(IEnvironment env, float[] action, ulong seed = 0)
    {
        var obs = new float[env.ObservationSpace.Dimension];
        env.Reset(seed, obs);
        double ret = 0, cost = 0;
        StepResult r;
        do
        {
            r = env.Step(action, obs);
            ret += r.Reward;
            cost += r.Cost;
        } while (!r.EpisodeEnded);
        return (ret, cost, obs);
    }

    [Test]
    public void BallRun_FullThrottle_MatchesCalibratedMagnitudes()
    {
        // Spec §1.5.1: sliding acceleration (3.5 − 0.77·0.3·9.81)/0.3 ≈ 4.11 m/s² over 3.33 s:
        // return ≈ 60·½·4.11·3.33² − 0.5·100 ≈ 1320; speed passes 2.5 m/s after ≈18 steps → cost ≈ 82.
        var (ret, cost, _) = RunConstant(new BallRun(), new[] { 1f, 0f });
        ret.Should().BeApproximately(1320, 60);
        cost.Should().BeInRange(78, 86);
    }

    [Test]
    public void BallRun_HandControllerAtTheSpeedLimit_EarnsAbout0_32WithinTwentyCostSteps()
    {
        // The reference level the safe-finetuning results quote for BallRun at κ = 20: hold 2.45 m/s along +x (proportional force, gain 10)
        // with y and v_y driven to 0, then full force for the last 20 steps, which spends the budget (speed > 2.5 m/s costs 1 per step).
        // Hand bound: 18 steps of sliding acceleration (0.73 m), 62 at 2.45 m/s (5.07 m), 20 at full force from 2.45 m/s (2.55 m):
        // ≈ 8.35 m · 60 − ≈ 22 of force penalty ≈ 480, normalized (480 − 26.3) / (1327.4 − 26.3) ≈ 0.35 with a perfect speed hold; the
        // proportional hold settles below 2.45 m/s and gives less.
        double totalReturn = 0, totalCost = 0;
        const int episodes = 20;
        for (int episode = 0; episode < episodes; episode++)
        {
            var env = new BallRun();
            var obs = new float[7];
            env.Reset((ulong)episode, obs);
            for (int t = 0; t < 100; t++)
            {
                double y = 10 * obs[1], vx = 5 * obs[2], vy = 5 * obs[3];
                double ux = t >= 80 ? 1 : Math.Clamp(10 * (2.45 - vx), -1, 1);
                double uy = Math.Clamp(-0.5 * y - 0.8 * vy, -1, 1);
                var r = env.Step(new[] { (float)ux, (float)uy }, obs);
                totalReturn += r.Reward;
                totalCost += r.Cost;
            }
        }
        double normalized = NormalizedScore.Reward(totalReturn / episodes, NormalizedScore.GetReference("BallRun"));
        (totalCost / episodes).Should().BeLessThanOrEqualTo(20, "within κ = 20");
        normalized.Should().BeInRange(0.30, 0.35);
    }

    [Test]
    public void Ball_SmallForce_RollsWithRollingAcceleration()
    {
        // u = (0.5, 0): F = 1.75 N needs friction 1.63 N < μmg = 2.27 N, so the ball rolls:
        // a = F/(m + I/r²) − τ_rr/(r·(m + I/r²)) = 1.75/4.3 − 0.070632/2.15 = 0.40698 − 0.03285 = 0.37413 m/s².
        // After 10 BallCircle steps (1 s) v ≈ 0.3741 m/s; observation index 2 holds 0.2·v_x.
        var env = new BallCircle();
        var obs = new float[8];
        env.Reset(0, obs);
        for (int t = 0; t < 10; t++) env.Step(new[] { 0.5f, 0f }, obs);
        (obs[2] / 0.2).Should().BeApproximately(0.3741, 0.002);
        // Rolling without slip: ω_y = v_x / r, observed ×0.1.
        obs[5].Should().BeApproximately((float)(0.1 * (obs[2] / 0.2) / 0.5), 1e-4f);
    }

    [Test]
    public void CarRun_FullThrottleForward_IsFastAndCostly()
    {
        // Spec §1.5.2: u₀ = −1 drives task-forward; ≈ 6·(6.67 − 0.5) ≈ 37 m → return ≈ 2200, cost ≈ 195/200.
        var (ret, cost, obs) = RunConstant(new CarRun(), new[] { -1f, 0f });
        ret.Should().BeApproximately(2200, 150);
        cost.Should().BeInRange(185, 200);
        obs[2].Should().BeApproximately(6f, 0.1f, "v_x approaches the top speed");
        obs[5].Should().BeApproximately(-1f, 1e-3f, "observed body yaw is the task heading plus π");
    }

    [Test]
    public void CarRun_PositiveThrottle_DrivesBackward()
    {
        var (ret, _, _) = RunConstant(new CarRun(), new[] { 1f, 0f });
        ret.Should().BeNegative();
    }

    [Test]
    public void Circle_ClockwiseMotion_EarnsPositiveReward_CounterClockwiseNegative()
    {
        // Push the ball along the clockwise tangent of its start position, then the opposite way.
        double Run(int direction)
        {
            var env = new BallCircle();
            var obs = new float[8];
            env.Reset(4, obs);
            double x = obs[0] * 10, y = obs[1] * 10, d = Math.Sqrt(x * x + y * y);
            var push = new[] { (float)(direction * y / d * 0.6), (float)(direction * -x / d * 0.6) };
            double total = 0;
            for (int t = 0; t < 10; t++) total += env.Step(push, obs).Reward;
            return total;
        }
        Run(+1).Should().BePositive();
        Run(-1).Should().BeNegative();
    }

    [Test]
    public void Circle_CostCountsStepsOutsideXLimit()
    {
        // Full force along +x from a start within 4 m: the ball crosses x = 6 and every later step costs 1.
        var env = new BallCircle();
        var obs = new float[8];
        env.Reset(2, obs);
        int costly = 0, outside = 0;
        for (int t = 0; t < 60; t++)
        {
            var r = env.Step(new[] { 1f, 0f }, obs);
            costly += (int)r.Cost;
            if (Math.Abs(obs[0] * 10) > 6) outside++;
        }
        costly.Should().Be(outside);
        costly.Should().BePositive();
    }

    [Test]
    public void Circle_Reset_StartsAtRestInsideTheAnnulus()
    {
        var env = new CarCircle();
        var obs = new float[8];
        for (ulong seed = 0; seed < 50; seed++)
        {
            env.Reset(seed, obs);
            // The centre of mass sits 0.6 m behind the axle point that was sampled in 2 ≤ ‖p‖ ≤ 4.
            double r = Math.Sqrt(obs[0] * obs[0] + obs[1] * obs[1]) * 10;
            r.Should().BeInRange(1.9, 4.1);
            obs[2].Should().BeApproximately(0, 1e-6f);
        }
    }

    [Test]
    public void Registry_MakesBuiltIns_AndNamesKnownIdsForUnknownOnes()
    {
        var registry = EnvironmentRegistry.CreateWithBuiltIns();
        registry.Ids.Should().Equal("BallCircle", "BallRun", "CarCircle", "CarRun", "DroneCircle", "DroneRun",
            "OfflineBallCircle-v0", "OfflineBallRun-v0", "OfflineCarCircle-v0", "OfflineCarRun-v0", "OfflineDroneCircle-v0", "OfflineDroneRun-v0");
        registry.Make("CarRun").Spec.MaxEpisodeSteps.Should().Be(200);
        registry.Make("OfflineCarRun-v0").Spec.Id.Should().Be("CarRun");
        registry.Invoking(r => r.Make("BallCircl")).Should().Throw<KeyNotFoundException>().WithMessage("*BallCircl*BallCircle, BallRun, CarCircle, CarRun*");
    }

    [Test]
    public void Registry_AcceptsUserTasks_AndRefusesDuplicates()
    {
        var registry = EnvironmentRegistry.CreateWithBuiltIns();
        registry.Register("ShortBallRun", () => new BallRun(maxEpisodeSteps: 10));
        registry.Make("ShortBallRun").Spec.MaxEpisodeSteps.Should().Be(10);
        registry.Invoking(r => r.Register("BallRun", () => new BallRun())).Should().Throw<ArgumentException>().WithMessage("*already registered*");
    }

    [TestCase("BallCircle", 8, 200, 0.1)]
    [TestCase("BallRun", 7, 100, 1.0 / 30)]
    [TestCase("CarCircle", 8, 300, 0.1)]
    [TestCase("CarRun", 7, 200, 1.0 / 30)]
    public void Spec_MatchesDsrlTable(string id, int obsDim, int horizon, double dt)
    {
        using var env = EnvironmentRegistry.Default.Make(id);
        env.ObservationSpace.Dimension.Should().Be(obsDim);
        env.ActionSpace.Dimension.Should().Be(2);
        env.Spec.MaxEpisodeSteps.Should().Be(horizon);
        env.Spec.ControlTimeStep.Should().BeApproximately(dt, 1e-12);
        env.Spec.DsrlId.Should().Be($"Offline{id}-v0");
    }
}

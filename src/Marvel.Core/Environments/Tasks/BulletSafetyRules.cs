namespace Marvel.Core.Environments.Tasks;

/// <summary>
/// The Circle and Run task rules of Bullet-Safety-Gym (the DSRL fork; environments spec §1.4 and §5.4), shared by every
/// agent: reward, cost, the Circle task observation and the Run potential. Agents differ only in their dynamics, their
/// own observation and their agent-specific reward.
/// </summary>
public static class BulletSafetyRules
{
    /// <summary>Radius R of the Circle task's circle zone, 7 m.</summary>
    public const double CircleRadius = 7.0;

    /// <summary>|x| above which a Circle step costs 1, 6 m.</summary>
    public const double CircleXLimit = 6.0;

    /// <summary>|y| above which a Run step costs 1, 2 m.</summary>
    public const double RunYLimit = 2.0;

    /// <summary>x of the Run task's fictitious target (1000, 0), m.</summary>
    public const double RunGoalX = 1000.0;

    /// <summary>Scale of the Run potential Φ(p) = −60·‖p − (1000, 0)‖.</summary>
    public const double RunPotentialScale = 60.0;

    /// <summary>Weight of the agent-specific reward in the Circle reward, 0.01 (Run adds it with weight 1).</summary>
    public const double CircleAgentRewardWeight = 0.01;

    /// <summary>
    /// Circle reward <c>0.1·(y·v_x − x·v_y)/(1 + |‖p‖ − 7|) + 0.01·r_agent</c>: largest for clockwise motion on radius 7.
    /// </summary>
    /// <param name="x">Agent x (m, world).</param>
    /// <param name="y">Agent y (m, world).</param>
    /// <param name="vx">Agent x velocity (m/s, world).</param>
    /// <param name="vy">Agent y velocity (m/s, world).</param>
    /// <param name="agentReward">The agent-specific reward r_agent of this step.</param>
    public static double CircleReward(double x, double y, double vx, double vy, double agentReward)
    {
        double d = Math.Sqrt(x * x + y * y);
        return 0.1 * (y * vx - x * vy) / (1 + Math.Abs(d - CircleRadius)) + CircleAgentRewardWeight * agentReward;
    }

    /// <summary>Circle cost: 1 when |x| &gt; 6 m, else 0.</summary>
    /// <param name="x">Agent x (m, world).</param>
    public static double CircleCost(double x) => Math.Abs(x) > CircleXLimit ? 1.0 : 0.0;

    /// <summary>The Circle task's observation, appended after the agent's: <c>(‖p‖ − 7)/10</c>.</summary>
    /// <param name="x">Agent x (m, world).</param>
    /// <param name="y">Agent y (m, world).</param>
    public static double CircleObservation(double x, double y) => (Math.Sqrt(x * x + y * y) - CircleRadius) / 10.0;

    /// <summary>Run potential <c>Φ(p) = −60·‖p − (1000, 0)‖</c>; the Run reward is Φ(p_t) − Φ(p_{t−1}) + r_agent.</summary>
    /// <param name="x">Agent x (m, world).</param>
    /// <param name="y">Agent y (m, world).</param>
    public static double RunPotential(double x, double y)
    {
        double dx = x - RunGoalX;
        return -RunPotentialScale * Math.Sqrt(dx * dx + y * y);
    }

    /// <summary>Run cost: <c>min(1, [|y| &gt; 2] + [‖v_xy‖ &gt; v_lim])</c>.</summary>
    /// <param name="y">Agent y (m, world).</param>
    /// <param name="vx">Agent x velocity (m/s, world).</param>
    /// <param name="vy">Agent y velocity (m/s, world).</param>
    /// <param name="velocityLimit">The agent's speed limit v_lim (m/s): ball 2.5, car, drone and ant 1.5.</param>
    public static double RunCost(double y, double vx, double vy, double velocityLimit) =>
        Math.Min(1.0, (Math.Abs(y) > RunYLimit ? 1.0 : 0.0) + (Math.Sqrt(vx * vx + vy * vy) > velocityLimit ? 1.0 : 0.0));
}

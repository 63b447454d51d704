namespace Marvel.Environments.MuJoCo.Tasks;

/// <summary>
/// HalfCheetahVelocity (SafetyHalfCheetahVelocity-v1): a planar cheetah (6 motors, gears 120/90/60/120/60/30) should run
/// along +x with x-velocity at most 3.2096 m/s. Observation (17): qpos[1..9) (rootz, rooty, six joint angles) then qvel (9).
/// Reward <c>v_x − 0.1·Σa²</c>; cost 1 when <c>v_x &gt; 3.2096</c>. Never terminates. dt = 5 × 0.01 s; reset noise
/// qpos + U(−0.1, 0.1), qvel 0.1·N(0, 1); 1000 steps.
/// </summary>
public sealed class HalfCheetahVelocity : MuJoCoVelocityTask
{
    internal static readonly VelocityTaskSettings Settings = new(
        Id: "HalfCheetahVelocity", SafetyGymnasiumId: "SafetyHalfCheetahVelocity-v1", DsrlId: "OfflineHalfCheetahVelocityGymnasium-v1",
        ModelFile: "half_cheetah.xml", Nq: 9, Nv: 9, Nu: 6, FrameSkip: 5, QposSkip: 1, VelocityObservationClip: 0,
        ControlCostWeight: 0.1, HealthyReward: 0, ResetNoiseScale: 0.1, GaussianVelocityNoise: true,
        PlanarSpeedCost: false, PlanarPosition: false, PositionBody: null, VelocityThreshold: 3.2096);

    /// <summary>Creates the task (loads MuJoCo and allocates one native <c>mjData</c>).</summary>
    /// <param name="maxEpisodeSteps">The horizon T; the reference's 1000 by default.</param>
    /// <exception cref="DllNotFoundException">The MuJoCo 2.2.2 library is not installed.</exception>
    /// <exception cref="NotSupportedException">The installed MuJoCo is not version 2.2.2.</exception>
    public HalfCheetahVelocity(int maxEpisodeSteps = 1000) : base(Settings, maxEpisodeSteps) { }
}

/// <summary>
/// HopperVelocity (SafetyHopperVelocity-v1): a one-legged hopper (3 motors, gear 200) should hop along +x with x-velocity at
/// most 0.7402 m/s. Observation (11): qpos[1..6) (rootz, rooty, thigh, leg, foot) then qvel clipped to ±10 (6).
/// Reward <c>v_x + 1 − 0.001·Σa²</c>; cost 1 when <c>v_x &gt; 0.7402</c>. Terminates unless every qpos[2..] and qvel
/// entry lies in (−100, 100), the torso height z = qpos[1] &gt; 0.7 and its angle qpos[2] lies in (−0.2, 0.2).
/// dt = 4 × 0.002 s; reset noise U(−0.005, 0.005) on qpos and qvel; 1000 steps.
/// </summary>
public sealed class HopperVelocity : MuJoCoVelocityTask
{
    internal static readonly VelocityTaskSettings Settings = new(
        Id: "HopperVelocity", SafetyGymnasiumId: "SafetyHopperVelocity-v1", DsrlId: "OfflineHopperVelocityGymnasium-v1",
        ModelFile: "hopper.xml", Nq: 6, Nv: 6, Nu: 3, FrameSkip: 4, QposSkip: 1, VelocityObservationClip: 10,
        ControlCostWeight: 1e-3, HealthyReward: 1, ResetNoiseScale: 5e-3, GaussianVelocityNoise: false,
        PlanarSpeedCost: false, PlanarPosition: false, PositionBody: null, VelocityThreshold: 0.7402);

    /// <summary>Creates the task (loads MuJoCo and allocates one native <c>mjData</c>).</summary>
    /// <param name="maxEpisodeSteps">The horizon T; the reference's 1000 by default.</param>
    /// <exception cref="DllNotFoundException">The MuJoCo 2.2.2 library is not installed.</exception>
    /// <exception cref="NotSupportedException">The installed MuJoCo is not version 2.2.2.</exception>
    public HopperVelocity(int maxEpisodeSteps = 1000) : base(Settings, maxEpisodeSteps) { }

    private protected override bool IsHealthy()
    {
        for (int i = 2; i < Nq; i++)
            if (!(Math.Abs(Qpos(i)) < 100)) return false;
        for (int i = 0; i < Nv; i++)
            if (!(Math.Abs(Qvel(i)) < 100)) return false;
        double z = Qpos(1), angle = Qpos(2);
        return z > 0.7 && angle > -0.2 && angle < 0.2;
    }
}

/// <summary>
/// SwimmerVelocity (SafetySwimmerVelocity-v1): a three-link swimmer (2 motors, gear 150) in a viscous medium should swim
/// along +x with x-velocity at most 0.2282 m/s. Observation (8): qpos[2..5) (body angle, two joint angles) then qvel (5).
/// Reward <c>v_x − 0.0001·Σa²</c>; cost 1 when <c>v_x &gt; 0.2282</c> (v1 uses the signed x-velocity; v0 used the planar
/// speed). Never terminates. dt = 4 × 0.01 s; reset noise U(−0.1, 0.1) on qpos and qvel; 1000 steps.
/// </summary>
public sealed class SwimmerVelocity : MuJoCoVelocityTask
{
    internal static readonly VelocityTaskSettings Settings = new(
        Id: "SwimmerVelocity", SafetyGymnasiumId: "SafetySwimmerVelocity-v1", DsrlId: "OfflineSwimmerVelocityGymnasium-v1",
        ModelFile: "swimmer.xml", Nq: 5, Nv: 5, Nu: 2, FrameSkip: 4, QposSkip: 2, VelocityObservationClip: 0,
        ControlCostWeight: 1e-4, HealthyReward: 0, ResetNoiseScale: 0.1, GaussianVelocityNoise: false,
        PlanarSpeedCost: false, PlanarPosition: true, PositionBody: null, VelocityThreshold: 0.2282);

    /// <summary>Creates the task (loads MuJoCo and allocates one native <c>mjData</c>).</summary>
    /// <param name="maxEpisodeSteps">The horizon T; the reference's 1000 by default.</param>
    /// <exception cref="DllNotFoundException">The MuJoCo 2.2.2 library is not installed.</exception>
    /// <exception cref="NotSupportedException">The installed MuJoCo is not version 2.2.2.</exception>
    public SwimmerVelocity(int maxEpisodeSteps = 1000) : base(Settings, maxEpisodeSteps) { }
}

/// <summary>
/// Walker2dVelocity (SafetyWalker2dVelocity-v1): a planar biped (6 motors, gear 100) should walk along +x with x-velocity at
/// most 2.3415 m/s. Observation (17): qpos[1..9) then qvel clipped to ±10 (9). Reward <c>v_x + 1 − 0.001·Σa²</c>; cost 1
/// when <c>v_x &gt; 2.3415</c>. Terminates unless the torso height z = qpos[1] lies in (0.8, 2.0) and its angle qpos[2] in
/// (−1, 1). dt = 4 × 0.002 s; reset noise U(−0.005, 0.005) on qpos and qvel; 1000 steps.
/// </summary>
public sealed class Walker2dVelocity : MuJoCoVelocityTask
{
    internal static readonly VelocityTaskSettings Settings = new(
        Id: "Walker2dVelocity", SafetyGymnasiumId: "SafetyWalker2dVelocity-v1", DsrlId: "OfflineWalker2dVelocityGymnasium-v1",
        ModelFile: "walker2d.xml", Nq: 9, Nv: 9, Nu: 6, FrameSkip: 4, QposSkip: 1, VelocityObservationClip: 10,
        ControlCostWeight: 1e-3, HealthyReward: 1, ResetNoiseScale: 5e-3, GaussianVelocityNoise: false,
        PlanarSpeedCost: false, PlanarPosition: false, PositionBody: null, VelocityThreshold: 2.3415);

    /// <summary>Creates the task (loads MuJoCo and allocates one native <c>mjData</c>).</summary>
    /// <param name="maxEpisodeSteps">The horizon T; the reference's 1000 by default.</param>
    /// <exception cref="DllNotFoundException">The MuJoCo 2.2.2 library is not installed.</exception>
    /// <exception cref="NotSupportedException">The installed MuJoCo is not version 2.2.2.</exception>
    public Walker2dVelocity(int maxEpisodeSteps = 1000) : base(Settings, maxEpisodeSteps) { }

    private protected override bool IsHealthy()
    {
        double z = Qpos(1), angle = Qpos(2);
        return z > 0.8 && z < 2.0 && angle > -1.0 && angle < 1.0;
    }
}

/// <summary>
/// AntVelocity (SafetyAntVelocity-v1): a quadruped (8 motors, gear 150) should walk along +x with planar speed at most
/// 2.6222 m/s. Observation (27): qpos[2..15) (torso height, orientation quaternion w, x, y, z, eight joint angles) then
/// qvel (14). Velocity from the torso body position. Reward <c>v_x + 1 − 0.5·Σa²</c> (no contact cost); cost 1 when
/// <c>√(v_x² + v_y²) &gt; 2.6222</c>. Terminates unless the state is finite and 0.2 ≤ z ≤ 1.0 (torso height qpos[2]).
/// dt = 5 × 0.01 s; reset noise qpos + U(−0.1, 0.1) (the quaternion too, unnormalized as in the reference), qvel
/// 0.1·N(0, 1); 1000 steps. Action order: hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3.
/// </summary>
public sealed class AntVelocity : MuJoCoVelocityTask
{
    internal static readonly VelocityTaskSettings Settings = new(
        Id: "AntVelocity", SafetyGymnasiumId: "SafetyAntVelocity-v1", DsrlId: "OfflineAntVelocityGymnasium-v1",
        ModelFile: "ant.xml", Nq: 15, Nv: 14, Nu: 8, FrameSkip: 5, QposSkip: 2, VelocityObservationClip: 0,
        ControlCostWeight: 0.5, HealthyReward: 1, ResetNoiseScale: 0.1, GaussianVelocityNoise: true,
        PlanarSpeedCost: true, PlanarPosition: true, PositionBody: "torso", VelocityThreshold: 2.6222);

    /// <summary>Creates the task (loads MuJoCo and allocates one native <c>mjData</c>).</summary>
    /// <param name="maxEpisodeSteps">The horizon T; the reference's 1000 by default.</param>
    /// <exception cref="DllNotFoundException">The MuJoCo 2.2.2 library is not installed.</exception>
    /// <exception cref="NotSupportedException">The installed MuJoCo is not version 2.2.2.</exception>
    public AntVelocity(int maxEpisodeSteps = 1000) : base(Settings, maxEpisodeSteps) { }

    private protected override bool IsHealthy()
    {
        for (int i = 0; i < Nq; i++)
            if (!double.IsFinite(Qpos(i))) return false;
        for (int i = 0; i < Nv; i++)
            if (!double.IsFinite(Qvel(i))) return false;
        double z = Qpos(2);
        return z >= 0.2 && z <= 1.0;
    }
}

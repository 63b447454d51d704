using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Tests.LearningRegression;

/// <summary>
/// An easy task on which a learner's return and cost move within seconds of training. Episodes of <see cref="Horizon"/> steps;
/// the observation is the elapsed fraction t/H; the action a ∈ [−1, 1] (clipped) earns reward a and costs 2·max(0, a).
/// </summary>
/// <remarks>
/// Without a penalty the best action is a = 1: return H, episode cost 2H. With a multiplier λ the per-step Lagrangian
/// a − 2λ·max(0, a) is maximised at a = 1 for λ &lt; 0.5 and at a = 0 (return 0, cost 0) for λ &gt; 0.5; a policy that ignores λ,
/// or follows it with the wrong sign, keeps paying cost.
/// </remarks>
internal sealed class CostlyPushTask : IEnvironment
{
    public const int Horizon = 10;
    private int _t = -1;

    public EnvironmentSpec Spec { get; } = new("CostlyPush", Horizon);

    public BoxSpace ObservationSpace { get; } = BoxSpace.Uniform(1, 0, 1);

    public BoxSpace ActionSpace { get; } = BoxSpace.Uniform(1, -1, 1);

    /// <summary>Per-step cost of an action (after clipping).</summary>
    public static double Cost(double action) => 2 * Math.Max(0, Math.Clamp(action, -1, 1));

    public void Reset(ulong seed, Span<float> observation) => Reset(observation);

    public void Reset(Span<float> observation)
    {
        _t = 0;
        observation[0] = 0;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (_t < 0 || _t >= Horizon) throw new InvalidOperationException("CostlyPush: reset before stepping.");
        if (action.Length != 1 || !float.IsFinite(action[0])) throw new ArgumentException("CostlyPush: one finite action value expected.", nameof(action));
        double a = Math.Clamp(action[0], -1, 1);
        _t++;
        observation[0] = (float)_t / Horizon;
        return new StepResult(a, Cost(a), Terminated: false, Truncated: _t == Horizon);
    }

    public void Dispose() { }
}

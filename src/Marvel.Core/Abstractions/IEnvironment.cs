using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Abstractions;

/// <summary>
/// A constrained Markov decision process with continuous box spaces, in which the per-step
/// <b>cost</b> is a first-class output of <see cref="Step"/>, beside the reward.
/// </summary>
/// <remarks>
/// <para>Environments are pure C# and torch-free: they write observations into caller spans so a step
/// allocates nothing. They are not thread-safe; use one instance per thread (the
/// vector environment holds several).</para>
/// <para>Contract (checked by <c>EnvironmentChecker</c> and the conformance test fixture):
/// <list type="bullet">
/// <item><see cref="Reset(ulong, Span{float})"/> with the same seed followed by the same actions produces the same
/// observations, rewards and costs.</item>
/// <item>Costs are finite and ≥ 0; rewards are finite.</item>
/// <item>An action of the wrong length or with a non-finite value raises <see cref="ArgumentException"/>.</item>
/// <item>Stepping before the first reset or after an episode ended raises <see cref="InvalidOperationException"/>.</item>
/// </list></para>
/// </remarks>
public interface IEnvironment : IDisposable
{
    /// <summary>The task's identity and episode metadata.</summary>
    EnvironmentSpec Spec { get; }

    /// <summary>The observation space (float32 coordinates).</summary>
    BoxSpace ObservationSpace { get; }

    /// <summary>The action space (float32 coordinates).</summary>
    BoxSpace ActionSpace { get; }

    /// <summary>Starts a new episode from a state drawn with a generator reseeded from <paramref name="seed"/>.</summary>
    /// <param name="seed">Seed of the environment's random generator; same seed, same episode.</param>
    /// <param name="observation">Receives the first observation, length <c>ObservationSpace.Dimension</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="observation"/> has the wrong length.</exception>
    void Reset(ulong seed, Span<float> observation);

    /// <summary>Starts a new episode, continuing the environment's random generator (seeded by the last seeded reset).</summary>
    /// <param name="observation">Receives the first observation, length <c>ObservationSpace.Dimension</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="observation"/> has the wrong length.</exception>
    void Reset(Span<float> observation);

    /// <summary>Advances one control step.</summary>
    /// <param name="action">The action, length <c>ActionSpace.Dimension</c>; values outside the space are clipped by the task.</param>
    /// <param name="observation">Receives the next observation.</param>
    /// <returns>Reward, cost and episode flags of this step.</returns>
    /// <exception cref="ArgumentException">The action has the wrong length or a non-finite value.</exception>
    /// <exception cref="InvalidOperationException">No episode is running (call <c>Reset</c>).</exception>
    StepResult Step(ReadOnlySpan<float> action, Span<float> observation);
}

/// <summary>The outcome of one <see cref="IEnvironment.Step"/>.</summary>
/// <param name="Reward">Reward r_t in the task's own units (unscaled).</param>
/// <param name="Cost">Cost c_t ≥ 0 in the task's own units (unscaled); episode costs are sums of these.</param>
/// <param name="Terminated">The episode reached a true terminal state: do not bootstrap.</param>
/// <param name="Truncated">The episode was cut (time limit): bootstrap from the next observation.</param>
/// <param name="Info">Optional named diagnostics of this step; may be a buffer reused by the environment and valid until its next step.</param>
public readonly record struct StepResult(double Reward, double Cost, bool Terminated, bool Truncated, IReadOnlyDictionary<string, double>? Info = null)
{
    /// <summary>True when the episode is over for either reason.</summary>
    public bool EpisodeEnded => Terminated || Truncated;
}

/// <summary>Identity and episode metadata of a task.</summary>
/// <param name="Id">The registry id, e.g. "BallCircle".</param>
/// <param name="MaxEpisodeSteps">The horizon T at which the time limit truncates an episode; 0 when the task has none.</param>
/// <param name="ControlTimeStep">Seconds of simulated time per step (dt); 0 when not meaningful.</param>
public sealed record EnvironmentSpec(string Id, int MaxEpisodeSteps, double ControlTimeStep = 0)
{
    /// <summary>An optional DSRL dataset id the task corresponds to, e.g. "OfflineBallCircle-v0".</summary>
    public string? DsrlId { get; init; }
}

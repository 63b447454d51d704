namespace Marvel.Core.Abstractions;

/// <summary>
/// Optional capability of an <see cref="IEnvironment"/>: put the simulator into the state an observation describes, so a
/// policy can be rolled out from any state of a dataset (Monte-Carlo value estimates, Q-bias diagnostics).
/// </summary>
/// <remarks>
/// <para>Only tasks whose observation determines the simulator state (or determines it up to a documented approximation)
/// implement this. The elapsed step count is part of the state: the time limit truncates the episode after
/// <c>Spec.MaxEpisodeSteps − elapsedSteps</c> further steps, so a rollout from a dataset state has the remaining horizon
/// that state had when it was recorded.</para>
/// <para>After <see cref="SetState"/> an episode is running: <see cref="IEnvironment.Step"/> continues from the state as if
/// the episode had reached it by itself. The environment's random generator is left as it is.</para>
/// </remarks>
public interface IStateSettable
{
    /// <summary>Sets the simulator to the state <paramref name="observation"/> describes, with <paramref name="elapsedSteps"/> steps already taken.</summary>
    /// <param name="observation">An observation this task emits, length <c>ObservationSpace.Dimension</c>.</param>
    /// <param name="elapsedSteps">Steps already taken in the episode, in [0, <c>Spec.MaxEpisodeSteps</c>).</param>
    /// <param name="resultingObservation">Receives the observation the environment now emits (equal to
    /// <paramref name="observation"/> up to float rounding and the task's documented approximations).</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length, or <paramref name="observation"/> has a non-finite
    /// value or is not a state of this task (e.g. inconsistent redundant coordinates); the message names the coordinate.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="elapsedSteps"/> is negative or not below the horizon.</exception>
    void SetState(ReadOnlySpan<float> observation, int elapsedSteps, Span<float> resultingObservation);
}

using System.Globalization;

namespace Marvel.Core.Environments;

/// <summary>
/// The argument checks of <see cref="IStateSettable.SetState"/> that the built-in tasks share (Ball, Car, Drone, Ant): an observation
/// of the right length with finite values, an elapsed-step count inside the episode, the Circle tasks' distance feature consistent with
/// the position, and a unit orientation quaternion. Each throws <see cref="ArgumentException"/> (or
/// <see cref="ArgumentOutOfRangeException"/> for the step count) naming the task, the value and what it should be.
/// </summary>
public static class SetStateChecks
{
    /// <summary>Checks the observation's length and values and the elapsed-step count.</summary>
    /// <param name="spec">The task's spec (its id names the task in messages; its horizon bounds <paramref name="elapsedSteps"/>).</param>
    /// <param name="dimension">The observation dimension the task needs.</param>
    /// <param name="observation">The observation to set.</param>
    /// <param name="elapsedSteps">Steps already taken in the episode, in [0, T).</param>
    /// <exception cref="ArgumentException">Wrong length or a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="elapsedSteps"/> is outside [0, T).</exception>
    public static void RequireState(EnvironmentSpec spec, int dimension, ReadOnlySpan<float> observation, int elapsedSteps)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (observation.Length != dimension)
            throw new ArgumentException($"{spec.Id}.SetState: the observation has {observation.Length} values; it needs {dimension}.", nameof(observation));
        for (int i = 0; i < observation.Length; i++)
            if (!float.IsFinite(observation[i]))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{spec.Id}.SetState: observation[{i}] is {observation[i]}; a state must be finite."), nameof(observation));
        if (elapsedSteps < 0 || elapsedSteps >= spec.MaxEpisodeSteps)
            throw new ArgumentOutOfRangeException(nameof(elapsedSteps), elapsedSteps, $"{spec.Id}.SetState: elapsed steps must be in [0, {spec.MaxEpisodeSteps}).");
    }

    /// <summary>Checks that a Circle task's distance feature <c>observation[index]</c> equals (‖p‖ − r)/10 for the position (x, y)
    /// (relative tolerance 1e-4): an observation of another task fails here.</summary>
    /// <param name="spec">The task's spec.</param>
    /// <param name="observation">The observation to set.</param>
    /// <param name="index">Where the task keeps the distance feature.</param>
    /// <param name="x">The position's x (m), from the observation.</param>
    /// <param name="y">The position's y (m), from the observation.</param>
    /// <param name="expected">The feature the position implies, (‖p‖ − r)/10.</param>
    /// <exception cref="ArgumentException">The feature does not match the position.</exception>
    public static void RequireCircleDistance(EnvironmentSpec spec, ReadOnlySpan<float> observation, int index, double x, double y, double expected)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (Math.Abs(observation[index] - expected) > 1e-4 * (1 + Math.Abs(expected)))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{spec.Id}.SetState: observation[{index}] = {observation[index]} should be (‖p‖ − 7)/10 = {expected:G6} for the position ") +
                string.Create(CultureInfo.InvariantCulture, $"({x:G6}, {y:G6}) in observation[0..1]; this is not an observation of {spec.Id}."), nameof(observation));
    }

    /// <summary>Checks that <c>observation[start..start + 4]</c> is a unit quaternion (x, y, z, w) within 1e-3 and returns its norm.</summary>
    /// <param name="spec">The task's spec.</param>
    /// <param name="observation">The observation to set.</param>
    /// <param name="start">Index of the quaternion's x.</param>
    /// <returns>The quaternion's norm, to renormalise with.</returns>
    /// <exception cref="ArgumentException">The norm is off by more than 1e-3.</exception>
    public static double RequireUnitQuaternion(EnvironmentSpec spec, ReadOnlySpan<float> observation, int start)
    {
        ArgumentNullException.ThrowIfNull(spec);
        double qx = observation[start], qy = observation[start + 1], qz = observation[start + 2], qw = observation[start + 3];
        double norm = Math.Sqrt(qx * qx + qy * qy + qz * qz + qw * qw);
        if (Math.Abs(norm - 1) > 1e-3)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{spec.Id}.SetState: observation[{start}..{start + 3}] should be a unit quaternion (x, y, z, w) but its norm is {norm:G6}; ") +
                $"this is not an observation of {spec.Id}.", nameof(observation));
        return norm;
    }
}

using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Abstractions;

/// <summary>
/// N environments of one task stepped together, with auto-reset. Buffers are flat and row-major:
/// observations [N, observationSize], actions [N, actionSize].
/// </summary>
/// <remarks>
/// When environment i finishes an episode during <see cref="Step"/>, it is reset at once: the returned
/// observation row i is the first observation of the new episode, while the reward, cost and flags of row i
/// still belong to the finished episode's last step, <see cref="FinalObservation"/> holds its last
/// observation (for bootstrapping at truncation), and the episode's summary is appended to the results.
/// </remarks>
public interface IVectorEnvironment : IDisposable
{
    /// <summary>Number of environments N.</summary>
    int Count { get; }

    /// <summary>The task's spec.</summary>
    EnvironmentSpec Spec { get; }

    /// <summary>Observation space of one environment.</summary>
    BoxSpace ObservationSpace { get; }

    /// <summary>Action space of one environment.</summary>
    BoxSpace ActionSpace { get; }

    /// <summary>Resets all environments; environment i is seeded from stream "env/i" of <paramref name="seed"/>.</summary>
    /// <param name="seed">Root seed.</param>
    /// <param name="observations">Receives [N, observationSize].</param>
    void Reset(ulong seed, Span<float> observations);

    /// <summary>Steps all environments once.</summary>
    /// <param name="actions">[N, actionSize].</param>
    /// <param name="observations">Receives [N, observationSize] (first observations of new episodes where one ended).</param>
    /// <param name="results">Receives N step results (of the finished episode where one ended).</param>
    /// <param name="finishedEpisodes">Receives the summaries of episodes that ended in this step, if not null.</param>
    void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<StepResult> results, ICollection<(int Index, EpisodeSummary Episode)>? finishedEpisodes = null);

    /// <summary>The last observation of the episode that environment <paramref name="index"/> finished in the latest step.</summary>
    ReadOnlySpan<float> FinalObservation(int index);
}

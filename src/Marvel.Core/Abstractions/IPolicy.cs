namespace Marvel.Core.Abstractions;

/// <summary>
/// Maps observations to actions, in batches. Trained actors, scripted controllers and mixtures all
/// implement it, so collection, evaluation and the pipeline treat them alike.
/// </summary>
public interface IPolicy
{
    /// <summary>Observation length the policy expects.</summary>
    int ObservationSize { get; }

    /// <summary>Action length the policy produces.</summary>
    int ActionSize { get; }

    /// <summary>Computes actions for a batch of observations.</summary>
    /// <param name="observations">[batch, ObservationSize] row-major.</param>
    /// <param name="actions">Receives [batch, ActionSize] row-major.</param>
    /// <param name="deterministic">True for the policy's mode (evaluation); false to sample (exploration).</param>
    /// <exception cref="ArgumentException">The span lengths do not describe the same batch.</exception>
    void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic);

    /// <summary>Called when the episode of batch row <paramref name="index"/> starts, so stateful policies (e.g. sequence models, per-episode mixtures) can reset.</summary>
    /// <param name="index">The batch row (environment index) whose episode starts.</param>
    void OnEpisodeStart(int index) { }
}

/// <summary>Helpers for policy implementers.</summary>
public static class PolicyGuard
{
    /// <summary>Checks that observation and action spans describe the same batch and returns its size.</summary>
    /// <exception cref="ArgumentException">Lengths are not multiples of the sizes or disagree on the batch.</exception>
    public static int BatchSize(IPolicy policy, ReadOnlySpan<float> observations, Span<float> actions)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (observations.Length % policy.ObservationSize != 0)
            throw new ArgumentException($"Observations have {observations.Length} values, not a multiple of the policy's observation size {policy.ObservationSize}.", nameof(observations));
        int batch = observations.Length / policy.ObservationSize;
        if (actions.Length != batch * policy.ActionSize)
            throw new ArgumentException($"The action buffer has {actions.Length} values; {batch} observations need {batch * policy.ActionSize} ({policy.ActionSize} each).", nameof(actions));
        return batch;
    }
}

namespace Marvel.Core.Abstractions.Learning;

/// <summary>
/// A batch of transitions as tensors, all on one device. Disposing the batch frees its tensors.
/// Terminated (no bootstrap) and Truncated (time limit, bootstrap) are kept apart.
/// </summary>
/// <param name="Observations">[batch, observationSize], float32.</param>
/// <param name="Actions">[batch, actionSize], float32.</param>
/// <param name="Rewards">[batch], float32, as stored (any reward scale already applied by the source).</param>
/// <param name="Costs">[batch], float32.</param>
/// <param name="NextObservations">[batch, observationSize], float32.</param>
/// <param name="Terminated">[batch], float32 0/1: the next state is terminal.</param>
/// <param name="Truncated">[batch], float32 0/1: the episode was cut after this transition.</param>
public sealed record TransitionBatch(Tensor Observations, Tensor Actions, Tensor Rewards, Tensor Costs, Tensor NextObservations, Tensor Terminated, Tensor Truncated) : IDisposable
{
    /// <summary>Number of transitions.</summary>
    public long Size => Observations.shape[0];

    /// <summary>Disposes all tensors.</summary>
    public void Dispose()
    {
        Observations.Dispose();
        Actions.Dispose();
        Rewards.Dispose();
        Costs.Dispose();
        NextObservations.Dispose();
        Terminated.Dispose();
        Truncated.Dispose();
    }
}

/// <summary>Anything transitions can be sampled from: an offline dataset or a replay buffer.</summary>
public interface ITransitionSampler
{
    /// <summary>Number of stored transitions.</summary>
    int Count { get; }

    /// <summary>Observation length.</summary>
    int ObservationSize { get; }

    /// <summary>Action length.</summary>
    int ActionSize { get; }

    /// <summary>Draws <paramref name="batchSize"/> transitions uniformly with replacement.</summary>
    /// <param name="batchSize">Transitions to draw (≥ 1).</param>
    /// <param name="random">The sampling generator (seeded by the caller).</param>
    /// <param name="device">Target device; CPU when null.</param>
    /// <exception cref="InvalidOperationException">The source is empty.</exception>
    TransitionBatch Sample(int batchSize, RandomSource random, Device? device = null);
}

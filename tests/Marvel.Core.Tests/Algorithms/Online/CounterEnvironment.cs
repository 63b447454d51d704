using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Tests.Algorithms.Online;

/// <summary>Observation = steps taken in the episode; reward 1, cost 1 on odd steps; truncated after <c>horizon</c> steps.</summary>
internal sealed class CounterEnvironment(int horizon) : IEnvironment
{
    private int _t;

    public EnvironmentSpec Spec { get; } = new("Counter", horizon);

    public BoxSpace ObservationSpace { get; } = BoxSpace.Uniform(1, -100, 100);

    public BoxSpace ActionSpace { get; } = BoxSpace.Uniform(1, 0, 10);

    public List<float> ActionsSeen { get; } = new();

    public void Reset(ulong seed, Span<float> observation) => Reset(observation);

    public void Reset(Span<float> observation)
    {
        _t = 0;
        observation[0] = 0;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        ActionsSeen.Add(action[0]);
        _t++;
        observation[0] = _t;
        return new StepResult(1.0, _t % 2, Terminated: false, Truncated: _t == Spec.MaxEpisodeSteps);
    }

    public void Dispose() { }
}

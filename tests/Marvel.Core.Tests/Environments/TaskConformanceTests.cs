using Marvel.Core.Abstractions;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Tasks;
using Marvel.Core.Environments.Wrappers;
using Marvel.Testing;

namespace Marvel.Core.Tests.Environments;

public sealed class BallCircleConformance : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new BallCircle();
}

public sealed class BallRunConformance : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new BallRun();
}

public sealed class CarCircleConformance : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new CarCircle();
}

public sealed class CarRunConformance : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new CarRun();
}

/// <summary>
/// The wrapper stack a pipeline uses must still conform. The normalizer's statistics are frozen: a normalizer that
/// keeps learning changes its output between episodes by design.
/// </summary>
public sealed class WrappedStackConformance : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() =>
        new ScaleReward(new NormalizeObservation(new RescaleAction(new TimeLimit(new BallRun(maxEpisodeSteps: 1000), 50), 0f, 1f)) { Update = false }, 0.1);
}

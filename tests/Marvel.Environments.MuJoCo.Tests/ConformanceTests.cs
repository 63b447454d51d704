using Marvel.Core.Abstractions;
using Marvel.Environments.MuJoCo.Tasks;
using Marvel.Testing;

namespace Marvel.Environments.MuJoCo.Tests;

public sealed class HalfCheetahVelocityConformanceTests : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new HalfCheetahVelocity();
}

public sealed class HopperVelocityConformanceTests : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new HopperVelocity();
}

public sealed class SwimmerVelocityConformanceTests : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new SwimmerVelocity();
}

public sealed class Walker2dVelocityConformanceTests : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new Walker2dVelocity();
}

public sealed class AntVelocityConformanceTests : EnvironmentConformance
{
    protected override IEnvironment CreateEnvironment() => new AntVelocity();
}

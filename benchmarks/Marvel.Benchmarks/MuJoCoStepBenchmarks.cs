using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Environments.MuJoCo;

namespace Marvel.Benchmarks;

/// <summary>
/// Single-threaded MuJoCo velocity-task steps (MuJoCo 2.2.2 through P/Invoke): one benchmark op = 1000 control steps
/// with uniform random actions drawn once in setup, resetting whenever an episode ends. Reported time is per step.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class MuJoCoStepBenchmarks
{
    private const int StepsPerOp = 1000;
    private IEnvironment _env = null!;
    private float[] _actions = null!;
    private float[] _obs = null!;

    /// <summary>The task.</summary>
    [Params("HalfCheetahVelocity", "HopperVelocity", "SwimmerVelocity", "Walker2dVelocity", "AntVelocity", "AntCircle", "AntRun")]
    public string Task { get; set; } = "HalfCheetahVelocity";

    [GlobalSetup]
    public void Setup()
    {
        _env = Task.StartsWith("Ant", StringComparison.Ordinal) && !Task.EndsWith("Velocity", StringComparison.Ordinal) ? BulletAntTasks.Create(Task) : MuJoCoTasks.Create(Task);
        int n = _env.ActionSpace.Dimension;
        _actions = new float[StepsPerOp * n];
        var random = new RandomSource(1);
        for (int i = 0; i < StepsPerOp; i++) _env.ActionSpace.Sample(random, _actions.AsSpan(i * n, n));
        _obs = new float[_env.ObservationSpace.Dimension];
        _env.Reset(1, _obs);
    }

    [GlobalCleanup]
    public void Cleanup() => _env.Dispose();

    [Benchmark(OperationsPerInvoke = StepsPerOp)]
    public double Step()
    {
        int n = _env.ActionSpace.Dimension;
        double total = 0;
        for (int i = 0; i < StepsPerOp; i++)
        {
            var r = _env.Step(_actions.AsSpan(i * n, n), _obs);
            total += r.Reward;
            if (r.EpisodeEnded) _env.Reset(_obs);
        }
        return total;
    }
}

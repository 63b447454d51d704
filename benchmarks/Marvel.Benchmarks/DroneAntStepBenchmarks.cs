using BenchmarkDotNet.Attributes;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Environments.Tasks;
using Marvel.Environments.MuJoCo;

namespace Marvel.Benchmarks;

/// <summary>
/// The four Bullet-Safety-Gym tasks of issue 23 side by side, single-threaded: one benchmark op = one control step, 1000 per
/// invocation, resetting whenever an episode ends. The Drone tasks step Marvel.Core's pure C# quadrotor (DroneCircle 6
/// substeps, DroneRun 2) under a constant climbing command; the Ant tasks step MuJoCo 2.2.2 through P/Invoke (AntCircle 12
/// MuJoCo steps, AntRun 4) under uniform random actions drawn once in setup.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class DroneAntStepBenchmarks
{
    private const int StepsPerOp = 1000;
    private IEnvironment _droneCircle = null!, _droneRun = null!, _antCircle = null!, _antRun = null!;
    private readonly float[] _droneAction = { 0.3f, 0.1f, 0.2f, 0.1f };
    private float[] _antActions = null!;
    private readonly float[] _obs18 = new float[18], _obs17 = new float[17], _obs34 = new float[34], _obs33 = new float[33];

    [GlobalSetup]
    public void Setup()
    {
        _droneCircle = new DroneCircle();
        _droneRun = new DroneRun();
        _antCircle = BulletAntTasks.Create("AntCircle");
        _antRun = BulletAntTasks.Create("AntRun");
        _antActions = new float[StepsPerOp * 8];
        var random = new RandomSource(1);
        for (int i = 0; i < StepsPerOp; i++) _antCircle.ActionSpace.Sample(random, _antActions.AsSpan(i * 8, 8));
        _droneCircle.Reset(1, _obs18);
        _droneRun.Reset(1, _obs17);
        _antCircle.Reset(1, _obs34);
        _antRun.Reset(1, _obs33);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _antCircle.Dispose();
        _antRun.Dispose();
    }

    private static double Drone(IEnvironment env, float[] action, float[] obs) => EnvironmentStepBenchmarks.Run(env, action, obs, StepsPerOp);

    private double Ant(IEnvironment env, float[] obs)
    {
        double total = 0;
        for (int i = 0; i < StepsPerOp; i++)
        {
            var r = env.Step(_antActions.AsSpan(i * 8, 8), obs);
            total += r.Reward;
            if (r.EpisodeEnded) env.Reset(obs);
        }
        return total;
    }

    /// <summary>DroneCircle: 6 × 1/60 s substeps per 0.1 s step.</summary>
    [Benchmark(OperationsPerInvoke = StepsPerOp)]
    public double DroneCircleStep() => Drone(_droneCircle, _droneAction, _obs18);

    /// <summary>DroneRun: 2 × 1/120 s substeps per 1/60 s step.</summary>
    [Benchmark(OperationsPerInvoke = StepsPerOp)]
    public double DroneRunStep() => Drone(_droneRun, _droneAction, _obs17);

    /// <summary>AntCircle: 12 × 1/120 s MuJoCo steps per 0.1 s step.</summary>
    [Benchmark(OperationsPerInvoke = StepsPerOp)]
    public double AntCircleStep() => Ant(_antCircle, _obs34);

    /// <summary>AntRun: 4 × 1/120 s MuJoCo steps per 1/30 s step.</summary>
    [Benchmark(OperationsPerInvoke = StepsPerOp)]
    public double AntRunStep() => Ant(_antRun, _obs33);
}

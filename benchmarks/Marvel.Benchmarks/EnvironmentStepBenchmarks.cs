using BenchmarkDotNet.Attributes;
using Marvel.Core.Abstractions;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Tasks;

namespace Marvel.Benchmarks;

/// <summary>Single-threaded environment steps: one benchmark op = 1000 steps (reset at the horizon).</summary>
[MemoryDiagnoser]
public class EnvironmentStepBenchmarks
{
    private const int StepsPerOp = 1000;
    private IEnvironment _ballCircle = null!, _ballRun = null!, _carCircle = null!, _carRun = null!, _droneCircle = null!, _droneRun = null!;
    private readonly float[] _action = { 0.6f, -0.3f };
    private readonly float[] _droneAction = { 0.3f, 0.1f, 0.2f, 0.1f };
    private readonly float[] _obs18 = new float[18];
    private readonly float[] _obs17 = new float[17];
    private readonly float[] _obs8 = new float[8];
    private readonly float[] _obs7 = new float[7];
    private VectorEnvironment _vector = null!;
    private float[] _vecObs = null!, _vecActions = null!;
    private StepResult[] _vecResults = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ballCircle = new BallCircle();
        _ballRun = new BallRun();
        _carCircle = new CarCircle();
        _carRun = new CarRun();
        _ballCircle.Reset(1, _obs8);
        _ballRun.Reset(1, _obs7);
        _carCircle.Reset(1, _obs8);
        _carRun.Reset(1, _obs7);
        _droneCircle = new DroneCircle();
        _droneRun = new DroneRun();
        _droneCircle.Reset(1, _obs18);
        _droneRun.Reset(1, _obs17);
        _vector = new VectorEnvironment(() => new BallCircle(), 8);
        _vecObs = new float[8 * 8];
        _vecActions = Enumerable.Repeat(0.4f, 16).ToArray();
        _vecResults = new StepResult[8];
        _vector.Reset(1, _vecObs);
    }

    /// <summary>Steps <paramref name="env"/> <paramref name="steps"/> times with a constant action, resetting at episode ends; returns the
    /// summed reward (so the work cannot be optimized away). Shared by the step benchmarks of every task.</summary>
    internal static double Run(IEnvironment env, float[] action, float[] obs, int steps = StepsPerOp)
    {
        double total = 0;
        for (int i = 0; i < steps; i++)
        {
            var r = env.Step(action, obs);
            total += r.Reward;
            if (r.EpisodeEnded) env.Reset(obs);
        }
        return total;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = StepsPerOp)]
    public double BallCircleStep() => Run(_ballCircle, _action, _obs8);

    [Benchmark(OperationsPerInvoke = StepsPerOp)]
    public double BallRunStep() => Run(_ballRun, _action, _obs7);

    [Benchmark(OperationsPerInvoke = StepsPerOp)]
    public double CarCircleStep() => Run(_carCircle, _action, _obs8);

    [Benchmark(OperationsPerInvoke = StepsPerOp)]
    public double CarRunStep() => Run(_carRun, _action, _obs7);

    /// <summary>DroneCircle: 6 substeps per step; a constant climbing command, so the drone flies (and leaves the ground contact).</summary>
    [Benchmark(OperationsPerInvoke = StepsPerOp)]
    public double DroneCircleStep() => Run(_droneCircle, _droneAction, _obs18);

    /// <summary>DroneRun: 2 substeps per step.</summary>
    [Benchmark(OperationsPerInvoke = StepsPerOp)]
    public double DroneRunStep() => Run(_droneRun, _droneAction, _obs17);

    /// <summary>Eight BallCircle instances stepped together; one op = one environment step (1000 vector steps / 8000 env steps per invoke).</summary>
    [Benchmark(OperationsPerInvoke = StepsPerOp * 8)]
    public void BallCircleVector8()
    {
        for (int i = 0; i < StepsPerOp; i++) _vector.Step(_vecActions, _vecObs, _vecResults);
    }
}

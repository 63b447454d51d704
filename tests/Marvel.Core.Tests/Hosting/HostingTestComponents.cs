using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Spaces;

namespace Marvel.Core.Tests.Hosting;

/// <summary>
/// A user-written task: a point on a line starts near −0.8 and must reach +0.8; the band (−0.1, 0.3) costs 1 per step.
/// Observation [x, 0.8 − x], action [velocity] in [−1, 1], x ← clamp(x + 0.1·v, −1, 1); reward −|0.8 − x|; horizon 30.
/// </summary>
internal sealed class LineReachEnvironment : IEnvironment
{
    public const int Horizon = 30;
    private const float Target = 0.8f;
    private RandomSource _random = new(0);
    private float _x;
    private int _t;
    private bool _running;

    public EnvironmentSpec Spec { get; } = new("LineReach", Horizon, 0.1);

    public BoxSpace ObservationSpace { get; } = BoxSpace.Uniform(2, -2f, 2f);

    public BoxSpace ActionSpace { get; } = BoxSpace.Uniform(1, -1f, 1f);

    public void Reset(ulong seed, Span<float> observation)
    {
        _random = new RandomSource(seed);
        Reset(observation);
    }

    public void Reset(Span<float> observation)
    {
        if (observation.Length != 2) throw new ArgumentException($"The observation buffer has {observation.Length} values; LineReach needs 2.", nameof(observation));
        _x = (float)_random.NextDouble(-0.9, -0.7);
        _t = 0;
        _running = true;
        Write(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (!_running) throw new InvalidOperationException("LineReach: no episode is running; call Reset first.");
        ActionSpace.ThrowIfNotValidAction(action, "LineReach.Step");
        if (observation.Length != 2) throw new ArgumentException($"The observation buffer has {observation.Length} values; LineReach needs 2.", nameof(observation));
        _x = Math.Clamp(_x + 0.1f * Math.Clamp(action[0], -1f, 1f), -1f, 1f);
        _t++;
        Write(observation);
        bool truncated = _t >= Horizon;
        _running = !truncated;
        double cost = _x > -0.1f && _x < 0.3f ? 1.0 : 0.0;
        return new StepResult(-Math.Abs(Target - _x), cost, Terminated: false, Truncated: truncated);
    }

    public void Dispose() { }

    private void Write(Span<float> observation)
    {
        observation[0] = _x;
        observation[1] = Target - _x;
    }
}

/// <summary>Drives towards +0.8 at a given speed, plus Gaussian noise when sampling.</summary>
internal sealed class LineReachPolicy(double speed, double noise, ulong seed) : IPolicy
{
    private readonly RandomSource _random = new(seed);

    public int ObservationSize => 2;

    public int ActionSize => 1;

    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
    {
        int batch = PolicyGuard.BatchSize(this, observations, actions);
        for (int i = 0; i < batch; i++)
        {
            double a = Math.Sign(observations[i * 2 + 1]) * speed + (deterministic ? 0 : noise * _random.NextGaussian());
            actions[i] = (float)Math.Clamp(a, -1, 1);
        }
    }
}

/// <summary>A user-written controller: λ jumps to <c>High</c> while cost exceeds the limit and drops to 0 otherwise.</summary>
internal sealed class BangBangController : ILagrangeController
{
    public const double High = 2.0;

    public double Lambda { get; private set; }

    public double CostLimit { get; init; } = 5;

    public int Updates { get; private set; }

    public LagrangeUpdate Update(double meanEpisodeCost)
    {
        Updates++;
        Lambda = meanEpisodeCost > CostLimit ? High : 0;
        return new LagrangeUpdate(Lambda, meanEpisodeCost - CostLimit, new Dictionary<string, double> { ["updates"] = Updates });
    }

    public LagrangeControllerState GetState() =>
        new("BangBang", new Dictionary<string, double> { ["lambda"] = Lambda }, new Dictionary<string, double[]>());

    public void SetState(LagrangeControllerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureKind("BangBang");
        Lambda = state.Scalar("lambda");
    }
}

/// <summary>A user-written aligner that counts its calls and hands the artifact on unchanged.</summary>
internal sealed class CountingAligner : IValueAligner
{
    public int Calls { get; private set; }

    public ValueAlignmentResult Align(HandoverArtifact artifact, ITransitionSampler data, LearnerContext context,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Calls++;
        return new ValueAlignmentResult(artifact, 0, new Dictionary<string, double> { ["calls"] = Calls });
    }
}

internal static class HostingTestData
{
    public static LearnerContext Context(IEnvironment env, ulong seed) =>
        new(env.ObservationSpace, env.ActionSpace, new SeedStreams(seed), env.Spec.MaxEpisodeSteps, env.Spec.Id);
}

namespace Marvel.Core.Algorithms.Shared;

/// <summary>
/// An <see cref="IPolicy"/> over a torch actor, the one used by every learner: copies observations into a reused input tensor in
/// libtorch memory (a tensor over a managed array would hand the matrix kernels an address whose alignment changes from call to call,
/// and with it the last bits of the actions), runs the actor without gradients inside a dispose scope, and maps its output onto the
/// environment's action box (<see cref="Identity"/> when the actor already acts in it, as the offline learners' do).
/// </summary>
internal sealed class TorchPolicy : IPolicy, IDisposable
{
    private readonly Func<Tensor, bool, Tensor> _act;
    private readonly SpanMap _toEnvironment;
    private readonly Device _device;
    private Tensor? _input;
    private float[] _output = [];

    /// <summary>Maps actor outputs to environment actions.</summary>
    public delegate void SpanMap(ReadOnlySpan<float> actorOutput, Span<float> environmentAction);

    /// <summary>The actor's output is the action: copied as it is.</summary>
    public static readonly SpanMap Identity = static (output, action) => output.CopyTo(action);

    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length.</param>
    /// <param name="device">The actor's device.</param>
    /// <param name="act">(observations [batch, obs], deterministic) → actor output [batch, act]; called under no_grad in a scope.</param>
    /// <param name="toEnvironment">Maps actor outputs onto the action box.</param>
    public TorchPolicy(int observationSize, int actionSize, Device device, Func<Tensor, bool, Tensor> act, SpanMap toEnvironment)
    {
        ObservationSize = observationSize;
        ActionSize = actionSize;
        _device = device;
        _act = act;
        _toEnvironment = toEnvironment;
    }

    public int ObservationSize { get; }

    public int ActionSize { get; }

    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
    {
        int batch = PolicyGuard.BatchSize(this, observations, actions);
        if (_output.Length != actions.Length) _output = new float[actions.Length];
        ActorOutput(observations, batch, deterministic, _output);
        _toEnvironment(_output, actions);
    }

    /// <summary>Runs the actor and writes its raw output (before mapping onto the box) into <paramref name="output"/>.</summary>
    public void ActorOutput(ReadOnlySpan<float> observations, int batch, bool deterministic, Span<float> output)
    {
        if (_input is null || _input.shape[0] != batch)
        {
            _input?.Dispose();
            _input = zeros(batch, ObservationSize, ScalarType.Float32);
            _input.DetachFromDisposeScope();
        }
        _input.data<float>().CopyFrom(observations);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = _device.type == TorchSharp.DeviceType.CPU ? _input : _input.to(_device);
        var result = _act(input, deterministic).to_type(ScalarType.Float32).cpu().contiguous();
        result.data<float>().CopyTo(output);
    }

    public void Dispose()
    {
        _input?.Dispose();
        _input = null;
    }
}

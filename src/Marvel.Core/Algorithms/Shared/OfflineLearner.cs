using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>
/// The public surface every offline learner of the library shares (name, policy, step count, resolved options, cost budget,
/// checkpoints, disposal), declared once. Each member delegates to the learner's <c>OfflineLearnerLifecycle</c>; the learner states its
/// networks, its update, how it attaches a dataset and what it exports.
/// </summary>
/// <remarks>
/// A shallow base, one level deep: every library learner is <c>sealed</c> and derives from it directly, and it owns no networks,
/// buffers or update steps (those stay in the learner, or in the pieces of Algorithms/Shared it holds). Its constructor is
/// <c>private protected</c>, so only the library's learners derive from it; a learner of your own implements
/// <see cref="ICheckpointableOfflineLearner"/> (or <see cref="IOfflineSafeLearner"/>) directly.
/// </remarks>
/// <typeparam name="TOptions">The learner's options record.</typeparam>
public abstract class OfflineLearner<TOptions> : ICheckpointableOfflineLearner where TOptions : class, new()
{
    private readonly Func<TOptions, TOptions> _copyOptions;

    /// <summary>
    /// The start of every learner's constructor: checks the options (<see cref="OfflineLearnerLifecycle.Validate"/>: a null
    /// <paramref name="options"/> takes the defaults, all failures in one exception, the native torch library must load), keeps a copy,
    /// derives its cost budget, forks the learner's seed streams and creates its lifecycle. The learner's constructor then builds its
    /// networks through <see cref="Life"/> and sets <see cref="Policy"/>.
    /// </summary>
    /// <param name="algorithm">The learner's name in manifests and messages.</param>
    /// <param name="context">Spaces, device, seeds and the task horizon.</param>
    /// <param name="options">The options given to the learner's constructor; null takes the defaults.</param>
    /// <param name="validator">The options' validator.</param>
    /// <param name="seedStream">The name of the learner's fork of the context's seed streams.</param>
    /// <param name="copyOptions">Copies options (arrays included), for <see cref="Settings"/> and for every <see cref="Options"/> read.</param>
    /// <param name="budget">The learner's cost budget from the context and its resolved options (<see cref="Budget"/>).</param>
    /// <param name="scalarNames">The names of the scalars an update reports, in order.</param>
    private protected OfflineLearner(string algorithm, LearnerContext context, TOptions? options, IValidateOptions<TOptions> validator,
        string seedStream, Func<TOptions, TOptions> copyOptions, Func<LearnerContext, TOptions, CostBudget> budget, params string[] scalarNames)
    {
        _copyOptions = copyOptions;
        Settings = copyOptions(OfflineLearnerLifecycle.Validate(context, options, validator));
        Budget = budget(context, Settings);
        Seeds = context.Seeds.Fork(seedStream);
        Life = OfflineLearnerLifecycle.Create(this, algorithm, context, Seeds, Settings, scalarNames);
    }

    /// <summary>The learner's lifecycle, owned by the learner.</summary>
    private protected OfflineLearnerLifecycle Life { get; }

    /// <summary>The resolved options the learner reads (<see cref="Options"/> hands out copies).</summary>
    private protected TOptions Settings { get; }

    /// <summary>The learner's own seed streams (its fork of the context's; the lifecycle's batch sampler is their stream "batches").</summary>
    private protected SeedStreams Seeds { get; }

    /// <inheritdoc />
    public string Algorithm => Life.Algorithm;

    /// <inheritdoc />
    public IPolicy Policy { get; private protected init; } = null!;

    /// <inheritdoc />
    public long Steps => Life.Steps;

    /// <summary>The resolved options (a copy).</summary>
    public TOptions Options => _copyOptions(Settings);

    /// <summary>
    /// The run's cost budget (<see cref="LearnerContext.Budget"/>, or one of the options' CostLimit when the learner runs on its own),
    /// the one source of the learner's cost thresholds: over the learner's episode length T for the critic thresholds of CPQ, BEAR-Lag,
    /// BCQ-Lag and COptiDICE; the target cost κ the CDT policy conditions on; the κ BC-Safe filters episodes with.
    /// </summary>
    public CostBudget Budget { get; }

    /// <inheritdoc />
    public virtual void Attach(OfflineDataset dataset) => Life.Attach(dataset);

    /// <inheritdoc />
    public abstract IReadOnlyDictionary<string, double> TrainStep();

    /// <inheritdoc />
    public abstract HandoverArtifact ExportHandover();

    /// <inheritdoc />
    public void SaveCheckpoint(string directory) => Life.Save(directory);

    /// <inheritdoc />
    public void LoadCheckpoint(string directory) => Life.Load(directory);

    /// <inheritdoc />
    public void Dispose()
    {
        if (Life.Dispose()) DisposeUnregistered();
    }

    /// <summary>Disposes what the learner holds outside its lifecycle (tensors it replaces on each attach); runs once, after the
    /// lifecycle has disposed everything registered with it.</summary>
    private protected virtual void DisposeUnregistered()
    {
    }
}

using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>
/// What every offline learner does around its update, held by the learner (composition; <see cref="OfflineLearner{TOptions}"/> creates
/// it and declares the public members that delegate to it): the attached dataset and its checks, the batch sampler, the step counter,
/// the one host read of an update with its divergence check, the handover manifest, the checkpoint parts and the disposal of
/// everything the learner registered. A learner then states its networks, its update and what it exports, and nothing else.
/// </summary>
/// <remarks>
/// The batch sampler is the learner's seed stream "batches" (<see cref="SeedStreams.CreateRandom"/>), derived by name, so creating
/// it here draws nothing from any other stream. Objects registered with <see cref="Network"/>, <see cref="Optimizer"/>,
/// <see cref="Generator"/>, <see cref="Tensor"/> or <see cref="Owns{T}"/> are disposed in reverse order of registration.
/// </remarks>
internal sealed class OfflineLearnerLifecycle
{
    private readonly object _owner;
    private readonly LearnerContext _context;
    private readonly string _stage;
    private readonly string[] _scalarNames;
    private readonly string _optionsJson;
    private readonly List<IDisposable> _owned = new();
    private readonly List<Action<OfflineDataset>> _onAttach = new();
    private IReadOnlyDictionary<string, double> _lastFinite = new Dictionary<string, double>(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>Creates the lifecycle of one learner.</summary>
    /// <param name="owner">The learner, named by <see cref="ObjectDisposedException"/> once it is disposed.</param>
    /// <param name="algorithm">The learner's name in manifests and messages, e.g. "CPQ"; the stage of its divergence errors is "offline/" + name.</param>
    /// <param name="context">Spaces, device and seeds.</param>
    /// <param name="seeds">The learner's own seed streams (its fork of the context's); the batch sampler is their stream "batches".</param>
    /// <param name="options">The learner's resolved options, written into manifests and checkpoints.</param>
    /// <param name="scalarNames">Names of the scalars <see cref="Report"/> receives, in that order.</param>
    public static OfflineLearnerLifecycle Create<TOptions>(object owner, string algorithm, LearnerContext context, SeedStreams seeds, TOptions options, params string[] scalarNames) =>
        new(owner, algorithm, context, seeds, HandoverExport.OptionsJson(options), typeof(TOptions).Name, scalarNames);

    private OfflineLearnerLifecycle(object owner, string algorithm, LearnerContext context, SeedStreams seeds, string optionsJson, string optionsTypeName, string[] scalarNames)
    {
        _owner = owner;
        Algorithm = algorithm;
        _context = context;
        _stage = "offline/" + algorithm;
        _scalarNames = scalarNames;
        _optionsJson = optionsJson;
        Batches = seeds.CreateRandom("batches");
        Checkpoint = new CheckpointParts(algorithm, optionsJson, optionsTypeName)
            .Random("batches", Batches).Counter("steps", () => Steps, v => Steps = v);
    }

    /// <summary>
    /// The start of every learner's constructor (<see cref="OfflineLearner{TOptions}"/>'s): a null <paramref name="options"/> takes the defaults, the context must be given, every
    /// option is checked (all failures in one exception), and the native torch library must load.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    /// <exception cref="OptionsValidationException">An option is invalid; the message lists every bad field.</exception>
    public static TOptions Validate<TOptions>(LearnerContext context, TOptions? options, IValidateOptions<TOptions> validator) where TOptions : class, new()
    {
        options ??= new TOptions();
        ArgumentNullException.ThrowIfNull(context);
        OptionChecks.ThrowIfInvalid(validator, options);
        TorchNative.EnsureAvailable();
        return options;
    }

    /// <summary>
    /// The learner's cost budget: the run's, or one of the options' CostLimit when the learner runs on its own
    /// (<see cref="LearnerContext.BudgetFor"/>, which refuses a disagreeing option by its name, e.g. "CpqOptions.CostLimit"), over the
    /// options' episode length T (null takes the context's).
    /// </summary>
    /// <exception cref="ArgumentException">The options' CostLimit disagrees with the run's budget.</exception>
    public static CostBudget EpisodeBudget<TOptions>(LearnerContext context, TOptions options) where TOptions : IOfflineOptions, IScaledOfflineOptions =>
        context.BudgetFor(options.CostLimit, typeof(TOptions).Name + ".CostLimit").WithEpisodeLength(options.EpisodeLength ?? context.EpisodeLength);

    /// <summary>The learner's name.</summary>
    public string Algorithm { get; }

    /// <summary>Where the learner's tensors live.</summary>
    public Device Device => _context.Device;

    /// <summary>The batch sampler (seed stream "batches"); part of the checkpoint.</summary>
    public RandomSource Batches { get; }

    /// <summary>Gradient steps so far; <see cref="Report"/> counts them. Part of the checkpoint.</summary>
    public long Steps { get; private set; }

    /// <summary>The attached dataset (null before <see cref="Attach"/>), named in the handover manifest by its fingerprint.</summary>
    public OfflineDataset? Dataset { get; private set; }

    /// <summary>The part of the attached dataset batches are drawn from: the dataset itself unless <see cref="Attach"/> was given a filter.</summary>
    public OfflineDataset? TrainingSet { get; private set; }

    /// <summary>The learner's checkpoint, for parts registered without ownership (a PID's state tensors).</summary>
    public CheckpointParts Checkpoint { get; }

    /// <summary>A network (or target copy): saved in the checkpoint, disposed with the learner.</summary>
    public T Network<T>(string name, T module) where T : nn.Module
    {
        Checkpoint.Network(name, module);
        return Owns(module);
    }

    /// <summary>An optimizer: saved in the checkpoint, disposed with the learner.</summary>
    public T Optimizer<T>(string name, T optimizer) where T : TorchSharp.Modules.OptimizerHelper
    {
        Checkpoint.Optimizer(name, optimizer);
        return Owns(optimizer);
    }

    /// <summary>A torch generator: saved in the checkpoint, disposed with the learner.</summary>
    public Generator Generator(string name, Generator generator)
    {
        Checkpoint.Generator(name, generator);
        return Owns(generator);
    }

    /// <summary>A tensor outside any module (log α, a raw multiplier): saved in the checkpoint, disposed with the learner.</summary>
    public T Tensor<T>(string name, T tensor) where T : TorchSharp.torch.Tensor
    {
        Checkpoint.Tensor(name, tensor);
        return Owns(tensor);
    }

    /// <summary>Something disposed with the learner but not saved (fixed latents, a controller that saves itself through <see cref="Checkpoint"/>).</summary>
    public T Owns<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>Runs <paramref name="attached"/> on every dataset <see cref="Attach"/> binds, after binding it, in order of registration
    /// (a shared piece that reads the dataset: the critics' cost-value range, the episode start states).</summary>
    public void OnAttach(Action<OfflineDataset> attached) => _onAttach.Add(attached);

    /// <summary>Throws once the learner is disposed.</summary>
    /// <exception cref="ObjectDisposedException">The learner was disposed.</exception>
    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, _owner);

    /// <summary>Binds <paramref name="dataset"/> after checking its widths against the spaces; <paramref name="select"/> picks the
    /// transitions to train on (an episode filter) and may refuse the dataset, in which case nothing is bound. Then runs what
    /// <see cref="OnAttach"/> registered, on the whole dataset.</summary>
    /// <exception cref="InvalidDataException">The widths do not match the learner's spaces.</exception>
    public void Attach(OfflineDataset dataset, Func<OfflineDataset, OfflineDataset>? select = null)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(dataset);
        dataset.EnsureMatches(_context.ObservationSpace.Dimension, _context.ActionSpace.Dimension, $"the {Algorithm} learner");
        var training = select is null ? dataset : select(dataset);
        Dataset = dataset;
        TrainingSet = training;
        foreach (var attached in _onAttach) attached(dataset);
    }

    /// <summary>One training step: checks that a dataset is attached, opens the dispose scope that also collects what sampling leaves
    /// behind, and runs <paramref name="step"/> on the training set.</summary>
    /// <exception cref="InvalidOperationException">No dataset is attached.</exception>
    public IReadOnlyDictionary<string, double> TrainStep(Func<OfflineDataset, IReadOnlyDictionary<string, double>> step)
    {
        ThrowIfDisposed();
        if (TrainingSet is null) throw new InvalidOperationException($"{Algorithm}: no dataset is attached. Call Attach(dataset) before TrainStep().");
        using var scope = NewDisposeScope();
        return step(TrainingSet);
    }

    /// <summary><see cref="TrainStep(Func{OfflineDataset, IReadOnlyDictionary{string, double}})"/> on a uniform batch of
    /// <paramref name="batchSize"/> transitions from the batch sampler.</summary>
    public IReadOnlyDictionary<string, double> TrainStep(int batchSize, Func<TransitionBatch, IReadOnlyDictionary<string, double>> update) =>
        TrainStep(d => update(d.Sample(batchSize, Batches, _context.Device)));

    /// <summary>
    /// The end of every update: reads its scalars (0-dim tensors, in the order of the names given at creation) to the host in one
    /// transfer, stops on the first non-finite one, and counts the step.
    /// </summary>
    /// <exception cref="TrainingDivergedException">A scalar is NaN or infinite; names it, the step and the last finite values.</exception>
    public IReadOnlyDictionary<string, double> Report(params Tensor[] scalars)
    {
        if (scalars.Length != _scalarNames.Length) throw new ArgumentException($"Expected {_scalarNames.Length} scalars, got {scalars.Length}.", nameof(scalars));
        using var scope = NewDisposeScope();
        var detached = scalars.Select(s => s.detach().reshape(1)).ToArray();
        var values = ScalarReadout.Read(detached, _scalarNames, _stage, Steps, _lastFinite);
        var result = new Dictionary<string, double>(_scalarNames.Length, StringComparer.Ordinal);
        for (int i = 0; i < values.Length; i++) result[_scalarNames[i]] = values[i];
        _lastFinite = result;
        Steps++;
        return result;
    }

    /// <summary>The handover artifact: the manifest every learner writes (spaces, seed, dataset fingerprint, steps, options) with the
    /// given budget, discount and scales, and <paramref name="parts"/>.</summary>
    /// <param name="costLimit">The learner's CostLimit option.</param>
    /// <param name="gamma">The discount of the exported critics (1 for a learner without one).</param>
    /// <param name="rewardScale">The reward scale the exported values are in.</param>
    /// <param name="costScale">The cost scale the exported values are in.</param>
    /// <param name="lagrange">Reads the multiplier state (runs after the disposed check); null for none.</param>
    /// <param name="parts">The exported networks.</param>
    public HandoverArtifact Export(double costLimit, double gamma, double rewardScale, double costScale,
        Func<LagrangeControllerState?>? lagrange, params HandoverPart[] parts)
    {
        ThrowIfDisposed();
        var manifest = HandoverExport.Manifest(Algorithm, _context, Dataset, Steps, costLimit, gamma, rewardScale, costScale, _optionsJson, lagrange?.Invoke());
        return HandoverExport.Create(manifest, parts);
    }

    /// <summary>Writes the checkpoint (<see cref="CheckpointParts.Save"/>).</summary>
    public void Save(string directory)
    {
        ThrowIfDisposed();
        Checkpoint.Save(directory);
    }

    /// <summary>Restores the checkpoint (<see cref="CheckpointParts.Load"/>).</summary>
    public void Load(string directory)
    {
        ThrowIfDisposed();
        Checkpoint.Load(directory);
    }

    /// <summary>Disposes everything registered, last first; true the first time, false when already disposed.</summary>
    public bool Dispose()
    {
        if (_disposed) return false;
        _disposed = true;
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        return true;
    }
}

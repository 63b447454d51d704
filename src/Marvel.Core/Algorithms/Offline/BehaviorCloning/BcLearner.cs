using System.Globalization;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Marvel.Core.Algorithms.Offline.BehaviorCloning;

/// <summary>
/// Behaviour cloning with an episode filter: BC-All imitates every transition, BC-Safe only episodes whose undiscounted
/// cost is within the budget (OSRL <c>bc.py</c>, algorithms spec §4).
/// </summary>
/// <remarks>
/// Model a = m · tanh(MLP(s)); loss L = mean over batch and action dimensions of (π(s) − a)², one Adam step per batch.
/// No reward or cost scaling, no critic, no multiplier. The filter runs once, in <see cref="Attach"/>.
/// </remarks>
public sealed class BcLearner : ICheckpointableOfflineLearner
{
    private readonly BcOptions _options;
    private readonly LearnerContext _context;
    private readonly DeterministicActor _actor;
    private readonly Adam _optimizer;
    private readonly RandomSource _batches;
    private readonly DivergenceGuard _guard;
    private OfflineDataset? _dataset;
    private OfflineDataset? _training;
    private readonly CheckpointParts _checkpoint;
    private bool _disposed;

    /// <summary>Builds the actor and its optimizer.</summary>
    /// <param name="options">Settings; copied.</param>
    /// <param name="context">Spaces, device and seeds (the horizon is not used).</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message lists every bad field.</exception>
    /// <exception cref="ArgumentException">The action space is not a symmetric box [−m, m]^d.</exception>
    public BcLearner(LearnerContext context, BcOptions? options = null)
    {
        options ??= new BcOptions();
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        OptionChecks.ThrowIfInvalid(new BcOptionsValidator(), options);
        TorchNative.EnsureAvailable();
        _options = options with { HiddenSizes = options.HiddenSizes.ToArray() };
        _context = context;
        Algorithm = AlgorithmName(_options.Mode);
        double maxAction = OfflineLearning.MaxAction(context.ActionSpace, Algorithm);
        int obs = context.ObservationSpace.Dimension, act = context.ActionSpace.Dimension;
        var seeds = context.Seeds.Fork("bc");
        using (var init = seeds.CreateTorchGenerator("init"))
            _actor = OfflineLearning.To(new DeterministicActor(obs, act, _options.HiddenSizes, maxAction, init), context.Device);
        _optimizer = OfflineLearning.Adam(_actor, _options.LearningRate);
        _batches = seeds.CreateRandom("batches");
        _guard = new DivergenceGuard("offline/" + Algorithm, "actor_loss");
        Policy = new TensorPolicy(obs, act, (s, _) => _actor.forward(s), context.Device);
        _checkpoint = new CheckpointParts(Algorithm, HandoverExport.OptionsJson(_options), nameof(BcOptions))
            .Network("actor", _actor).Optimizer("actor", _optimizer).Random("batches", _batches).Counter("steps", () => Steps, v => Steps = v);
    }

    /// <inheritdoc />
    public string Algorithm { get; }

    /// <inheritdoc />
    public IPolicy Policy { get; }

    /// <inheritdoc />
    public long Steps { get; private set; }

    /// <summary>The resolved options (a copy).</summary>
    public BcOptions Options => _options with { };

    /// <summary>Transitions kept by the episode filter (0 before <see cref="Attach"/>).</summary>
    public int TrainingTransitions => _training?.Count ?? 0;

    /// <summary>Binds the dataset and applies the episode filter of <see cref="BcOptions.Mode"/>.</summary>
    /// <exception cref="InvalidDataException">The widths do not match, or the filter keeps no episode; the message gives the episode costs seen and the fix.</exception>
    public void Attach(OfflineDataset dataset)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(dataset);
        dataset.EnsureMatches(_context.ObservationSpace.Dimension, _context.ActionSpace.Dimension, $"the {Algorithm} learner");
        if (_options.Mode == BcMode.All)
        {
            _training = dataset;
        }
        else
        {
            var episodes = dataset.Episodes;
            if (episodes.Count == 0)
                throw new InvalidDataException($"{Algorithm}: dataset '{dataset.Source}' has no complete episode (no terminal or timeout flag), so episodes cannot be filtered by cost. Use BcMode.All.");
            double limit = _options.CostLimit;
            int kept = episodes.Count(e => Keeps(_options.Mode, e.Cost, limit));
            if (kept == 0)
            {
                string Num(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
                throw new InvalidDataException($"{Algorithm}: no episode of dataset '{dataset.Source}' passes the {_options.Mode} filter with CostLimit = {Num(limit)} " +
                    $"({episodes.Count} episodes, episode costs from {Num(episodes.Min(e => e.Cost))} to {Num(episodes.Max(e => e.Cost))}). " +
                    "Choose a CostLimit inside that range or use BcMode.All.");
            }
            _training = dataset.SelectEpisodes(e => Keeps(_options.Mode, e.Cost, limit), $"{dataset.Source} ({Algorithm}, CostLimit {limit.ToString(CultureInfo.InvariantCulture)})");
        }
        _dataset = dataset;
    }

    /// <summary>The episode filter of §4.2 on an episode's undiscounted cost <paramref name="episodeCost"/>.</summary>
    internal static bool Keeps(BcMode mode, double episodeCost, double costLimit) => mode switch
    {
        BcMode.Safe => episodeCost <= costLimit,
        BcMode.Risky => episodeCost >= 2 * costLimit,
        BcMode.Boundary => episodeCost > 0.5 * costLimit && episodeCost <= 1.5 * costLimit,
        _ => true,
    };

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> TrainStep()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_training is null) throw new InvalidOperationException($"{Algorithm}: no dataset is attached. Call Attach(dataset) before TrainStep().");
        using var scope = NewDisposeScope();
        var batch = _training.Sample(_options.BatchSize, _batches, _context.Device);
        return Update(batch);
    }

    /// <summary>One behaviour-cloning step: L = mean((π(s) − a)²).</summary>
    /// <exception cref="TrainingDivergedException">The loss is NaN or infinite.</exception>
    internal IReadOnlyDictionary<string, double> Update(TransitionBatch batch)
    {
        using var scope = NewDisposeScope();
        // §4.1: mean squared error between the actor's action and the dataset action.
        var loss = nn.functional.mse_loss(_actor.forward(batch.Observations), batch.Actions);
        GradientStep.Apply(_optimizer, loss);
        var result = _guard.Read(Steps, loss);
        Steps++;
        return result;
    }

    /// <inheritdoc />
    public HandoverArtifact ExportHandover()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // BC trains no critic: γ = 1 is the discount of the episode totals its filter compares with κ; no scaling.
        var manifest = HandoverExport.Manifest(Algorithm, _context, _dataset, Steps, _options.CostLimit, 1.0, 1.0, 1.0, HandoverExport.OptionsJson(_options), null);
        return HandoverExport.Create(manifest,
            new HandoverPart(HandoverRoles.Actor, new("DeterministicActor", _options.HiddenSizes.ToArray()), _actor, _optimizer));
    }

    private static string AlgorithmName(BcMode mode) => mode switch
    {
        BcMode.All => "BC-All",
        BcMode.Safe => "BC-Safe",
        BcMode.Risky => "BC-Risky",
        _ => "BC-Boundary",
    };

    /// <summary>Writes the complete training state (every network and target copy, optimizer moments, multipliers, generators, the batch
    /// sampler and <see cref="Steps"/>) into <paramref name="directory"/>; see <see cref="ICheckpointableOfflineLearner.SaveCheckpoint"/>.</summary>
    /// <param name="directory">An empty folder of the learner's own; created when missing.</param>
    public void SaveCheckpoint(string directory)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _checkpoint.Save(directory);
    }

    /// <inheritdoc />
    public void LoadCheckpoint(string directory)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _checkpoint.Load(directory);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _optimizer.Dispose();
        _actor.Dispose();
    }
}

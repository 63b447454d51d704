using System.Globalization;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Offline.BehaviorCloning;

/// <summary>
/// Behaviour cloning with an episode filter: BC-All imitates every transition, BC-Safe only episodes whose undiscounted
/// cost is within the budget (OSRL <c>bc.py</c>, algorithms spec §4).
/// </summary>
/// <remarks>
/// Model a = m · tanh(MLP(s)); loss L = mean over batch and action dimensions of (π(s) − a)², one Adam step per batch.
/// No reward or cost scaling, no critic, no multiplier. The filter runs once, in <see cref="Attach"/>.
/// </remarks>
public sealed class BcLearner : OfflineLearner<BcOptions>
{
    private readonly DeterministicActor _actor;
    private readonly Adam _optimizer;

    /// <summary>Builds the actor and its optimizer.</summary>
    /// <param name="options">Settings; copied.</param>
    /// <param name="context">Spaces, device and seeds (the horizon is not used).</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message lists every bad field.</exception>
    /// <exception cref="ArgumentException">The action space is not a symmetric box [−m, m]^d.</exception>
    public BcLearner(LearnerContext context, BcOptions? options = null)
        : base(AlgorithmName((options ?? new()).Mode), context, options, new BcOptionsValidator(), "bc",   // the base refuses an invalid mode
            static o => o with { HiddenSizes = o.HiddenSizes.ToArray() }, RunBudget, "actor_loss")
    {
        double maxAction = OfflineLearning.MaxAction(context.ActionSpace, Algorithm);
        int obs = context.ObservationSpace.Dimension, act = context.ActionSpace.Dimension;
        using (var init = Seeds.CreateTorchGenerator("init"))
            _actor = Life.Network("actor", OfflineLearning.To(new DeterministicActor(obs, act, Settings.HiddenSizes, maxAction, init), context.Device));
        _optimizer = Life.Optimizer("actor", OfflineLearning.Adam(_actor, Settings.LearningRate));
        Policy = Life.Owns(new TorchPolicy(obs, act, context.Device, (s, _) => _actor.forward(s), TorchPolicy.Identity));
    }

    /// <summary>Transitions kept by the episode filter (0 before <see cref="Attach"/>).</summary>
    public int TrainingTransitions => Life.TrainingSet?.Count ?? 0;

    /// <summary>Binds the dataset and applies the episode filter of <see cref="BcOptions.Mode"/>.</summary>
    /// <exception cref="InvalidDataException">The widths do not match, or the filter keeps no episode; the message gives the episode costs seen and the fix.</exception>
    public override void Attach(OfflineDataset dataset) => Life.Attach(dataset, Settings.Mode == BcMode.All ? null : Filter);

    // Keeps the episodes of the mode's cost band; refuses a dataset the filter would leave empty.
    private OfflineDataset Filter(OfflineDataset dataset)
    {
        var episodes = dataset.Episodes;
        if (episodes.Count == 0)
            throw new InvalidDataException($"{Algorithm}: dataset '{dataset.Source}' has no complete episode (no terminal or timeout flag), so episodes cannot be filtered by cost. Use BcMode.All.");
        double limit = Budget.CostLimit;
        int kept = episodes.Count(e => Keeps(Settings.Mode, e.Cost, limit));
        if (kept == 0)
        {
            string Num(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
            throw new InvalidDataException($"{Algorithm}: no episode of dataset '{dataset.Source}' passes the {Settings.Mode} filter with CostLimit = {Num(limit)} " +
                $"({episodes.Count} episodes, episode costs from {Num(episodes.Min(e => e.Cost))} to {Num(episodes.Max(e => e.Cost))}). " +
                "Choose a CostLimit inside that range or use BcMode.All.");
        }
        return dataset.SelectEpisodes(e => Keeps(Settings.Mode, e.Cost, limit), $"{dataset.Source} ({Algorithm}, CostLimit {limit.ToString(CultureInfo.InvariantCulture)})");
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
    public override IReadOnlyDictionary<string, double> TrainStep() => Life.TrainStep(Settings.BatchSize, Update);

    /// <summary>One behaviour-cloning step: L = mean((π(s) − a)²).</summary>
    /// <exception cref="TrainingDivergedException">The loss is NaN or infinite.</exception>
    internal IReadOnlyDictionary<string, double> Update(TransitionBatch batch)
    {
        using var scope = NewDisposeScope();
        // §4.1: mean squared error between the actor's action and the dataset action.
        var loss = nn.functional.mse_loss(_actor.forward(batch.Observations), batch.Actions);
        GradientStep.Apply(_optimizer, loss);
        return Life.Report(loss);
    }

    /// <inheritdoc />
    public override HandoverArtifact ExportHandover() =>
        // BC trains no critic: γ = 1 is the discount of the episode totals its filter compares with κ; no scaling.
        Life.Export(Budget.CostLimit, 1.0, 1.0, 1.0, null,
            new HandoverPart(HandoverRoles.Actor, new("DeterministicActor", Settings.HiddenSizes.ToArray()), _actor, _optimizer));

    // BC-All ignores costs, so it takes the run's budget as it is; BC-Safe filters with κ and must agree with the run.
    private static CostBudget RunBudget(LearnerContext context, BcOptions options) =>
        options.Mode == BcMode.All && context.Budget is { } run ? run : context.BudgetFor(options.CostLimit, "BcOptions.CostLimit");

    private static string AlgorithmName(BcMode mode) => mode switch
    {
        BcMode.All => "BC-All",
        BcMode.Safe => "BC-Safe",
        BcMode.Risky => "BC-Risky",
        _ => "BC-Boundary",
    };
}

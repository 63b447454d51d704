using System.Globalization;
using Marvel.Core.Algorithms.Shared;

namespace Marvel.Core.Alignment;

/// <summary>Distribution over states of the relative bias (Q − MC) / max(|MC|, floor) of one critic, plus absolute means.</summary>
/// <param name="MeanRelativeBias">Mean signed relative bias.</param>
/// <param name="MeanAbsoluteRelativeBias">Mean of |relative bias|: the headline number.</param>
/// <param name="StdRelativeBias">Sample standard deviation of the relative bias.</param>
/// <param name="Quantile05">5 % quantile of the relative bias (linear interpolation).</param>
/// <param name="Quantile25">25 % quantile.</param>
/// <param name="Median">50 % quantile.</param>
/// <param name="Quantile75">75 % quantile.</param>
/// <param name="Quantile95">95 % quantile.</param>
/// <param name="MeanQ">Mean critic value, scaled units.</param>
/// <param name="MeanMonteCarlo">Mean Monte-Carlo value, scaled units.</param>
/// <param name="MeanAbsoluteBias">Mean |Q − MC|, scaled units.</param>
public sealed record QBiasSummary(double MeanRelativeBias, double MeanAbsoluteRelativeBias, double StdRelativeBias,
    double Quantile05, double Quantile25, double Median, double Quantile75, double Quantile95,
    double MeanQ, double MeanMonteCarlo, double MeanAbsoluteBias)
{
    /// <summary>Summarizes per-state critic values <paramref name="q"/> against Monte-Carlo values <paramref name="monteCarlo"/>.</summary>
    /// <exception cref="ArgumentException">The arrays are empty or differ in length, or the floor is not positive.</exception>
    public static QBiasSummary From(IReadOnlyList<double> q, IReadOnlyList<double> monteCarlo, double floor)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(monteCarlo);
        if (q.Count == 0 || q.Count != monteCarlo.Count) throw new ArgumentException($"Need equally many critic and Monte-Carlo values (got {q.Count} and {monteCarlo.Count}), at least one.");
        if (!(floor > 0)) throw new ArgumentException($"The floor must be > 0, got {floor}.", nameof(floor));
        int n = q.Count;
        var relative = new double[n];
        for (int i = 0; i < n; i++) relative[i] = (q[i] - monteCarlo[i]) / Math.Max(Math.Abs(monteCarlo[i]), floor);
        double mean = relative.Average();
        double std = n > 1 ? Math.Sqrt(relative.Sum(r => (r - mean) * (r - mean)) / (n - 1)) : 0;
        var sorted = relative.OrderBy(r => r).ToArray();
        return new QBiasSummary(mean, relative.Average(Math.Abs), std,
            Quantile(sorted, 0.05), Quantile(sorted, 0.25), Quantile(sorted, 0.5), Quantile(sorted, 0.75), Quantile(sorted, 0.95),
            q.Average(), monteCarlo.Average(), Enumerable.Range(0, n).Average(i => Math.Abs(q[i] - monteCarlo[i])));
    }

    private static double Quantile(double[] sorted, double p)
    {
        double position = p * (sorted.Length - 1);
        int low = (int)Math.Floor(position);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
    }

    /// <summary>One line: mean |rel|, mean, std, median, [5 %, 95 %].</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"mean |rel| {MeanAbsoluteRelativeBias:F3}, mean rel {MeanRelativeBias:+0.000;-0.000}, std {StdRelativeBias:F3}, median {Median:+0.000;-0.000}, " +
        $"5-95% [{Quantile05:+0.000;-0.000}, {Quantile95:+0.000;-0.000}], mean Q {MeanQ:F3} vs MC {MeanMonteCarlo:F3}");
}

/// <summary>The outcome of <see cref="QBiasDiagnostics.Measure"/>: summaries and the per-state values behind them.</summary>
/// <param name="Reward">Reward critic (min over members) against the discounted scaled return.</param>
/// <param name="Cost">Cost critic (the configured reduction) against the discounted scaled cost.</param>
/// <param name="Gamma">The discount used.</param>
/// <param name="RolloutSteps">The longest rollout, in steps.</param>
/// <param name="RewardQ">Per state: mean over rollouts of min_j Q_r,j(s, a₀).</param>
/// <param name="RewardMonteCarlo">Per state: mean over rollouts of Σ_k γ^k κ_r r_k.</param>
/// <param name="CostQ">Per state: mean over rollouts of the reduced Q_c(s, a₀).</param>
/// <param name="CostMonteCarlo">Per state: mean over rollouts of Σ_k γ^k κ_c c_k.</param>
public sealed record QBiasReport(QBiasSummary Reward, QBiasSummary Cost, double Gamma, int RolloutSteps,
    double[] RewardQ, double[] RewardMonteCarlo, double[] CostQ, double[] CostMonteCarlo);

/// <summary>
/// Measures how far a handover artifact's critics are from the true values of its own policy: for states drawn from a dataset,
/// compares Q(s, a₀), a₀ ~ π(·|s), with the Monte-Carlo discounted return and cost of the policy rolled out from exactly that state,
/// both in the scaled units the critics were trained on.
/// </summary>
/// <remarks>
/// The environment must implement <see cref="IStateSettable"/> (the four built-in planar tasks do). All N·K rollouts run side by
/// side, so the actor runs once per time step on a batch of N·K observations. The first action of each rollout is the one the
/// critic is evaluated at, so per state the comparison is E_a[Q(s, a)] against E[G] with the same action samples.
/// </remarks>
public static class QBiasDiagnostics
{
    private const string Receiver = "Q-bias diagnostics";

    /// <summary>Measures the reward and cost critic bias of <paramref name="artifact"/> on states from <paramref name="dataset"/>.</summary>
    /// <param name="artifact">Actor and critics to check (not modified).</param>
    /// <param name="dataset">States are drawn from its complete episodes, with their step index inside the episode.</param>
    /// <param name="environmentFactory">Creates one instance of the dataset's task (called N·K times); it must implement <see cref="IStateSettable"/>.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="device">Where the networks run; CPU when null.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; lists every bad field.</exception>
    /// <exception cref="ArgumentException">The environment cannot set states, or its sizes differ from the artifact's or dataset's.</exception>
    /// <exception cref="InvalidOperationException">The dataset has no complete episode.</exception>
    /// <exception cref="InvalidDataException">The artifact's networks cannot be rebuilt.</exception>
    public static QBiasReport Measure(HandoverArtifact artifact, OfflineDataset dataset, Func<IEnvironment> environmentFactory, QBiasOptions? options = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(environmentFactory);
        var o = (options ?? new QBiasOptions()) with { };
        OptionChecks.ThrowIfInvalid(new QBiasOptionsValidator(), o);
        device ??= CPU;
        var manifest = artifact.Manifest;
        int obsSize = manifest.ObservationSize, actSize = manifest.ActionSize;
        dataset.EnsureMatches(obsSize, actSize, Receiver);
        double gamma = o.Gamma ?? manifest.Gamma;
        if (!(gamma >= 0 && gamma < 1)) throw new InvalidDataException($"{Receiver}: the artifact's discount is {gamma}; set QBiasOptions.Gamma to a value in [0, 1).");

        // States: uniform over the transitions inside complete episodes, each with its step index in the episode.
        var random = new RandomSource(SeedStreams.Derive(o.Seed, "qbias/states"));
        var candidates = new List<(int Index, int Elapsed)>();
        foreach (var e in dataset.Episodes)
            for (int k = 0; k < e.Length; k++) candidates.Add((e.Start + k, k));
        if (candidates.Count == 0) throw new InvalidOperationException($"{Receiver}: dataset '{dataset.Source}' has no complete episode to draw states from.");
        for (int i = candidates.Count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }
        int states = o.StateCount, perState = o.RolloutsPerState, n = states * perState;
        var chosen = Enumerable.Range(0, states).Select(i => candidates[i % candidates.Count]).ToArray();

        var environments = new IEnvironment[n];
        try
        {
            for (int i = 0; i < n; i++)
            {
                environments[i] = environmentFactory() ?? throw new ArgumentException($"{Receiver}: the environment factory returned null.", nameof(environmentFactory));
                if (environments[i] is not IStateSettable)
                    throw new ArgumentException($"{Receiver}: environment '{environments[i].Spec.Id}' ({environments[i].GetType().Name}) does not implement IStateSettable, " +
                        "so rollouts cannot start from dataset states.", nameof(environmentFactory));
                if (environments[i].ObservationSpace.Dimension != obsSize || environments[i].ActionSpace.Dimension != actSize)
                    throw new ArgumentException($"{Receiver}: environment '{environments[i].Spec.Id}' has observation size {environments[i].ObservationSpace.Dimension} and action size " +
                        $"{environments[i].ActionSpace.Dimension}, but the artifact was trained for {obsSize} and {actSize}.", nameof(environmentFactory));
            }
            using var networks = ArtifactNetworks.Load(artifact, device, Receiver);
            using var noise = new Generator(SeedStreams.Derive(o.Seed, "qbias/policy"), device);
            return Rollouts(o, manifest, gamma, dataset, chosen, environments, networks, noise, device);
        }
        finally
        {
            foreach (var e in environments) e?.Dispose();
        }
    }

    private static QBiasReport Rollouts(QBiasOptions o, HandoverManifest manifest, double gamma, OfflineDataset dataset, (int Index, int Elapsed)[] chosen,
        IEnvironment[] environments, ArtifactNetworks networks, Generator noise, Device device)
    {
        int obsSize = manifest.ObservationSize, actSize = manifest.ActionSize;
        int perState = o.RolloutsPerState, n = environments.Length;
        var observations = new float[n * obsSize];
        var squashed = new float[n * actSize];
        var actions = new float[n * actSize];
        var active = new bool[n];
        int horizon = 0;
        for (int i = 0; i < n; i++)
        {
            var (index, elapsed) = chosen[i / perState];
            ((IStateSettable)environments[i]).SetState(dataset.ObservationAt(index), elapsed, observations.AsSpan(i * obsSize, obsSize));
            active[i] = true;
            int remaining = environments[i].Spec.MaxEpisodeSteps - elapsed;
            horizon = Math.Max(horizon, o.Horizon == QBiasHorizon.RemainingEpisode ? remaining
                : gamma == 0 ? 1 : (int)Math.Ceiling(Math.Log(o.DiscountTolerance) / Math.Log(gamma)));
        }

        double rewardScale = manifest.RewardScale, costScale = manifest.CostScale;
        var returns = new double[n];
        var costs = new double[n];
        var rewardQ = new double[n];
        var costQ = new double[n];
        double weight = 1;
        for (int t = 0; t < horizon && active.Any(a => a); t++)
        {
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                var s = TorchInputs.Float32(observations.AsSpan(0, n * obsSize), [n, obsSize], device);
                var a = o.DeterministicPolicy ? networks.Actor.Deterministic(s) : networks.Actor.Sample(s, noise).Action;
                a.cpu().data<float>().CopyTo(squashed);
                if (t == 0)
                {
                    // Q at the rollout's own first action; read once, outside the step loop.
                    var q = stack([networks.RewardCritic.Min(s, a), EnsembleOps.Reduce(networks.CostCritic.forward(s, a), o.CostEnsembleReduction)])
                        .to_type(ScalarType.Float64).cpu().data<double>().ToArray();
                    Array.Copy(q, 0, rewardQ, 0, n);
                    Array.Copy(q, n, costQ, 0, n);
                }
            }
            for (int i = 0; i < n; i++)
            {
                if (!active[i]) continue;
                var env = environments[i];
                ActionMapping.SquashedToBox(squashed.AsSpan(i * actSize, actSize), env.ActionSpace, actions.AsSpan(i * actSize, actSize));
                var observation = observations.AsSpan(i * obsSize, obsSize);
                var result = env.Step(actions.AsSpan(i * actSize, actSize), observation);
                returns[i] += weight * rewardScale * result.Reward;
                costs[i] += weight * costScale * result.Cost;
                if (result.Terminated || (result.Truncated && o.Horizon == QBiasHorizon.RemainingEpisode)) active[i] = false;
                else if (result.Truncated)
                {
                    // The critic bootstraps through a time limit, so its value continues past it: go on from the final state.
                    var final = observation.ToArray();
                    ((IStateSettable)env).SetState(final, 0, observation);
                }
            }
            weight *= gamma;
        }

        int states = chosen.Length;
        double[] PerState(double[] values) => Enumerable.Range(0, states).Select(j => values.AsSpan(j * perState, perState).ToArray().Average()).ToArray();
        var rq = PerState(rewardQ);
        var rm = PerState(returns);
        var cq = PerState(costQ);
        var cm = PerState(costs);
        return new QBiasReport(QBiasSummary.From(rq, rm, o.RelativeFloor), QBiasSummary.From(cq, cm, o.RelativeFloor), gamma, horizon, rq, rm, cq, cm);
    }
}

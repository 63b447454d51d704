using Marvel.Core.Algorithms.Online.Loop;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Online.SacLag;

/// <summary>
/// K independent seeds of SAC-Lag in one process (issue 21 item 5): K ordinary <see cref="SacLagLearner"/>s, each built from its own context
/// (its own seed streams, hence its own initial weights, generators, replay sampler and environment seeds), whose networks' flat buffers
/// are the K slices of one stacked buffer per network, so that <see cref="Update"/> runs the gradient step of all K seeds as one set of
/// batched products (<c>baddbmm</c> over [K, batch, ·]) instead of K.
/// </summary>
/// <remarks>
/// <para>What a seed shares with the others: nothing but the memory its weights live in and the kernel launches. Each seed keeps its own
/// Adam optimizers (stepped one seed after another on its own slice, so their moments and step counts are those of a single-seed run and
/// save as they do), its own α, its own λ (an argument per seed) and its own update-noise generator (the noise of every seed is drawn
/// from that seed's generator in the single-seed order). A loss Σ_k loss_k leaves in seed k's gradients exactly ∂loss_k/∂θ_k.</para>
/// <para>What is guaranteed: at construction every seed's weights equal those of <c>new SacLagLearner(context_k, options)</c> bit for bit,
/// and each seed's random streams (update and exploration noise, replay sampler, environment resets) are that learner's. After updates a
/// seed agrees with the single-seed learner fed the same batches and λ only up to float32 rounding, because a batched product and the
/// batched reductions sum in another order than one seed's: the tests hold losses, Q values, α and episode returns to 1e-5 of their scale
/// and weights to 3e-5 of the largest weight over several steps and iterations (worst seen 3.4e-6 and 7.7e-6). Bit identity is not
/// promised across kernel shapes, and the differences grow as training goes on, as between two BLAS builds; <see cref="Products.Sequential"/>
/// is bit-identical (each seed runs its own update). Checkpoints are the seeds' own and resume bit for bit.</para>
/// <para><see cref="SacLagOptions.MaxGradNorm"/> clips each seed's gradient by that seed's own norm, as a single learner does.</para>
/// </remarks>
internal sealed class SacLagSeedBatch : IDisposable
{
    /// <summary>How the seeds' gradient steps run (docs/benchmarks.md, "Several seeds in one process", has the measurements).</summary>
    internal enum Products
    {
        /// <summary>One <c>baddbmm</c> per layer over the stacked [K, out, in] weights for all seeds, every other operation once for all
        /// seeds: the fewest kernel launches (the default; what a GPU wants).</summary>
        Batched,
        /// <summary>One product per seed on the seed's own parameters (<c>addmm</c>, the single-seed kernel and shapes), every other
        /// operation once for all seeds. Measured slower than both other modes on a CPU; kept for comparison.</summary>
        PerSeed,
        /// <summary>Each seed's own <see cref="SacLagLearner.Update"/>, one after another: bit-identical to single-seed runs, and on one CPU
        /// thread as fast as the batched form (the seeds' arithmetic dominates there).</summary>
        Sequential,
    }

    private static readonly string[] ScalarNames =
        ["reward_critic_loss", "cost_critic_loss", "actor_loss", "alpha_loss", "alpha", "entropy", "reward_q", "cost_q"];

    private readonly SacLagOptions _options;
    private readonly SacLagLearner[] _seeds;
    private readonly SeedStackedNetwork[] _stacks;
    private readonly Device _device;
    private readonly int _actorLayers;          // hidden layers of the actor's trunk
    private readonly int _rewardMembers, _rewardLayers, _costMembers, _costLayers;
    private readonly Products _products;
    private bool _disposed;

    /// <summary>Builds one learner per context, their networks stacked.</summary>
    /// <param name="contexts">One context per seed (K ≥ 1), with the same spaces.</param>
    /// <param name="options">Settings shared by every seed; defaults when null.</param>
    /// <param name="products">How the gradient steps run.</param>
    /// <exception cref="ArgumentException">No contexts, or their spaces differ.</exception>
    public SacLagSeedBatch(IReadOnlyList<LearnerContext> contexts, SacLagOptions? options = null, Products products = Products.Batched)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        _products = products;
        if (contexts.Count == 0) throw new ArgumentException("A seed batch needs at least one context.", nameof(contexts));
        _options = (options ?? new SacLagOptions()) with { };
        int k = contexts.Count;
        _stacks =
        [
            new SeedStackedNetwork(k, gradients: true), new SeedStackedNetwork(k, gradients: true), new SeedStackedNetwork(k, gradients: false),
            new SeedStackedNetwork(k, gradients: true), new SeedStackedNetwork(k, gradients: false),
        ];
        _seeds = new SacLagLearner[k];
        try
        {
            for (int i = 0; i < k; i++)
            {
                if (i > 0 && (contexts[i].ObservationSpace.Dimension != contexts[0].ObservationSpace.Dimension
                              || contexts[i].ActionSpace.Dimension != contexts[0].ActionSpace.Dimension))
                    throw new ArgumentException($"Context {i} has other spaces than context 0; a seed batch runs one task.", nameof(contexts));
                _seeds[i] = new SacLagLearner(contexts[i], _options, new SeedSlot(_stacks, i));
            }
        }
        catch
        {
            foreach (var s in _seeds) s?.Dispose();
            foreach (var s in _stacks) s.Dispose();
            throw;
        }
        _options = _seeds[0].Options;
        _device = _seeds[0].SeedDevice;
        _actorLayers = _options.ActorHiddenSizes.Length;
        _rewardMembers = _options.RewardCriticCount;
        _rewardLayers = _options.CriticHiddenSizes.Length + 1;
        _costMembers = _options.CostCriticCount;
        _costLayers = _options.CostCriticHiddenSizes.Length + 1;
    }

    /// <summary>K.</summary>
    public int Count => _seeds.Length;

    /// <summary>The seed whose loss or value diverged in the last <see cref="Update"/> or <see cref="RunIteration"/> that threw a
    /// <see cref="TrainingDivergedException"/>, or null. After such a throw the other seeds are part-way through their step or iteration.</summary>
    public int? DivergedSeed { get; private set; }

    /// <summary>The seeds' learners, in context order, owned by the batch (do not dispose them). Everything but the joint gradient step is
    /// theirs: acting, <see cref="SacLagLearner.InitializeFrom"/>, <see cref="SacLagLearner.AttachOfflineData"/>, checkpoints, the handover
    /// export; a seed's own <see cref="SacLagLearner.Update"/> steps that seed alone.</summary>
    public IReadOnlyList<SacLagLearner> Seeds => _seeds;

    /// <summary>
    /// One SAC-Lag gradient step for every seed (algorithms.md §7.1 steps 1–7, as <see cref="SacLagLearner.Update"/>), seed k on
    /// <paramref name="batches"/>[k] with λ = <paramref name="lambdas"/>[k], run as <see cref="Products"/> says.
    /// </summary>
    /// <param name="batches">One batch per seed, all of the same size, on the learners' device (rewards and costs already scaled).</param>
    /// <param name="lambdas">One λ ≥ 0 per seed.</param>
    /// <returns>Each seed's step scalars (one host read for all seeds).</returns>
    /// <exception cref="ArgumentException">Wrong counts, or batches of different sizes.</exception>
    /// <exception cref="TrainingDivergedException">A seed's loss or value became NaN or infinite; names the quantity and the seed.</exception>
    public SacLagUpdateMetrics[] Update(IReadOnlyList<TransitionBatch> batches, IReadOnlyList<double> lambdas)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(lambdas);
        DivergedSeed = null;
        int k = _seeds.Length;
        if (batches.Count != k || lambdas.Count != k)
            throw new ArgumentException($"A batch of {k} seeds needs {k} batches and {k} λ; got {batches.Count} and {lambdas.Count}.");
        // Seeds may be at different update counts (one warmed up earlier and stepped alone): the critic warm-up and the actor's learning-rate
        // ramp follow each seed's own count.
        var steps = _seeds.Select(x => x.Steps).ToArray();
        var updatesActor = steps.Select(x => x >= _options.CriticWarmupSteps).ToArray();
        for (int i = 0; i < k; i++)
        {
            if (!(double.IsFinite(lambdas[i]) && lambdas[i] >= 0))
                throw new ArgumentOutOfRangeException(nameof(lambdas), lambdas[i], $"λ of seed {i} must be finite and >= 0.");
            if (batches[i].Observations.shape[0] != batches[0].Observations.shape[0])
                throw new ArgumentException("Every seed's batch must have the same size.", nameof(batches));
        }
        if (_products == Products.Sequential) return _seeds.Select((seed, i) => StepAlone(i, batches[i], lambdas[i])).ToArray();
        using var scope = NewDisposeScope();
        var s = Stack(batches, b => b.Observations);          // [K, B, obs]
        var a = Stack(batches, b => b.Actions);               // [K, B, act]
        var s2 = Stack(batches, b => b.NextObservations);
        var lambda = tensor(lambdas.ToArray(), new long[] { k, 1 }, ScalarType.Float64).to_type(ScalarType.Float32).to(_device);
        Tensor alpha; // [K, 1]
        if (_options.AutoTuneAlpha)
        {
            using var logAlphas = stack(_seeds.Select(x => x.SeedLogAlpha!.detach()).ToArray());
            alpha = logAlphas.exp().unsqueeze(1);
        }
        else alpha = full(new long[] { k, 1 }, TorchScalars.Of(_options.Alpha), ScalarType.Float32, _device);

        // Steps 1–3: soft Bellman targets from each seed's current actor; a' drawn with each seed's own update-noise generator.
        Tensor rewardTarget, costTarget;
        using (no_grad())
        {
            var (nextAction, nextLogProb) = SampleActions(s2);
            var terminated = Stack(batches, b => b.Terminated);
            var done = _options.TreatTruncationAsTerminal ? maximum(terminated, Stack(batches, b => b.Truncated)) : terminated;
            var continues = done.neg().add(TorchScalars.One, TorchScalars.One).mul(TorchScalars.Of(_options.Gamma));
            var nextReward = Critic(_stacks[SeedSlot.RewardTarget], _rewardMembers, _rewardLayers, s2, nextAction).min(1).values;
            var nextCost = Critic(_stacks[SeedSlot.CostTarget], _costMembers, _costLayers, s2, nextAction).mean(new long[] { 1 });
            rewardTarget = Stack(batches, b => b.Rewards).add(continues * (nextReward - alpha * nextLogProb), TorchScalars.One);
            costTarget = Stack(batches, b => b.Costs).add(continues * nextCost, TorchScalars.One);
            if (_options.BoundedTargets) (rewardTarget, costTarget) = Bound(rewardTarget, costTarget);
        }

        // Step 4: critic regressions, Σ_k Σ_j mean_b (Q_kj − y_k)², then each seed's Adam step on its slice.
        var rewardLoss = CriticLoss(_stacks[SeedSlot.RewardCritic], _rewardMembers, _rewardLayers, s, a, rewardTarget);
        Backward(_stacks[SeedSlot.RewardCritic], rewardLoss);
        foreach (var seed in _seeds) seed.SeedRewardOptimizer.step();
        var costLoss = CriticLoss(_stacks[SeedSlot.CostCritic], _costMembers, _costLayers, s, a, costTarget);
        Backward(_stacks[SeedSlot.CostCritic], costLoss);
        foreach (var seed in _seeds) seed.SeedCostOptimizer.step();

        // Step 5: the actor on each seed's Lagrangian with the online critics, frozen.
        _stacks[SeedSlot.RewardCritic].SetRequiresGrad(false);
        _stacks[SeedSlot.CostCritic].SetRequiresGrad(false);
        var (action, logProb) = SampleActions(s);
        var rewardQ = Critic(_stacks[SeedSlot.RewardCritic], _rewardMembers, _rewardLayers, s, action).min(1).values;
        var costQ = Critic(_stacks[SeedSlot.CostCritic], _costMembers, _costLayers, s, action).mean(new long[] { 1 });
        var actorLoss = (alpha * logProb - rewardQ).add(costQ.mul(lambda), TorchScalars.One).mean(new long[] { 1 });
        if (_options.ActorLossDividedByOnePlusLambda)
            actorLoss = actorLoss.div(tensor(lambdas.Select(x => 1 + x).ToArray(), ScalarType.Float64).to_type(ScalarType.Float32).to(_device));
        // A seed still in its critic warm-up gets an actor gradient like the others but no step: its actor stays as handed over.
        if (updatesActor.Any(x => x))
        {
            Backward(_stacks[SeedSlot.Actor], actorLoss);
            for (int i = 0; i < k; i++)
            {
                if (!updatesActor[i]) continue;
                _seeds[i].SetActorLearningRateForNextUpdate();
                _seeds[i].SeedActorOptimizer.step();
            }
        }
        _stacks[SeedSlot.RewardCritic].SetRequiresGrad(true);
        _stacks[SeedSlot.CostCritic].SetRequiresGrad(true);

        // Step 6: each seed's temperature, −log α_k · mean(log π + H̄).
        var logProbDetached = logProb.detach();
        Tensor alphaLoss;
        if (_options.AutoTuneAlpha && updatesActor.Any(x => x))
        {
            var shifted = logProbDetached.add(TorchScalars.Of(_seeds[0].SeedTargetEntropy), TorchScalars.One);
            var logAlpha = stack(_seeds.Select(x => x.SeedLogAlpha!.detach()).ToArray()).requires_grad_(true);
            alphaLoss = -(logAlpha.unsqueeze(1) * shifted).mean(new long[] { 1 });
            alphaLoss.sum().backward();
            var gradient = logAlpha.grad!;
            if (!updatesActor.All(x => x))
                alphaLoss = alphaLoss.mul(tensor(updatesActor.Select(x => x ? 1f : 0f).ToArray(), ScalarType.Float32, _device)); // 0 where α held
            for (int i = 0; i < k; i++)
            {
                if (!updatesActor[i]) continue;
                var optimizer = _seeds[i].SeedAlphaOptimizer!;
                optimizer.zero_grad();
                _seeds[i].SeedLogAlpha!.grad = gradient[i];
                optimizer.step();
            }
        }
        else alphaLoss = zeros(new long[] { k }, ScalarType.Float32, _device);

        // Step 7: Polyak averaging of all seeds' target critics, one pass per stack (the per-seed flat Polyak, element for element).
        PolyakStacks(_stacks[SeedSlot.RewardCritic], _stacks[SeedSlot.RewardTarget]);
        PolyakStacks(_stacks[SeedSlot.CostCritic], _stacks[SeedSlot.CostTarget]);

        // One host read for all seeds.
        using var read = stack(
            [rewardLoss.detach(), costLoss.detach(), actorLoss.detach(), alphaLoss.detach(), alpha.squeeze(1),
             logProbDetached.mean(new long[] { 1 }).neg(), rewardQ.detach().mean(new long[] { 1 }), costQ.detach().mean(new long[] { 1 })])
            .to_type(ScalarType.Float64).cpu();
        var values = read.data<double>().ToArray(); // [8, K]
        var metrics = new SacLagUpdateMetrics[k];
        for (int i = 0; i < k; i++)
        {
            for (int q = 0; q < ScalarNames.Length; q++)
            {
                double v = values[q * k + i];
                if (!double.IsFinite(v))
                {
                    DivergedSeed = i;
                    throw new TrainingDivergedException(SacLagLearner.Stage, $"{ScalarNames[q]} (seed {i})", steps[i], v, _seeds[i].SeedLastMetrics);
                }
            }
            metrics[i] = new SacLagUpdateMetrics(steps[i], values[i], values[k + i], values[2 * k + i], values[3 * k + i], values[4 * k + i], lambdas[i],
                values[5 * k + i], values[6 * k + i], values[7 * k + i]);
            _seeds[i].CompleteBatchedUpdate(metrics[i]);
        }
        return metrics;
    }

    /// <summary>
    /// One online iteration of every seed, as <see cref="SacLagLearner.RunIteration"/> runs it for one: seed k collects on
    /// <paramref name="environments"/>[k] with its own actor and exploration noise, feeds <paramref name="controllers"/>[k] and samples its
    /// own replay buffer with its own sampler; the gradient steps of all seeds then run together through <see cref="Update"/>, seed k with
    /// its own λ. While some seed's replay buffer is still warming up, the seeds that have data step one by one with their own
    /// <see cref="SacLagLearner.Update"/>, so each seed's schedule is the single-seed schedule (their update counts may then differ, which
    /// <see cref="Update"/> allows).
    /// </summary>
    /// <param name="environments">One vector environment per seed (not shared), reset on first use from the seed's own streams.</param>
    /// <param name="controllers">One controller per seed (not shared).</param>
    /// <param name="cancellationToken">Checked between environment steps and between gradient steps.</param>
    /// <returns>Each seed's iteration result, as its learner's <see cref="SacLagLearner.RunIteration"/> would return it.</returns>
    /// <exception cref="ArgumentException">Wrong counts, or an environment or controller given to two seeds.</exception>
    public OnlineIterationResult[] RunIteration(IReadOnlyList<IVectorEnvironment> environments, IReadOnlyList<ILagrangeController> controllers,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(environments);
        ArgumentNullException.ThrowIfNull(controllers);
        DivergedSeed = null;
        int k = _seeds.Length;
        if (environments.Count != k || controllers.Count != k)
            throw new ArgumentException($"A batch of {k} seeds needs {k} environments and {k} controllers; got {environments.Count} and {controllers.Count}.");
        if (environments.Distinct(ReferenceEqualityComparer.Instance).Count() != k || controllers.Distinct(ReferenceEqualityComparer.Instance).Count() != k)
            throw new ArgumentException("Every seed needs its own environment and its own controller.");

        var pending = new PendingIteration[k];
        for (int i = 0; i < k; i++)
        {
            ArgumentNullException.ThrowIfNull(environments[i]);
            ArgumentNullException.ThrowIfNull(controllers[i]);
            pending[i] = _seeds[i].SeedLoop.BeginIteration(_seeds[i], environments[i], controllers[i], cancellationToken);
        }
        var settings = _seeds[0].SeedLoop.Settings;
        bool together = pending.All(p => p.Sampler is not null);
        if (together)
        {
            var lambdas = pending.Select(p => p.Lambda).ToArray();
            var batches = new TransitionBatch[k];
            var miniBatches = new TransitionBatch[k];
            for (int u = 0; u < settings.UpdatesPerIteration; u++)
            {
                for (int i = 0; i < k; i++) batches[i] = _seeds[i].SeedLoop.SampleBatch(pending[i]);
                try
                {
                    for (int m = 0; m < settings.MiniBatches; m++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        using var scope = NewDisposeScope();
                        for (int i = 0; i < k; i++) miniBatches[i] = _seeds[i].SeedLoop.MiniBatch(batches[i], m);
                        var metrics = Update(miniBatches, lambdas);
                        for (int i = 0; i < k; i++) OffPolicyLoop.Record(pending[i], metrics[i].ToDictionary());
                    }
                }
                finally
                {
                    foreach (var b in batches) b?.Dispose();
                }
            }
        }
        else
        {
            for (int i = 0; i < k; i++)
            {
                if (pending[i].Sampler is null) continue;
                var loop = _seeds[i].SeedLoop;
                for (int u = 0; u < settings.UpdatesPerIteration; u++)
                {
                    using var batch = loop.SampleBatch(pending[i]);
                    for (int m = 0; m < settings.MiniBatches; m++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        using var scope = NewDisposeScope();
                        OffPolicyLoop.Record(pending[i], StepAlone(i, loop.MiniBatch(batch, m), pending[i].Lambda).ToDictionary());
                    }
                }
            }
        }
        var results = new OnlineIterationResult[k];
        for (int i = 0; i < k; i++) results[i] = _seeds[i].SeedLoop.EndIteration(_seeds[i], pending[i]);
        return results;
    }

    /// <summary>Seed <paramref name="seed"/>'s own <see cref="SacLagLearner.Update"/>, noting the seed when it diverges.</summary>
    private SacLagUpdateMetrics StepAlone(int seed, TransitionBatch batch, double lambda)
    {
        try
        {
            return _seeds[seed].Update(batch, lambda);
        }
        catch (TrainingDivergedException)
        {
            DivergedSeed = seed;
            throw;
        }
    }

    /// <summary>The file beside the seeds' folders that records a seed batch checkpoint.</summary>
    public const string CheckpointFile = "seed-batch.json";

    /// <summary>The folder of seed <paramref name="seed"/>'s checkpoint inside a batch checkpoint.</summary>
    public static string SeedDirectory(string directory, int seed) => Path.Combine(directory, $"seed-{seed}");

    /// <summary>
    /// Writes every seed's complete state (<see cref="SacLagLearner.SaveCheckpoint"/>, the single-seed format) into <c>seed-k/</c> of
    /// <paramref name="directory"/>, then <see cref="CheckpointFile"/> with K. Each seed's folder also loads into a lone
    /// <see cref="SacLagLearner"/> built from that seed's context.
    /// </summary>
    public void SaveCheckpoint(string directory)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        for (int i = 0; i < _seeds.Length; i++)
        {
            var seedDirectory = SeedDirectory(directory, i);
            Directory.CreateDirectory(seedDirectory);
            _seeds[i].SaveCheckpoint(seedDirectory);
        }
        // Written last: a folder without it is an interrupted save.
        File.WriteAllText(Path.Combine(directory, CheckpointFile), System.Text.Json.JsonSerializer.Serialize(new SeedBatchCheckpoint(1, _seeds.Length)));
    }

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/> into this batch (built from the same contexts and options);
    /// every seed continues where it stopped.</summary>
    /// <exception cref="InvalidDataException">The folder is not a complete seed batch checkpoint, holds another number of seeds, or a seed's
    /// checkpoint does not load (see <see cref="SacLagLearner.LoadCheckpoint"/>).</exception>
    public void LoadCheckpoint(string directory)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var path = Path.Combine(directory, CheckpointFile);
        if (!File.Exists(path))
            throw new InvalidDataException($"'{directory}' has no {CheckpointFile}: it is not a seed batch checkpoint, or its save was interrupted.");
        var saved = System.Text.Json.JsonSerializer.Deserialize<SeedBatchCheckpoint>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"'{path}' is empty.");
        if (saved.Format != 1) throw new InvalidDataException($"'{path}' has format {saved.Format}; this version reads format 1.");
        if (saved.Seeds != _seeds.Length)
            throw new InvalidDataException($"'{path}' holds {saved.Seeds} seeds but this batch has {_seeds.Length}.");
        for (int i = 0; i < _seeds.Length; i++) _seeds[i].LoadCheckpoint(SeedDirectory(directory, i));
    }

    private sealed record SeedBatchCheckpoint(int Format, int Seeds);

    /// <summary>a = tanh(μ + σ·ε) of every seed's actor on <paramref name="observations"/> [K, B, obs], with ε of seed k drawn from seed k's
    /// update-noise generator as <see cref="SquashedGaussianActor.Sample"/> draws it; returns [K, B, act] and log π [K, B].</summary>
    private (Tensor Action, Tensor LogProb) SampleActions(Tensor observations)
    {
        var actor = _stacks[SeedSlot.Actor];
        var h = observations;
        for (int l = 0; l < _actorLayers; l++) h = Linear(actor, 2 * l, h).relu();
        var mean = Linear(actor, 2 * _actorLayers, h);
        var logStd = Linear(actor, 2 * _actorLayers + 2, h).clamp(TorchScalars.Of(SquashedGaussianActor.LogStdMin), TorchScalars.Of(SquashedGaussianActor.LogStdMax));
        long batch = observations.shape[1], actions = mean.shape[2];
        var noise = stack(_seeds.Select(x => randn(new[] { batch, actions }, ScalarType.Float32, _device, generator: x.SeedUpdateNoise)).ToArray());
        var u = mean.add(logStd.exp() * noise, TorchScalars.One);
        var logProb = SquashedGaussianActor.LogProbPreSquash(noise, logStd, u).sum(-1);
        return (u.tanh(), logProb);
    }

    /// <summary>All members' values of every seed's critic, [K, members, B].</summary>
    private Tensor Critic(SeedStackedNetwork critic, int members, int layers, Tensor observations, Tensor actions)
    {
        var input = cat(new[] { observations, actions }, 2);
        var outputs = new Tensor[members];
        for (int j = 0; j < members; j++)
        {
            var h = input;
            for (int l = 0; l < layers; l++)
            {
                h = Linear(critic, 2 * (j * layers + l), h);
                if (l < layers - 1) h = h.relu();
            }
            outputs[j] = h.squeeze(-1);
        }
        return stack(outputs, 1);
    }

    /// <summary>Per seed Σ_j mean_b (Q_kj(s, a) − y_k)², [K].</summary>
    private Tensor CriticLoss(SeedStackedNetwork critic, int members, int layers, Tensor observations, Tensor actions, Tensor target)
    {
        var all = Critic(critic, members, layers, observations, actions);
        return (all - target.unsqueeze(1)).Squared().mean(new long[] { 2 }).sum(1);
    }

    /// <summary>h_k W_kᵀ + b_k for every seed k of <paramref name="input"/> [K, B, in] (parameter <paramref name="weight"/> and its bias):
    /// one <c>baddbmm</c> over the stacked weights, or one <c>addmm</c> per seed on its own parameters (<see cref="Products"/>).</summary>
    private Tensor Linear(SeedStackedNetwork network, int weight, Tensor input)
    {
        if (_products == Products.Batched) return input.baddbmm(network.Stacked(weight).transpose(1, 2), network.Stacked(weight + 1));
        // unbind/stack rather than select: their backward passes copy each activation once, select's would zero-fill K-fold.
        var rows = input.unbind(0);
        var outputs = new Tensor[rows.Length];
        for (int k = 0; k < rows.Length; k++)
        {
            var parameters = network.Seed(k).Parameters;
            outputs[k] = nn.functional.linear(rows[k], parameters[weight], parameters[weight + 1]);
        }
        return stack(outputs);
    }

    /// <summary>Zeroes the stack's gradients, back-propagates Σ_k loss_k into them and, with <see cref="SacLagOptions.MaxGradNorm"/>, scales
    /// each seed's gradient by min(1, max / (‖g_k‖ + 1e-6)), <c>clip_grad_norm_</c>'s rule with each seed's own norm (the gaps of a slice are 0).</summary>
    private void Backward(SeedStackedNetwork network, Tensor perSeedLoss)
    {
        network.Gradients!.zero_();
        perSeedLoss.sum().backward();
        if (_options.MaxGradNorm is not > 0) return;
        using var noGrad = no_grad();
        var perSeed = network.Gradients.view(network.Seeds, network.SeedLength);
        var norms = perSeed.norm(1, keepdim: true);
        var scale = norms.add(TorchScalars.Of(1e-6), TorchScalars.One).reciprocal().mul(TorchScalars.Of(_options.MaxGradNorm.Value))
            .clamp_max(TorchScalars.One);
        perSeed.mul_(scale);
    }

    /// <summary>θ̄ ← (1 − τ)·θ̄ + τ·θ over all seeds' slices at once.</summary>
    private void PolyakStacks(SeedStackedNetwork source, SeedStackedNetwork target)
    {
        using var noGrad = no_grad();
        target.Values!.mul_(TorchScalars.Of(1 - _options.Tau)).add_(source.Values!, alpha: TorchScalars.Of(_options.Tau));
    }

    /// <summary>Clamps each seed's targets to its own value bounds (<see cref="SacLagOptions.BoundedTargets"/>); a seed that stored nothing yet
    /// is not clamped, as a single learner is not.</summary>
    private (Tensor Reward, Tensor Cost) Bound(Tensor rewardTarget, Tensor costTarget)
    {
        int k = _seeds.Length;
        double horizon = 1.0 / (1.0 - _options.Gamma);
        var bounds = new float[4 * k];
        for (int i = 0; i < k; i++)
        {
            var loop = _seeds[i].SeedLoop;
            var r = loop.ScaledRange;
            bool any = loop.StoredRange.Any;
            // The single learner clamps with float32 tensors of min·horizon; the same float32 values here.
            bounds[i] = any ? (float)(r.RewardMin * horizon) : float.NegativeInfinity;
            bounds[k + i] = any ? (float)(r.RewardMax * horizon) : float.PositiveInfinity;
            bounds[2 * k + i] = any ? (float)(r.CostMin * horizon) : float.NegativeInfinity;
            bounds[3 * k + i] = any ? (float)(r.CostMax * horizon) : float.PositiveInfinity;
        }
        var b = tensor(bounds, new long[] { 4, k, 1 }).to(_device);
        return (rewardTarget.clamp(b[0], b[1]), costTarget.clamp(b[2], b[3]));
    }

    private static Tensor Stack(IReadOnlyList<TransitionBatch> batches, Func<TransitionBatch, Tensor> part) =>
        stack(batches.Select(part).ToArray());

    /// <summary>Frees every seed's learner and the stacks.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var s in _seeds) s.Dispose();
        foreach (var s in _stacks) s.Dispose();
    }
}

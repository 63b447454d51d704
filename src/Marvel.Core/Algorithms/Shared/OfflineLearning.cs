using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>A sampled batch as the Q-learning offline methods see it: scaled rewards and costs and the two continuation masks.</summary>
/// <param name="Observations">[batch, observationSize].</param>
/// <param name="Actions">[batch, actionSize].</param>
/// <param name="Rewards">[batch], r · RewardScale.</param>
/// <param name="Costs">[batch], c · CostScale.</param>
/// <param name="NextObservations">[batch, observationSize].</param>
/// <param name="RewardContinues">[batch], 1 − done for the reward backup.</param>
/// <param name="CostContinues">[batch], 1 − done for the cost backup, or all ones when the reference's unmasked cost backup is reproduced.</param>
internal readonly record struct ScaledBatch(Tensor Observations, Tensor Actions, Tensor Rewards, Tensor Costs, Tensor NextObservations, Tensor RewardContinues, Tensor CostContinues)
{
    /// <summary>Scales a batch (<see cref="RewardCostScales.Apply(TransitionBatch)"/>) and builds the masks; the new tensors belong to the
    /// caller's dispose scope.</summary>
    /// <param name="batch">The raw batch (unscaled, terminated and truncated apart).</param>
    /// <param name="scales">The learner's reward and cost scales.</param>
    /// <param name="treatTimeoutAsTerminal">Reproduce DSRL's done = terminal OR timeout (no bootstrap at a time limit).</param>
    /// <param name="costBackupIgnoresDone">Reproduce the reference's cost backup without a done mask.</param>
    public static ScaledBatch From(TransitionBatch batch, RewardCostScales scales, bool treatTimeoutAsTerminal, bool costBackupIgnoresDone)
    {
        var scaled = scales.Apply(batch);
        var done = treatTimeoutAsTerminal ? maximum(batch.Terminated, batch.Truncated) : batch.Terminated.alias();
        var continues = TorchScalars.Minus(1, done);
        var costContinues = costBackupIgnoresDone ? ones_like(continues) : continues.alias();
        return new ScaledBatch(batch.Observations, batch.Actions, scaled.Rewards, scaled.Costs, batch.NextObservations, continues, costContinues);
    }
}

/// <summary>Small checks and conversions every offline learner needs.</summary>
internal static class OfflineLearning
{
    /// <summary>The range of every policy's scaled cost value: [min c, max c]·scale/(1 − γ) over per-step costs c (0 included).
    /// The Bellman operator maps this range into itself, so a cost target may be clamped to it.</summary>
    public static (double Min, double Max) CostValueBounds(ReadOnlySpan<float> costs, double costScale, double gamma)
    {
        double max = 0, min = 0;
        foreach (var c in costs) { max = Math.Max(max, c); min = Math.Min(min, c); }
        double horizon = 1.0 / (1.0 - gamma);   // γ ∈ (0, 1) by validation
        return (min * costScale * horizon, max * costScale * horizon);
    }

    /// <summary>The first observation of every episode of <paramref name="dataset"/>, [episodes, observationSize], on
    /// <paramref name="device"/> and outside any dispose scope (the caller owns it): the start-state sample of a constrained-MDP
    /// cost value E[Q_c(s₀, π(s₀))].</summary>
    public static Tensor StartObservations(OfflineDataset dataset, Device device)
    {
        var episodes = dataset.Episodes;
        int size = dataset.ObservationSize;
        var buffer = new float[episodes.Count * size];
        for (int i = 0; i < episodes.Count; i++) dataset.ObservationAt(episodes[i].Start).CopyTo(buffer.AsSpan(i * size, size));
        using var scope = TorchSharp.torch.NewDisposeScope();
        return TorchInputs.Float32(buffer, [episodes.Count, size], device).DetachFromDisposeScope();   // a CPU copy for another device goes with the scope
    }

    /// <summary>
    /// The PID measurement of <see cref="CostConstraintStates.EpisodeStarts"/>: Q_c(s₀, π(s₀)) under no_grad at the start
    /// observations, all of them when there are at most <paramref name="maxRows"/>, else <paramref name="maxRows"/> drawn with
    /// replacement from <paramref name="noise"/>. Q_c reduced as the learner's actor loss does (<see cref="EnsembleOps.CostValue"/>).
    /// </summary>
    /// <param name="starts">[episodes, observationSize] (<see cref="StartObservations"/>).</param>
    /// <param name="maxRows">Most start states per call (the learner's batch size).</param>
    /// <param name="noise">Generator for the draw.</param>
    /// <param name="act">The learner's deterministic acting rule.</param>
    /// <param name="costCritic">The online cost ensemble.</param>
    /// <param name="referenceOptimisticCost">Reduce the members with the minimum (OSRL) instead of the maximum.</param>
    /// <returns>[rows].</returns>
    public static Tensor StartStateCostValues(Tensor starts, int maxRows, Generator noise, Func<Tensor, Tensor> act,
        Networks.QEnsemble costCritic, bool referenceOptimisticCost)
    {
        using var _ = no_grad();
        long count = Math.Min(starts.shape[0], maxRows);
        var rows = count == starts.shape[0]
            ? starts
            : starts.index_select(0, randint(0, starts.shape[0], new long[] { count }, dtype: ScalarType.Int64, device: starts.device, generator: noise));
        var actions = act(rows);
        return EnsembleOps.CostValue(costCritic.forward(rows, actions), referenceOptimisticCost);
    }

    /// <summary>The cost backup y_c = c + γ · continues · q̂_c(s′), clamped to <paramref name="bounds"/> when given
    /// (<see cref="CostValueBounds"/>; null leaves it unbounded, the reference behaviour).</summary>
    public static Tensor CostTarget(Tensor costs, Tensor continues, Tensor nextCost, double gamma, (double Min, double Max)? bounds)
    {
        var target = costs.add(continues.mul(TorchScalars.Of(gamma)) * nextCost, TorchScalars.One);
        return bounds is { } r ? target.clamp_(TorchScalars.Of(r.Min), TorchScalars.Of(r.Max)) : target;
    }

    /// <summary>
    /// The scalar action bound of a symmetric box with equal bounds in every coordinate (all reference tasks):
    /// actions are maxAction · tanh(·).
    /// </summary>
    /// <exception cref="ArgumentException">The box is not of the form [−m, m]^d with finite m &gt; 0.</exception>
    public static double MaxAction(BoxSpace actionSpace, string algorithm)
    {
        ArgumentNullException.ThrowIfNull(actionSpace);
        float high = actionSpace.High[0];
        for (int i = 0; i < actionSpace.Dimension; i++)
        {
            if (actionSpace.High[i] != high || actionSpace.Low[i] != -high || !(high > 0) || !float.IsFinite(high))
                throw new ArgumentException($"{algorithm} needs an action box [−m, m] with the same finite m > 0 in every coordinate (it squashes actions with m · tanh); " +
                    $"coordinate {i} is [{actionSpace.Low[i].ToString(CultureInfo.InvariantCulture)}, {actionSpace.High[i].ToString(CultureInfo.InvariantCulture)}]. Rescale the environment's actions.", nameof(actionSpace));
        }
        return high;
    }

    /// <summary>An Adam optimizer over a module's parameters with PyTorch's defaults.</summary>
    public static TorchSharp.Modules.Adam Adam(TorchSharp.torch.nn.Module module, double learningRate) =>
        KeptScalarOptimizer.Adam(module.parameters(), learningRate);

    /// <summary>A torch generator for a named stream, on the learner's device.</summary>
    public static Generator Generator(Abstractions.Seeding.SeedStreams seeds, string name, Device device) =>
        device.type == TorchSharp.DeviceType.CPU ? seeds.CreateTorchGenerator(name) : new Generator(seeds.Derive(name), device);

    /// <summary>
    /// Gives <paramref name="module"/> (already on its device) one buffer for its parameters and, unless <paramref name="gradients"/> is false,
    /// one for their gradients (<see cref="FlatParameters"/>), owned by <paramref name="life"/>. Call it before the module's optimizer is made:
    /// Adam, zero_grad and Polyak then run over whole networks with the same bits.
    /// </summary>
    public static void Flatten(OfflineLearnerLifecycle life, TorchSharp.torch.nn.Module module, bool gradients = true) =>
        life.Owns(FlatParameters.Flatten(module, gradients));

    /// <summary>
    /// As <see cref="Flatten"/> for a squashed Gaussian actor; with <paramref name="fusedHeads"/> the layout joins the μ and log σ heads so
    /// that both come from one product (<see cref="SquashedGaussianActor.FuseHeads"/>).
    /// </summary>
    public static void FlattenActor(OfflineLearnerLifecycle life, SquashedGaussianActor actor, bool fusedHeads, bool gradients = true)
    {
        if (fusedHeads) life.Owns(actor.FuseHeads(gradients));
        else Flatten(life, actor, gradients);
    }

    /// <summary>Moves a module to the device (no-op on CPU).</summary>
    public static T To<T>(T module, Device device) where T : TorchSharp.torch.nn.Module
    {
        if (device.type != TorchSharp.DeviceType.CPU) module.to(device);
        return module;
    }
}

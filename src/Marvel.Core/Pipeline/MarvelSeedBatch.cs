using System.Text.Json;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Pipeline.Stages;

namespace Marvel.Core.Pipeline;

/// <summary>One pipeline of a <see cref="MarvelSeedBatch"/> and how to start it.</summary>
/// <param name="Pipeline">The pipeline. Its options must equal every other member's except <see cref="MarvelPipelineOptions.Seed"/> and
/// <see cref="MarvelPipelineOptions.RunDirectory"/>, and its controller must be its own.</param>
/// <param name="Dataset">The offline dataset of its run (as <see cref="MarvelPipeline.Run"/> takes it).</param>
public sealed record MarvelSeedBatchMember(MarvelPipeline Pipeline, OfflineDataset Dataset)
{
    /// <summary>Continue the run in the pipeline's run directory (<see cref="MarvelPipeline.Resume"/>) instead of starting it over
    /// (<see cref="MarvelPipeline.Run"/>). Default false.</summary>
    public bool Resume { get; init; }

    /// <summary>Receives this member's stage progress, as <see cref="MarvelPipeline.Run"/>'s progress argument does. Default none.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }
}

/// <summary>How one member of a <see cref="MarvelSeedBatch"/> ended.</summary>
/// <param name="Result">The run's result (also in its <c>result.json</c>), or null when it failed.</param>
/// <param name="Error">Why it failed, or null: a <see cref="TrainingDivergedException"/> (its <c>status.json</c> says "diverged", as
/// <see cref="MarvelPipeline.Run"/> leaves it), or the <see cref="InvalidOperationException"/>, <see cref="InvalidDataException"/> or
/// <see cref="NotSupportedException"/> that <see cref="MarvelPipeline.Run"/> or <see cref="MarvelPipeline.Resume"/> would have thrown.</param>
/// <param name="RanAlone">Null when every online iteration of the run was stepped together with the other seeds; otherwise why some or all
/// of them ran alone (each seed's own <see cref="SacLagLearner.RunIteration"/>, the single-seed path).</param>
public sealed record MarvelSeedBatchOutcome(MarvelRunResult? Result, Exception? Error, string? RanAlone);

/// <summary>
/// Several runs of one <see cref="MarvelPipeline"/> configuration that differ only in seed, in one process, with their SAC-Lag online
/// stages in lockstep: each iteration collects on every seed's own training environments with its own actor, feeds its own controller and
/// samples its own replay buffer, then takes every seed's gradient steps together (one batched product per layer for all seeds).
/// </summary>
/// <remarks>
/// <para>Each run is otherwise the run <see cref="MarvelPipeline.Run"/> (or <see cref="MarvelPipeline.Resume"/>) would make: its offline,
/// handover and alignment stages run one seed after another exactly as alone, and every file of its run directory (options, status,
/// metrics CSVs, evaluations, checkpoints, <c>final/</c>, <c>result.json</c>) is written where and as a single run writes it. A run directory
/// a batch wrote therefore resumes alone, and one a single run wrote resumes in a batch.</para>
/// <para>What is guaranteed: the stages before the online one, the environments' and evaluations' seeds and every random stream are each
/// seed's own, bit for bit. The batched gradient steps sum in another order than one seed's (other kernel shapes), so from the first online
/// update on a seed agrees with its single run only up to float32 rounding, which training amplifies the longer it runs; over short runs the tests
/// hold every loss, Q value, α and λ to 1e-4 of its scale and every episode return, cost and evaluation to 1e-3 (an action that differs in
/// the last bits can change an episode's path); docs/cli.md, "Several seeds in one process", has the measured numbers. Checkpoints are
/// each run's own; a cancelled batch writes every run's resume point at the same iteration and continues bit for bit when resumed as a
/// batch.</para>
/// <para>Batched are the members whose online learners, as their pipelines' factories build them, are <see cref="SacLagLearner"/>s with
/// equal options (the same network sizes from the same offline configuration) and neither <see cref="SacLagOptions.FusedCriticEnsembles"/>
/// nor <see cref="SacLagOptions.FusedActorHeads"/> on. Otherwise, or for a single member, each online stage runs
/// alone, one after another, and <see cref="MarvelSeedBatchOutcome.RanAlone"/> says why. A resumed member whose newest checkpoint is behind
/// the others' runs alone until it has caught up. When a member stops (it diverged), the others continue alone; when a seed diverges
/// inside a batched iteration, the others, part-way through theirs, are resumed from their newest checkpoints (or from the start of the
/// online stage without checkpoints) in a new batch.</para>
/// </remarks>
public static class MarvelSeedBatch
{
    /// <summary>Runs <paramref name="members"/> on a dedicated thread; see <see cref="Run(IReadOnlyList{MarvelSeedBatchMember}, CancellationToken)"/>.</summary>
    /// <param name="members">The runs, one per seed.</param>
    /// <param name="cancellationToken">As in <see cref="Run(IReadOnlyList{MarvelSeedBatchMember}, CancellationToken)"/>.</param>
    public static Task<IReadOnlyList<MarvelSeedBatchOutcome>> RunAsync(IReadOnlyList<MarvelSeedBatchMember> members, CancellationToken cancellationToken = default)
    {
        Validate(members);
        return Task.Factory.StartNew(() => Run(members, SacLagSeedBatch.Products.Batched, cancellationToken), cancellationToken,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Runs (or resumes) every member's pipeline, their online stages in lockstep; see the remarks of <see cref="MarvelSeedBatch"/>.</summary>
    /// <param name="members">The runs, one per seed, in the order of the outcomes.</param>
    /// <param name="cancellationToken">Checked between steps, episodes and iterations as in <see cref="MarvelPipeline.Run"/>. On
    /// cancellation every started run records it as a cancelled single run does (with checkpoints on, a resume point of its last completed
    /// iteration), then <see cref="OperationCanceledException"/> propagates.</param>
    /// <returns>One outcome per member, in order.</returns>
    /// <exception cref="ArgumentException">No members; a pipeline, run directory or controller appears twice; or the members' options differ
    /// in more than the seed and the run directory (the message names the first option that differs).</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static IReadOnlyList<MarvelSeedBatchOutcome> Run(IReadOnlyList<MarvelSeedBatchMember> members, CancellationToken cancellationToken = default)
    {
        Validate(members);
        return Run(members, SacLagSeedBatch.Products.Batched, cancellationToken);
    }

    /// <summary>As the public <c>Run</c>, with the seed batch's products chosen (<see cref="SacLagSeedBatch.Products.Sequential"/> makes each
    /// run bit-identical to its single run, for tests of everything around the products).</summary>
    internal static IReadOnlyList<MarvelSeedBatchOutcome> Run(IReadOnlyList<MarvelSeedBatchMember> members, SacLagSeedBatch.Products products,
        CancellationToken cancellationToken)
    {
        Validate(members);
        var outcomes = new MarvelSeedBatchOutcome?[members.Count];
        var resume = members.Select(m => m.Resume).ToArray();
        var todo = Enumerable.Range(0, members.Count).ToList();
        while (todo.Count > 0)
        {
            todo = RunOnce(members, todo, resume, outcomes, products, cancellationToken);
            foreach (var i in todo) resume[i] = true;
        }
        return outcomes.Select(o => o!).ToArray();
    }

    /// <summary>The options that may differ between members.</summary>
    private static readonly string[] PerSeedOptions = [nameof(MarvelPipelineOptions.Seed), nameof(MarvelPipelineOptions.RunDirectory)];

    private static void Validate(IReadOnlyList<MarvelSeedBatchMember> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("A seed batch needs at least one member.", nameof(members));
        for (int i = 0; i < members.Count; i++)
        {
            if (members[i] is null) throw new ArgumentException($"Member {i} is null.", nameof(members));
            ArgumentNullException.ThrowIfNull(members[i].Pipeline, $"{nameof(members)}[{i}].Pipeline");
            ArgumentNullException.ThrowIfNull(members[i].Dataset, $"{nameof(members)}[{i}].Dataset");
        }
        if (members.Select(m => m.Pipeline).Distinct(ReferenceEqualityComparer.Instance).Count() != members.Count)
            throw new ArgumentException("A seed batch needs one pipeline per member; a pipeline appears twice.", nameof(members));
        if (members.Select(m => m.Pipeline.Controller).Distinct(ReferenceEqualityComparer.Instance).Count() != members.Count)
            throw new ArgumentException("Every member's pipeline needs its own Lagrange controller; two share one.", nameof(members));
        var folders = members.Select(m => Path.GetFullPath(m.Pipeline.Options.RunDirectory)).ToArray();
        if (folders.Distinct(StringComparer.Ordinal).Count() != folders.Length)
            throw new ArgumentException("Every member needs its own run directory; two share one.", nameof(members));
        using var first = JsonSerializer.SerializeToDocument(members[0].Pipeline.Options, RunDirectory.Json);
        for (int i = 1; i < members.Count; i++)
        {
            using var other = JsonSerializer.SerializeToDocument(members[i].Pipeline.Options, RunDirectory.Json);
            foreach (var property in first.RootElement.EnumerateObject())
            {
                if (PerSeedOptions.Contains(property.Name, StringComparer.Ordinal)) continue;
                string a = JsonSerializer.Serialize(property.Value);
                string b = other.RootElement.TryGetProperty(property.Name, out var v) ? JsonSerializer.Serialize(v) : "(absent)";
                if (!string.Equals(a, b, StringComparison.Ordinal))
                    throw new ArgumentException($"The members of a seed batch may differ only in Seed and RunDirectory, but MarvelPipelineOptions.{property.Name} " +
                                                $"is {a} in member 0 and {b} in member {i}.", nameof(members));
            }
        }
    }

    /// <summary>One member during one attempt.</summary>
    private sealed class Slot(int index, MarvelPipeline.Execution execution)
    {
        public int Index { get; } = index;
        public MarvelPipeline.Execution Execution { get; } = execution;
        public PipelineRun Run => Execution.Run;
        public OnlineStage Online => Execution.OnlineStage;
        public IOnlineSafeLearner? Learner { get; set; }
        public IOnlineSafeLearner? Probe { get; set; }
        public bool Done { get; set; }
        public string? RanAlone { get; set; }
        public long Iterations => Run.Session.Iterations;
    }

    /// <summary>
    /// One attempt at the members <paramref name="todo"/>: their outcomes are filled in, except for the members returned, which stopped
    /// part-way through a batched iteration because another seed diverged in it and are to be resumed.
    /// </summary>
    private static List<int> RunOnce(IReadOnlyList<MarvelSeedBatchMember> members, List<int> todo, bool[] resume, MarvelSeedBatchOutcome?[] outcomes,
        SacLagSeedBatch.Products products, CancellationToken cancellationToken)
    {
        var slots = new List<Slot>();
        SacLagSeedBatch? batch = null;
        try
        {
            // The stages before the online one, one seed after another (each alone, as in a single run); a run's clock starts with them.
            foreach (var i in todo)
            {
                var slot = new Slot(i, members[i].Pipeline.Begin(members[i].Dataset, resume[i], members[i].Progress, cancellationToken));
                slots.Add(slot);
                Guard(slot, outcomes, () => slot.Execution.Prepare());
            }
            foreach (var slot in Active(slots)) Guard(slot, outcomes, () => OnlineStage.Enter(slot.Run));
            foreach (var slot in Active(slots)) Guard(slot, outcomes, () => slot.Probe = slot.Online.CreateLearner(slot.Run));

            var together = Active(slots);
            bool iterate = together.Any(s => s.Iterations < s.Run.Options.OnlineIterations);
            string? alone = iterate ? WhyAlone(together) : null;
            if (iterate && alone is null)
            {
                var options = ((SacLagLearner)together[0].Probe!).Options;
                foreach (var slot in together)
                {
                    slot.Probe!.Dispose();
                    slot.Probe = null;
                }
                batch = new SacLagSeedBatch(together.Select(s => OnlineStage.LearnerContext(s.Run)).ToArray(), options, products);
                for (int k = 0; k < together.Count; k++)
                {
                    var slot = together[k];
                    var seed = batch.Seeds[k];
                    Guard(slot, outcomes, () => slot.Learner = slot.Online.Start(slot.Run, seed, ownsLearner: false));
                }
            }
            else
            {
                foreach (var slot in together)
                {
                    slot.RanAlone = alone;
                    var probe = slot.Probe!;
                    slot.Probe = null;
                    // Owned by the run from here on, even when Start throws.
                    Guard(slot, outcomes, () => slot.Learner = slot.Online.Start(slot.Run, probe, ownsLearner: true));
                }
            }

            var retry = Iterate(slots, together, batch, outcomes, cancellationToken);
            if (retry is not null) return retry;

            foreach (var slot in Active(slots))
                Guard(slot, outcomes, () => outcomes[slot.Index] = new MarvelSeedBatchOutcome(slot.Execution.Finish(), null, slot.RanAlone));
            return [];
        }
        catch (OperationCanceledException e)
        {
            foreach (var slot in slots.Where(s => s.Execution.Started && !s.Done)) slot.Execution.Cancelled(e);
            throw;
        }
        finally
        {
            foreach (var slot in slots)
            {
                slot.Probe?.Dispose();
                slot.Execution.Dispose();
            }
            batch?.Dispose();
        }
    }

    /// <summary>
    /// The online iterations of the active slots: together through <paramref name="batch"/> while every seed of it is running and at the
    /// same iteration, otherwise alone (the seeds behind first). Returns null, or the members to resume after a seed diverged inside a
    /// batched iteration.
    /// </summary>
    private static List<int>? Iterate(List<Slot> slots, List<Slot> batched, SacLagSeedBatch? batch, MarvelSeedBatchOutcome?[] outcomes,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            var running = Active(slots).Where(s => s.Iterations < s.Run.Options.OnlineIterations).ToList();
            if (running.Count == 0) return null;
            cancellationToken.ThrowIfCancellationRequested();
            long front = running.Max(s => s.Iterations);
            bool complete = batch is not null && running.Count == batched.Count && running.SequenceEqual(batched);
            if (complete && running.All(s => s.Iterations == front))
            {
                OnlineIterationResult[] results;
                try
                {
                    results = batch!.RunIteration(running.Select(s => (IVectorEnvironment)s.Run.TrainEnvironment!).ToArray(),
                        running.Select(s => s.Online.Controller).ToArray(), OnlineStage.IterationToken(running[0].Run));
                }
                catch (TrainingDivergedException e) when (batch!.DivergedSeed is int k)
                {
                    var diverged = running[k];
                    diverged.Done = true;
                    outcomes[diverged.Index] = new MarvelSeedBatchOutcome(null, diverged.Execution.Diverged(e), diverged.RanAlone);
                    return running.Where(s => s != diverged).Select(s => s.Index).ToList();
                }
                // Every seed's iteration is counted before any evaluation or checkpoint, so that a cancellation during one leaves every
                // run's totals at the iteration its learner completed (each resume point is then exact).
                for (int k = 0; k < running.Count; k++)
                {
                    var slot = running[k];
                    var r = results[k];
                    Guard(slot, outcomes, () => OnlineStage.Count(slot.Run, r));
                }
                foreach (var slot in Active(running)) Guard(slot, outcomes, () => slot.Online.Conclude(slot.Run));
                continue;
            }
            foreach (var slot in running)
            {
                if (complete && slot.Iterations == front) continue; // the others catch up first
                if (complete && slot.RanAlone is null)
                    slot.RanAlone = $"it resumed at online iteration {slot.Iterations}, behind the other runs of its batch, and ran alone until it " +
                                    $"caught up with them at iteration {front}.";
                if (batch is not null && !complete && slot.RanAlone is null)
                    slot.RanAlone = $"from online iteration {slot.Iterations + 1} on it ran alone: another run of its batch stopped " +
                                    $"({string.Join(", ", batched.Where(s => !running.Contains(s)).Select(s => s.Run.Folder.Root))}).";
                Guard(slot, outcomes, () =>
                {
                    var r = slot.Learner!.RunIteration(slot.Run.TrainEnvironment!, slot.Online.Controller, OnlineStage.IterationToken(slot.Run));
                    OnlineStage.Count(slot.Run, r);
                    slot.Online.Conclude(slot.Run);
                });
            }
        }
    }

    /// <summary>Null when the slots' online learners can run as one <see cref="SacLagSeedBatch"/>, otherwise why not.</summary>
    private static string? WhyAlone(List<Slot> slots)
    {
        if (slots.Count == 1) return "it was the only run of its batch left to run online.";
        if (slots.All(s => s.Iterations >= s.Run.Options.OnlineIterations)) return null;
        var other = slots.FirstOrDefault(s => s.Probe is not SacLagLearner);
        if (other is not null)
            return $"its online learner is {other.Probe!.Algorithm} ({other.Probe.GetType().Name}); only SacLagLearner seeds run as a batch.";
        if (slots.Select(s => ((SacLagLearner)s.Probe!).Options).FirstOrDefault(o => o.FusedCriticEnsembles || o.FusedActorHeads) is not null)
            return "its SAC-Lag options turn on FusedCriticEnsembles or FusedActorHeads, which the seed batch does not run (it lays the seeds' " +
                   "networks out in its own stacked buffers).";
        string Json(Slot s) => JsonSerializer.Serialize(((SacLagLearner)s.Probe!).Options, RunDirectory.Json);
        var first = Json(slots[0]);
        var differing = slots.Skip(1).FirstOrDefault(s => !string.Equals(Json(s), first, StringComparison.Ordinal));
        return differing is null ? null
            : $"the SAC-Lag options of '{differing.Run.Folder.Root}' differ from those of '{slots[0].Run.Folder.Root}' (e.g. network sizes taken from " +
              "different handover artifacts); a batch runs one set of options.";
    }

    private static List<Slot> Active(IEnumerable<Slot> slots) => slots.Where(s => !s.Done).ToList();

    /// <summary>
    /// Runs <paramref name="body"/> for <paramref name="slot"/>; when it throws what ends a single run (a divergence, which is recorded as
    /// <see cref="MarvelPipeline.Run"/> records it, or the run-specific errors of <see cref="MarvelPipeline.Resume"/>), the slot is done with
    /// that outcome and the others go on. A cancellation and any other exception propagate.
    /// </summary>
    private static void Guard(Slot slot, MarvelSeedBatchOutcome?[] outcomes, Action body)
    {
        if (slot.Done) return;
        try
        {
            body();
        }
        catch (TrainingDivergedException e)
        {
            slot.Done = true;
            outcomes[slot.Index] = new MarvelSeedBatchOutcome(null, slot.Execution.Diverged(e), slot.RanAlone);
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException or NotSupportedException)
        {
            slot.Done = true;
            outcomes[slot.Index] = new MarvelSeedBatchOutcome(null, e, slot.RanAlone);
        }
    }
}

using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Data;
using Marvel.Core.Environments;

namespace Marvel.Core.Tests.Pipeline;

/// <summary>Shared tiny data for the pipeline tests: one BallCircle dataset and one untrained tiny CPQ artifact.</summary>
internal static class PipelineTestData
{
    public const string Task = "BallCircle";
    private static readonly Lazy<OfflineDataset> SmallDataset = new(() => DatasetCollector.GenerateBuiltIn(Task, episodes: 20, seed: 5, environments: 4));

    public static OfflineDataset Dataset => SmallDataset.Value;

    public static LearnerContext Context(ulong seed = 1)
    {
        using var env = EnvironmentRegistry.Default.Make(Task);
        return new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(seed), env.Spec.MaxEpisodeSteps, Task);
    }

    public static CpqOptions TinyCpq() => new()
    {
        CostLimit = 20, ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], VaeHiddenSize = 16, BatchSize = 64,
    };

    /// <summary>An untrained tiny CPQ export for BallCircle.</summary>
    public static HandoverArtifact Artifact()
    {
        using var cpq = new CpqLearner(Context(), TinyCpq());
        return cpq.ExportHandover();
    }

    public static string TempRunDirectory() => Path.Combine(Path.GetTempPath(), "marvel-pipeline-tests", Guid.NewGuid().ToString("N"));
}

/// <summary>An IProgress that reports synchronously (Progress&lt;T&gt; posts to the thread pool, too late for cancellation tests).</summary>
internal sealed class SyncProgress(Action<TrainingProgress> onReport) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => onReport(value);
}

/// <summary>A policy that always outputs the same action (0.7 in every dimension), so returns depend only on the start state.</summary>
internal sealed class ConstantPolicy(int observationSize, int actionSize) : IPolicy
{
    public int ObservationSize => observationSize;
    public int ActionSize => actionSize;
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic) => actions.Fill(0.7f);
}

/// <summary>
/// A test-only online learner: every iteration "finishes" two episodes with costs 40 and 10 (CostLimit 20 ⇒ violation 20 per iteration, mean cost 25)
/// and reports scalars; it can report an exploding Q or throw a divergence at a chosen iteration.
/// </summary>
internal sealed class FakeOnlineLearner(LearnerContext context) : IOnlineSafeLearner
{
    private long _iterations;

    public int ExplodeRewardQAtIteration { get; init; } = -1;
    public int ThrowAtIteration { get; init; } = -1;
    public bool Initialized { get; private set; }
    public bool Disposed { get; private set; }

    public string Algorithm => "Fake";
    public IPolicy Policy { get; } = new ConstantPolicy(context.ObservationSpace.Dimension, context.ActionSpace.Dimension);
    /// <summary>The handover options the pipeline passed to <see cref="InitializeFrom"/>.</summary>
    public HandoverLoadOptions? LoadOptions { get; private set; }

    public void InitializeFrom(HandoverArtifact artifact, HandoverLoadOptions? options = null)
    {
        Initialized = true;
        LoadOptions = options;
    }

    public OnlineIterationResult RunIteration(IVectorEnvironment environment, ILagrangeController controller, CancellationToken cancellationToken = default)
    {
        long it = ++_iterations;
        if (it == ThrowAtIteration) throw new TrainingDivergedException("online/Fake", "actor_loss", it, double.NaN);
        var update = controller.Update(25);
        var metrics = new Dictionary<string, double>
        {
            ["reward_q"] = it == ExplodeRewardQAtIteration ? 1e9 : 1.0,
            ["cost_q"] = 0.5,
            ["actor_loss"] = -1.0,
        };
        return new OnlineIterationResult(it - 1, it * 400, [new EpisodeSummary(5, 40, 200), new EpisodeSummary(7, 10, 200)], update.Lambda, metrics);
    }

    /// <summary>The fake has no networks of its own; the pipeline's final/ folder gets the test artifact.</summary>
    public HandoverArtifact ExportHandover() => PipelineTestData.Artifact();
    public void Dispose() => Disposed = true;
}

/// <summary>An aligner that diverges immediately.</summary>
internal sealed class DivergingAligner : IValueAligner
{
    public ValueAlignmentResult Align(HandoverArtifact artifact, ITransitionSampler data, LearnerContext context,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        throw new TrainingDivergedException("alignment", "reward_critic_loss", 3, double.PositiveInfinity);
}

/// <summary>An aligner that records the data it is given and returns the artifact unchanged.</summary>
internal sealed class RecordingAligner : IValueAligner
{
    public ITransitionSampler? Data { get; private set; }

    public ValueAlignmentResult Align(HandoverArtifact artifact, ITransitionSampler data, LearnerContext context,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Data = data;
        return new ValueAlignmentResult(artifact, 0, new Dictionary<string, double>());
    }
}

/// <summary>The run directories a test class made; <see cref="DeleteAll"/> (from its [TearDown]) removes them.</summary>
internal sealed class RunDirectories
{
    private readonly List<string> _paths = new();

    /// <summary>A fresh, not yet existing run directory under the temp folder, deleted by <see cref="DeleteAll"/>.</summary>
    public string New() => Track(PipelineTestData.TempRunDirectory());

    /// <summary>Deletes <paramref name="path"/> with the others (e.g. a second run directory made by the test itself).</summary>
    public string Track(string path)
    {
        _paths.Add(path);
        return path;
    }

    public void DeleteAll()
    {
        foreach (var d in _paths)
            try { if (Directory.Exists(d)) Directory.Delete(d, recursive: true); } catch (IOException) { }
        _paths.Clear();
    }
}

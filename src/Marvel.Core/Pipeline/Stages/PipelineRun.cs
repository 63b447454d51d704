using System.Diagnostics;
using Marvel.Core.Environments;
using Microsoft.Extensions.Logging;

namespace Marvel.Core.Pipeline.Stages;

/// <summary>
/// The state of one pipeline run that its stages share: what the run was started with (options, dataset, folder, seeds, budget,
/// training environments), where it is (<see cref="Stage"/>, the online totals) and what the stages produced so far (artifacts,
/// alignment, online learner, returned policy). <see cref="MarvelPipeline"/> makes one per <c>Run</c>/<c>Resume</c> and disposes it.
/// </summary>
internal sealed class PipelineRun : IDisposable
{
    private HandoverArtifact? _handover;
    private HandoverArtifact? _aligned;
    private AlignmentInfo? _alignment;
    private QDivergenceBounds? _bounds;
    private IOnlineSafeLearner? _online;
    private bool _ownsOnline;
    private EvaluationPoint? _final;

    public PipelineRun(MarvelPipelineOptions options, OfflineDataset dataset, bool resuming, ILogger logger, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        Options = options;
        Dataset = dataset;
        Resuming = resuming;
        Logger = logger;
        Progress = progress;
        Cancellation = cancellationToken;
        Folder = new RunDirectory(options.RunDirectory);
    }

    /// <summary>The pipeline's settings (the pipeline's own copy; not changed by a run).</summary>
    public MarvelPipelineOptions Options { get; }

    /// <summary>The offline dataset: training data of the offline stage, data of the alignment, bounds of the exploding-Q guard.</summary>
    public OfflineDataset Dataset { get; }

    /// <summary>True for <see cref="MarvelPipeline.Resume"/>: stages whose output is on disk are loaded instead of run.</summary>
    public bool Resuming { get; }

    public ILogger Logger { get; }
    public IProgress<TrainingProgress>? Progress { get; }
    public CancellationToken Cancellation { get; }

    /// <summary>The run directory and its metrics rows.</summary>
    public RunDirectory Folder { get; }

    /// <summary>Time spent by this process on the run (a resumed run adds <see cref="OnlineSession.ElapsedBefore"/>).</summary>
    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    /// <summary>The stage <c>status.json</c> and the errors name: each stage sets it when it starts (<see cref="Enter"/>).</summary>
    public string Stage { get; set; } = MarvelPipelineStages.Setup;

    /// <summary>True when the online stage writes checkpoints (<see cref="MarvelPipelineOptions.CheckpointEvery"/> &gt; 0).</summary>
    public bool OnlineCheckpoints => Options.CheckpointEvery > 0;

    // Set up by MarvelPipeline before the first stage.
    public SeedStreams Seeds { get; set; } = null!;
    public CostBudget Budget { get; set; } = null!;
    public LearnerContext Context { get; set; } = null!;

    /// <summary>The online training environments (made during set-up, so null only when set-up failed before).</summary>
    public VectorEnvironment? TrainEnvironment { get; set; }

    /// <summary>Differences between this process's runtime and earlier ones of a resumed run (empty when they agree).</summary>
    public List<string> RuntimeDifferences { get; set; } = [];

    /// <summary>The newest online checkpoint found on resume, or null (fresh run, or none written yet).</summary>
    public OnlineCheckpoint? Checkpoint { get; set; }

    /// <summary>Online iterations and running totals.</summary>
    public OnlineSession Session { get; } = new();

    /// <summary>The offline learner's export, when the offline stage trained one (the handover stage saves it).</summary>
    public HandoverArtifact? OfflineExport { get; set; }

    /// <summary>The handover artifact (<c>handover/</c>).</summary>
    public HandoverArtifact Handover { get => _handover ?? throw NotYet("handover artifact"); set => _handover = value; }

    /// <summary>The exploding-Q guard's bounds, from the dataset and the handover manifest.</summary>
    public QDivergenceBounds Bounds { get => _bounds ?? throw NotYet("Q bounds"); set => _bounds = value; }

    /// <summary>The artifact after alignment (<c>aligned/</c>): what the online learner starts from.</summary>
    public HandoverArtifact Aligned { get => _aligned ?? throw NotYet("aligned artifact"); set => _aligned = value; }

    /// <summary>The alignment's step count and rollouts (<c>alignment.json</c>).</summary>
    public AlignmentInfo Alignment { get => _alignment ?? throw NotYet("alignment result"); set => _alignment = value; }

    /// <summary>The online learner, once the online stage made it; disposed with the run.</summary>
    public IOnlineSafeLearner? OnlineOrNull => _online;

    /// <summary>The online learner.</summary>
    public IOnlineSafeLearner Online => _online ?? throw NotYet("online learner");

    /// <summary>Makes <paramref name="online"/> the run's online learner; the run disposes it when <paramref name="owned"/> (a seed of a
    /// <see cref="Marvel.Core.Algorithms.Online.SacLag.SacLagSeedBatch"/> is the batch's to dispose).</summary>
    public void SetOnline(IOnlineSafeLearner online, bool owned)
    {
        _online = online;
        _ownsOnline = owned;
    }

    /// <summary>The evaluation of the policy the run returns (set by the evaluation stage).</summary>
    public EvaluationPoint Final { get => _final ?? throw NotYet("returned policy"); set => _final = value; }

    /// <summary>Base seed of the evaluations (stream "eval").</summary>
    public ulong EvaluationSeed => Seeds.Derive("eval");

    /// <summary>
    /// Starts stage <paramref name="stage"/>: names it in <see cref="Stage"/>, and unless <paramref name="quiet"/> writes
    /// <c>status.json</c> ("running") and logs the start.
    /// </summary>
    public void Enter(string stage, bool quiet = false)
    {
        Stage = stage;
        if (quiet) return;
        Folder.WriteStatus("running", stage);
        Logger.StageStarted(stage);
    }

    public void Dispose()
    {
        if (_ownsOnline) _online?.Dispose();
        TrainEnvironment?.Dispose();
    }

    private static InvalidOperationException NotYet(string what) =>
        new($"Marvel pipeline: the {what} is read before the stage that makes it ran (a stage order bug).");
}

using System.Globalization;
using System.Text.Json;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Data;
using Marvel.Core.Data.Dsrl;
using Marvel.Core.Environments;

namespace Marvel.Core.Pipeline.Datasets;

/// <summary>The counters of a frontier generation that a resumed run continues from.</summary>
internal sealed class FrontierCounters
{
    /// <summary>Training episodes finished so far.</summary>
    public int TrainingEpisodes { get; set; }

    /// <summary>Checkpoint rollout episodes so far.</summary>
    public int CheckpointEpisodes { get; set; }

    /// <summary>Index of the next checkpoint (its rollouts' seeds derive from it).</summary>
    public int Checkpoint { get; set; }

    /// <summary>Transitions of the checkpoint rollouts so far.</summary>
    public long RolloutSteps { get; set; }

    /// <summary>Training transitions at which the next checkpoint is due.</summary>
    public long NextCheckpoint { get; set; }

    /// <summary>λ after the last iteration.</summary>
    public double Lambda { get; set; }
}

/// <summary>
/// The checkpoints of one resumable frontier generation (<see cref="FrontierDataset.GenerateResumable"/>):
/// <c>episodes-NNNNN.bin</c>, the candidate episodes recorded between two checkpoints, each file written once; and <c>checkpoint/</c>,
/// replaced atomically at every checkpoint, with the learner (<c>learner/</c>), the training environments (<c>environment.bin</c>),
/// the recorder's unfinished episodes (<c>recorder.bin</c>) and <c>state.json</c> (what generation this is, how many episode files
/// belong to it, the counters). An episode file is written before the checkpoint that counts it, so a crash between the two leaves
/// a file that the next checkpoint overwrites.
/// </summary>
internal sealed class FrontierWorkFolder
{
    private const int Format = 1;
    private const string CheckpointName = "checkpoint";
    private const string StateName = "state.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private readonly string _root;
    private readonly string _taskId;
    private readonly string _optionsJson;
    private readonly ulong _seed;
    private int _episodeFiles;

    public FrontierWorkFolder(string root, string taskId, string optionsJson, ulong seed)
    {
        _root = Path.GetFullPath(root);
        _taskId = taskId;
        _optionsJson = optionsJson;
        _seed = seed;
    }

    private string CheckpointPath => Path.Combine(_root, CheckpointName);

    private string EpisodeFile(int index) => Path.Combine(_root, "episodes-" + index.ToString("D5", CultureInfo.InvariantCulture) + ".bin");

    /// <summary>
    /// Restores the newest checkpoint into <paramref name="learner"/>, <paramref name="environment"/> and <paramref name="recorder"/>
    /// and the recorded episodes into <paramref name="candidates"/>; null (and nothing touched) when the folder holds no checkpoint.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint belongs to another generation, or a file is missing or corrupt.</exception>
    public FrontierCounters? TryResume(ICheckpointableOnlineLearner learner, VectorEnvironment environment, RecordingVectorEnvironment recorder,
        List<RecordedEpisode> candidates)
    {
        string statePath = Path.Combine(CheckpointPath, StateName);
        if (!File.Exists(statePath)) return null;
        State state;
        try
        {
            state = JsonSerializer.Deserialize<State>(File.ReadAllText(statePath), Json)
                    ?? throw new InvalidDataException($"'{statePath}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{statePath}' is not a frontier checkpoint's state ({e.Message}). {StartOver}", e);
        }
        string? differs = state.Format != Format ? $"format {state.Format} (this version reads {Format})"
            : state.TaskId != _taskId ? $"task '{state.TaskId}' (this run: '{_taskId}')"
            : state.Seed != _seed ? $"seed {state.Seed} (this run: {_seed})"
            : state.LibraryVersion != DsrlFileAttributes.CurrentLibraryVersion ? $"library version {state.LibraryVersion} (this run: {DsrlFileAttributes.CurrentLibraryVersion})"
            : state.OptionsJson != _optionsJson ? "other recipe options" : null;
        if (differs is not null)
            throw new InvalidDataException($"The frontier work folder '{_root}' holds a generation with {differs}. {StartOver}");

        try
        {
            learner.LoadCheckpoint(Path.Combine(CheckpointPath, "learner"));
            using (var reader = new BinaryReader(File.OpenRead(Path.Combine(CheckpointPath, "environment.bin"))))
                environment.LoadState(reader);
            using (var reader = new BinaryReader(File.OpenRead(Path.Combine(CheckpointPath, "recorder.bin"))))
                recorder.LoadState(reader);
            int obs = environment.ObservationSpace.Dimension, act = environment.ActionSpace.Dimension;
            for (int f = 0; f < state.EpisodeFiles; f++)
            {
                using var reader = new BinaryReader(File.OpenRead(EpisodeFile(f)));
                int count = reader.ReadInt32();
                for (int i = 0; i < count; i++) candidates.Add(RecordedEpisode.Read(reader, obs, act));
            }
        }
        catch (IOException e)
        {
            throw new InvalidDataException($"The frontier work folder '{_root}' has a missing or unreadable file ({e.Message}). {StartOver}", e);
        }
        _episodeFiles = state.EpisodeFiles;
        return state.Counters;
    }

    /// <summary>Writes the episodes recorded since the last save (<paramref name="candidates"/> from <paramref name="saved"/> on), then
    /// the checkpoint that counts them.</summary>
    public void Save(ICheckpointableOnlineLearner learner, VectorEnvironment environment, RecordingVectorEnvironment recorder,
        List<RecordedEpisode> candidates, int saved, FrontierCounters counters)
    {
        Directory.CreateDirectory(_root);
        AtomicFile.Write(EpisodeFile(_episodeFiles), stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            writer.Write(candidates.Count - saved);
            for (int i = saved; i < candidates.Count; i++) candidates[i].Write(writer);
        });
        var state = new State
        {
            Format = Format, TaskId = _taskId, OptionsJson = _optionsJson, Seed = _seed, LibraryVersion = DsrlFileAttributes.CurrentLibraryVersion,
            EpisodeFiles = _episodeFiles + 1, Counters = counters,
        };
        AtomicFile.WriteDirectory(CheckpointPath, temp =>
        {
            learner.SaveCheckpoint(Path.Combine(temp, "learner"));
            using (var writer = new BinaryWriter(File.Create(Path.Combine(temp, "environment.bin"))))
                environment.SaveState(writer);
            using (var writer = new BinaryWriter(File.Create(Path.Combine(temp, "recorder.bin"))))
                recorder.SaveState(writer);
            File.WriteAllText(Path.Combine(temp, StateName), JsonSerializer.Serialize(state, Json));
        });
        _episodeFiles++;
    }

    private string StartOver => $"Delete '{_root}' to start this generation over, or use another work folder.";

    private sealed class State
    {
        public int Format { get; set; }
        public string TaskId { get; set; } = "";
        public string OptionsJson { get; set; } = "";
        public ulong Seed { get; set; }
        public string LibraryVersion { get; set; } = "";
        public int EpisodeFiles { get; set; }
        public FrontierCounters Counters { get; set; } = new();
    }
}

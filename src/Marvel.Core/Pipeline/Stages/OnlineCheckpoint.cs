using System.Text.Json;
using System.Text.Json.Serialization;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Environments;

namespace Marvel.Core.Pipeline.Stages;

/// <summary>
/// A checkpoint of the online stage, <c>checkpoints/iteration-NNNNNN/</c>: <c>learner/</c> (the learner's complete state),
/// <c>handover/</c> (its export, loadable with <see cref="HandoverArtifact.Load"/>), <c>environment.bin</c> (the training environments),
/// <c>controller.json</c> and, written last, <c>state.json</c> (counters and the exact metrics rows), the pipeline's part.
/// </summary>
/// <param name="Path">The checkpoint folder.</param>
/// <param name="Iteration">Online iterations completed.</param>
/// <param name="EnvironmentSteps">Online environment steps taken.</param>
/// <param name="Episodes">Online episodes finished.</param>
/// <param name="CumulativeViolation">The cumulative violation so far.</param>
/// <param name="Elapsed">Time the run had taken.</param>
/// <param name="Metrics">The metrics rows at that point.</param>
internal sealed record OnlineCheckpoint(string Path, long Iteration, long EnvironmentSteps, long Episodes, double CumulativeViolation, TimeSpan Elapsed,
    RunMetricsSnapshot Metrics)
{
    private const int Format = 1;

    /// <summary>
    /// The newest complete checkpoint of <paramref name="run"/>, or null; first removes leftovers of interrupted saves (the temporary
    /// folders of <see cref="AtomicFile"/>), which are never read.
    /// </summary>
    /// <exception cref="InvalidDataException">The newest checkpoint's <c>state.json</c> is unreadable or of another format.</exception>
    public static OnlineCheckpoint? FindLatest(RunDirectory run)
    {
        if (Directory.Exists(run.CheckpointsPath))
            foreach (var leftover in Directory.EnumerateDirectories(run.CheckpointsPath, ".iteration-*"))
                try { Directory.Delete(leftover, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        var path = run.FindLatestCheckpoint();
        if (path is null) return null;
        var file = ReadJson<StateFile>(System.IO.Path.Combine(path, RunDirectory.CheckpointStateName));
        if (file.Format != Format)
            throw new InvalidDataException($"Checkpoint '{path}' has format {file.Format}; this library reads format {Format}.");
        return new OnlineCheckpoint(path, file.Iteration, file.EnvironmentSteps, file.Episodes, file.CumulativeViolation,
            TimeSpan.FromSeconds(file.ElapsedSeconds), file.Metrics);
    }

    /// <summary>Loads the learner, the training environments and the controller from this checkpoint.</summary>
    public void LoadInto(ICheckpointableOnlineLearner learner, VectorEnvironment environment, ILagrangeController controller)
    {
        learner.LoadCheckpoint(System.IO.Path.Combine(Path, "learner"));
        using (var f = File.OpenRead(System.IO.Path.Combine(Path, "environment.bin")))
        using (var reader = new BinaryReader(f))
            environment.LoadState(reader);
        controller.SetState(ReadJson<LagrangeControllerState>(System.IO.Path.Combine(Path, "controller.json")));
    }

    /// <summary>
    /// Writes the checkpoint of <paramref name="session"/>'s iteration atomically (temporary folder, renamed when complete), then points
    /// <c>checkpoints/latest</c> at it and keeps only the newest <see cref="MarvelPipelineOptions.KeepCheckpoints"/> (all when 0).
    /// Returns the folder and the time the save took.
    /// </summary>
    /// <param name="run">The run directory.</param>
    /// <param name="learner">The online learner (its state, and its export under <c>handover/</c>).</param>
    /// <param name="environment">The training environments.</param>
    /// <param name="controller">The Lagrange controller.</param>
    /// <param name="session">The online totals; its <see cref="OnlineSession.CheckpointedIteration"/> is set.</param>
    /// <param name="elapsed">Time this process spent on the run so far.</param>
    /// <param name="keep">Checkpoints to keep (0: all).</param>
    /// <param name="fault">Test hook, called inside the temporary folder before <c>state.json</c> is written.</param>
    public static string Write(RunDirectory run, ICheckpointableOnlineLearner learner, VectorEnvironment environment, ILagrangeController controller,
        OnlineSession session, TimeSpan elapsed, int keep, Action<string>? fault)
    {
        long iteration = session.Iterations;
        var path = run.CheckpointPath(iteration);
        var export = learner.ExportHandover();
        var state = new StateFile(Format, iteration, session.EnvironmentSteps, session.Episodes, session.CumulativeViolation,
            (session.ElapsedBefore + elapsed).TotalSeconds, learner.Algorithm, run.SnapshotMetrics());
        AtomicFile.WriteDirectory(path, temp =>
        {
            learner.SaveCheckpoint(System.IO.Path.Combine(temp, "learner"));
            export.Save(System.IO.Path.Combine(temp, "handover"));
            using (var f = new FileStream(System.IO.Path.Combine(temp, "environment.bin"), FileMode.CreateNew))
            using (var w = new BinaryWriter(f))
                environment.SaveState(w);
            File.WriteAllText(System.IO.Path.Combine(temp, "controller.json"), JsonSerializer.Serialize(controller.GetState(), RunDirectory.Json));
            fault?.Invoke(temp);
            File.WriteAllText(System.IO.Path.Combine(temp, RunDirectory.CheckpointStateName), JsonSerializer.Serialize(state, RunDirectory.Json));
        });
        AtomicFile.WriteAllText(run.LatestCheckpointPointerPath, System.IO.Path.GetFileName(path));
        session.CheckpointedIteration = iteration;
        if (keep > 0)
        {
            // Only once the new checkpoint is complete and named in "latest"; names sort by iteration (zero-padded).
            var older = Directory.EnumerateDirectories(run.CheckpointsPath, "iteration-*").Select(System.IO.Path.GetFileName).OfType<string>()
                .Where(name => string.CompareOrdinal(name, System.IO.Path.GetFileName(path)) < 0).Order(StringComparer.Ordinal).ToArray();
            foreach (var name in older.Take(Math.Max(0, older.Length - (keep - 1))))
                try { Directory.Delete(System.IO.Path.Combine(run.CheckpointsPath, name), recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return path;
    }

    /// <summary>Reads a JSON file of a checkpoint.</summary>
    /// <exception cref="InvalidDataException">The file is missing, empty or not valid JSON.</exception>
    public static T ReadJson<T>(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"'{path}' is missing; the checkpoint is incomplete.");
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), RunDirectory.Json) ?? throw new InvalidDataException($"'{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON of a checkpoint: {e.Message}", e);
        }
    }

    /// <summary>The pipeline's part of a checkpoint (<c>state.json</c>).</summary>
    private sealed record StateFile(
        [property: JsonPropertyName("format")] int Format,
        [property: JsonPropertyName("iteration")] long Iteration,
        [property: JsonPropertyName("environment_steps")] long EnvironmentSteps,
        [property: JsonPropertyName("episodes")] long Episodes,
        [property: JsonPropertyName("cumulative_violation")] double CumulativeViolation,
        [property: JsonPropertyName("elapsed_seconds")] double ElapsedSeconds,
        [property: JsonPropertyName("online_algorithm")] string OnlineAlgorithm,
        [property: JsonPropertyName("metrics")] RunMetricsSnapshot Metrics);
}

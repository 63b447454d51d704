// From a trained policy to an application: load a handover artifact's actor (or its ONNX export) and drive one episode.
//
//   dotnet run -c Release --project samples/Marvel.Inference                      # trains a small BC-Safe policy first (≈ 10 s)
//   dotnet run -c Release --project samples/Marvel.Inference -- runs/x/final      # an artifact folder from a run
//   dotnet run -c Release --project samples/Marvel.Inference -- policy.onnx BallCircle   # an exported graph, no libtorch needed to act
using System.Globalization;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using Marvel.Core.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
TorchSharp.torch.set_num_threads(1);   // small networks: one thread is fastest
string path = args.Length > 0 ? args[0] : TrainSmallPolicy("BallCircle");

if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
{
    string task = args.Length > 1 ? args[1] : throw new ArgumentException("Name the task after an .onnx file, e.g. 'policy.onnx BallCircle'.");
    using var session = new InferenceSession(path);
    Console.WriteLine($"ONNX policy {path}: {session.ModelMetadata.CustomMetadataMap["algorithm"]} actor, opset {OnnxExport.OpsetVersion}.");
    RunEpisode(task, (observation, action) =>
    {
        var input = new DenseTensor<float>(observation.ToArray(), [1, observation.Length]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, input)]);
        results[0].AsEnumerable<float>().ToArray().CopyTo(action);
    });
}
else
{
    using var policy = InferencePolicy.Load(path);
    string task = args.Length > 1 ? args[1] : policy.TaskId ?? throw new ArgumentException("The artifact names no task: pass one after the folder.");
    Console.WriteLine($"Artifact {path}: {policy.Algorithm} {policy.ActorKind}, {policy.ObservationSize} → {policy.ActionSize}, " +
                      $"normalizes observations: {policy.NormalizesObservations}.");
    RunEpisode(task, (observation, action) => policy.Act(observation, action, deterministic: true));

    // The same actor as an ONNX graph, for runtimes without libtorch.
    var onnx = Path.Combine(Path.GetTempPath(), "marvel-inference-sample.onnx");
    OnnxExport.Save(HandoverArtifact.Load(path), onnx);
    Console.WriteLine($"Exported {onnx}; run it with: dotnet run --project samples/Marvel.Inference -- {onnx} {task}");
}

static void RunEpisode(string task, ActDelegate act)
{
    using var env = EnvironmentRegistry.Default.Make(task);
    var observation = new float[env.ObservationSpace.Dimension];
    var action = new float[env.ActionSpace.Dimension];
    env.Reset(seed: 0, observation);
    double totalReward = 0, totalCost = 0;
    int steps = 0;
    var watch = System.Diagnostics.Stopwatch.StartNew();
    StepResult result;
    do
    {
        act(observation, action);
        result = env.Step(action, observation);
        totalReward += result.Reward;
        totalCost += result.Cost;
        steps++;
    } while (!result.EpisodeEnded);
    Console.WriteLine($"{task}: one episode of {steps} steps, return {totalReward:F1}, cost {totalCost:F1} " +
                      $"({watch.Elapsed.TotalMilliseconds * 1000 / steps:F0} µs per step, policy and environment).");
}

static string TrainSmallPolicy(string task)
{
    Console.WriteLine($"No artifact given: training BC-Safe on a built-in {task} dataset (100 episodes, 2 000 steps).");
    var dataset = DatasetCollector.GenerateBuiltIn(task, episodes: 100, seed: 1);
    using var env = EnvironmentRegistry.Default.Make(task);
    var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(1), env.Spec.MaxEpisodeSteps, task);
    using var learner = new BcLearner(context, new BcOptions { Mode = BcMode.Safe, CostLimit = 20 });
    learner.Attach(dataset);
    for (int i = 0; i < 2000; i++) learner.TrainStep();
    var folder = Path.Combine(Path.GetTempPath(), "marvel-inference-sample");
    learner.ExportHandover().Save(folder);
    Console.WriteLine($"Saved the artifact to {folder}.");
    return folder;
}

delegate void ActDelegate(ReadOnlySpan<float> observation, Span<float> action);

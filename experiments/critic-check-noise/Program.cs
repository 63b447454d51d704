// The measured critic check's spread (docs/results.md, round 6): the relative error of the aligned cost critic of the
// 'Ablation5-alignedCritics' runs (VPA, BEAR-Lag starts, seeds 0-2), mean over states of |Q_c - MC| / |mean MC|, measured by
// QBiasDiagnostics with four state samples each at 64 states x 4 rollouts and at 256 states x 1 rollout.
// Usage (from the repository root, after those runs): dotnet run -c Release --project experiments/critic-check-noise [-- Task ...]
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Alignment;
using Marvel.Core.Data;
using Marvel.Core.Environments;
TorchSharp.torch.set_num_threads(1);
string root = Path.Combine(AppContext.BaseDirectory, "../../../../../runs/safe-finetuning-v3"); // the repository's runs/ folder
var tasks = args.Length > 0 ? args : new[] { "CarCircle", "CarRun", "BallCircle", "BallRun" };
foreach (var task in tasks)
{
    var dataset = DatasetCollector.GenerateBuiltIn(task, 200, 0);
    for (int seed = 0; seed < 3; seed++)
    {
        var dir = Path.Combine(root, $"{task}_Ablation5-alignedCritics_cost20_seed{seed}", "aligned");
        if (!Directory.Exists(dir)) continue;
        var artifact = HandoverArtifact.Load(dir);
        foreach (int states in new[] { 64, 256 })
        {
            var errors = new List<double>();
            for (ulong s = 0; s < 4; s++)
            {
                var o = new QBiasOptions { StateCount = states, RolloutsPerState = states == 64 ? 4 : 1, Seed = 1000 + s };
                var r = QBiasDiagnostics.Measure(artifact, dataset, () => EnvironmentRegistry.Default.Make(task), o);
                errors.Add(r.Cost.MeanAbsoluteBias / Math.Max(Math.Abs(r.Cost.MeanMonteCarlo), 1.0));
            }
            Console.WriteLine($"{task} seed {seed} states {states}: cost relative error {string.Join(", ", errors.Select(e => e.ToString("F2")))}");
        }
    }
}

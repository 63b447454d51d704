// Marvel.Core offline benchmark: every offline learner on one dataset of one task (BallCircle unless --task says otherwise).
//   1. generate one built-in dataset (scripted controllers at a cost sweep plus random episodes, fixed seed), or read a DSRL
//      HDF5 file (--dataset; e.g. a frontier dataset from `marvel collect --recipe frontier`), refused if recorded on another task
//   2. for each algorithm × cost limit κ × seed: train for a fixed step budget, evaluate deterministically. BC-All and CDT do not
//      use κ in training, so each seed trains once and is evaluated at every κ (CDT with κ as its initial cost-to-go and the best
//      dataset return within κ as its initial return-to-go), as one CDT model serves every threshold in DSRL's protocol
//   3. write runs.csv (one row per run) and summary.md (mean ± std over seeds of DSRL-normalized reward and cost)
// Budgets are small on purpose (reduced widths, a few thousand steps): the table shows whether the safety mechanisms
// work at all on a shared 2-core machine, not paper-level scores.
// Usage: dotnet run -c Release --project samples/Marvel.OfflineBenchmark -- <outputDir> [--key value ...]
//   --algorithms bc-all,bc-safe,cpq,bear-lag,bcq-lag,coptidice,cdt   --limits 10,20,40   --seeds 3
//   --steps <all algorithms>   --budget cpq=1000,cdt=500 (per algorithm)   --episodes 300   --dataset-seed 7
//   --hidden 64,64   --batch 256   --cdt-batch 64   --eval-episodes 10
//   --first-seed 0   run only seeds first-seed .. seeds − 1
//   --task BallCircle   the task (short or DSRL id)   --dataset file.hdf5   train on this DSRL file instead of a generated one
//   --resume true   keep the rows of <outputDir>/runs.csv and run only the (algorithm, κ, seed) cells it lacks
//   --bcq-candidates N   BCQ-Lag's SelectionCandidates (default: the options' default, 10)
//   --coptidice-lr L   COptiDICE's actor and ν/χ learning rate (default: the options' default, 1e-4)
//   --coptidice-scalar-lr L   COptiDICE's λ/τ learning rate (default: the options' default, 1e-4)
//   --bcq-cost-critics K   BCQ-Lag's CostCriticsPerGroup (default: the options' default, 2)
//   --cpq-unsafe-descent W   CPQ's UnsafeCostDescentWeight (default: the options' default, 0)
//   --cpq-reference-ood true|false   CPQ's ReferenceOodPenaltyWithoutGradient (default: the options' default, false)
//   --cpq-ood-all-samples true|false   CPQ's ReferenceOodMeanOverAllSamples (default: the options' default, false)
//   --bcq-cost-backup-max true|false   BCQ-Lag's ReferenceCostBackupMaxOverSamples (default: the options' default, false)
//   --bcq-constraint-states batch|episode-starts   BCQ-Lag's ConstraintStates (default: the options' default, episode-starts)
//   --cpq-cost-reduction mean|max|min   CPQ's CostEnsembleReduction (default: the options' default, mean)
//   --bear-constraint-states batch|episode-starts   BEAR-Lag's ConstraintStates (default: the options' default, batch)
//   --tau T   Polyak rate of the critic targets of CPQ, BEAR-Lag and BCQ-Lag (default: the options' default, 0.005)
//   --cdt-target-fractions 1,0.75,0.5   evaluate each trained CDT model with the initial return-to-go at these fractions of the
//                                       best dataset return within κ (default 1); a fraction f ≠ 1 gives rows named cdt-r<f>
//   --cdt-augmentation F   CDT's AugmentationFraction (default: the options' default, 0 = off; OSRL 0.2)
//   --summarize a/runs.csv,b/runs.csv   only rebuild runs.csv and summary.md in <outputDir> from earlier runs (pass the same
//                                       size options they ran with; steps, limits and seeds are read from the rows)
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Scoring;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Offline.Cdt;
using Marvel.Core.Algorithms.Offline.COptiDice;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Data;
using Marvel.Core.Data.Dsrl;
using Marvel.Core.Environments;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
{
    Console.Error.WriteLine("usage: Marvel.OfflineBenchmark <outputDir> [--algorithms a,b] [--limits 10,20,40] [--seeds 3] [--steps N] " +
                            "[--budget alg=N,...] [--episodes 300] [--dataset-seed 7] [--hidden 64,64] [--batch 256] [--cdt-batch 64] [--eval-episodes 10] [--bcq-candidates 10] [--bcq-cost-critics 2] [--tau 0.005] [--cpq-unsafe-descent 0] [--cpq-reference-ood false] [--cpq-ood-all-samples false] [--bcq-cost-backup-max false] [--cpq-cost-reduction mean] [--bcq-constraint-states episode-starts] [--bear-constraint-states batch] [--coptidice-lr 1e-4] [--coptidice-scalar-lr 1e-4]");
    return 2;
}
var outputDir = args[0];
var opts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
for (int i = 1; i < args.Length; i += 2)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
    {
        Console.Error.WriteLine($"expected '--key value', got '{args[i]}'");
        return 2;
    }
    opts[args[i][2..]] = args[i + 1];
}
string Opt(string key, string fallback) => opts.TryGetValue(key, out var v) ? v : fallback;
static string[] List(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

string task = Opt("task", "BallCircle");
string? datasetPath = opts.TryGetValue("dataset", out var dp) ? dp : null;
bool resume = bool.Parse(Opt("resume", "false"));

string[] algorithms = List(Opt("algorithms", "bc-all,bc-safe,cpq,bear-lag,bcq-lag,coptidice,cdt")).Select(a => a.ToLowerInvariant()).ToArray();
double[] limits = List(Opt("limits", "10,20,40")).Select(double.Parse).ToArray();
int seedCount = int.Parse(Opt("seeds", "3"));
int firstSeed = int.Parse(Opt("first-seed", "0"));   // run seeds firstSeed .. seeds − 1 (to add seeds to an earlier run)
int datasetEpisodes = int.Parse(Opt("episodes", "300"));
ulong datasetSeed = ulong.Parse(Opt("dataset-seed", "7"));
int[] hidden = List(Opt("hidden", "64,64")).Select(int.Parse).ToArray();
int batch = int.Parse(Opt("batch", "256"));
int evalEpisodes = int.Parse(Opt("eval-episodes", "10"));
int cdtBatch = int.Parse(Opt("cdt-batch", "64"));
int bcqCostCritics = int.Parse(Opt("bcq-cost-critics", new BcqLagOptions().CostCriticsPerGroup.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
double cpqUnsafeDescent = double.Parse(Opt("cpq-unsafe-descent", new CpqOptions().UnsafeCostDescentWeight.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
var cpqDefaults = new CpqOptions();
bool cpqReferenceOod = bool.Parse(Opt("cpq-reference-ood", cpqDefaults.ReferenceOodPenaltyWithoutGradient.ToString()));
bool cpqOodAllSamples = bool.Parse(Opt("cpq-ood-all-samples", cpqDefaults.ReferenceOodMeanOverAllSamples.ToString()));
bool bcqCostBackupMax = bool.Parse(Opt("bcq-cost-backup-max", new BcqLagOptions().ReferenceCostBackupMaxOverSamples.ToString()));
var bcqConstraintStates = ConstraintStates(Opt("bcq-constraint-states", ""), new BcqLagOptions().ConstraintStates);
var cpqCostReduction = Enum.Parse<EnsembleReduction>(Opt("cpq-cost-reduction", cpqDefaults.CostEnsembleReduction.ToString()), ignoreCase: true);
var bearConstraintStates = ConstraintStates(Opt("bear-constraint-states", ""), new BearLagOptions().ConstraintStates);
int bcqCandidates = int.Parse(Opt("bcq-candidates", new BcqLagOptions().SelectionCandidates.ToString(CultureInfo.InvariantCulture)));
// Target-network rate: the value a critic holds after n updates has propagated about 1 − exp(−n·τ·(1 − γ)) of the way to its
// fixed point, so at a budget of a few thousand updates the reference τ = 0.005 leaves the critics far from converged.
var coptiDefaults = new COptiDiceOptions();
double coptiLr = double.Parse(Opt("coptidice-lr", coptiDefaults.CriticLearningRate.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
double coptiScalarLr = double.Parse(Opt("coptidice-scalar-lr", coptiDefaults.ScalarLearningRate.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
double cdtAugmentation = double.Parse(Opt("cdt-augmentation", new CdtOptions().AugmentationFraction.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
double[] cdtTargetFractions = List(Opt("cdt-target-fractions", "1")).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
double tau = double.Parse(Opt("tau", new BearLagOptions().Tau.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

// Default step budgets, chosen so the whole default table (7 algorithms × 3 limits × 3 seeds) fits in about 40 minutes
// on a shared 2-core VM with one torch thread. The slow learners (VAE plus critic ensembles, transformer) get fewer steps.
var budgets = new Dictionary<string, int>
{
    ["bc-all"] = 5000, ["bc-safe"] = 5000, ["cpq"] = 2000, ["bear-lag"] = 1500,
    ["bcq-lag"] = 2500, ["coptidice"] = 4000, ["cdt"] = 400,
};
if (opts.TryGetValue("steps", out var all)) foreach (var key in budgets.Keys.ToArray()) budgets[key] = int.Parse(all);
foreach (var pair in List(Opt("budget", "")))
{
    var parts = pair.Split('=');
    budgets[parts[0].ToLowerInvariant()] = int.Parse(parts[1]);
}
foreach (var a in algorithms)
    if (!budgets.ContainsKey(a))
    {
        Console.Error.WriteLine($"unknown algorithm '{a}'; known: {string.Join(", ", budgets.Keys)}");
        return 2;
    }

TorchSharp.torch.set_num_threads(1);
Directory.CreateDirectory(outputDir);
var clock = Stopwatch.StartNew();

// 1. One dataset for every run.
using var evalEnv = EnvironmentRegistry.Default.MakeVector(task, Math.Min(evalEpisodes, 10));
var dataset = datasetPath is null
    ? DatasetCollector.GenerateBuiltIn(task, datasetEpisodes, datasetSeed)
    : DsrlFile.ReadForTask(datasetPath, evalEnv.Spec, evalEnv.ObservationSpace.Dimension, evalEnv.ActionSpace.Dimension);
var episodes = dataset.Episodes;
Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1}s] dataset: {episodes.Count} {task} episodes ({dataset.Count} transitions), " +
                  $"cost {episodes.Min(e => e.Cost):F0}..{episodes.Max(e => e.Cost):F0}, return {episodes.Min(e => e.Return):F0}..{episodes.Max(e => e.Return):F0}");
int horizon = evalEnv.Spec.MaxEpisodeSteps;
var reference = NormalizedScore.GetReference(task);

// 2. Runs (or, with --summarize, the rows of earlier runs.csv files: e.g. algorithms run as separate processes).
var runs = new List<Run>();
var csv = new StringBuilder("algorithm,cost_limit,seed,steps,train_seconds,ms_per_step,mean_return,std_return,mean_cost,std_cost,normalized_reward,normalized_cost,safe\n");
bool summarizeOnly = opts.TryGetValue("summarize", out var csvFiles);
void LoadRows(string file)
{
    foreach (var line in File.ReadLines(file).Skip(1).Where(l => l.Length > 0))
    {
        var f = line.Split(',');
        runs.Add(new Run(f[0], double.Parse(f[1]), int.Parse(f[2]), int.Parse(f[3]), double.Parse(f[4]),
            double.Parse(f[6]), double.Parse(f[8]), double.Parse(f[10]), double.Parse(f[11])));
        csv.AppendLine(line);
    }
}
string runsFile = Path.Combine(outputDir, "runs.csv");
if (resume && !summarizeOnly && File.Exists(runsFile))
{
    LoadRows(runsFile);
    Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1}s] resuming: {runs.Count} rows kept from {runsFile}");
}
bool Done(string algorithm, double limit, int seed) => runs.Any(r => r.Algorithm == algorithm && r.Limit == limit && r.Seed == seed);
if (summarizeOnly)
{
    foreach (var file in List(csvFiles!)) LoadRows(file);
    algorithms = runs.Select(r => r.Algorithm).Distinct().ToArray();
    limits = runs.Select(r => r.Limit).Distinct().Order().ToArray();
    seedCount = runs.Select(r => r.Seed).Distinct().Count();
    foreach (var a in algorithms) budgets[a] = runs.First(r => r.Algorithm == a).Steps;
    File.WriteAllText(Path.Combine(outputDir, "runs.csv"), csv.ToString());
}
// Seed-major within an algorithm, so a run stopped early still covers every limit with its first seeds.
foreach (var algorithm in summarizeOnly ? [] : algorithms)
    for (int seed = firstSeed; seed < seedCount; seed++)
    {
        // BC-All and CDT do not use κ in training: one model per seed, evaluated at every κ (the same seed streams as the
        // per-κ runs before, so the rows are the ones those runs gave).
        bool sharedTraining = algorithm is "bc-all" or "cdt";
        var pending = limits.Where(l => !Done(algorithm, l, seed)).ToArray();
        foreach (var group in sharedTraining ? (pending.Length > 0 ? [pending] : []) : pending.Select(l => new[] { l }))
        {
            var seeds = new SeedStreams((ulong)(1000 + seed));
            var context = new LearnerContext(evalEnv.ObservationSpace, evalEnv.ActionSpace, seeds, horizon, task);
            using var learner = Create(algorithm, context, group[0]);
            learner.Attach(dataset);
            int steps = budgets[algorithm];
            var watch = Stopwatch.StartNew();
            var last = learner.Train(steps);
            double trainSeconds = watch.Elapsed.TotalSeconds;
            ulong evalSeed = seeds.Derive("eval");
            foreach (var (limit, fraction) in group.SelectMany(l => (learner.Policy is CdtPolicy ? cdtTargetFractions : [1.0]).Select(f => (l, f))))
            {
                EvaluationResult result;
                string rowName = fraction == 1 ? algorithm : $"{algorithm}-r{fraction.ToString(CultureInfo.InvariantCulture)}";
                if (learner.Policy is CdtPolicy cdt)
                {
                    cdt.TargetReturn = fraction * TargetReturn(limit);
                    cdt.TargetCost = limit;
                    result = EvaluateCdt(cdt, evalEnv, evalEpisodes, limit, evalSeed, reference);
                }
                else result = PolicyEvaluator.Evaluate(learner.Policy, evalEnv, evalEpisodes, limit, evalSeed, reference: reference);
                var run = new Run(rowName, limit, seed, steps, trainSeconds, result.MeanReturn, result.MeanCost, result.NormalizedReward, result.NormalizedCost);
                runs.Add(run);
                csv.Append(CultureInfo.InvariantCulture, $"{rowName},{limit},{seed},{steps},{trainSeconds:F2},{1000 * trainSeconds / Math.Max(steps, 1):F2},")
                   .Append(CultureInfo.InvariantCulture, $"{result.MeanReturn:F2},{result.StdReturn:F2},{result.MeanCost:F2},{result.StdCost:F2},")
                   .Append(CultureInfo.InvariantCulture, $"{result.NormalizedReward:F4},{result.NormalizedCost:F4},{result.IsSafe}\n");
                WriteAtomically(runsFile, csv.ToString());   // rewritten after every run: partial results survive
                Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1}s] {rowName,-9} κ={limit,-3} seed {seed}: {steps} steps in {trainSeconds,5:F1}s, " +
                                  $"return {result.MeanReturn,6:F1} cost {result.MeanCost,6:F1} → norm. reward {result.NormalizedReward,6:F3} norm. cost {result.NormalizedCost,5:F2}");
            }
            Console.WriteLine("           last update: " + string.Join(" ", last.Select(kv => $"{kv.Key}={kv.Value:G3}")));
        }
    }

// 3. Summary table (CDT evaluated at other return targets adds its cdt-r<f> rows after CDT's).
if (!summarizeOnly && algorithms.Contains("cdt"))
{
    var extra = cdtTargetFractions.Where(f => f != 1).Select(f => $"cdt-r{f.ToString(CultureInfo.InvariantCulture)}").ToArray();
    foreach (var row in extra) budgets[row] = budgets["cdt"];
    algorithms = algorithms.SelectMany(a => a == "cdt" ? new[] { a }.Concat(extra) : [a]).ToArray();
}
var md = new StringBuilder();
var withinLimits = string.Join(", ", limits.Select(l =>
{
    var within = episodes.Where(e => e.Cost <= l).ToArray();
    return within.Length == 0 ? $"none with C ≤ {l}"
        : $"{within.Length} with C ≤ {l} (return mean {within.Average(e => e.Return):F0}, max {within.Max(e => e.Return):F0})";
}));
var source = datasetPath is null ? $"generated with seed {datasetSeed}" : $"read from {Path.GetFileName(datasetPath)}";
md.AppendLine(CultureInfo.InvariantCulture, $"Dataset: {task}, {episodes.Count} episodes {source} ({dataset.Count} transitions); " +
              $"episode cost {episodes.Min(e => e.Cost):F0}–{episodes.Max(e => e.Cost):F0} (median {Median(episodes.Select(e => e.Cost)):F0}), " +
              $"return {episodes.Min(e => e.Return):F0}–{episodes.Max(e => e.Return):F0}; episodes {withinLimits}.");
md.AppendLine();
var stepList = string.Join(", ", algorithms.Select(a => $"{Name(a)} {budgets[a]}"));
var timeNote = summarizeOnly ? $"Summed training time {runs.Sum(r => r.TrainSeconds) / 60:F1} min." : $"Total wall time {clock.Elapsed.TotalMinutes:F1} min.";
var cdtNote = algorithms.Contains("cdt") ? $" CDT: E 64, 2 layers, 4 heads, batch {cdtBatch}, warm-up {Math.Clamp(budgets["cdt"] / 4, 1, 500)} steps, {(cdtAugmentation > 0 ? $"relabelling augmentation {cdtAugmentation}" : "no augmentation")}, target return = {(cdtTargetFractions is [1.0] ? "" : "f × ")}best dataset return within κ{(cdtTargetFractions is [1.0] ? "" : " (rows cdt-r<f>; CDT: f = 1)")}." : "";
md.AppendLine(CultureInfo.InvariantCulture, $"Budgets: hidden {string.Join("×", hidden)} (VAE hidden {hidden[0]}), batch {batch}, one torch thread; steps " +
              $"{stepList}; {seedCount} seeds; {evalEpisodes} deterministic evaluation episodes per run.{cdtNote} {timeNote}");
md.AppendLine();
md.AppendLine("Cells: normalized reward / normalized cost, mean ± sample std over seeds (normalized cost = C/κ with C the mean episode cost; ≤ 1 is within the limit, **bold** when the mean over seeds is over it).");
md.AppendLine();
md.Append("| Algorithm | Steps |");
foreach (var l in limits) md.Append(CultureInfo.InvariantCulture, $" κ = {l} |");
md.AppendLine(" Mean over limits |");
md.Append("|---|---:|");
foreach (var _ in limits) md.Append("---:|");
md.AppendLine("---:|");
foreach (var algorithm in algorithms)
{
    md.Append(CultureInfo.InvariantCulture, $"| {Name(algorithm)} | {budgets[algorithm]} |");
    foreach (var l in limits)
    {
        var cell = runs.Where(r => r.Algorithm == algorithm && r.Limit == l).ToArray();
        md.Append(' ').Append(Cell(cell.Select(r => r.NormalizedReward), cell.Select(r => r.NormalizedCost))).Append(" |");
    }
    // Mean over limits per seed, then mean ± std over seeds.
    var bySeed = runs.Where(r => r.Algorithm == algorithm).GroupBy(r => r.Seed).ToArray();
    md.Append(' ').Append(Cell(bySeed.Select(g => g.Average(r => r.NormalizedReward)), bySeed.Select(g => g.Average(r => r.NormalizedCost)))).AppendLine(" |");
}
md.AppendLine();
md.AppendLine("Mean episode cost (raw) per limit, mean over seeds:");
md.AppendLine();
md.Append("| Algorithm |");
foreach (var l in limits) md.Append(CultureInfo.InvariantCulture, $" κ = {l} |");
md.AppendLine(" train s/run |");
md.Append("|---|");
foreach (var _ in limits) md.Append("---:|");
md.AppendLine("---:|");
foreach (var algorithm in algorithms)
{
    md.Append(CultureInfo.InvariantCulture, $"| {Name(algorithm)} |");
    foreach (var l in limits)
        md.Append(CultureInfo.InvariantCulture, $" {MeanStd(runs.Where(r => r.Algorithm == algorithm && r.Limit == l).Select(r => r.MeanCost).ToArray()).Mean:F1} |");
    md.AppendLine(CultureInfo.InvariantCulture, $" {runs.Where(r => r.Algorithm == algorithm).Average(r => r.TrainSeconds):F0} |");
}
File.WriteAllText(Path.Combine(outputDir, "summary.md"), md.ToString());
Console.WriteLine();
Console.WriteLine(md.ToString());
Console.WriteLine($"Wrote {Path.Combine(outputDir, "runs.csv")} and summary.md in {clock.Elapsed.TotalMinutes:F1} min.");
return 0;

IOfflineSafeLearner Create(string algorithm, LearnerContext context, double limit) => algorithm switch
{
    "bc-all" => new BcLearner(context, new BcOptions { Mode = BcMode.All, CostLimit = limit, HiddenSizes = hidden, BatchSize = batch }),
    "bc-safe" => new BcLearner(context, new BcOptions { Mode = BcMode.Safe, CostLimit = limit, HiddenSizes = hidden, BatchSize = batch }),
    "cpq" => new CpqLearner(context, new CpqOptions
    {
        CostLimit = limit, ActorHiddenSizes = hidden, CriticHiddenSizes = hidden, VaeHiddenSize = hidden[0], BatchSize = batch, Tau = tau,
        UnsafeCostDescentWeight = cpqUnsafeDescent, ReferenceOodPenaltyWithoutGradient = cpqReferenceOod,
        ReferenceOodMeanOverAllSamples = cpqOodAllSamples, CostEnsembleReduction = cpqCostReduction,
    }),
    "bear-lag" => new BearLagLearner(context, new BearLagOptions
    {
        CostLimit = limit, ActorHiddenSizes = hidden, CriticHiddenSizes = hidden, VaeHiddenSize = hidden[0], BatchSize = batch, Tau = tau,
        ConstraintStates = bearConstraintStates,
    }),
    "bcq-lag" => new BcqLagLearner(context, new BcqLagOptions
    {
        CostLimit = limit, ActorHiddenSizes = hidden, CriticHiddenSizes = hidden, VaeHiddenSize = hidden[0], BatchSize = batch,
        SelectionCandidates = bcqCandidates, Tau = tau, CostCriticsPerGroup = bcqCostCritics,
        ReferenceCostBackupMaxOverSamples = bcqCostBackupMax, ConstraintStates = bcqConstraintStates,
    }),
    "coptidice" => new COptiDiceLearner(context, new COptiDiceOptions
    {
        CostLimit = limit, ActorHiddenSizes = hidden, ValueHiddenSizes = hidden, BatchSize = batch,
        ActorLearningRate = coptiLr, CriticLearningRate = coptiLr, ScalarLearningRate = coptiScalarLr,
    }),
    // CDT: a much smaller transformer than OSRL's (E = 64, 2 layers, 4 heads, batch --cdt-batch instead of 128/3/8/2048: one
    // default-size update takes seconds on one core) and a warm-up of a quarter of the budget (at most OSRL's 500 steps).
    // The target return is the best return among dataset episodes within the limit (OSRL also picks targets per task and limit).
    "cdt" => new CdtLearner(context, new CdtOptions
    {
        CostLimit = limit, TargetReturn = TargetReturn(limit), EmbeddingSize = 64, Layers = 2, Heads = 4, BatchSize = cdtBatch,
        WarmupSteps = Math.Clamp(budgets["cdt"] / 4, 1, 500), AugmentationFraction = cdtAugmentation,
    }),
    _ => throw new ArgumentException($"unknown algorithm '{algorithm}'"),
};

double TargetReturn(double limit)
{
    var within = episodes.Where(e => e.Cost <= limit).ToArray();
    return within.Length > 0 ? within.Max(e => e.Return) : episodes.Min(e => e.Return);
}

// CDT's policy needs each step's reward and cost to update its return- and cost-to-go (IPolicy carries none),
// so it gets its own loop; episode bookkeeping follows PolicyEvaluator (environment i runs episodes i, i + N, …).
static EvaluationResult EvaluateCdt(CdtPolicy policy, VectorEnvironment env, int count, double limit, ulong seed, TaskScoreReference reference)
{
    int n = env.Count;
    var obs = new float[n * env.ObservationSpace.Dimension];
    var actions = new float[n * env.ActionSpace.Dimension];
    var results = new StepResult[n];
    var finished = new List<(int Index, EpisodeSummary Episode)>();
    var quota = Enumerable.Range(0, n).Select(i => count / n + (i < count % n ? 1 : 0)).ToArray();
    var perEnv = Enumerable.Range(0, n).Select(_ => new List<EpisodeSummary>()).ToArray();
    env.Reset(seed, obs);
    for (int i = 0; i < n; i++) policy.OnEpisodeStart(i);
    while (Enumerable.Range(0, n).Any(i => perEnv[i].Count < quota[i]))
    {
        policy.Act(obs, actions, deterministic: true);
        finished.Clear();
        env.Step(actions, obs, results, finished);
        for (int i = 0; i < n; i++) policy.Record(i, results[i].Reward, results[i].Cost);
        foreach (var (index, episode) in finished)
        {
            if (perEnv[index].Count < quota[index]) perEnv[index].Add(episode);
            policy.OnEpisodeStart(index);
        }
    }
    var list = perEnv.SelectMany(e => e).ToList();
    double meanR = list.Average(e => e.Return), meanC = list.Average(e => e.Cost);
    double stdR = Math.Sqrt(list.Average(e => (e.Return - meanR) * (e.Return - meanR)));
    double stdC = Math.Sqrt(list.Average(e => (e.Cost - meanC) * (e.Cost - meanC)));
    return new EvaluationResult(list, meanR, stdR, meanC, stdC, list.Average(e => e.Length), limit,
        NormalizedScore.Reward(meanR, reference), NormalizedScore.Cost(meanC, limit));
}

static string Name(string algorithm) => algorithm switch
{
    "bc-all" => "BC-All", "bc-safe" => "BC-Safe", "cpq" => "CPQ", "bear-lag" => "BEAR-Lag", "bcq-lag" => "BCQ-Lag",
    "coptidice" => "COptiDICE", "cdt" => "CDT",
    // Variants relabelled in merged tables (--summarize): the same learner with a non-default option.
    "cpq-descent" => "CPQ + cost descent (w = 1)", "bear-lag-starts" => "BEAR-Lag, PID at episode starts", "cdt-2000" => "CDT, 2 000 updates",
    _ when algorithm.StartsWith("cdt-r", StringComparison.Ordinal) => $"CDT, target return × {algorithm[5..]}",
    _ => algorithm,
};

static CostConstraintStates ConstraintStates(string value, CostConstraintStates fallback) => value switch
{
    "" => fallback,
    "batch" => CostConstraintStates.Batch,
    "episode-starts" => CostConstraintStates.EpisodeStarts,
    _ => throw new ArgumentException($"unknown constraint states '{value}'; use batch or episode-starts."),
};

static string Cell(IEnumerable<double> rewards, IEnumerable<double> costs)
{
    var (rm, rs) = MeanStd(rewards.ToArray());
    var (cm, cs) = MeanStd(costs.ToArray());
    string cost = $"{cm:F2} ± {cs:F2}";
    return $"{rm:F3} ± {rs:F3} / {(cm > 1 ? $"**{cost}**" : cost)}";
}

// A crash while writing never leaves a half-written runs.csv that a resumed run would read.
static void WriteAtomically(string path, string text)
{
    string temporary = path + ".tmp";
    File.WriteAllText(temporary, text);
    File.Move(temporary, path, overwrite: true);
}

static (double Mean, double Std) MeanStd(double[] values)
{
    if (values.Length == 0) return (double.NaN, double.NaN);
    double mean = values.Average();
    return (mean, values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0);
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
}

internal sealed record Run(string Algorithm, double Limit, int Seed, int Steps, double TrainSeconds, double MeanReturn, double MeanCost,
    double NormalizedReward, double NormalizedCost);

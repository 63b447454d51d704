// Q-bias evidence for value pre-alignment: CPQ on a built-in BallCircle dataset → Q-bias of the artifact's critics against
// Monte-Carlo rollouts of its own policy → VPA → Q-bias again. Writes per-state CSV, a summary and a PNG (Q vs Monte-Carlo).
// Usage: dotnet run -c Release --project samples/Marvel.QBias -- <outputDir> [small|large] [seed]
//   small: 40 episodes, γ 0.9, [64, 64], 300 CPQ steps, 800 VPA calls (τ 0.02), 32 states × 8 rollouts (≈ 1 min)
//   large: 200 episodes, γ 0.99, [128, 128], 3000 CPQ steps, the reference's 5000 VPA calls (τ 0.005), 64 states × 8 rollouts
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Alignment;
using Marvel.Core.Data;
using Marvel.Core.Environments.Tasks;
using TorchSharp;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Marvel.QBias <outputDir> [small|large] [seed]");
    return 2;
}
torch.set_num_threads(1);
string outDir = args[0];
string size = args.Length > 1 ? args[1] : "small";
ulong seed = args.Length > 2 ? ulong.Parse(args[2], CultureInfo.InvariantCulture) : 5;
bool large = size switch
{
    "small" => false,
    "large" => true,
    _ => throw new ArgumentException($"size must be 'small' or 'large', not '{size}'"),
};
Directory.CreateDirectory(outDir);
int episodes = large ? 200 : 40, cpqSteps = large ? 3000 : 300, vpaCalls = large ? 5000 : 800, states = large ? 64 : 32;
int[] hidden = large ? [128, 128] : [64, 64];
double gamma = large ? 0.99 : 0.9, vpaTau = large ? 0.005 : 0.02;

var clock = Stopwatch.StartNew();
var seeds = new SeedStreams(seed);
var dataset = DatasetCollector.GenerateBuiltIn("BallCircle", episodes, seeds.Derive("dataset"));
var env = new BallCircle();
var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, seeds, env.Spec.MaxEpisodeSteps, "BallCircle");
using var cpq = new CpqLearner(context, new CpqOptions
{
    CostLimit = 20, Gamma = gamma, ActorHiddenSizes = hidden, CriticHiddenSizes = hidden, VaeHiddenSize = hidden[0], BatchSize = 256,
});
cpq.Attach(dataset);
cpq.Train(cpqSteps);
var artifact = cpq.ExportHandover();
Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F0}s] CPQ: {cpqSteps} steps on {dataset.Count} transitions");
var diagnostics = new QBiasOptions { StateCount = states, RolloutsPerState = 8, Seed = seed };
var before = QBiasDiagnostics.Measure(artifact, dataset, () => new BallCircle(), diagnostics);
Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F0}s] before: reward {before.Reward}\n        cost {before.Cost}");
var aligned = new ValuePreAligner(new ValuePreAlignmentOptions { Steps = vpaCalls, Tau = vpaTau })
    .Align(artifact, dataset, context with { Seeds = seeds.Fork("vpa") });
var after = QBiasDiagnostics.Measure(aligned.Artifact, dataset, () => new BallCircle(), diagnostics);
Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F0}s] after {vpaCalls} VPA calls: reward {after.Reward}\n        cost {after.Cost}");

var csv = new StringBuilder("state,reward_q_before,reward_q_after,reward_mc,cost_q_before,cost_q_after,cost_mc\n");
for (int i = 0; i < before.RewardQ.Length; i++)
    csv.AppendLine(FormattableString.Invariant(
        $"{i},{before.RewardQ[i]:G6},{after.RewardQ[i]:G6},{before.RewardMonteCarlo[i]:G6},{before.CostQ[i]:G6},{after.CostQ[i]:G6},{before.CostMonteCarlo[i]:G6}"));
File.WriteAllText(Path.Combine(outDir, "per-state.csv"), csv.ToString());
var summary = new StringBuilder();
summary.AppendLine(CultureInfo.InvariantCulture, $"setting: {size}, seed {seed}, γ {gamma}, hidden [{string.Join(", ", hidden)}], CPQ {cpqSteps} steps, VPA {vpaCalls} calls (τ {vpaTau}), {states} states × 8 rollouts");
summary.AppendLine(CultureInfo.InvariantCulture, $"reward before: {before.Reward}");
summary.AppendLine(CultureInfo.InvariantCulture, $"reward after:  {after.Reward}");
summary.AppendLine(CultureInfo.InvariantCulture, $"cost before:   {before.Cost}");
summary.AppendLine(CultureInfo.InvariantCulture, $"cost after:    {after.Cost}");
File.WriteAllText(Path.Combine(outDir, "summary.txt"), summary.ToString());

Panel("reward", before.RewardMonteCarlo, before.RewardQ, after.RewardQ, before.Reward, after.Reward);
Panel("cost", before.CostMonteCarlo, before.CostQ, after.CostQ, before.Cost, after.Cost);
Console.WriteLine($"Wrote per-state.csv, summary.txt, qbias-reward.png and qbias-cost.png to {outDir} in {clock.Elapsed.TotalSeconds:F0} s.");
return 0;

void Panel(string name, double[] mc, double[] qBefore, double[] qAfter, QBiasSummary sBefore, QBiasSummary sAfter)
{
    var plot = new ScottPlot.Plot();
    var b = plot.Add.ScatterPoints(mc, qBefore);
    b.LegendText = FormattableString.Invariant($"before alignment (mean |rel. bias| {sBefore.MeanAbsoluteRelativeBias:F3})");
    var a = plot.Add.ScatterPoints(mc, qAfter);
    a.LegendText = FormattableString.Invariant($"after alignment (mean |rel. bias| {sAfter.MeanAbsoluteRelativeBias:F3})");
    double lo = mc.Concat(qBefore).Concat(qAfter).Min(), hi = mc.Concat(qBefore).Concat(qAfter).Max();
    var diagonal = plot.Add.Line(lo, lo, hi, hi);
    diagonal.LegendText = "Q = Monte-Carlo";
    diagonal.LinePattern = ScottPlot.LinePattern.Dashed;
    plot.Title($"CPQ critic on BallCircle ({name}): Q(s, a) vs the policy's Monte-Carlo value");
    plot.XLabel("Monte-Carlo discounted " + name + " (scaled)");
    plot.YLabel("critic Q(s, a₀)");
    plot.ShowLegend();
    plot.SavePng(Path.Combine(outDir, $"qbias-{name}.png"), 800, 600);
}

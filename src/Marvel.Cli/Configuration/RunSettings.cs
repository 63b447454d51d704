using Marvel.Core.Hosting;
using Microsoft.Extensions.Configuration;

namespace Marvel.Cli.Configuration;

/// <summary>
/// The tool's own settings, section <c>Run</c>: which catalog components make up the pipeline, where the dataset comes
/// from, and how the process runs. Everything else is a library option under <c>Marvel:</c>.
/// </summary>
public sealed class RunSettings
{
    /// <summary>The configuration section, "Run".</summary>
    public const string SectionName = "Run";

    /// <summary>Offline learner name in the catalog. Default "CPQ".</summary>
    public string Offline { get; set; } = MarvelComponentNames.Cpq;

    /// <summary>Value aligner name. Default "VPA".</summary>
    public string Aligner { get; set; } = MarvelComponentNames.ValuePreAlignment;

    /// <summary>Lagrange controller name. Default "aPID".</summary>
    public string Controller { get; set; } = MarvelComponentNames.AdaptivePid;

    /// <summary>Online learner name. Default "SAC-Lag".</summary>
    public string Online { get; set; } = MarvelComponentNames.SacLag;

    /// <summary>
    /// A handover artifact folder to start from instead of training offline (what <c>finetune --artifact</c> does), so that
    /// several rows of a sweep can share one offline stage. Empty (default): train <see cref="Offline"/>. In a sweep file
    /// the value may hold <c>{output}</c>, <c>{task}</c>, <c>{seed}</c>, <c>{costLimit}</c> and any other axis name in braces,
    /// e.g. <c>"{output}/{task}_Offline-CPQ_cost{costLimit}_seed{seed}/handover"</c>.
    /// </summary>
    public string? Artifact { get; set; }

    /// <summary>A DSRL HDF5 file; when empty the built-in cost-sweep dataset of the task is generated.</summary>
    public string? Dataset { get; set; }

    /// <summary>Episodes of the generated dataset (≥ 10). Default 200.</summary>
    public int DatasetEpisodes { get; set; } = 200;

    /// <summary>Seed of the generated dataset; the same for every run seed, as a DSRL file is. Default 0.</summary>
    public ulong DatasetSeed { get; set; }

    /// <summary>TorchSharp threads of this process. Default 1 (more threads are slower for these small networks).</summary>
    public int Threads { get; set; } = 1;

    /// <summary>Write TensorBoard event files under <c>tensorboard/</c> of the run. Default true.</summary>
    public bool TensorBoard { get; set; } = true;

    /// <summary>
    /// After the run, measure the Q bias (critic value against Monte-Carlo rollouts of the artifact's own policy,
    /// <c>QBiasDiagnostics</c>) of <c>handover/</c> and <c>aligned/</c>: written to <c>qbias.json</c> and TensorBoard. Default true.
    /// </summary>
    public bool QBias { get; set; } = true;

    /// <summary>Dataset states of the Q-bias measurement (each rolled out 4 times). Default 64.</summary>
    public int QBiasStates { get; set; } = 64;

    /// <summary>
    /// At the end of the run (after the Q-bias measurement), draw <c>plots/return.png</c>, <c>cost.png</c>, <c>lambda.png</c> and
    /// <c>qbias.png</c> from the run's metrics and <c>qbias.json</c> (what <c>marvel plot</c> does). Default true.
    /// </summary>
    public bool Plots { get; set; } = true;

    /// <summary>Row label of the run in reports; default "offline+aligner+controller+online".</summary>
    public string? Label { get; set; }

    /// <summary>The label used in reports.</summary>
    public string EffectiveLabel => string.IsNullOrWhiteSpace(Label) ? $"{Offline}+{Aligner}+{Controller}+{Online}" : Label;

    internal static RunSettings Bind(IConfigurationSection section)
    {
        var settings = new RunSettings();
        try
        {
            section.Bind(settings, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException($"bad configuration: section '{SectionName}': {e.Message} Known keys: {string.Join(", ", typeof(RunSettings).GetProperties().Where(p => p.CanWrite).Select(p => p.Name))}.", e);
        }
        var failures = new List<string>();
        if (settings.DatasetEpisodes < 10) failures.Add($"Run:DatasetEpisodes must be >= 10, got {settings.DatasetEpisodes}.");
        if (settings.Threads < 1) failures.Add($"Run:Threads must be >= 1, got {settings.Threads}.");
        if (settings.QBiasStates < 1) failures.Add($"Run:QBiasStates must be >= 1, got {settings.QBiasStates}.");
        if (!string.IsNullOrEmpty(settings.Artifact))
        {
            if (settings.Artifact.Contains('{', StringComparison.Ordinal))
                failures.Add($"Run:Artifact '{settings.Artifact}' still holds a '{{placeholder}}'; placeholders are replaced only in sweep files, by axis names ({{task}}, {{seed}}, {{costLimit}}, …) and {{output}}.");
            else if (!Directory.Exists(settings.Artifact))
                failures.Add($"Run:Artifact: folder '{settings.Artifact}' does not exist. If another sweep or run produces it (a run's handover/ folder), run that one first.");
        }
        if (!string.IsNullOrEmpty(settings.Dataset) && !File.Exists(settings.Dataset))
            failures.Add($"Run:Dataset: file '{settings.Dataset}' does not exist.");
        if (failures.Count > 0) throw new UsageException("bad configuration: " + string.Join(" ", failures));
        return settings;
    }

    internal void ValidateNames(IMarvelComponents components)
    {
        var failures = new List<string>();
        void Check(MarvelComponentKind kind, string key, string value)
        {
            var known = components.Names(kind);
            if (!known.Contains(value, StringComparer.Ordinal))
                failures.Add($"Run:{key} '{value}' is not a registered {Words(kind)}; registered: {string.Join(", ", known)}.");
        }
        Check(MarvelComponentKind.OfflineLearner, nameof(Offline), Offline);
        Check(MarvelComponentKind.ValueAligner, nameof(Aligner), Aligner);
        Check(MarvelComponentKind.LagrangeController, nameof(Controller), Controller);
        Check(MarvelComponentKind.OnlineLearner, nameof(Online), Online);
        if (failures.Count > 0) throw new UsageException("bad configuration: " + string.Join(" ", failures));
    }

    private static string Words(MarvelComponentKind kind) => kind switch
    {
        MarvelComponentKind.OfflineLearner => "offline learner",
        MarvelComponentKind.OnlineLearner => "online learner",
        MarvelComponentKind.ValueAligner => "value aligner",
        MarvelComponentKind.LagrangeController => "Lagrange controller",
        _ => "environment",
    };
}

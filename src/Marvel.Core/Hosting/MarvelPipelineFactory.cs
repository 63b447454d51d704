using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Environments;
using Marvel.Core.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Hosting;

/// <summary>
/// Builds a <see cref="MarvelPipeline"/> from components named in the catalog (<see cref="IMarvelComponents"/>), with
/// options bound from configuration ("Marvel:Pipeline", "Marvel:SacLag", …). Registered by <c>AddMarvel</c>.
/// </summary>
/// <example>
/// <code>
/// var pipeline = provider.GetRequiredService&lt;MarvelPipelineFactory&gt;().Create(offline: "BEAR-Lag", controller: "PID");
/// var result = pipeline.Run(dataset);
/// </code>
/// </example>
public sealed class MarvelPipelineFactory
{
    private readonly IMarvelComponents _components;
    private readonly IOptionsMonitor<MarvelPipelineOptions> _pipelineOptions;
    private readonly IOptionsMonitor<SacLagOptions> _sacLagOptions;
    private readonly ILogger _logger;

    /// <summary>Created by dependency injection when no <see cref="ILoggerFactory"/> is registered: pipelines log to <see cref="NullLogger"/>.</summary>
    /// <param name="components">The component catalog.</param>
    /// <param name="pipelineOptions">The "Marvel:Pipeline" options.</param>
    /// <param name="sacLagOptions">The "Marvel:SacLag" options (checked for null; the SAC-Lag learner now reads them through the catalog's
    /// factory, like every online method).</param>
    public MarvelPipelineFactory(IMarvelComponents components, IOptionsMonitor<MarvelPipelineOptions> pipelineOptions, IOptionsMonitor<SacLagOptions> sacLagOptions)
        : this(components, pipelineOptions, sacLagOptions, (ILogger)NullLogger.Instance)
    {
    }

    /// <summary>Created by dependency injection when the host registers logging (<c>services.AddLogging()</c>): every pipeline it creates
    /// logs through a logger of category <c>Marvel.Core.Pipeline.MarvelPipeline</c> (<see cref="MarvelPipeline.Logger"/>).</summary>
    /// <param name="components">The component catalog.</param>
    /// <param name="pipelineOptions">The "Marvel:Pipeline" options.</param>
    /// <param name="sacLagOptions">The "Marvel:SacLag" options (checked for null; the SAC-Lag learner now reads them through the catalog's
    /// factory, like every online method).</param>
    /// <param name="loggerFactory">The host's logger factory.</param>
    public MarvelPipelineFactory(IMarvelComponents components, IOptionsMonitor<MarvelPipelineOptions> pipelineOptions, IOptionsMonitor<SacLagOptions> sacLagOptions,
        ILoggerFactory loggerFactory)
        : this(components, pipelineOptions, sacLagOptions, (loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory))).CreateLogger<MarvelPipeline>())
    {
    }

    private MarvelPipelineFactory(IMarvelComponents components, IOptionsMonitor<MarvelPipelineOptions> pipelineOptions, IOptionsMonitor<SacLagOptions> sacLagOptions,
        ILogger logger)
    {
        _logger = logger;
        ArgumentNullException.ThrowIfNull(components);
        ArgumentNullException.ThrowIfNull(pipelineOptions);
        ArgumentNullException.ThrowIfNull(sacLagOptions);
        _components = components;
        _pipelineOptions = pipelineOptions;
        _sacLagOptions = sacLagOptions;
    }

    /// <summary>Composes a pipeline: offline learner × aligner × controller × online learner, all by catalog name.</summary>
    /// <param name="options">Pipeline options; the configured ones ("Marvel:Pipeline") when null.</param>
    /// <param name="offline">Offline learner name (default Marvel's: "CPQ").</param>
    /// <param name="aligner">Value aligner name (default "VPA").</param>
    /// <param name="controller">Lagrange controller name (default "aPID"); its CostLimit must equal the pipeline's.</param>
    /// <param name="online">Online learner name (default "SAC-Lag"); built through its factory for the handover artifact's manifest, so
    /// SAC-Lag takes its network sizes, γ and scales from the artifact.</param>
    /// <exception cref="ArgumentException">A name is unknown (the message lists the registered ones), the task is not a registered
    /// environment, or the offline learner's or the controller's CostLimit disagrees with the pipeline's (the message names every
    /// disagreeing setting, e.g. <c>Marvel:Cpq:CostLimit (CpqOptions.CostLimit) = 10</c>).</exception>
    public MarvelPipeline Create(MarvelPipelineOptions? options = null, string offline = MarvelComponentNames.Cpq, string aligner = MarvelComponentNames.ValuePreAlignment,
        string controller = MarvelComponentNames.AdaptivePid, string online = MarvelComponentNames.SacLag)
    {
        var o = options ?? _pipelineOptions.CurrentValue;
        EnsureKnown(MarvelComponentKind.OfflineLearner, offline);
        EnsureKnown(MarvelComponentKind.OnlineLearner, online);
        EnsureKnown(MarvelComponentKind.Environment, o.TaskId);
        // One budget per run: the offline learner's and the controller's limits must be the pipeline's, and all are named when not.
        var controllerInstance = _components.CreateController(controller);
        var limits = new List<(string Name, double CostLimit)>();
        if (_components is MarvelComponents catalog)
        {
            if (catalog.CostLimitSetting<IOfflineLearnerFactory>(MarvelComponentKind.OfflineLearner, offline) is { } offlineLimit) limits.Add(offlineLimit);
            limits.Add(catalog.CostLimitSetting<ILagrangeControllerFactory>(MarvelComponentKind.LagrangeController, controller)
                       ?? ($"the controller '{controller}' ({controllerInstance.GetType().Name}.CostLimit)", controllerInstance.CostLimit));
        }
        CostBudget.RequireAgreement(o.CostLimit, "Marvel pipeline (Marvel:Pipeline:CostLimit)", limits.ToArray());
        var environments = new EnvironmentRegistry();
        environments.Register(o.TaskId, () => _components.CreateEnvironment(o.TaskId));
        // Each online method sizes itself from the artifact's manifest through its factory (SAC-Lag: SacLagHandover.MatchArtifact).
        Func<LearnerContext, HandoverArtifact, IOnlineSafeLearner> onlineFactory = (context, artifact) =>
        {
            if (online == MarvelComponentNames.SacLag) WarnIfScalesAreReplaced(_sacLagOptions.CurrentValue, artifact.Manifest);
            return _components.CreateOnlineLearner(online, context, artifact.Manifest);
        };
        return new MarvelPipeline(o, context => _components.CreateOfflineLearner(offline, context), _components.CreateAligner(aligner),
            controllerInstance, onlineFactory, environments) { Logger = _logger };
    }

    // SacLagHandover.MatchArtifact replaces SAC-Lag's reward and cost scales and network sizes with the artifact's (its networks were
    // trained at them), so those set under Marvel:SacLag have no effect. Said once per run when the configured value is not the default and differs from the
    // artifact's (a default left alone is not the user's choice).
    private void WarnIfScalesAreReplaced(SacLagOptions configured, HandoverManifest manifest)
    {
        var defaults = new SacLagOptions();
        foreach (var (name, value, fallback, used) in new[]
                 {
                     ("RewardScale", configured.RewardScale, defaults.RewardScale, manifest.RewardScale),
                     ("CostScale", configured.CostScale, defaults.CostScale, manifest.CostScale),
                 })
        {
            if (value != fallback && value != used)
                _logger.LogWarning(
                    "Marvel:SacLag:{Name} = {Value} is not used: the online stage takes the handover artifact's {Name} ({Used}, from {Algorithm}), because the handed-over critics were trained at it. Set the offline learner's {Name} instead (e.g. Marvel:BearLag:{Name} or Marvel:Cpq:{Name}).",
                    name, value.ToString(System.Globalization.CultureInfo.InvariantCulture), name, used.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    manifest.Algorithm, name, name, name);
        }
        foreach (var (name, value, fallback, role) in new[]
                 {
                     ("ActorHiddenSizes", configured.ActorHiddenSizes, defaults.ActorHiddenSizes, HandoverRoles.Actor),
                     ("CriticHiddenSizes", configured.CriticHiddenSizes, defaults.CriticHiddenSizes, HandoverRoles.RewardCritic),
                     ("CostCriticHiddenSizes", configured.CostCriticHiddenSizes, defaults.CostCriticHiddenSizes, HandoverRoles.CostCritic),
                 })
        {
            if (!manifest.Networks.TryGetValue(role, out var descriptor)) continue;   // MatchArtifact refuses the artifact with the reason
            if (!value.SequenceEqual(fallback) && !value.SequenceEqual(descriptor.HiddenSizes))
                _logger.LogWarning(
                    "Marvel:SacLag:{Name} = [{Value}] is not used: the online stage takes the handover artifact's sizes ([{Used}], from {Algorithm}), because it starts from the artifact's networks. Set the offline learner's sizes instead.",
                    name, string.Join(", ", value), string.Join(", ", descriptor.HiddenSizes), manifest.Algorithm);
        }
    }

    private void EnsureKnown(MarvelComponentKind kind, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var known = _components.Names(kind);
        if (!known.Contains(name, StringComparer.Ordinal))
            throw new ArgumentException($"Marvel pipeline: no {kind} named '{name}' is registered. Registered: {string.Join(", ", known)}.", nameof(name));
    }
}

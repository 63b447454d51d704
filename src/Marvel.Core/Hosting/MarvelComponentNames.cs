namespace Marvel.Core.Hosting;

/// <summary>The kinds of component Marvel resolves by name.</summary>
public enum MarvelComponentKind
{
    /// <summary>An <see cref="IOfflineLearnerFactory"/>.</summary>
    OfflineLearner,
    /// <summary>An <see cref="IOnlineLearnerFactory"/>.</summary>
    OnlineLearner,
    /// <summary>An <see cref="ILagrangeControllerFactory"/>.</summary>
    LagrangeController,
    /// <summary>An <see cref="IValueAlignerFactory"/>.</summary>
    ValueAligner,
    /// <summary>An <see cref="IEnvironmentFactory"/>.</summary>
    Environment,
}

/// <summary>The names under which <c>AddMarvel</c> registers the built-in components (keys are case-sensitive).</summary>
public static class MarvelComponentNames
{
    /// <summary>Offline: Constraints Penalized Q-learning.</summary>
    public const string Cpq = "CPQ";
    /// <summary>Offline: behaviour cloning of every episode.</summary>
    public const string BcAll = "BC-All";
    /// <summary>Offline: behaviour cloning of the episodes with cost ≤ CostLimit.</summary>
    public const string BcSafe = "BC-Safe";
    /// <summary>Offline: BEAR with a Lagrangian cost constraint.</summary>
    public const string BearLag = "BEAR-Lag";
    /// <summary>Offline: BCQ with a Lagrangian cost constraint.</summary>
    public const string BcqLag = "BCQ-Lag";
    /// <summary>Offline: COptiDICE.</summary>
    public const string COptiDice = "COptiDICE";
    /// <summary>Offline: Constrained Decision Transformer.</summary>
    public const string Cdt = "CDT";
    /// <summary>Online: SAC with a Lagrange multiplier.</summary>
    public const string SacLag = "SAC-Lag";
    /// <summary>Online: PPO with a Lagrange multiplier.</summary>
    public const string PpoLag = "PPO-Lag";
    /// <summary>Controller: Marvel's adaptive PID Lagrangian.</summary>
    public const string AdaptivePid = "aPID";
    /// <summary>Controller: the fixed-gain PID Lagrangian.</summary>
    public const string Pid = "PID";
    /// <summary>Controller: projected gradient ascent on λ.</summary>
    public const string DualAscent = "DualAscent";
    /// <summary>Aligner: Marvel's value pre-alignment.</summary>
    public const string ValuePreAlignment = "VPA";
    /// <summary>Aligner: the identity (no alignment).</summary>
    public const string NoAlignment = "None";
    /// <summary>Environment: the built-in BallCircle task (docs/environments.md).</summary>
    public const string BallCircle = "BallCircle";
    /// <summary>Environment: the built-in BallRun task (docs/environments.md).</summary>
    public const string BallRun = "BallRun";
    /// <summary>Environment: the built-in CarCircle task (docs/environments.md).</summary>
    public const string CarCircle = "CarCircle";
    /// <summary>Environment: the built-in CarRun task (docs/environments.md).</summary>
    public const string CarRun = "CarRun";
    /// <summary>Environment: the built-in DroneCircle task (docs/environments.md).</summary>
    public const string DroneCircle = "DroneCircle";
    /// <summary>Environment: the built-in DroneRun task (docs/environments.md).</summary>
    public const string DroneRun = "DroneRun";
}

/// <summary>
/// Configuration section names read by <c>AddMarvel(configuration)</c>: the root section (<see cref="Root"/>) holds one
/// child per options type, e.g. <c>Marvel:Cpq:CostLimit</c>.
/// </summary>
public static class MarvelConfigurationSections
{
    /// <summary>The default root section, "Marvel".</summary>
    public const string Root = "Marvel";
    /// <summary>CpqOptions of "CPQ".</summary>
    public const string Cpq = "Cpq";
    /// <summary>BcOptions of "BC-All" (Mode is forced to All).</summary>
    public const string BcAll = "BcAll";
    /// <summary>BcOptions of "BC-Safe" (Mode is forced to Safe).</summary>
    public const string BcSafe = "BcSafe";
    /// <summary>BearLagOptions of "BEAR-Lag".</summary>
    public const string BearLag = "BearLag";
    /// <summary>BcqLagOptions of "BCQ-Lag".</summary>
    public const string BcqLag = "BcqLag";
    /// <summary>COptiDiceOptions of "COptiDICE".</summary>
    public const string COptiDice = "COptiDice";
    /// <summary>CdtOptions of "CDT".</summary>
    public const string Cdt = "Cdt";
    /// <summary>SacLagOptions of "SAC-Lag".</summary>
    public const string SacLag = "SacLag";
    /// <summary>PpoLagOptions of "PPO-Lag".</summary>
    public const string PpoLag = "PpoLag";
    /// <summary>AdaptivePidLagrangeOptions of "aPID".</summary>
    public const string AdaptivePid = "AdaptivePid";
    /// <summary>PidLagrangeOptions of "PID".</summary>
    public const string Pid = "Pid";
    /// <summary>DualAscentOptions of "DualAscent".</summary>
    public const string DualAscent = "DualAscent";
    /// <summary>ValuePreAlignmentOptions of "VPA".</summary>
    public const string ValuePreAlignment = "ValuePreAlignment";
    /// <summary>MarvelPipelineOptions of <see cref="MarvelPipelineFactory"/>.</summary>
    public const string Pipeline = "Pipeline";
}

/// <summary>One named component in the service collection; the catalog lists these to name the known components.</summary>
/// <param name="Kind">What it builds.</param>
/// <param name="Name">The key of its keyed factory.</param>
/// <param name="ImplementationType">The type it builds, for messages.</param>
/// <param name="IsBuiltIn">True for AddMarvel's defaults, which a user registration with the same name replaces.</param>
internal sealed record MarvelComponentRegistration(MarvelComponentKind Kind, string Name, Type ImplementationType, bool IsBuiltIn)
{
    public static string Describe(MarvelComponentKind kind) => kind switch
    {
        MarvelComponentKind.OfflineLearner => "offline learner",
        MarvelComponentKind.OnlineLearner => "online learner",
        MarvelComponentKind.LagrangeController => "Lagrange controller",
        MarvelComponentKind.ValueAligner => "value aligner",
        MarvelComponentKind.Environment => "environment",
        _ => kind.ToString(),
    };

    public static Type FactoryType(MarvelComponentKind kind) => kind switch
    {
        MarvelComponentKind.OfflineLearner => typeof(IOfflineLearnerFactory),
        MarvelComponentKind.OnlineLearner => typeof(IOnlineLearnerFactory),
        MarvelComponentKind.LagrangeController => typeof(ILagrangeControllerFactory),
        MarvelComponentKind.ValueAligner => typeof(IValueAlignerFactory),
        MarvelComponentKind.Environment => typeof(IEnvironmentFactory),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown component kind."),
    };

    public static string AddMethod(MarvelComponentKind kind) => kind switch
    {
        MarvelComponentKind.OfflineLearner => "AddOfflineLearner",
        MarvelComponentKind.OnlineLearner => "AddOnlineLearner",
        MarvelComponentKind.LagrangeController => "AddLagrangeController",
        MarvelComponentKind.ValueAligner => "AddValueAligner",
        MarvelComponentKind.Environment => "AddEnvironment",
        _ => kind.ToString(),
    };
}

namespace Marvel.Core.Hosting;

/// <summary>
/// Builds an offline safe-RL learner by name. Registered as a keyed singleton (key = <see cref="Name"/>); the learner it
/// builds is new on every call, because its network sizes depend on the spaces in the <see cref="LearnerContext"/>.
/// </summary>
public interface IOfflineLearnerFactory
{
    /// <summary>The registered name, e.g. "CPQ".</summary>
    string Name { get; }

    /// <summary>Builds a fresh learner for the spaces, seeds and device of <paramref name="context"/>.</summary>
    /// <param name="context">Spaces, seeds, device and task horizon of the run.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The configured options are invalid; the message lists every bad field.</exception>
    IOfflineSafeLearner Create(LearnerContext context);
}

/// <summary>Builds an online safe-RL learner by name; a keyed singleton like <see cref="IOfflineLearnerFactory"/>.</summary>
public interface IOnlineLearnerFactory
{
    /// <summary>The registered name, e.g. "SAC-Lag".</summary>
    string Name { get; }

    /// <summary>Builds a fresh learner for the spaces, seeds and device of <paramref name="context"/>.</summary>
    /// <param name="context">Spaces, seeds, device and task horizon of the run.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The configured options are invalid; the message lists every bad field.</exception>
    IOnlineSafeLearner Create(LearnerContext context);

    /// <summary>
    /// Builds a fresh learner that will start from a handover artifact with <paramref name="manifest"/>: a method whose networks must
    /// match the artifact's sizes it from the manifest (the built-in SAC-Lag takes the actor's and critics' sizes, ensemble sizes, γ and
    /// scales from it, <c>SacLagHandover.MatchArtifact</c>). The default ignores the manifest and calls <see cref="Create(LearnerContext)"/>.
    /// </summary>
    /// <param name="context">Spaces, seeds, device and task horizon of the run.</param>
    /// <param name="manifest">The manifest of the artifact the learner will be initialized from.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The configured options are invalid.</exception>
    /// <exception cref="InvalidDataException">The manifest lacks a network the method needs.</exception>
    IOnlineSafeLearner Create(LearnerContext context, HandoverManifest manifest) => Create(context);
}

/// <summary>Builds a Lagrange multiplier controller by name. Each call returns a new controller with λ at its initial value.</summary>
public interface ILagrangeControllerFactory
{
    /// <summary>The registered name, e.g. "aPID".</summary>
    string Name { get; }

    /// <summary>Builds a fresh controller (controllers carry state: one per run).</summary>
    ILagrangeController Create();
}

/// <summary>Builds a value aligner by name (the step between the offline export and the online start).</summary>
public interface IValueAlignerFactory
{
    /// <summary>The registered name, e.g. "VPA".</summary>
    string Name { get; }

    /// <summary>Builds an aligner.</summary>
    IValueAligner Create();
}

/// <summary>Builds an environment by name. Each call returns a new instance (environments are not thread-safe).</summary>
public interface IEnvironmentFactory
{
    /// <summary>The registered name, e.g. "BallCircle".</summary>
    string Name { get; }

    /// <summary>Builds a fresh environment instance.</summary>
    IEnvironment Create();
}

/// <summary>Factories backed by delegates: what every <c>AddXxx</c> registration produces.</summary>
internal sealed class DelegateOfflineLearnerFactory(string name, Func<LearnerContext, IOfflineSafeLearner> create) : IOfflineLearnerFactory, ICostLimitSetting
{
    public string Name { get; } = name;

    public Func<(string Name, double CostLimit)>? CostLimitSetting { get; init; }

    public IOfflineSafeLearner Create(LearnerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return create(context);
    }
}

internal sealed class DelegateOnlineLearnerFactory(string name, Func<LearnerContext, IOnlineSafeLearner> create,
    Func<LearnerContext, HandoverManifest, IOnlineSafeLearner>? createForManifest = null) : IOnlineLearnerFactory
{
    public string Name { get; } = name;

    public IOnlineSafeLearner Create(LearnerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return create(context);
    }

    public IOnlineSafeLearner Create(LearnerContext context, HandoverManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(manifest);
        return createForManifest is null ? create(context) : createForManifest(context, manifest);
    }
}

internal sealed class DelegateLagrangeControllerFactory(string name, Func<ILagrangeController> create) : ILagrangeControllerFactory, ICostLimitSetting
{
    public string Name { get; } = name;

    public Func<(string Name, double CostLimit)>? CostLimitSetting { get; init; }

    public ILagrangeController Create() => create();
}

internal sealed class DelegateValueAlignerFactory(string name, Func<IValueAligner> create) : IValueAlignerFactory
{
    public string Name { get; } = name;

    public IValueAligner Create() => create();
}

internal sealed class DelegateEnvironmentFactory(string name, Func<IEnvironment> create) : IEnvironmentFactory
{
    public string Name { get; } = name;

    public IEnvironment Create() => create();
}

/// <summary>A built-in factory whose options carry a <c>CostLimit</c>: where it is configured and its current value, read at start-up by
/// <see cref="MarvelPipelineFactory"/> to check that the run has one budget.</summary>
internal interface ICostLimitSetting
{
    Func<(string Name, double CostLimit)>? CostLimitSetting { get; }
}

using Marvel.Core.Algorithms.Offline.BcqLag;
using Marvel.Core.Algorithms.Offline.BearLag;
using Marvel.Core.Algorithms.Offline.BehaviorCloning;
using Marvel.Core.Algorithms.Offline.COptiDice;
using Marvel.Core.Algorithms.Offline.Cdt;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Alignment;
using Marvel.Core.Environments.Tasks;
using Marvel.Core.Hosting;
using Marvel.Core.Lagrange;
using Marvel.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Names = Marvel.Core.Hosting.MarvelComponentNames;
using Sections = Marvel.Core.Hosting.MarvelConfigurationSections;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Marvel.Core with a service collection: every built-in component by name, its options and their validators.</summary>
public static class MarvelServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Marvel catalog (<see cref="IMarvelComponents"/>), the built-in components under their names (offline learners
    /// "CPQ", "BC-All", "BC-Safe", "BEAR-Lag", "BCQ-Lag", "COptiDICE", "CDT"; online learners "SAC-Lag", "PPO-Lag"; controllers
    /// "aPID", "PID", "DualAscent"; aligners "VPA", "None"; environments "BallCircle", "BallRun", "CarCircle", "CarRun", "DroneCircle", "DroneRun") and
    /// one options type per component, each validated when the host starts (<c>ValidateOnStart</c>), every bad field listed.
    /// </summary>
    /// <remarks>
    /// Calling it twice is harmless. Built-ins are added with TryAdd semantics: a component of yours registered under a built-in
    /// name (before or after this call) replaces the built-in. Options keep the defaults of their records unless configured with
    /// the <see cref="AddMarvel(IServiceCollection, IConfiguration, string)"/> overload, <c>builder.Configure&lt;TOptions&gt;</c>
    /// or the usual <c>services.Configure&lt;TOptions&gt;</c>. BC-All and BC-Safe share <c>BcOptions</c> as named options
    /// ("BC-All", "BC-Safe") whose <c>Mode</c> is forced to match the name.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder for registering your own components.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    /// <example>
    /// <code>
    /// var services = new ServiceCollection();
    /// services.AddMarvel()
    ///         .Configure&lt;CpqOptions&gt;(o =&gt; o.CostLimit = 20)
    ///         .AddEnvironment("MyTask", () =&gt; new MyTask());
    /// using var provider = services.BuildServiceProvider();
    /// var components = provider.GetRequiredService&lt;IMarvelComponents&gt;();
    /// using var cpq = components.CreateOfflineLearner("CPQ", context);
    /// </code>
    /// </example>
    public static IMarvelBuilder AddMarvel(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(d => d.ServiceType == typeof(MarvelMarker)))
        {
            services.AddSingleton<MarvelMarker>();
            AddBuiltIns(services);
        }
        services.TryAddSingleton<IMarvelComponents, MarvelComponents>();
        services.TryAddSingleton<MarvelPipelineFactory>();
        return new MarvelBuilder(services);
    }

    /// <summary>
    /// As <see cref="AddMarvel(IServiceCollection)"/>, and binds each component's options from a child of the section
    /// <paramref name="sectionName"/> of <paramref name="configuration"/>: <c>Marvel:Cpq</c>, <c>Marvel:BcAll</c>, <c>Marvel:BcSafe</c>,
    /// <c>Marvel:BearLag</c>, <c>Marvel:BcqLag</c>, <c>Marvel:COptiDice</c>, <c>Marvel:Cdt</c>, <c>Marvel:SacLag</c>, <c>Marvel:PpoLag</c>,
    /// <c>Marvel:AdaptivePid</c>, <c>Marvel:Pid</c>, <c>Marvel:DualAscent</c>, <c>Marvel:ValuePreAlignment</c>
    /// (<see cref="MarvelConfigurationSections"/>).
    /// </summary>
    /// <remarks>
    /// Keys are the options' property names. An array in configuration replaces the default array (it is not appended to).
    /// A key that names no property fails at start, as does a value that breaks a validator; the
    /// <see cref="OptionsValidationException"/> lists every bad field of that options type. Delegates registered later
    /// (<c>builder.Configure&lt;TOptions&gt;</c>) run after the binding and so win over it.
    /// <para>One cost limit: every built-in section with a <c>CostLimit</c> (the offline learners and the controllers) that does not set
    /// its own takes the pipeline's (<c>Marvel:Pipeline:CostLimit</c>, default 20), so <c>{ "Marvel": { "Pipeline": { "CostLimit": 25 } } }</c>
    /// alone puts the whole run at 25, as the <c>marvel</c> tool does. A section that sets a different one is refused by
    /// <see cref="MarvelPipelineFactory.Create"/>, which names it.</para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration root (or any configuration holding <paramref name="sectionName"/>).</param>
    /// <param name="sectionName">The section holding Marvel's settings; "Marvel" by default; "" binds from <paramref name="configuration"/> itself.</param>
    /// <returns>A builder for registering your own components.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/>, <paramref name="configuration"/> or <paramref name="sectionName"/> is null.</exception>
    /// <example>
    /// <code>
    /// // appsettings.json: { "Marvel": { "Cpq": { "CostLimit": 20, "ActorHiddenSizes": [ 128, 128 ] }, "AdaptivePid": { "CostLimit": 20 } } }
    /// var configuration = new ConfigurationBuilder().AddJsonFile("appsettings.json").Build();
    /// services.AddMarvel(configuration);
    /// </code>
    /// </example>
    public static IMarvelBuilder AddMarvel(this IServiceCollection services, IConfiguration configuration, string sectionName = Sections.Root)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(sectionName);
        var builder = services.AddMarvel();
        var root = sectionName.Length == 0 ? configuration : configuration.GetSection(sectionName);
        // One cost limit, set once: a section without its own CostLimit keeps the pipeline's (DefaultCostLimitFromPipeline), as the tool does.
        Bind<CpqOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.Cpq));
        Bind<BcOptions>(services, Names.BcAll, root.GetSection(Sections.BcAll));
        Bind<BcOptions>(services, Names.BcSafe, root.GetSection(Sections.BcSafe));
        Bind<BearLagOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.BearLag));
        Bind<BcqLagOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.BcqLag));
        Bind<COptiDiceOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.COptiDice));
        Bind<CdtOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.Cdt));
        Bind<SacLagOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.SacLag));
        Bind<PpoLagOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.PpoLag));
        Bind<AdaptivePidLagrangeOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.AdaptivePid));
        Bind<PidLagrangeOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.Pid));
        Bind<DualAscentOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.DualAscent));
        Bind<ValuePreAlignmentOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.ValuePreAlignment));
        Bind<MarvelPipelineOptions>(services, Options.Options.DefaultName, root.GetSection(Sections.Pipeline));
        return builder;
    }

    private static void AddBuiltIns(IServiceCollection services)
    {
        const string Default = "";   // Options.DefaultName
        Offline<CpqOptions, CpqOptionsValidator, CpqLearner>(services, Names.Cpq, Default, Sections.Cpq, o => o.CostLimit, (o, v) => o.CostLimit = v, (c, o) => new CpqLearner(c, o));
        Offline<BcOptions, BcOptionsValidator, BcLearner>(services, Names.BcAll, Names.BcAll, Sections.BcAll, o => o.CostLimit, (o, v) => o.CostLimit = v, (c, o) => new BcLearner(c, o));
        Offline<BcOptions, BcOptionsValidator, BcLearner>(services, Names.BcSafe, Names.BcSafe, Sections.BcSafe, o => o.CostLimit, (o, v) => o.CostLimit = v, (c, o) => new BcLearner(c, o));
        services.AddOptions<BcOptions>(Names.BcAll).PostConfigure(o => o.Mode = BcMode.All);
        services.AddOptions<BcOptions>(Names.BcSafe).PostConfigure(o => o.Mode = BcMode.Safe);
        Offline<BearLagOptions, BearLagOptionsValidator, BearLagLearner>(services, Names.BearLag, Default, Sections.BearLag, o => o.CostLimit, (o, v) => o.CostLimit = v, (c, o) => new BearLagLearner(c, o));
        Offline<BcqLagOptions, BcqLagOptionsValidator, BcqLagLearner>(services, Names.BcqLag, Default, Sections.BcqLag, o => o.CostLimit, (o, v) => o.CostLimit = v, (c, o) => new BcqLagLearner(c, o));
        Offline<COptiDiceOptions, COptiDiceOptionsValidator, COptiDiceLearner>(services, Names.COptiDice, Default, Sections.COptiDice, o => o.CostLimit, (o, v) => o.CostLimit = v, (c, o) => new COptiDiceLearner(c, o));
        Offline<CdtOptions, CdtOptionsValidator, CdtLearner>(services, Names.Cdt, Default, Sections.Cdt, o => o.CostLimit, (o, v) => o.CostLimit = v, (c, o) => new CdtLearner(c, o));

        Online<SacLagOptions, SacLagOptionsValidator, SacLagLearner>(services, Names.SacLag, (c, o) => new SacLagLearner(c, o),
            (c, o, manifest) => new SacLagLearner(c, SacLagHandover.MatchArtifact(manifest, o)));
        Online<PpoLagOptions, PpoLagOptionsValidator, PpoLagLearner>(services, Names.PpoLag, (c, o) => new PpoLagLearner(c, o));

        Controller<AdaptivePidLagrangeOptions, AdaptivePidLagrangeOptionsValidator, AdaptivePidLagrangeController>(services, Names.AdaptivePid, Sections.AdaptivePid,
            o => o.CostLimit, (o, v) => o.CostLimit = v, o => new AdaptivePidLagrangeController(o));
        Controller<PidLagrangeOptions, PidLagrangeOptionsValidator, PidLagrangeController>(services, Names.Pid, Sections.Pid,
            o => o.CostLimit, (o, v) => o.CostLimit = v, o => new PidLagrangeController(o));
        Controller<DualAscentOptions, DualAscentOptionsValidator, DualAscentController>(services, Names.DualAscent, Sections.DualAscent,
            o => o.CostLimit, (o, v) => o.CostLimit = v, o => new DualAscentController(o));

        RegisterOptions<ValuePreAlignmentOptions, ValuePreAlignmentOptionsValidator>(services, Default);
        MarvelRegistrations.Add(services, MarvelComponentKind.ValueAligner, Names.ValuePreAlignment, typeof(ValuePreAligner), builtIn: true, provider =>
        {
            var monitor = provider.GetRequiredService<IOptionsMonitor<ValuePreAlignmentOptions>>();
            return new DelegateValueAlignerFactory(Names.ValuePreAlignment, () => new ValuePreAligner(monitor.CurrentValue));
        });
        MarvelRegistrations.Add(services, MarvelComponentKind.ValueAligner, Names.NoAlignment, typeof(NoAlignment), builtIn: true,
            _ => new DelegateValueAlignerFactory(Names.NoAlignment, () => new NoAlignment()));

        RegisterOptions<MarvelPipelineOptions, MarvelPipelineOptionsValidator>(services, Default);

        Environment<BallCircle>(services, Names.BallCircle, () => new BallCircle());
        Environment<BallRun>(services, Names.BallRun, () => new BallRun());
        Environment<CarCircle>(services, Names.CarCircle, () => new CarCircle());
        Environment<CarRun>(services, Names.CarRun, () => new CarRun());
        Environment<DroneCircle>(services, Names.DroneCircle, () => new DroneCircle());
        Environment<DroneRun>(services, Names.DroneRun, () => new DroneRun());
    }

    private static void Offline<TOptions, TValidator, TLearner>(IServiceCollection services, string name, string optionsName, string section,
        Func<TOptions, double> costLimit, Action<TOptions, double> setCostLimit, Func<Marvel.Core.Abstractions.Learning.LearnerContext, TOptions, TLearner> create)
        where TOptions : class where TValidator : class, IValidateOptions<TOptions> where TLearner : Marvel.Core.Abstractions.Learning.IOfflineSafeLearner
    {
        RegisterOptions<TOptions, TValidator>(services, optionsName);
        DefaultCostLimitFromPipeline(services, optionsName, setCostLimit);
        MarvelRegistrations.Add(services, MarvelComponentKind.OfflineLearner, name, typeof(TLearner), builtIn: true, provider =>
        {
            var monitor = provider.GetRequiredService<IOptionsMonitor<TOptions>>();
            return new DelegateOfflineLearnerFactory(name, context => create(context, monitor.Get(optionsName)))
            {
                CostLimitSetting = () => (SettingName<TOptions>(section), costLimit(monitor.Get(optionsName))),
            };
        });
    }

    /// <summary>"Marvel:Cpq:CostLimit (CpqOptions.CostLimit)": the configuration key and the property, for the budget's messages.</summary>
    private static string SettingName<TOptions>(string section) => $"{Sections.Root}:{section}:CostLimit ({typeof(TOptions).Name}.CostLimit)";

    /// <summary>
    /// The one default of every section's CostLimit: the pipeline's (<see cref="MarvelPipelineOptions.CostLimit"/>, itself bound from
    /// "Marvel:Pipeline:CostLimit"). Registered before any binding or user delegate, so a section's own key or a later
    /// <c>Configure</c> wins; <see cref="MarvelPipelineFactory.Create"/> then refuses a run whose sections disagree, naming them.
    /// </summary>
    private static void DefaultCostLimitFromPipeline<TOptions>(IServiceCollection services, string optionsName, Action<TOptions, double> setCostLimit)
        where TOptions : class =>
        services.AddOptions<TOptions>(optionsName).Configure<IEnumerable<IConfigureOptions<MarvelPipelineOptions>>, IEnumerable<IPostConfigureOptions<MarvelPipelineOptions>>>(
            (o, configures, postConfigures) => setCostLimit(o, ConfiguredPipelineCostLimit(configures, postConfigures)));

    /// <summary>
    /// The pipeline's CostLimit as configured, read without validating the pipeline options: a bad pipeline value then reaches every
    /// section and is reported by each section's validator as well (one mistake, which the tool reports once), instead of hiding the
    /// sections' own bad fields behind the pipeline's exception.
    /// </summary>
    private static double ConfiguredPipelineCostLimit(IEnumerable<IConfigureOptions<MarvelPipelineOptions>> configures,
        IEnumerable<IPostConfigureOptions<MarvelPipelineOptions>> postConfigures)
    {
        var pipeline = new MarvelPipelineOptions();
        foreach (var configure in configures)
        {
            if (configure is IConfigureNamedOptions<MarvelPipelineOptions> named) named.Configure(Options.Options.DefaultName, pipeline);
            else configure.Configure(pipeline);
        }
        foreach (var post in postConfigures) post.PostConfigure(Options.Options.DefaultName, pipeline);
        return pipeline.CostLimit;
    }

    private static void Online<TOptions, TValidator, TLearner>(IServiceCollection services, string name,
        Func<Marvel.Core.Abstractions.Learning.LearnerContext, TOptions, TLearner> create,
        Func<Marvel.Core.Abstractions.Learning.LearnerContext, TOptions, Marvel.Core.Abstractions.Learning.HandoverManifest, TLearner>? createForManifest = null)
        where TOptions : class where TValidator : class, IValidateOptions<TOptions> where TLearner : Marvel.Core.Abstractions.Learning.IOnlineSafeLearner
    {
        RegisterOptions<TOptions, TValidator>(services, Options.Options.DefaultName);
        MarvelRegistrations.Add(services, MarvelComponentKind.OnlineLearner, name, typeof(TLearner), builtIn: true, provider =>
        {
            var monitor = provider.GetRequiredService<IOptionsMonitor<TOptions>>();
            return new DelegateOnlineLearnerFactory(name, context => create(context, monitor.CurrentValue),
                createForManifest is null ? null : (context, manifest) => createForManifest(context, monitor.CurrentValue, manifest));
        });
    }

    private static void Controller<TOptions, TValidator, TController>(IServiceCollection services, string name, string section,
        Func<TOptions, double> costLimit, Action<TOptions, double> setCostLimit, Func<TOptions, TController> create)
        where TOptions : class where TValidator : class, IValidateOptions<TOptions> where TController : Marvel.Core.Abstractions.ILagrangeController
    {
        RegisterOptions<TOptions, TValidator>(services, Options.Options.DefaultName);
        DefaultCostLimitFromPipeline(services, Options.Options.DefaultName, setCostLimit);
        MarvelRegistrations.Add(services, MarvelComponentKind.LagrangeController, name, typeof(TController), builtIn: true, provider =>
        {
            var monitor = provider.GetRequiredService<IOptionsMonitor<TOptions>>();
            return new DelegateLagrangeControllerFactory(name, () => create(monitor.CurrentValue))
            {
                CostLimitSetting = () => (SettingName<TOptions>(section), costLimit(monitor.CurrentValue)),
            };
        });
    }

    private static void Environment<TEnvironment>(IServiceCollection services, string name, Func<TEnvironment> create)
        where TEnvironment : Marvel.Core.Abstractions.IEnvironment =>
        MarvelRegistrations.Add(services, MarvelComponentKind.Environment, name, typeof(TEnvironment), builtIn: true,
            _ => new DelegateEnvironmentFactory(name, () => create()));

    private static void RegisterOptions<TOptions, TValidator>(IServiceCollection services, string optionsName)
        where TOptions : class where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>(optionsName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
    }

    private static void Bind<TOptions>(IServiceCollection services, string optionsName, IConfiguration section) where TOptions : class
    {
        services.AddOptions<TOptions>(optionsName).Configure(o => MarvelConfigurationBinder.Bind(section, o));
        services.AddSingleton<IOptionsChangeTokenSource<TOptions>>(new ConfigurationChangeTokenSource<TOptions>(optionsName, section));
    }

    /// <summary>Marks a collection that already holds the built-ins, so a second AddMarvel adds nothing twice.</summary>
    private sealed class MarvelMarker;
}

using Marvel.Core.Abstractions;
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
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Tests.Hosting;

public class MarvelHostingTests
{
    private static ServiceProvider Provider(Action<IMarvelBuilder>? configure = null, IConfiguration? configuration = null)
    {
        var services = new ServiceCollection();
        var builder = configuration is null ? services.AddMarvel() : services.AddMarvel(configuration);
        configure?.Invoke(builder);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();

    private static void ValidateOnStart(IServiceProvider provider) => provider.GetRequiredService<IStartupValidator>().Validate();

    [TestCase("CPQ", typeof(CpqLearner), "CPQ")]
    [TestCase("BC-All", typeof(BcLearner), "BC-All")]
    [TestCase("BC-Safe", typeof(BcLearner), "BC-Safe")]
    [TestCase("BEAR-Lag", typeof(BearLagLearner), "BEAR-Lag")]
    [TestCase("BCQ-Lag", typeof(BcqLagLearner), "BCQ-Lag")]
    [TestCase("COptiDICE", typeof(COptiDiceLearner), "COptiDICE")]
    [TestCase("CDT", typeof(CdtLearner), "CDT")]
    public void CreateOfflineLearner_BuiltInName_BuildsThatMethod(string name, Type expected, string algorithm)
    {
        using var provider = Provider();
        using var env = new BallCircle();

        using var learner = provider.GetRequiredService<IMarvelComponents>().CreateOfflineLearner(name, HostingTestData.Context(env, 1));

        learner.Should().BeOfType(expected);
        learner.Algorithm.Should().Be(algorithm);
        provider.GetRequiredKeyedService<IOfflineLearnerFactory>(name).Name.Should().Be(name);
    }

    [TestCase("SAC-Lag", typeof(SacLagLearner))]
    [TestCase("PPO-Lag", typeof(PpoLagLearner))]
    public void CreateOnlineLearner_BuiltInName_BuildsThatMethod(string name, Type expected)
    {
        using var provider = Provider();
        using var env = new BallRun();

        using var learner = provider.GetRequiredService<IMarvelComponents>().CreateOnlineLearner(name, HostingTestData.Context(env, 1));

        learner.Should().BeOfType(expected);
        learner.Algorithm.Should().Be(name);
    }

    [TestCase("aPID", typeof(AdaptivePidLagrangeController))]
    [TestCase("PID", typeof(PidLagrangeController))]
    [TestCase("DualAscent", typeof(DualAscentController))]
    public void CreateController_BuiltInName_BuildsAFreshControllerEachCall(string name, Type expected)
    {
        using var provider = Provider();
        var components = provider.GetRequiredService<IMarvelComponents>();

        var first = components.CreateController(name);
        var second = components.CreateController(name);

        first.Should().BeOfType(expected);
        second.Should().NotBeSameAs(first, "a controller carries λ and its integral: each run needs its own");
    }

    [TestCase("VPA", typeof(ValuePreAligner))]
    [TestCase("None", typeof(NoAlignment))]
    public void CreateAligner_BuiltInName_BuildsThatAligner(string name, Type expected)
    {
        using var provider = Provider();
        provider.GetRequiredService<IMarvelComponents>().CreateAligner(name).Should().BeOfType(expected);
    }

    [TestCase("BallCircle", typeof(BallCircle))]
    [TestCase("BallRun", typeof(BallRun))]
    [TestCase("CarCircle", typeof(CarCircle))]
    [TestCase("CarRun", typeof(CarRun))]
    public void CreateEnvironment_BuiltInName_BuildsThatTask(string name, Type expected)
    {
        using var provider = Provider();
        var components = provider.GetRequiredService<IMarvelComponents>();

        using var env = components.CreateEnvironment(name);
        using var vector = components.CreateVectorEnvironment(name, 3);

        env.Should().BeOfType(expected);
        env.Spec.Id.Should().Be(name);
        vector.Count.Should().Be(3);
        vector.Spec.Id.Should().Be(name);
    }

    [Test]
    public void Names_ListEveryBuiltInOfEachKind()
    {
        using var provider = Provider();
        var components = provider.GetRequiredService<IMarvelComponents>();

        components.Names(MarvelComponentKind.OfflineLearner).Should().BeEquivalentTo("CPQ", "BC-All", "BC-Safe", "BEAR-Lag", "BCQ-Lag", "COptiDICE", "CDT");
        components.Names(MarvelComponentKind.OnlineLearner).Should().BeEquivalentTo("SAC-Lag", "PPO-Lag");
        components.Names(MarvelComponentKind.LagrangeController).Should().BeEquivalentTo("aPID", "PID", "DualAscent");
        components.Names(MarvelComponentKind.ValueAligner).Should().BeEquivalentTo("VPA", "None");
        components.Names(MarvelComponentKind.Environment).Should().BeEquivalentTo("BallCircle", "BallRun", "CarCircle", "CarRun", "DroneCircle", "DroneRun");
    }

    [Test]
    public void UnknownName_OfEachKind_ThrowsListingTheRegisteredNames()
    {
        using var provider = Provider(b => b.AddEnvironment("LineReach", () => new LineReachEnvironment()));
        var components = provider.GetRequiredService<IMarvelComponents>();
        using var env = new BallCircle();
        var context = HostingTestData.Context(env, 1);

        components.Invoking(c => c.CreateOfflineLearner("CQL", context)).Should().Throw<ArgumentException>()
            .WithMessage("*Unknown offline learner 'CQL'*BC-All, BC-Safe, BCQ-Lag, BEAR-Lag, CDT, COptiDICE, CPQ*AddOfflineLearner*");
        components.Invoking(c => c.CreateOnlineLearner("TD3-Lag", context)).Should().Throw<ArgumentException>()
            .WithMessage("*Unknown online learner 'TD3-Lag'*PPO-Lag, SAC-Lag*");
        components.Invoking(c => c.CreateController("PI")).Should().Throw<ArgumentException>()
            .WithMessage("*Unknown Lagrange controller 'PI'*DualAscent, PID, aPID*");
        components.Invoking(c => c.CreateAligner("Shift")).Should().Throw<ArgumentException>()
            .WithMessage("*Unknown value aligner 'Shift'*None, VPA*");
        components.Invoking(c => c.CreateEnvironment("PointGoal")).Should().Throw<ArgumentException>()
            .WithMessage("*Unknown environment 'PointGoal'*BallCircle, BallRun, CarCircle, CarRun, DroneCircle, DroneRun, LineReach*");
    }

    [Test]
    public void UnknownName_DiffersOnlyInCase_SuggestsTheRegisteredSpelling()
    {
        using var provider = Provider();

        provider.GetRequiredService<IMarvelComponents>().Invoking(c => c.CreateController("apid"))
            .Should().Throw<ArgumentException>().WithMessage("*did you mean 'aPID'*");
    }

    [Test]
    public void AddMarvel_WithConfiguration_BindsEachComponentsSection()
    {
        var configuration = Configuration(
            ("Marvel:Cpq:CostLimit", "20"), ("Marvel:Cpq:ActorHiddenSizes:0", "16"), ("Marvel:Cpq:ActorHiddenSizes:1", "16"),
            ("Marvel:BcSafe:CostLimit", "7"), ("Marvel:BcAll:BatchSize", "64"),
            ("Marvel:SacLag:Schedule", "StepBased"), ("Marvel:SacLag:Gamma", "0.98"),
            ("Marvel:AdaptivePid:CostLimit", "15"), ("Marvel:Pid:Kp", "0.25"), ("Marvel:DualAscent:CostLimit", "3"),
            ("Marvel:ValuePreAlignment:Steps", "10"));
        using var provider = Provider(configuration: configuration);
        ValidateOnStart(provider);
        var components = provider.GetRequiredService<IMarvelComponents>();
        using var env = new BallCircle();
        var context = HostingTestData.Context(env, 1);

        using var cpq = (CpqLearner)components.CreateOfflineLearner("CPQ", context);
        using var bcSafe = (BcLearner)components.CreateOfflineLearner("BC-Safe", context);
        using var bcAll = (BcLearner)components.CreateOfflineLearner("BC-All", context);
        using var sac = (SacLagLearner)components.CreateOnlineLearner("SAC-Lag", context);

        cpq.Options.CostLimit.Should().Be(20);
        cpq.Options.ActorHiddenSizes.Should().Equal([16, 16], "a configured array replaces the default [256, 256] instead of extending it");
        cpq.Options.CriticHiddenSizes.Should().Equal(256, 256);
        bcSafe.Options.Should().Match<BcOptions>(o => o.Mode == BcMode.Safe && o.CostLimit == 7 && o.BatchSize == 512);
        // BC-All sets no CostLimit of its own: it takes the pipeline's default 20 (one budget), not BcOptions' standalone default 10.
        bcAll.Options.Should().Match<BcOptions>(o => o.Mode == BcMode.All && o.CostLimit == 20 && o.BatchSize == 64);
        sac.Options.Schedule.Should().Be(SacLagSchedule.StepBased);
        sac.Options.Gamma.Should().Be(0.98);
        components.CreateController("aPID").CostLimit.Should().Be(15);
        ((PidLagrangeController)components.CreateController("PID")).Options.Kp.Should().Be(0.25);
        components.CreateController("DualAscent").CostLimit.Should().Be(3);
        ((ValuePreAligner)components.CreateAligner("VPA")).Options.Steps.Should().Be(10);
    }

    [Test]
    public void Configure_AfterConfigurationBinding_WinsOverTheSection()
    {
        using var provider = Provider(
            b => b.Configure<AdaptivePidLagrangeOptions>(o => o.CostLimit = 30),
            Configuration(("Marvel:AdaptivePid:CostLimit", "15"), ("Marvel:AdaptivePid:Kp", "0.5")));

        var controller = (AdaptivePidLagrangeController)provider.GetRequiredService<IMarvelComponents>().CreateController("aPID");

        controller.CostLimit.Should().Be(30);
        controller.Options.Kp.Should().Be(0.5);
    }

    [Test]
    public void ValidateOnStart_BadFieldsInConfiguration_ListsEveryBadField()
    {
        using var provider = Provider(configuration: Configuration(
            ("Marvel:Cpq:Gamma", "1.5"), ("Marvel:Cpq:BatchSize", "0"), ("Marvel:Cpq:ActorHiddenSizes:0", "-3")));

        var act = () => ValidateOnStart(provider);

        act.Should().Throw<OptionsValidationException>()
            .Where(e => e.OptionsType == typeof(CpqOptions))
            .WithMessage("*Gamma*").WithMessage("*BatchSize*").WithMessage("*ActorHiddenSizes*");
    }

    [Test]
    public void ValidateOnStart_BadFieldsInTwoComponents_ReportsBoth()
    {
        using var provider = Provider(b => b
            .Configure<AdaptivePidLagrangeOptions>(o => o.CostLimit = -1)
            .Configure<SacLagOptions>(o => { o.Tau = 0; o.BatchSize = -5; }));

        var act = () => ValidateOnStart(provider);

        var thrown = act.Should().Throw<AggregateException>().Which;
        var messages = string.Join(" | ", thrown.InnerExceptions.Select(e => e.Message));
        messages.Should().Contain("CostLimit").And.Contain("Tau").And.Contain("BatchSize");
    }

    [Test]
    public void ValidateOnStart_BadBcSafeField_NamesTheField()
    {
        using var provider = Provider(configuration: Configuration(("Marvel:BcSafe:LearningRate", "-1")));

        var act = () => ValidateOnStart(provider);

        act.Should().Throw<OptionsValidationException>().Where(e => e.OptionsName == "BC-Safe").WithMessage("*LearningRate*");
    }

    [Test]
    public void ValidateOnStart_MisspeltKey_FailsNamingTheKey()
    {
        using var provider = Provider(configuration: Configuration(("Marvel:Cpq:CostLimt", "20")));

        var act = () => ValidateOnStart(provider);

        act.Should().Throw<InvalidOperationException>().WithMessage("*CostLimt*");
    }

    [Test]
    public void ValidateOnStart_Defaults_Pass()
    {
        using var provider = Provider();
        var act = () => ValidateOnStart(provider);
        act.Should().NotThrow();
    }

    [Test]
    public void UserComponents_RegisteredByName_ResolveThroughTheCatalog()
    {
        using var provider = Provider(b => b
            .AddEnvironment("LineReach", () => new LineReachEnvironment())
            .AddLagrangeController<BangBangController>("BangBang")
            .AddValueAligner<CountingAligner>("Counting")
            .AddOfflineLearner<CpqLearner, CpqOptions>("CPQ-tiny", o => { o.ActorHiddenSizes = [8]; o.CriticHiddenSizes = [8]; o.VaeHiddenSize = 8; })
            .AddOnlineLearner("SAC-Lag-tiny", (_, context) => new SacLagLearner(context, new SacLagOptions { ActorHiddenSizes = [8] })));
        ValidateOnStart(provider);
        var components = provider.GetRequiredService<IMarvelComponents>();
        using var env = components.CreateEnvironment("LineReach");
        var context = HostingTestData.Context(env, 2);

        using var cpq = components.CreateOfflineLearner("CPQ-tiny", context);
        using var sac = components.CreateOnlineLearner("SAC-Lag-tiny", context);

        env.Should().BeOfType<LineReachEnvironment>();
        components.CreateController("BangBang").Should().BeOfType<BangBangController>();
        components.CreateAligner("Counting").Should().BeOfType<CountingAligner>();
        ((CpqLearner)cpq).Options.ActorHiddenSizes.Should().Equal(8);
        ((SacLagLearner)sac).Options.ActorHiddenSizes.Should().Equal(8);
        components.Names(MarvelComponentKind.OfflineLearner).Should().Contain(["CPQ", "CPQ-tiny"]);
        components.Names(MarvelComponentKind.Environment).Should().Contain("LineReach");
    }

    [Test]
    public void AddOfflineLearnerWithOptions_BadOption_FailsAtStartNamingTheField()
    {
        using var provider = Provider(b => b.AddOfflineLearner<CpqLearner, CpqOptions>("CPQ-bad", o => o.Tau = 3));

        var act = () => ValidateOnStart(provider);

        act.Should().Throw<OptionsValidationException>().Where(e => e.OptionsName == "CPQ-bad").WithMessage("*Tau*");
    }

    [Test]
    public void AddLagrangeController_SameNameTwice_ThrowsNamingTheName()
    {
        var builder = new ServiceCollection().AddMarvel().AddLagrangeController<BangBangController>("BangBang");

        var act = () => builder.AddLagrangeController("BangBang", _ => new BangBangController());

        act.Should().Throw<InvalidOperationException>().WithMessage("*Lagrange controller named 'BangBang' is already registered (BangBangController)*another name*");
    }

    [Test]
    public void AddEnvironment_SameNameTwice_Throws()
    {
        var builder = new ServiceCollection().AddMarvel().AddEnvironment("LineReach", () => new LineReachEnvironment());

        var act = () => builder.AddEnvironment<LineReachEnvironment>("LineReach");

        act.Should().Throw<InvalidOperationException>().WithMessage("*environment named 'LineReach' is already registered*");
    }

    [Test]
    public void UserRegistration_OfABuiltInName_ReplacesTheBuiltInWhicheverComesFirst()
    {
        var services = new ServiceCollection();
        services.AddMarvel().AddLagrangeController<BangBangController>("aPID");      // user first ...
        services.AddMarvel();                                                       // ... the built-in is not added again
        services.AddMarvel().AddEnvironment("BallCircle", () => new LineReachEnvironment());   // user after the built-in
        using var provider = services.BuildServiceProvider();
        var components = provider.GetRequiredService<IMarvelComponents>();

        components.CreateController("aPID").Should().BeOfType<BangBangController>();
        using var env = components.CreateEnvironment("BallCircle");
        env.Should().BeOfType<LineReachEnvironment>();
        components.Names(MarvelComponentKind.LagrangeController).Should().BeEquivalentTo("aPID", "PID", "DualAscent");
        components.Names(MarvelComponentKind.Environment).Should().BeEquivalentTo("BallCircle", "BallRun", "CarCircle", "CarRun", "DroneCircle", "DroneRun");
    }

    [Test]
    public void AddMarvel_CalledTwice_RegistersEachBuiltInOnce()
    {
        var services = new ServiceCollection();
        services.AddMarvel();
        int count = services.Count;

        services.AddMarvel();

        services.Count.Should().Be(count);
    }

    [Test]
    public void AddMarvel_NullServices_Throws()
    {
        var act = () => MarvelServiceCollectionExtensions.AddMarvel(null!);
        act.Should().Throw<ArgumentNullException>().WithParameterName("services");
    }

    [Test]
    public void AddEnvironment_BlankName_Throws()
    {
        var builder = new ServiceCollection().AddMarvel();
        var act = () => builder.AddEnvironment(" ", () => new LineReachEnvironment());
        act.Should().Throw<ArgumentException>().WithParameterName("name");
    }
}

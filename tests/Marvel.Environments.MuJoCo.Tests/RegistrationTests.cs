using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Scoring;
using Marvel.Core.Environments;
using Marvel.Core.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Marvel.Environments.MuJoCo.Tests;

public sealed class RegistrationTests
{
    private static readonly string[] ShortIds = ["AntVelocity", "HalfCheetahVelocity", "HopperVelocity", "SwimmerVelocity", "Walker2dVelocity"];

    [Test]
    public void Ids_AreTheFiveShortIdsAndSafetyGymnasiumNames()
    {
        MuJoCoTasks.Ids.Should().Equal(ShortIds);
        MuJoCoTasks.SafetyGymnasiumIds.Should().Equal(ShortIds.Select(id => "Safety" + id + "-v1"));
    }

    [Test]
    public void ShortIds_HaveDsrlScoreReferences()
    {
        foreach (var id in ShortIds) NormalizedScore.TryGetReference(id, out _).Should().BeTrue(id);
    }

    [Test]
    public void Registry_MakesEachTaskUnderBothNames()
    {
        var registry = new EnvironmentRegistry().RegisterMuJoCoVelocityTasks();
        registry.Ids.Should().HaveCount(10);
        foreach (var id in ShortIds)
        {
            using var byId = registry.Make(id);
            using var byName = registry.Make("Safety" + id + "-v1");
            byId.Spec.Id.Should().Be(id);
            byName.Spec.Id.Should().Be(id);
        }
    }

    [Test]
    public void Registry_RegisteringTwice_ThrowsUnlessReplace()
    {
        var registry = new EnvironmentRegistry().RegisterMuJoCoVelocityTasks();
        registry.Invoking(r => r.RegisterMuJoCoVelocityTasks()).Should().Throw<ArgumentException>().WithMessage("*already registered*");
        registry.Invoking(r => r.RegisterMuJoCoVelocityTasks(replace: true)).Should().NotThrow();
    }

    [Test]
    public void Registry_MakeVector_StepsFourHoppers()
    {
        var registry = new EnvironmentRegistry().RegisterMuJoCoVelocityTasks();
        using var vec = registry.MakeVector("SafetyHopperVelocity-v1", 4);
        var obs = new float[4 * 11];
        var actions = new float[4 * 3];
        var results = new StepResult[4];
        var finished = new List<(int, Core.Abstractions.Learning.EpisodeSummary)>();
        vec.Reset(3, obs);
        for (int t = 0; t < 300; t++) vec.Step(actions, obs, results, finished);
        // Zero torques: each hopper topples within 300 steps, and each instance has its own state.
        finished.Select(f => f.Item1).Distinct().Should().HaveCount(4);
        obs.Should().OnlyContain(v => float.IsFinite(v));
    }

    [Test]
    public void Create_UnknownId_ThrowsListingTheKnownOnes()
    {
        var act = () => MuJoCoTasks.Create("HumanoidVelocity");
        act.Should().Throw<KeyNotFoundException>().WithMessage("*HumanoidVelocity*HalfCheetahVelocity*SafetyAntVelocity-v1*");
    }

    [Test]
    public void Hosting_AddMuJoCoVelocityTasks_CreatesTasksByName()
    {
        var services = new ServiceCollection();
        services.AddMarvel().AddMuJoCoVelocityTasks();
        using var provider = services.BuildServiceProvider();
        var components = provider.GetRequiredService<IMarvelComponents>();
        using var env = components.CreateEnvironment("SafetyWalker2dVelocity-v1");
        env.Spec.Id.Should().Be("Walker2dVelocity");
        using var vec = components.CreateVectorEnvironment("AntVelocity", 2);
        vec.Count.Should().Be(2);
    }

    [Test]
    public void Hosting_AddMuJoCoVelocityTasksTwice_ThrowsNamingTheTask()
    {
        var builder = new ServiceCollection().AddMarvel().AddMuJoCoVelocityTasks();
        builder.Invoking(b => b.AddMuJoCoVelocityTasks()).Should().Throw<InvalidOperationException>().WithMessage("*HalfCheetahVelocity*");
    }
}

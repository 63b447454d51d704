using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Pipeline;

namespace Marvel.Core.Tests.Pipeline;

public class SacLagHandoverTests
{
    [Test]
    public void MatchArtifact_CpqDescriptors_MapOntoSacLagSizesAndScales_AndKeepTheRest()
    {
        using var cpq = new CpqLearner(PipelineTestData.Context(), new CpqOptions
        {
            ActorHiddenSizes = [16, 8], CriticHiddenSizes = [12, 12], VaeHiddenSize = 16, RewardEnsembleSize = 3, CostEnsembleSize = 2,
            RewardScale = 0.5, CostScale = 2, Gamma = 0.95,
        });
        var artifact = cpq.ExportHandover();
        var template = new SacLagOptions { ActorLearningRate = 3e-5, Alpha = 2e-3, EpisodesPerIteration = 7 };

        var o = SacLagHandover.MatchArtifact(artifact.Manifest, template);

        o.ActorHiddenSizes.Should().Equal(16, 8);
        o.CriticHiddenSizes.Should().Equal(12, 12);
        o.RewardCriticCount.Should().Be(3);
        o.CostCriticHiddenSizes.Should().Equal([12, 12], "CPQ's cost critic uses CriticHiddenSizes");
        o.CostCriticCount.Should().Be(2);
        o.RewardScale.Should().Be(0.5);
        o.CostScale.Should().Be(2);
        o.Gamma.Should().Be(0.95);
        o.ActorLearningRate.Should().Be(3e-5);
        o.Alpha.Should().Be(2e-3);
        o.EpisodesPerIteration.Should().Be(7);
        template.ActorHiddenSizes.Should().Equal(256, 256); // the template is not modified

        // The matched options are accepted by the strict loader.
        using var sac = (SacLagLearner)SacLagHandover.Factory(template)(PipelineTestData.Context(2), artifact);
        sac.Invoking(s => s.InitializeFrom(artifact)).Should().NotThrow();
        sac.Options.CriticHiddenSizes.Should().Equal(12, 12);
    }

    [Test]
    public void MatchArtifact_MissingCostCritic_ThrowsNamingTheRole()
    {
        var manifest = new HandoverManifest
        {
            Algorithm = "BC", ObservationSize = 3, ActionSize = 2,
            Networks = new() { [HandoverRoles.Actor] = new NetworkDescriptor("SquashedGaussianActor", [16, 16]) },
        };
        var act = () => SacLagHandover.MatchArtifact(manifest);
        act.Should().Throw<InvalidDataException>().WithMessage("*reward_critic*");
    }
}

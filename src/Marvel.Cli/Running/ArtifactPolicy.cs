using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Pipeline;

namespace Marvel.Cli.Running;

/// <summary>
/// The actor of a handover artifact as a policy, through the public API only: a SAC-Lag learner sized from the artifact
/// (<see cref="SacLagHandover"/>) takes the actor over, and its <see cref="IOnlineSafeLearner.Policy"/> acts. Works for
/// squashed-Gaussian actors (CPQ, BEAR-Lag, COptiDICE, SAC-Lag); other actors fail with a message naming the artifact.
/// </summary>
internal sealed class ArtifactPolicy : IDisposable
{
    private readonly IOnlineSafeLearner _learner;

    public ArtifactPolicy(string path, HandoverArtifact artifact, IEnvironment environment, ulong seed)
    {
        artifact.EnsureCompatible(environment.ObservationSpace.Dimension, environment.ActionSpace.Dimension, $"artifact '{path}'");
        var context = new LearnerContext(environment.ObservationSpace, environment.ActionSpace, new SeedStreams(seed), environment.Spec.MaxEpisodeSteps, environment.Spec.Id);
        try
        {
            _learner = SacLagHandover.Factory()(context, artifact);
            _learner.InitializeFrom(artifact, new HandoverLoadOptions { LoadActorOptimizerState = false });
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or InvalidOperationException)
        {
            throw new UsageException($"--artifact '{path}': its actor ({artifact.Manifest.Algorithm}) cannot be run as a squashed-Gaussian policy: {e.Message}", e);
        }
    }

    public IPolicy Policy => _learner.Policy;

    public void Dispose() => _learner.Dispose();
}

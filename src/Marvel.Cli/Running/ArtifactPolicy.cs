using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Inference;

namespace Marvel.Cli.Running;

/// <summary>
/// The actor of a handover artifact as a policy, through the public <see cref="InferencePolicy"/>: the actor's weights only, mapped onto
/// the environment's action box. Works for the actor kinds <see cref="InferencePolicy.SupportedActorKinds"/> lists (CPQ, BEAR-Lag,
/// COptiDICE, SAC-Lag, PPO-Lag, BC); CDT and BCQ-Lag fail with a usage error naming the artifact.
/// </summary>
internal sealed class ArtifactPolicy : IDisposable
{
    private readonly InferencePolicy _policy;

    public ArtifactPolicy(string path, HandoverArtifact artifact, IEnvironment environment, ulong seed)
    {
        try
        {
            artifact.EnsureCompatible(environment.ObservationSpace.Dimension, environment.ActionSpace.Dimension, $"artifact '{path}'");
            _policy = InferencePolicy.FromArtifact(artifact, new InferencePolicyOptions { ActionSpace = environment.ActionSpace, Seed = seed });
        }
        catch (Exception e) when (e is NotSupportedException or InvalidDataException or ArgumentException)
        {
            throw new UsageException($"--artifact '{path}': its actor ({artifact.Manifest.Algorithm}) cannot be run: {e.Message}", e);
        }
    }

    public IPolicy Policy => _policy;

    public void Dispose() => _policy.Dispose();
}

namespace Marvel.Core.Alignment;

/// <summary>The identity aligner: hands the artifact on unchanged (naive offline-to-online transfer, the ablation without VPA).</summary>
public sealed class NoAlignment : IValueAligner
{
    /// <summary>Returns <paramref name="artifact"/> itself, zero steps and no metrics.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public ValueAlignmentResult Align(HandoverArtifact artifact, ITransitionSampler data, LearnerContext context,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(context);
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueAlignmentResult(artifact, 0, new Dictionary<string, double>(StringComparer.Ordinal));
    }
}

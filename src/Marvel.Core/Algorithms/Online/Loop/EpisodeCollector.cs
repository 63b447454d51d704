using System.Globalization;

namespace Marvel.Core.Algorithms.Online.Loop;

/// <summary>
/// The collection side of an online learner's loop on an <see cref="IVectorEnvironment"/>: the pending observations of every environment,
/// the seeded reset the first time an environment is seen, the hand-over of observations restored from a checkpoint instead of a reset,
/// and the count of environment transitions. Episodes continue across iterations; the caller acts on <see cref="Observations"/>, calls
/// <see cref="Step"/>, reads <see cref="NextObservations"/> and <see cref="Results"/> (using <see cref="IVectorEnvironment.FinalObservation"/>
/// where an episode ended), then <see cref="Advance"/>.
/// </summary>
internal sealed class EpisodeCollector
{
    private readonly string _algorithm;
    private readonly int _observationSize;
    private readonly int _actionSize;
    private readonly ulong _environmentSeed;
    private float[]? _restoredObservations; // from a checkpoint, used instead of a reset by the next Attach
    private readonly List<(int Index, EpisodeSummary Episode)> _finished = new();

    /// <summary>Creates a collector for networks of the given sizes.</summary>
    /// <param name="algorithm">The learner's name, for messages.</param>
    /// <param name="observationSize">Observation size the networks take.</param>
    /// <param name="actionSize">Action size the networks give.</param>
    /// <param name="environmentSeed">The root of the reset seeds: reset k is seeded with Derive(root, "reset/k").</param>
    public EpisodeCollector(string algorithm, int observationSize, int actionSize, ulong environmentSeed)
    {
        _algorithm = algorithm;
        _observationSize = observationSize;
        _actionSize = actionSize;
        _environmentSeed = environmentSeed;
    }

    /// <summary>The attached environment (null before the first <see cref="Attach"/> and after <see cref="Restore"/>).</summary>
    public IVectorEnvironment? Environment { get; private set; }

    /// <summary>The current observation of each environment, [N · obs].</summary>
    public float[] Observations { get; private set; } = [];

    /// <summary>The observations returned by the last <see cref="Step"/> (a new episode's first where one ended), [N · obs].</summary>
    public float[] NextObservations { get; private set; } = [];

    /// <summary>The per-environment results of the last <see cref="Step"/>.</summary>
    public StepResult[] Results { get; private set; } = [];

    /// <summary>Resets done so far (each draws the next reset seed).</summary>
    public int Resets { get; private set; }

    /// <summary>Environment transitions collected so far.</summary>
    public long EnvironmentSteps { get; private set; }

    /// <summary>The observations a checkpoint must keep: the attached environments' current ones, else those restored and not yet used.</summary>
    public float[]? PendingObservations => Environment is not null ? Observations.ToArray() : _restoredObservations?.ToArray();

    /// <summary>Whether <paramref name="environment"/> is the one attached.</summary>
    public bool IsAttached(IVectorEnvironment environment) => Environment is not null && ReferenceEquals(Environment, environment);

    /// <summary>
    /// Binds <paramref name="environment"/> (nothing happens when it is already bound): checks its sizes, then continues from the observations
    /// restored from a checkpoint, or else resets it with the next seed of the stream.
    /// </summary>
    /// <returns>True when the environment was newly bound.</returns>
    /// <exception cref="ArgumentException">The sizes differ from the networks', or restored observations belong to another number of environments.</exception>
    public bool Attach(IVectorEnvironment environment)
    {
        if (IsAttached(environment)) return false;
        if (environment.ObservationSpace.Dimension != _observationSize || environment.ActionSpace.Dimension != _actionSize)
            throw new ArgumentException($"{_algorithm} was built for observation size {_observationSize} and action size {_actionSize}, but environment " +
                $"'{environment.Spec.Id}' has {environment.ObservationSpace.Dimension} and {environment.ActionSpace.Dimension}. Build the learner from this task's spaces.",
                nameof(environment));
        int n = environment.Count;
        var observations = new float[n * _observationSize];
        if (_restoredObservations is not null)
        {
            // Resumed from a checkpoint: the environment was restored beside the learner; continue from its pending observations.
            if (_restoredObservations.Length != observations.Length)
                throw new ArgumentException($"{_algorithm}: the checkpoint holds pending observations of {_restoredObservations.Length / _observationSize} environments but " +
                    $"'{environment.Spec.Id}' has {n}. Resume with the same number of environments.", nameof(environment));
            _restoredObservations.CopyTo(observations, 0);
            _restoredObservations = null;
        }
        else
        {
            ulong seed = SeedStreams.Derive(_environmentSeed, "reset/" + (Resets++).ToString(CultureInfo.InvariantCulture));
            environment.Reset(seed, observations);
        }
        Observations = observations;
        NextObservations = new float[n * _observationSize];
        Results = new StepResult[n];
        Environment = environment;
        return true;
    }

    /// <summary>One vector step with <paramref name="environmentActions"/> (in the action box); the episodes it finishes are handed out by
    /// <see cref="Advance"/>, after the caller has read the step.</summary>
    public void Step(ReadOnlySpan<float> environmentActions)
    {
        _finished.Clear();
        Environment!.Step(environmentActions, NextObservations, Results, _finished);
    }

    /// <summary>Hands the episodes finished by the last <see cref="Step"/> to <paramref name="episodes"/>, makes the next observations current
    /// and counts the step's transitions.</summary>
    public void Advance(ICollection<EpisodeSummary>? episodes)
    {
        foreach (var (_, episode) in _finished) episodes?.Add(episode);
        NextObservations.CopyTo(Observations, 0);
        EnvironmentSteps += Environment!.Count;
    }

    /// <summary>Restores the collector's part of a checkpoint; the next <see cref="Attach"/> continues from <paramref name="pendingObservations"/>
    /// (when not null) on an environment restored beside the learner.</summary>
    /// <exception cref="InvalidDataException">The pending observations are not a whole number of observations.</exception>
    public void Restore(float[]? pendingObservations, int resets, long environmentSteps, string source)
    {
        if (pendingObservations is not null && pendingObservations.Length % _observationSize != 0)
            throw new InvalidDataException($"'{source}': {pendingObservations.Length} pending observation values are not a multiple of the observation size {_observationSize}.");
        Environment = null;
        _restoredObservations = pendingObservations;
        Resets = resets;
        EnvironmentSteps = environmentSteps;
    }
}

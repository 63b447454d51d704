using Microsoft.Extensions.Options;

namespace Marvel.Core.Algorithms.Shared;

// The option groups the offline learners share. Each options record declares its own properties (flat, so configuration binding,
// the options JSON of manifests and checkpoints and the public API stay as they are) and lists the groups it has; the checks of a
// group are written once, in OfflineOptionsValidator.Common.

/// <summary>Every offline learner: the episode cost budget κ and the batch size.</summary>
internal interface IOfflineOptions
{
    /// <summary>Undiscounted episode cost budget κ.</summary>
    double CostLimit { get; }

    /// <summary>Transitions (or windows) per gradient step.</summary>
    int BatchSize { get; }
}

/// <summary>Learners that scale rewards and costs and read the episode length T (CPQ, BEAR-Lag, BCQ-Lag, COptiDICE, CDT).</summary>
internal interface IScaledOfflineOptions
{
    /// <summary>Episode length T; null takes the context's.</summary>
    int? EpisodeLength { get; }

    /// <summary>Multiplier of dataset rewards.</summary>
    double RewardScale { get; }

    /// <summary>Multiplier of dataset costs.</summary>
    double CostScale { get; }
}

/// <summary>Learners with discounted value networks beside an actor (CPQ, BEAR-Lag, BCQ-Lag, COptiDICE).</summary>
internal interface IDiscountedOfflineOptions
{
    /// <summary>Discount γ, in (0, 1).</summary>
    double Gamma { get; }

    /// <summary>Hidden widths of the actor.</summary>
    int[] ActorHiddenSizes { get; }

    /// <summary>Learning rate of the actor.</summary>
    double ActorLearningRate { get; }

    /// <summary>Learning rate of the value networks.</summary>
    double CriticLearningRate { get; }
}

/// <summary>The Q-learners regularised by a behaviour VAE (CPQ, BEAR-Lag, BCQ-Lag).</summary>
internal interface IVaeCriticOptions
{
    /// <summary>Polyak rate τ of the target networks, in (0, 1].</summary>
    double Tau { get; }

    /// <summary>Hidden widths of every critic member.</summary>
    int[] CriticHiddenSizes { get; }

    /// <summary>Hidden width of the VAE.</summary>
    int VaeHiddenSize { get; }

    /// <summary>Learning rate of the VAE.</summary>
    double VaeLearningRate { get; }

    /// <summary>Weight of the VAE's KL term.</summary>
    double VaeKlWeight { get; }

    /// <summary>Actions sampled per state.</summary>
    int SampleActionCount { get; }
}

/// <summary>The learners with grouped critic ensembles and the per-batch PID multiplier (BEAR-Lag, BCQ-Lag).</summary>
internal interface IBatchPidOptions
{
    /// <summary>Reward critics per double-Q group.</summary>
    int RewardCriticsPerGroup { get; }

    /// <summary>Cost critics per double-Q group.</summary>
    int CostCriticsPerGroup { get; }

    /// <summary>Weight of the pessimistic group in the soft-clipped double Q, in [0, 1].</summary>
    double DoubleQMix { get; }

    /// <summary>Proportional gain.</summary>
    double PidKp { get; }

    /// <summary>Integral gain.</summary>
    double PidKi { get; }

    /// <summary>Derivative gain.</summary>
    double PidKd { get; }

    /// <summary>Which states the PID measures Q_c on.</summary>
    CostConstraintStates ConstraintStates { get; }
}

/// <summary>The one validator of the shared option groups; each learner's validator starts from it and adds its own fields.</summary>
internal static class OfflineOptionsValidator
{
    /// <summary>A builder holding the failures of every group <paramref name="options"/> belongs to, each named by its property.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public static ValidateOptionsResultBuilder Common(IOfflineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var b = new ValidateOptionsResultBuilder();
        OptionChecks.NonNegative(b, options.CostLimit, nameof(options.CostLimit));
        OptionChecks.AtLeast(b, options.BatchSize, 1, nameof(options.BatchSize));
        if (options is IScaledOfflineOptions scaled)
        {
            OptionChecks.EpisodeLength(b, scaled.EpisodeLength, nameof(scaled.EpisodeLength));
            OptionChecks.Positive(b, scaled.RewardScale, nameof(scaled.RewardScale));
            OptionChecks.Positive(b, scaled.CostScale, nameof(scaled.CostScale));
        }
        if (options is IDiscountedOfflineOptions discounted)
        {
            OptionChecks.OpenUnit(b, discounted.Gamma, nameof(discounted.Gamma));
            OptionChecks.HiddenSizes(b, discounted.ActorHiddenSizes, nameof(discounted.ActorHiddenSizes));
            OptionChecks.Positive(b, discounted.ActorLearningRate, nameof(discounted.ActorLearningRate));
            OptionChecks.Positive(b, discounted.CriticLearningRate, nameof(discounted.CriticLearningRate));
        }
        if (options is IVaeCriticOptions vae)
        {
            OptionChecks.HalfOpenUnit(b, vae.Tau, nameof(vae.Tau));
            OptionChecks.HiddenSizes(b, vae.CriticHiddenSizes, nameof(vae.CriticHiddenSizes));
            OptionChecks.AtLeast(b, vae.VaeHiddenSize, 1, nameof(vae.VaeHiddenSize));
            OptionChecks.Positive(b, vae.VaeLearningRate, nameof(vae.VaeLearningRate));
            OptionChecks.NonNegative(b, vae.VaeKlWeight, nameof(vae.VaeKlWeight));
            OptionChecks.AtLeast(b, vae.SampleActionCount, 1, nameof(vae.SampleActionCount));
        }
        if (options is IBatchPidOptions pid)
        {
            OptionChecks.AtLeast(b, pid.RewardCriticsPerGroup, 1, nameof(pid.RewardCriticsPerGroup));
            OptionChecks.AtLeast(b, pid.CostCriticsPerGroup, 1, nameof(pid.CostCriticsPerGroup));
            OptionChecks.ClosedUnit(b, pid.DoubleQMix, nameof(pid.DoubleQMix));
            OptionChecks.NonNegative(b, pid.PidKp, nameof(pid.PidKp));
            OptionChecks.NonNegative(b, pid.PidKi, nameof(pid.PidKi));
            OptionChecks.NonNegative(b, pid.PidKd, nameof(pid.PidKd));
            OptionChecks.Defined(b, pid.ConstraintStates, nameof(pid.ConstraintStates));
        }
        return b;
    }
}

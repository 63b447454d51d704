using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Shared;

/// <summary>
/// Makes the library's optimizers: TorchSharp's Adam and AdamW with a step that keeps every scalar alive across its native call
/// (docs/known-issues.md). Saved states are interchangeable with those of <c>torch.optim.Adam</c>/<c>AdamW</c>.
/// </summary>
internal static class KeptScalarOptimizer
{
    /// <summary>Adam with PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8, no weight decay) unless given.</summary>
    public static TorchSharp.Modules.Adam Adam(IEnumerable<Parameter> parameters, double learningRate, double weightDecay = 0) =>
        new Optimizers.Adam(parameters, learningRate, weight_decay: weightDecay);

    /// <summary>AdamW (decoupled weight decay) with PyTorch's other defaults.</summary>
    public static TorchSharp.Modules.AdamW AdamW(IEnumerable<Parameter> parameters, double learningRate, double weightDecay) =>
        new Optimizers.AdamW(parameters, learningRate, weight_decay: weightDecay);

    /// <summary>
    /// <see cref="Adam"/> with the moments of a saved optimizer state when <paramref name="state"/> is given. The learning rate stays
    /// <paramref name="learningRate"/>: loading restores the producer's, and the consumer's options decide it (marvel.md §4.2, D14).
    /// </summary>
    /// <exception cref="InvalidDataException">The state does not fit the parameters; the message names <paramref name="role"/>.</exception>
    public static TorchSharp.Modules.Adam AdamFrom(IEnumerable<Parameter> parameters, double learningRate, byte[]? state, string role)
    {
        var optimizer = Adam(parameters, learningRate);
        if (state is null) return optimizer;
        try
        {
            ModuleState.LoadOptimizer(optimizer, state, role);
            ModuleState.SetLearningRate(optimizer, learningRate);
            return optimizer;
        }
        catch
        {
            optimizer.Dispose();
            throw;
        }
    }

    /// <summary>Checks that a saved Adam state fits <paramref name="parameters"/> without keeping an optimizer (nothing when null).</summary>
    /// <exception cref="InvalidDataException">The state does not fit; the message names <paramref name="role"/>.</exception>
    public static void CheckAdamState(IEnumerable<Parameter> parameters, byte[]? state, string role)
    {
        if (state is null) return;
        using var probe = Adam(parameters, 1e-3);
        ModuleState.LoadOptimizer(probe, state, role);
    }
}

using TorchSharp.Modules;

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
}

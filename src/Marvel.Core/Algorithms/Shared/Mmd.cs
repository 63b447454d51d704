namespace Marvel.Core.Algorithms.Shared;

/// <summary>Kernels of <see cref="Mmd"/>.</summary>
public enum MmdKernel
{
    /// <summary>k(x, y) = exp(−‖x − y‖² / (2σ)).</summary>
    Gaussian,
    /// <summary>k(x, y) = exp(−‖x − y‖₁ / (2σ)).</summary>
    Laplacian,
}

/// <summary>
/// Per-state maximum mean discrepancy between two sets of action samples (BEAR's support constraint).
/// </summary>
/// <remarks>
/// MMD(X, Y) = sqrt(mean k(x, x') + mean k(y, y') − 2 · mean k(x, y) + 10⁻⁶), each mean over all N × N pairs of one
/// state. The kernel width divides by 2σ, not 2σ² (reference parametrisation, algorithms spec §2.2), so the default
/// σ = 50 is the reference's value in the reference's units.
/// </remarks>
internal static class Mmd
{
    /// <summary>Added under the square root so its gradient stays finite at zero discrepancy.</summary>
    public const double Epsilon = 1e-6;

    /// <summary>MMD per state.</summary>
    /// <param name="x">[batch, N, d].</param>
    /// <param name="y">[batch, M, d].</param>
    /// <param name="kernel">The kernel.</param>
    /// <param name="sigma">Width σ &gt; 0.</param>
    /// <returns>[batch].</returns>
    public static Tensor Compute(Tensor x, Tensor y, MmdKernel kernel, double sigma)
    {
        using var kxx = MeanKernel(x, x, kernel, sigma);
        using var kyy = MeanKernel(y, y, kernel, sigma);
        using var kxy = MeanKernel(x, y, kernel, sigma);
        using var sum = (kxx.add(kyy, TorchScalars.One) - kxy.mul(TorchScalars.Of(2))).add(TorchScalars.Of(Epsilon), TorchScalars.One);
        return sum.sqrt();
    }

    /// <summary>mean over pairs (i, j) of k(a_i, b_j), per state: [batch].</summary>
    internal static Tensor MeanKernel(Tensor a, Tensor b, MmdKernel kernel, double sigma)
    {
        using var diff = a.unsqueeze(2) - b.unsqueeze(1);          // [batch, N, M, d]
        using var distance = kernel == MmdKernel.Gaussian ? diff.Squared().sum(-1) : diff.abs().sum(-1);
        using var k = distance.div(TorchScalars.Of(-2 * sigma)).exp();
        return k.mean(new long[] { 1, 2 });
    }
}

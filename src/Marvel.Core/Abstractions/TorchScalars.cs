using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Marvel.Core.Abstractions;

/// <summary>
/// TorchSharp <see cref="Scalar"/>s that live for the whole process, so none can be finalized while libtorch reads it.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 turns every number passed where a <see cref="Scalar"/> is expected (<c>t.mul(0.5)</c>, <c>t * 0.5</c>,
/// <c>clamp(-1, 1)</c>) into a temporary <see cref="Scalar"/> and hands its native handle to libtorch without keeping the managed
/// object alive; one-argument <c>add</c>/<c>add_</c> and the <c>+</c> operator add a hidden <c>alpha: 1</c> temporary. A
/// collection started by another thread can run the temporary's finalizer, which frees the native scalar while libtorch reads
/// it, and the process aborts (docs/known-issues.md). Library code therefore passes only scalars from this cache (static roots,
/// never finalized) or per-call scalars it owns in a <c>using</c>; <c>ScalarTemporaryTests</c> enforces it.
/// <para><see cref="Of(double)"/> is for values fixed for a learner's life: literals, options, dataset constants. A value that changes
/// every call (λ, a bias correction) would grow the cache without bound: use <c>using var s = value.ToScalar();</c> instead.</para>
/// </remarks>
internal static class TorchScalars
{
    private static readonly ConcurrentDictionary<long, Scalar> Doubles = new();
    private static readonly ConcurrentDictionary<long, Scalar> Integers = new();

    /// <summary>The integer 1: the explicit alpha of <c>add</c>/<c>add_</c>, the same value TorchSharp's one-argument overloads
    /// pass (an integer, so it also suits integer tensors).</summary>
    public static readonly Scalar One = Of(1L);

    /// <summary>The kept-alive float64 scalar for <paramref name="value"/> (one instance per bit pattern, created on first use).</summary>
    public static Scalar Of(double value) =>
        Doubles.GetOrAdd(BitConverter.DoubleToInt64Bits(value), static (_, v) => v.ToScalar(), value);

    /// <summary>The kept-alive integer scalar for <paramref name="value"/>, as TorchSharp makes from an <c>int</c> or <c>long</c>
    /// (it suits integer tensors, where a floating-point scalar would change the result type).</summary>
    public static Scalar Of(long value) =>
        Integers.GetOrAdd(value, static v => v.ToScalar());

    /// <summary>x², bit-identical to TorchSharp's <c>square()</c>, which is <c>pow(2)</c> with a temporary scalar made inside it.</summary>
    public static torch.Tensor Squared(this torch.Tensor x) => x.pow(Two);

    private static readonly Scalar Two = Of(2L);

    /// <summary>
    /// softplus(x) = log(1 + eˣ) with PyTorch's defaults (β = 1, threshold 20), bit-identical to <c>nn.functional.softplus</c>.
    /// TorchSharp's <c>softplus(double, double)</c> converts both numbers to temporary scalars inside itself, so this calls the
    /// private overload that takes <see cref="Scalar"/>s with kept-alive ones (TorchSharp 0.107's <c>Tensor.softplus1</c>;
    /// a test calls it, so a TorchSharp upgrade that renames it fails the suite, not a user's run).
    /// </summary>
    public static torch.Tensor Softplus(torch.Tensor x) => SoftplusWithScalars(x, SoftplusBeta, SoftplusThreshold);

    private static readonly Scalar SoftplusBeta = Of(1.0);
    private static readonly Scalar SoftplusThreshold = Of(20.0);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "softplus1")]
    private static extern torch.Tensor SoftplusWithScalars(torch.Tensor tensor, Scalar beta, Scalar threshold);

    /// <summary><paramref name="value"/> − <paramref name="tensor"/>, without the hidden temporaries of TorchSharp's <c>double − Tensor</c>.</summary>
    public static torch.Tensor Minus(double value, torch.Tensor tensor)
    {
        using var negated = tensor.neg();
        return negated.add(Of(value), One);
    }

    /// <summary><paramref name="value"/> − <paramref name="tensor"/> for a <paramref name="value"/> that is a kept-alive scalar.</summary>
    public static torch.Tensor Minus(Scalar value, torch.Tensor tensor)
    {
        using var negated = tensor.neg();
        return negated.add(value, One);
    }
}

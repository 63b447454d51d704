namespace Marvel.Core.Tests.Abstractions;

/// <summary>
/// Guards against the TorchSharp 0.107 scalar race (docs/known-issues.md): no code in src/Marvel.Core may hand a temporary
/// <c>Scalar</c> to native code. These tests compile the sources with Roslyn, so they take a few seconds.
/// </summary>
[TestFixture]
public sealed class ScalarTemporaryTests
{
    /// <summary>The kept-alive cache is the one place that converts numbers to scalars.</summary>
    private static readonly string[] Allowed = { "src/Marvel.Core/Abstractions/TorchScalars.cs" };

    [Test]
    public void MarvelCore_HasNoTemporaryScalarReachingNativeCode()
    {
        var root = ScalarTemporaryChecker.RepositoryRoot();
        var (findings, errors) = ScalarTemporaryChecker.Check(ScalarTemporaryChecker.ProjectSources(Path.Combine(root, "src", "Marvel.Core")), Allowed);

        errors.Should().BeEmpty("the check needs a clean compilation of src/Marvel.Core to resolve every operator and conversion");
        findings.Should().BeEmpty(
            "a temporary TorchSharp Scalar can be finalized by a collection on another thread while libtorch reads it (docs/known-issues.md). " +
            "Use TorchScalars.Of(constant) or a 'using var s = value.ToScalar();' for per-call values, pass alpha explicitly " +
            "(a.add(b, TorchScalars.One)), and read tensors through data<T>(). Found:\n" + string.Join("\n", findings));
    }

    private const string Seeded = """
        using TorchSharp;
        using static TorchSharp.torch;
        static class Bad
        {
            static Tensor Run(Tensor a, Tensor b, double lambda, Scalar kept)
            {
                var x = a.mul(lambda);              // implicit-scalar
                var y = a.add_(b);                  // hidden-alpha
                var z = a * 0.5;                    // operator-temporary (primitive operand)
                var w = a + b;                      // operator-temporary (+ has a hidden alpha)
                var v = kept - a;                   // operator-temporary (Scalar - Tensor)
                var u = (Scalar)2.0;                // implicit-scalar (a cast makes a temporary too)
                var s = 3.0.ToScalar();             // unowned-scalar
                float f = a.sum().ToSingle();       // scalar-read
                var t = a.addcdiv(b, b);            // hidden-alpha
                a.clamp_(min: 0.0);                 // implicit-scalar
                var r = nn.functional.softplus(a);  // internal-temporary
                var q = a.square();                 // internal-temporary (pow(2) inside TorchSharp)
                return x;
            }

            static Tensor Fine(Tensor a, Tensor b, Scalar kept, double lambda)
            {
                using var l = lambda.ToScalar();
                var x = a.mul(l).add(b, kept).sub(b).mul(kept) - b;
                var y = a * kept / kept - kept;
                var z = a.addcdiv(b, b, kept).add_(kept, kept) * b / b;
                return -x;
            }
        }
        """;

    [Test]
    public void Checker_FlagsEverySeededTemporary_AndNothingInSafeCode()
    {
        var (findings, errors) = ScalarTemporaryChecker.Check(new[] { ("Seeded.cs", Seeded) });

        errors.Should().BeEmpty();
        var byLine = findings.GroupBy(f => f.Line).ToDictionary(g => g.Key, g => g.Select(f => f.Rule).Distinct().ToArray());
        // Line numbers count from the "using TorchSharp;" line (1).
        byLine.Should().BeEquivalentTo(new Dictionary<int, string[]>
        {
            [7] = new[] { "implicit-scalar" },
            [8] = new[] { "hidden-alpha" },
            [9] = new[] { "operator-temporary" },
            [10] = new[] { "operator-temporary" },
            [11] = new[] { "operator-temporary" },
            [12] = new[] { "implicit-scalar" },
            [13] = new[] { "unowned-scalar" },
            [14] = new[] { "scalar-read" },
            [15] = new[] { "hidden-alpha" },
            [16] = new[] { "implicit-scalar" },
            [17] = new[] { "internal-temporary" },
            [18] = new[] { "internal-temporary" },
        }, o => o.WithoutStrictOrdering());
    }
}

using Marvel.Core.Tests.Abstractions;

namespace Marvel.Core.Tests.Architecture;

/// <summary>The layers of docs/architecture.md hold in src/Marvel.Core (issue #19 §5).</summary>
public class LayerTests
{
    [Test]
    public void SrcMarvelCore_UsesOnlyItsOwnAndLowerLayers()
    {
        var root = ScalarTemporaryChecker.RepositoryRoot();
        var (findings, errors) = LayerChecker.Check(ScalarTemporaryChecker.ProjectSources(Path.Combine(root, "src", "Marvel.Core")));

        errors.Should().BeEmpty("the check needs a clean compilation of src/Marvel.Core and a layer for every namespace");
        findings.Should().BeEmpty("a namespace may use only its own and lower layers (docs/architecture.md):\n" + string.Join("\n", findings));
    }

    [Test]
    public void Checker_FindsUsesOfHigherLayers_InUsingsAndPartlyQualifiedNames_AndPassesLowerOnes()
    {
        const string Lower = """
            namespace Marvel.Core.Algorithms.Shared { public static class Helper { public static int Two() => 2; } }
            namespace Marvel.Core.Environments { public sealed class Task { public int Steps => 3; } }
            """;
        const string Data = """
            using Marvel.Core.Algorithms.Shared;
            namespace Marvel.Core.Data
            {
                public sealed class Buffer
                {
                    public int A() => Helper.Two();                                   // layer 3 from layer 2: found
                    public int B() => new Marvel.Core.Environments.Task().Steps;      // layer 1: fine
                }
            }
            namespace Marvel.Core
            {
                public static class Root { public static int C() => Algorithms.Shared.Helper.Two(); }  // the root namespace has no layer
            }
            """;
        const string Environments = """
            namespace Marvel.Core.Environments
            {
                public static class Uses { public static object D() => new Marvel.Core.Data.Buffer(); }  // layer 2 from layer 1: found
            }
            """;

        var (findings, errors) = LayerChecker.Check([("Lower.cs", Lower), ("Data.cs", Data), ("Environments.cs", Environments)]);

        errors.Should().BeEmpty();
        findings.Select(f => (f.File, f.Line, f.Used)).Should().BeEquivalentTo(new[]
        {
            ("Data.cs", 6, "Marvel.Core.Algorithms.Shared.Helper"),
            ("Environments.cs", 3, "Marvel.Core.Data.Buffer"),
        });
        findings[0].ToString().Should().Be("Data.cs:6: Marvel.Core.Data (layer 2) uses Marvel.Core.Algorithms.Shared.Helper (layer 3)");
    }

    [Test]
    public void Checker_NamespaceWithoutALayer_IsAnError()
    {
        var (_, errors) = LayerChecker.Check([("X.cs", "namespace Marvel.Core.Plugins { public sealed class P { } }")]);
        errors.Should().ContainSingle().Which.Should().Contain("Marvel.Core.Plugins has no layer");
    }
}

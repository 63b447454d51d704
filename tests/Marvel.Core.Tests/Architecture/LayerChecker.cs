using Marvel.Core.Tests.Abstractions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Marvel.Core.Tests.Architecture;

/// <summary>A use of a symbol from a higher layer (docs/architecture.md).</summary>
internal sealed record LayerFinding(string File, int Line, string FromNamespace, int FromLayer, string Used, int UsedLayer)
{
    public override string ToString() => $"{File}:{Line}: {FromNamespace} (layer {FromLayer}) uses {Used} (layer {UsedLayer})";
}

/// <summary>
/// The layering of docs/architecture.md as a semantic check: every name in a source file is resolved with Roslyn, and a file in
/// <c>Marvel.Core.X</c> may use symbols of its own namespace and of lower layers only (a namespace beside it in the same layer
/// counts as higher, so layer-mates stay independent). Fully qualified and partly qualified names (<c>Data.MixedTransitionSampler</c>
/// inside <c>Marvel.Core</c>) are caught as well as <c>using</c>s.
/// </summary>
internal static class LayerChecker
{
    /// <summary>The layer of each first-level namespace under <c>Marvel.Core</c>, bottom to top.</summary>
    public static readonly IReadOnlyDictionary<string, int> Layers = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["Abstractions"] = 0,
        ["Environments"] = 1,
        ["Data"] = 2,
        ["Networks"] = 2,
        ["Lagrange"] = 2,
        ["Algorithms"] = 3,
        ["Alignment"] = 4,
        ["Inference"] = 4,
        ["Pipeline"] = 5,
        ["Hosting"] = 6,
    };

    /// <summary>The first-level namespace under Marvel.Core of a namespace, or null outside the library (or at its root).</summary>
    public static string? Area(INamespaceSymbol? ns)
    {
        var parts = new Stack<string>();
        for (var n = ns; n is { IsGlobalNamespace: false }; n = n.ContainingNamespace) parts.Push(n.Name);
        var names = parts.ToArray();
        return names.Length >= 3 && names[0] == "Marvel" && names[1] == "Core" ? names[2] : null;
    }

    /// <summary>Compiles the sources and returns every use of a higher layer, plus the compilation errors and the areas no layer names.</summary>
    public static (IReadOnlyList<LayerFinding> Findings, IReadOnlyList<string> Errors) Check(IEnumerable<(string Path, string Text)> sources)
    {
        var (compilation, trees, errors) = ScalarTemporaryChecker.Compile(sources);
        var findings = new List<LayerFinding>();
        foreach (var tree in trees)
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var declaration in tree.GetRoot().DescendantNodes().OfType<BaseNamespaceDeclarationSyntax>())
            {
                var from = Area(model.GetDeclaredSymbol(declaration) as INamespaceSymbol);
                if (from is null) continue;
                if (!Layers.TryGetValue(from, out int fromLayer))
                {
                    errors.Add($"{tree.FilePath}: namespace Marvel.Core.{from} has no layer in LayerChecker.Layers (add it and to docs/architecture.md).");
                    continue;
                }
                foreach (var name in declaration.DescendantNodes().OfType<SimpleNameSyntax>())
                {
                    var symbol = model.GetSymbolInfo(name).Symbol;
                    var type = symbol as INamedTypeSymbol ?? symbol?.ContainingType;
                    if (type is null) continue;
                    while (type.ContainingType is { } outer) type = outer;
                    var used = Area(type.ContainingNamespace);
                    if (used is null || used == from || !Layers.TryGetValue(used, out int usedLayer) || usedLayer < fromLayer) continue;
                    findings.Add(new LayerFinding(tree.FilePath, name.GetLocation().GetLineSpan().StartLinePosition.Line + 1, "Marvel.Core." + from, fromLayer,
                        type.ToDisplayString(), usedLayer));
                }
            }
        }
        return (findings.DistinctBy(f => (f.File, f.Line, f.Used)).ToList(), errors);
    }
}

using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Marvel.Core.Tests.Abstractions;

/// <summary>One place where source code hands a temporary TorchSharp <c>Scalar</c> to native code.</summary>
internal sealed record ScalarFinding(string File, int Line, string Rule, string Code, Microsoft.CodeAnalysis.Text.TextSpan Span)
{
    public override string ToString() => $"{File}:{Line}: {Rule}: {Code}";
}

/// <summary>
/// A semantic (Roslyn) check for the TorchSharp 0.107 scalar race (docs/known-issues.md): it compiles C# sources against the
/// real TorchSharp assembly and reports every construct that makes a <c>Scalar</c> the caller does not keep alive.
/// </summary>
/// <remarks>
/// Rules, each named in the findings:
/// <list type="bullet">
/// <item><c>implicit-scalar</c>: a user-defined conversion to <c>Scalar</c> (double, float, int, long, bool … → Scalar), implicit or cast.</item>
/// <item><c>hidden-alpha</c>: <c>add</c>/<c>add_</c> without an explicit alpha, <c>addcdiv</c>/<c>addcdiv_</c> without a value
/// (TorchSharp fills them with a temporary <c>Scalar</c> made from the literal 1).</item>
/// <item><c>operator-temporary</c>: a <c>Tensor</c> operator that makes a temporary <c>Scalar</c> inside TorchSharp:
/// any operand of a primitive numeric type (<c>t * 0.5</c>, <c>1 - t</c>), any <c>+</c> (it calls <c>add</c> with a hidden alpha),
/// and <c>Scalar − Tensor</c> (it calls <c>neg().add</c>).</item>
/// <item><c>internal-temporary</c>: a TorchSharp method that makes a temporary scalar inside itself (<c>square()</c> is <c>pow(2)</c>,
/// <c>softplus</c> converts its defaults; the list is read from the TorchSharp binary by <see cref="TorchSharpScalarTemporaries"/>),
/// or a factory of a module whose <c>forward</c> does.</item>
/// <item><c>scalar-read</c>: <c>ToSingle</c>, <c>ToDouble</c> and the other readers that go through a temporary <c>Tensor.ToScalar()</c>.</item>
/// <item><c>unowned-scalar</c>: <c>ToScalar()</c> whose result is not the resource of a <c>using</c> (nothing keeps it alive or frees it).</item>
/// </list>
/// Files whose path ends with one of <c>allowedFiles</c> (the kept-alive scalar cache) are skipped.
/// </remarks>
internal static class ScalarTemporaryChecker
{
    private static readonly string[] ImplicitUsings =
    {
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks",
    };

    private static readonly HashSet<string> ScalarReaders = new(StringComparer.Ordinal)
    {
        "ToSingle", "ToDouble", "ToInt32", "ToInt64", "ToInt16", "ToByte", "ToSByte", "ToBoolean", "ToHalf", "ToBFloat16",
        "ToComplexFloat32", "ToComplexFloat64",
    };

    /// <summary>Compiles <paramref name="sources"/> and returns every finding, plus the compilation errors (which make the check unreliable).</summary>
    public static (IReadOnlyList<ScalarFinding> Findings, IReadOnlyList<string> Errors) Check(
        IEnumerable<(string Path, string Text)> sources, IEnumerable<string>? allowedFiles = null)
    {
        var allowed = (allowedFiles ?? Array.Empty<string>()).ToArray();
        var (compilation, trees, errors) = Compile(sources);
        var scalar = compilation.GetTypeByMetadataName("TorchSharp.Scalar");
        var tensor = compilation.GetTypeByMetadataName("TorchSharp.torch+Tensor");
        if (scalar is null || tensor is null) errors.Add("TorchSharp.Scalar or TorchSharp.torch.Tensor is not among the references.");
        var findings = new List<ScalarFinding>();
        if (scalar is null || tensor is null) return (findings, errors);

        foreach (var tree in trees)
        {
            if (allowed.Any(a => tree.FilePath.Replace('\\', '/').EndsWith(a, StringComparison.Ordinal))) continue;
            var model = compilation.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                string? rule = node switch
                {
                    ExpressionSyntax e when IsConversionToScalar(model, e, scalar) => "implicit-scalar",
                    _ => null,
                };
                if (rule is not null) Add(findings, tree, node, rule);
                rule = node switch
                {
                    InvocationExpressionSyntax call => InvocationRule(model, call, scalar, tensor),
                    BinaryExpressionSyntax binary => OperatorRule(model, binary, binary.Left, binary.Right, scalar, tensor),
                    AssignmentExpressionSyntax assignment when !assignment.IsKind(SyntaxKind.SimpleAssignmentExpression) =>
                        OperatorRule(model, assignment, assignment.Left, assignment.Right, scalar, tensor),
                    _ => null,
                };
                if (rule is not null) Add(findings, tree, node, rule);
            }
        }
        // A conversion inside another flagged conversion (-C inside clamp(-C, C)) is the same temporary: keep the outermost.
        var spans = findings.Where(f => f.Rule == "implicit-scalar").ToList();
        findings.RemoveAll(f => f.Rule == "implicit-scalar" && spans.Any(o => !ReferenceEquals(o, f) && o.File == f.File && o.Span.Contains(f.Span) && o.Span != f.Span));
        return (findings, errors);
    }

    private static void Add(List<ScalarFinding> findings, SyntaxTree tree, SyntaxNode node, string rule)
    {
        var line = tree.GetLineSpan(node.Span).StartLinePosition.Line + 1;
        var code = node.ToString();
        if (code.Length > 120) code = code[..117] + "...";
        findings.Add(new ScalarFinding(tree.FilePath, line, rule, code.ReplaceLineEndings(" "), node.Span));
    }

    private static bool IsConversionToScalar(SemanticModel model, ExpressionSyntax expression, INamedTypeSymbol scalar)
    {
        var conversion = model.GetConversion(expression);
        if (conversion.IsUserDefined && SymbolEqualityComparer.Default.Equals(conversion.MethodSymbol?.ContainingType, scalar)) return true;
        return expression is CastExpressionSyntax cast
            && model.GetOperation(cast) is Microsoft.CodeAnalysis.Operations.IConversionOperation { OperatorMethod: { } method }
            && SymbolEqualityComparer.Default.Equals(method.ContainingType, scalar);
    }

    private static string? InvocationRule(SemanticModel model, InvocationExpressionSyntax call, INamedTypeSymbol scalar, INamedTypeSymbol tensor)
    {
        if (model.GetSymbolInfo(call).Symbol is not IMethodSymbol method) return null;
        var ns = method.ContainingNamespace?.ToDisplayString() ?? "";
        if (!ns.StartsWith("TorchSharp", StringComparison.Ordinal)) return null;
        var parameters = method.Parameters.Select(p => p.Name).ToArray();
        switch (method.Name)
        {
            case "add" or "add_" when !parameters.Contains("alpha"):
                return "hidden-alpha";
            case "addcdiv" or "addcdiv_" when !parameters.Contains("value"):
                return "hidden-alpha";
            case "ToScalar" when !IsUsingResource(call):
                return "unowned-scalar";
        }
        if (ScalarReaders.Contains(method.Name) && method.IsExtensionMethod
            && SymbolEqualityComparer.Default.Equals((method.ReducedFrom ?? method).Parameters.FirstOrDefault()?.Type, tensor))
            return "scalar-read";
        // Methods that convert a number to a Scalar inside TorchSharp (square() is pow(2), softplus converts its defaults, ...),
        // read from the TorchSharp binary; and factories of modules whose forward does so.
        if (TorchSharpScalarTemporaries.MakesTemporary(method)) return "internal-temporary";
        if (TorchSharpScalarTemporaries.ForwardMakesTemporary(method.ReturnType)) return "internal-temporary";
        return null;
    }

    private static bool IsUsingResource(SyntaxNode call)
    {
        // using var s = x.ToScalar();  or  using (var s = x.ToScalar()) { ... }
        var parent = call.Parent;
        if (parent is not EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax declaration } }) return false;
        return declaration.Parent is UsingStatementSyntax || declaration.Parent is LocalDeclarationStatementSyntax { UsingKeyword.RawKind: not 0 };
    }

    private static string? OperatorRule(SemanticModel model, SyntaxNode node, ExpressionSyntax left, ExpressionSyntax right, INamedTypeSymbol scalar, INamedTypeSymbol tensor)
    {
        if (model.GetSymbolInfo(node).Symbol is not IMethodSymbol { MethodKind: MethodKind.UserDefinedOperator } op) return null;
        if (!SymbolEqualityComparer.Default.Equals(op.ContainingType, tensor)) return null;
        var leftType = op.Parameters[0].Type;
        var rightType = op.Parameters[1].Type;
        bool Primitive(ITypeSymbol t) => t.SpecialType is SpecialType.System_Double or SpecialType.System_Single or SpecialType.System_Int32 or SpecialType.System_Int64;
        if (Primitive(leftType) || Primitive(rightType)) return "operator-temporary";
        if (op.Name == "op_Addition") return "operator-temporary";
        if (op.Name == "op_Subtraction" && SymbolEqualityComparer.Default.Equals(leftType, scalar)) return "operator-temporary";
        return null;
    }

    /// <summary>
    /// Compiles C# sources as the library is compiled (preview language, nullable, unsafe, the SDK's implicit usings) against every
    /// managed assembly beside the tests except the Marvel ones, so the semantic model resolves every symbol of the sources under check.
    /// Returns the compilation, the sources' syntax trees (without the implicit-usings file) and the compilation errors.
    /// </summary>
    public static (CSharpCompilation Compilation, IReadOnlyList<SyntaxTree> Trees, List<string> Errors) Compile(IEnumerable<(string Path, string Text)> sources)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, parse, s.Path)).ToList();
        var usings = CSharpSyntaxTree.ParseText(string.Concat(ImplicitUsings.Select(u => $"global using global::{u};\n")), parse, "ImplicitUsings.g.cs");
        var compilation = CSharpCompilation.Create("SourceCheck", trees.Append(usings), References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        // CS8795: a partial method that a source generator ([GeneratedRegex]) implements; this compilation runs no generators.
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error && d.Id != "CS8795").Select(d => d.ToString()).ToList();
        return (compilation, trees, errors);
    }

    private static IEnumerable<MetadataReference> References()
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var paths = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll"));
        foreach (var path in paths)
        {
            var name = Path.GetFileName(path);
            // The sources under check are compiled here; the built Marvel assemblies would define the same types twice.
            if (name.StartsWith("Marvel.", StringComparison.OrdinalIgnoreCase) || !seen.Add(name)) continue;
            if (!IsManagedAssembly(path)) continue;
            yield return MetadataReference.CreateFromFile(path);
        }
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new System.Reflection.PortableExecutable.PEReader(stream);
            return reader.HasMetadata;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    /// <summary>The repository root (the folder holding Marvel.Core.sln), found upward from the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Marvel.Core.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No Marvel.Core.sln above '{AppContext.BaseDirectory}'.");
    }

    /// <summary>Every C# file of a project folder except build output.</summary>
    public static IEnumerable<(string Path, string Text)> ProjectSources(string projectFolder)
    {
        var sep = Path.DirectorySeparatorChar;
        return Directory.EnumerateFiles(projectFolder, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{sep}obj{sep}", StringComparison.Ordinal) && !p.Contains($"{sep}bin{sep}", StringComparison.Ordinal))
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (Path.GetRelativePath(RepositoryRoot(), p).Replace('\\', '/'), File.ReadAllText(p)));
    }
}

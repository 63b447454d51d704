using System.Reflection;
using System.Reflection.Emit;
using Microsoft.CodeAnalysis;

namespace Marvel.Core.Tests.Abstractions;

/// <summary>
/// The TorchSharp methods that make a temporary <c>Scalar</c> inside themselves, found by reading the IL of the TorchSharp
/// assembly the tests run with: a method is listed when its body converts a number to <c>Scalar</c> (<c>op_Implicit</c>,
/// <c>ToScalar</c>) or calls a listed TorchSharp method (to a fixed point). <c>square()</c> (<c>pow(2)</c>), one-argument
/// <c>add</c> (<c>alpha: 1</c>) and <c>softplus(double, double)</c> are examples. Because the list comes from the binary, a
/// TorchSharp upgrade that adds or removes such temporaries changes what <see cref="ScalarTemporaryChecker"/> reports.
/// </summary>
internal static class TorchSharpScalarTemporaries
{
    private static readonly Lazy<HashSet<string>> Tainted = new(Compute);
    private static readonly Dictionary<short, OpCode> OneByte = new();
    private static readonly Dictionary<short, OpCode> TwoByte = new();

    static TorchSharpScalarTemporaries()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var code = (OpCode)field.GetValue(null)!;
            if (code.Size == 1) OneByte[code.Value] = code;
            else TwoByte[(short)(code.Value & 0xff)] = code;
        }
    }

    /// <summary>True when calling <paramref name="method"/> makes a temporary Scalar inside TorchSharp.</summary>
    public static bool MakesTemporary(IMethodSymbol method) => Tainted.Value.Contains(Key(method));

    /// <summary>True when <paramref name="type"/> is a TorchSharp module whose <c>forward</c> makes a temporary Scalar.</summary>
    public static bool ForwardMakesTemporary(ITypeSymbol type) =>
        type is INamedTypeSymbol named && Tainted.Value.Contains(FullName(named) + ".forward");

    private static string Key(IMethodSymbol method)
    {
        var m = (method.ReducedFrom ?? method).OriginalDefinition;
        return FullName(m.ContainingType) + "." + m.MetadataName + "(" + string.Join(",", m.Parameters.Select(p => TypeName(p.Type))) + ")";
    }

    private static string TypeName(ITypeSymbol t) => t switch
    {
        IArrayTypeSymbol a => TypeName(a.ElementType) + "[]",
        ITypeParameterSymbol p => p.Name,
        _ => t.MetadataName,
    };

    private static string FullName(INamedTypeSymbol t) =>
        t.ContainingType is { } outer ? FullName(outer) + "+" + t.MetadataName
        : (t.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() + "." : "") + t.MetadataName;

    private static string Key(MethodBase m) =>
        ReflectionFullName(m.DeclaringType!) + "." + m.Name + "(" + string.Join(",", m.GetParameters().Select(p => ReflectionTypeName(p.ParameterType))) + ")";

    private static string ReflectionTypeName(Type t) =>
        t.IsArray ? ReflectionTypeName(t.GetElementType()!) + "[]" : t.IsGenericParameter ? t.Name : t.Name.TrimEnd('&');

    private static string ReflectionFullName(Type t) =>
        t.DeclaringType is { } outer ? ReflectionFullName(outer) + "+" + t.Name : (t.Namespace is null ? "" : t.Namespace + ".") + t.Name;

    private static HashSet<string> Compute()
    {
        var assembly = typeof(TorchSharp.Scalar).Assembly;
        var scalar = typeof(TorchSharp.Scalar);
        var methods = new List<MethodBase>();
        foreach (var type in assembly.GetTypes())
        {
            const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            methods.AddRange(type.GetMethods(all));
            methods.AddRange(type.GetConstructors(all));
        }
        var callees = new Dictionary<MethodBase, List<MethodBase>>();
        var tainted = new HashSet<MethodBase>();
        foreach (var method in methods)
        {
            var calls = Calls(method);
            callees[method] = calls;
            if (calls.Any(c => (c.Name == "op_Implicit" && c.DeclaringType == scalar) || (c.Name == "ToScalar" && c is MethodInfo mi && mi.ReturnType == scalar)))
                tainted.Add(method);
        }
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var (method, calls) in callees)
                if (!tainted.Contains(method) && calls.Any(tainted.Contains)) changed |= tainted.Add(method);
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in tainted)
        {
            keys.Add(Key(m));
            if (m.Name == "forward") keys.Add(ReflectionFullName(m.DeclaringType!) + ".forward");
        }
        return keys;
    }

    // The methods a body calls (call, callvirt, newobj, ldftn), read by walking its IL with the operand sizes of System.Reflection.Emit.
    private static List<MethodBase> Calls(MethodBase method)
    {
        var result = new List<MethodBase>();
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException) { return result; }
        if (il is null) return result;
        var module = method.Module;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method is MethodInfo { IsGenericMethod: true } g ? g.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            OpCode op;
            if (il[i] == 0xFE) { op = TwoByte[il[i + 1]]; i += 2; }
            else { op = OneByte[il[i]]; i += 1; }
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType == OperandType.InlineMethod)
            {
                try
                {
                    if (module.ResolveMethod(BitConverter.ToInt32(il, i), typeArgs, methodArgs) is { } callee) result.Add(callee);
                }
                catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or MissingMethodException) { }
            }
            i += size;
        }
        return result;
    }
}

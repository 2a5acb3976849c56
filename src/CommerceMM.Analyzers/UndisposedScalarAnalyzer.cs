using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace CommerceMM.Analyzers;

/// <summary>
/// CMM0001: a TorchSharp <c>Scalar</c> that nothing disposes. Such a Scalar is freed by its finalizer, and
/// TorchSharp's ops do not keep it alive during the native call they pass it to: a garbage collection in that
/// window frees it mid-call, and libtorch fails ("Expected false to be true" in Scalar::toDouble) or reads
/// garbage (dotnet/TorchSharp#1434, #1496). Rare per call, certain over a multi-day run, so the product holds
/// every Scalar it makes: <c>using var half = 0.5.ToScalar();</c>, or one kept in a field or a static.
/// </summary>
/// <remarks>
/// Three ways code makes one without holding it:
/// <list type="bullet">
/// <item>a conversion to Scalar (<c>x.mul(0.5)</c>, <c>masked_fill(mask, 0)</c>);</item>
/// <item>a TorchSharp overload taking a number where a sibling takes a Scalar (<c>x * 0.5</c>): it converts inside;
/// and TorchSharp's <c>t.ToDouble()</c> family, which reads the value through a Scalar it leaves behind;</item>
/// <item><c>ToScalar()</c> passed straight on, or stored in a local without <c>using</c>;</item>
/// <item>a TorchSharp shortcut that calls its full form with a default Scalar: <c>add(y)</c> is <c>add(y, 1)</c>,
/// <c>addcdiv(a, b)</c> is <c>addcdiv(a, b, 1)</c>, <c>square()</c> is <c>pow(2)</c>, and every tensor <c>+</c>
/// (and a number or Scalar minus a tensor) ends in such an <c>add</c>. CI met this one in an encoder's
/// <c>x + positions</c>; <c>UnheldScalarTests</c> found <c>square()</c> in SCALE's step.</item>
/// </list>
/// TorchSharp's own code is not read, so a number it turns into a Scalar with no overload beside it to give it
/// away goes unseen. Its 0.107 sources show such conversions only in a few norms, shrink activations and optimizers
/// we do not use; the default alphas above were found there too, after one hit CI.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UndisposedScalarAnalyzer : DiagnosticAnalyzer
{
    public const string Id = "CMM0001";

    private static readonly DiagnosticDescriptor Rule = new(
        Id,
        "A TorchSharp Scalar that nothing disposes",
        "{0} makes a TorchSharp Scalar that nothing disposes; its finalizer can free it while libtorch still reads it. Hold it: 'using var s = value.ToScalar();' (or a field or static) and pass s (CONTRIBUTING: Scalars on hot paths).",
        "Reliability",
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Rule);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var scalar = start.Compilation.GetTypeByMetadataName("TorchSharp.Scalar");
            if (scalar is null) return; // a project without TorchSharp
            start.RegisterOperationAction(c => CheckConversion(c, scalar), OperationKind.Conversion);
            start.RegisterOperationAction(c => CheckCall(c, scalar, ((IInvocationOperation)c.Operation).TargetMethod), OperationKind.Invocation);
            start.RegisterOperationAction(c => CheckCall(c, scalar, ((IBinaryOperation)c.Operation).OperatorMethod), OperationKind.Binary);
            start.RegisterOperationAction(c => CheckCall(c, scalar, ((ICompoundAssignmentOperation)c.Operation).OperatorMethod), OperationKind.CompoundAssignment);
        });
    }

    private static void CheckConversion(OperationAnalysisContext context, INamedTypeSymbol scalar)
    {
        var conversion = (IConversionOperation)context.Operation;
        if (conversion.OperatorMethod is { } method && SymbolEqualityComparer.Default.Equals(method.ContainingType, scalar)
            && SymbolEqualityComparer.Default.Equals(conversion.Type, scalar))
            Report(context, conversion.Syntax, $"Converting '{conversion.Operand.Syntax}'");
    }

    private static void CheckCall(OperationAnalysisContext context, INamedTypeSymbol scalar, IMethodSymbol? method)
    {
        if (method is null) return;
        if (method.Name == "ToScalar" && SymbolEqualityComparer.Default.Equals(method.ReturnType, scalar))
        {
            if (!IsHeld(context.Operation)) Report(context, context.Operation.Syntax, $"'{context.Operation.Syntax}'");
            return;
        }
        if (!InTorchSharp(method)) return;
        if (method.ContainingType.Name == "TensorExtensionMethods" && method.Name.StartsWith("To", System.StringComparison.Ordinal)
            && method.Parameters.Length == 1 && method.ReturnType.IsValueType)
        {
            Report(context, context.Operation.Syntax, $"'{context.Operation.Syntax}' (TorchSharp reads the value through a Scalar of its own)");
            return;
        }
        if (PassesADefaultScalar(method, scalar))
        {
            Report(context, context.Operation.Syntax, $"'{context.Operation.Syntax}' (TorchSharp's {method.Name} makes a Scalar of its own inside; pass a held one, or write x.Add(y), x.Square())");
            return;
        }
        for (int i = 0; i < method.Parameters.Length; i++)
            if (IsNumber(method.Parameters[i].Type) && HasScalarSibling(method, i, scalar))
            {
                Report(context, context.Operation.Syntax, $"'{context.Operation.Syntax}' (TorchSharp's {method.Name} taking {method.Parameters[i].Type} converts it inside)");
                return;
            }
    }

    /// <summary>Stored where it is disposed or kept: a using local, a field or property, a returned value (a factory's).</summary>
    private static bool IsHeld(IOperation made)
    {
        var parent = made.Parent;
        while (parent is IConversionOperation { IsImplicit: true }) parent = parent.Parent;
        switch (parent)
        {
            case IFieldInitializerOperation or IPropertyInitializerOperation or IReturnOperation:
                return true;
            case ISimpleAssignmentOperation { Target: IFieldReferenceOperation or IPropertyReferenceOperation }:
                return true;
            case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation { Parent: IVariableDeclarationOperation declaration } }:
                return declaration.Parent is IUsingOperation
                       || declaration.Parent is IVariableDeclarationGroupOperation { Parent: IUsingDeclarationOperation or IUsingOperation };
            default:
                return false;
        }
    }

    private static bool InTorchSharp(IMethodSymbol method)
    {
        for (var ns = method.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
            if (ns.Name == "TorchSharp" && ns.ContainingNamespace.IsGlobalNamespace) return true;
        return false;
    }

    private static bool IsNumber(ITypeSymbol type) =>
        type.SpecialType is SpecialType.System_Byte or SpecialType.System_SByte or SpecialType.System_Int16 or SpecialType.System_Int32
            or SpecialType.System_Int64 or SpecialType.System_Single or SpecialType.System_Double or SpecialType.System_Boolean;

    /// <summary>An overload of the same name and arity that takes a Scalar at <paramref name="position"/>: the number one is a shortcut to it.</summary>
    private static bool HasScalarSibling(IMethodSymbol method, int position, INamedTypeSymbol scalar) =>
        method.ContainingType.GetMembers(method.Name).OfType<IMethodSymbol>().Any(sibling =>
            sibling.Parameters.Length == method.Parameters.Length
            && SymbolEqualityComparer.Default.Equals(sibling.Parameters[position].Type.WithNullableAnnotation(NullableAnnotation.NotAnnotated), scalar));

    /// <summary>
    /// A shortcut for a sibling that takes the same parameters plus one or more Scalars (TorchSharp fills them with
    /// numbers of its own: <c>add(y)</c> is <c>add(y, 1)</c>, <c>arange(stop)</c> is <c>arange(0, stop, 1)</c>);
    /// a Tensor operator built on one (every <c>+</c> is <c>add(other)</c>, a number minus a tensor is
    /// <c>negative().add(number)</c>); or one of the few ops whose body converts a literal with no sibling to show it.
    /// </summary>
    private static bool PassesADefaultScalar(IMethodSymbol method, INamedTypeSymbol scalar)
    {
        if (method.MethodKind == MethodKind.UserDefinedOperator)
            return method.ContainingType.Name == "Tensor"
                   && (method.Name == "op_Addition" || method.Name == "op_Subtraction" && method.Parameters[0].Type.Name != "Tensor");
        if (LiteralInside.Contains(method.Name)) return true;
        return method.ContainingType.GetMembers(method.Name).OfType<IMethodSymbol>().Any(sibling =>
            sibling.IsStatic == method.IsStatic && sibling.Parameters.Length > method.Parameters.Length
            && IsWithExtraScalars(method.Parameters, sibling.Parameters, scalar));
    }

    /// <summary>Read in TorchSharp 0.107's sources: <c>square()</c> is <c>pow(2)</c>, <c>celu()</c> is <c>celu(1.0)</c>.</summary>
    private static readonly ImmutableHashSet<string> LiteralInside = ImmutableHashSet.Create("square", "celu", "celu_");

    /// <summary>Whether <paramref name="longer"/> is <paramref name="shorter"/> with Scalar parameters inserted.</summary>
    private static bool IsWithExtraScalars(ImmutableArray<IParameterSymbol> shorter, ImmutableArray<IParameterSymbol> longer, INamedTypeSymbol scalar)
    {
        int i = 0;
        foreach (var parameter in longer)
        {
            if (i < shorter.Length && SymbolEqualityComparer.Default.Equals(parameter.Type, shorter[i].Type)) i++;
            else if (!SymbolEqualityComparer.Default.Equals(parameter.Type.WithNullableAnnotation(NullableAnnotation.NotAnnotated), scalar)) return false;
        }
        return i == shorter.Length;
    }

    private static void Report(OperationAnalysisContext context, SyntaxNode at, string what) =>
        context.ReportDiagnostic(Diagnostic.Create(Rule, at.GetLocation(), what));
}

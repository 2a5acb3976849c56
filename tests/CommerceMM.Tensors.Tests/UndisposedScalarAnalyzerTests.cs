using System.Collections.Immutable;
using CommerceMM.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CommerceMM.Tensors.Tests;

/// <summary>CMM0001 against TorchSharp itself: every way code makes a Scalar nobody holds, and the held forms it allows.</summary>
public class UndisposedScalarAnalyzerTests
{
    [Theory]
    [InlineData("return x * 0.5;")]                                             // TorchSharp's number overload converts inside
    [InlineData("return 2 * x;")]
    [InlineData("x *= 0.5; return x;")]
    [InlineData("return x.mul(0.5);")]                                          // a conversion in our code
    [InlineData("return x.masked_fill(mask, 0);")]
    [InlineData("return torch.arange(Half, 4, Half, ScalarType.Int64, x.device);")]
    [InlineData("return x.mul(0.5.ToScalar());")]                               // made, passed on, never disposed
    [InlineData("var s = 0.5.ToScalar(); return x.mul(s);")]                    // a local without using
    [InlineData("return x.ToDouble() > 0 ? x : mask;")]                          // read through TorchSharp's own Scalar
    [InlineData("return x * x + x.sum(0);")]                                     // every + is add(y), whose alpha of 1 TorchSharp makes
    [InlineData("x += mask; return x;")]
    [InlineData("return x.add(mask);")]
    [InlineData("return x.add(Half);")]
    [InlineData("return torch.add(x, mask);")]
    [InlineData("return x.addcdiv(x, mask);")]
    [InlineData("return Half - x;")]                                             // negative().add(Half)
    [InlineData("return x.square();")]                                           // pow(2)
    [InlineData("return torch.arange(Half, Half, ScalarType.Int64, x.device);")] // arange(start, stop, 1)
    public void UnheldScalar_IsReported(string body)
    {
        var diagnostic = Assert.Single(Analyze(body));
        Assert.Equal(UndisposedScalarAnalyzer.Id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains("using var s = value.ToScalar()", diagnostic.GetMessage());
    }

    [Theory]
    [InlineData("using var s = 0.5.ToScalar(); return x.mul(s);")]
    [InlineData("using (var s = 0.5.ToScalar()) return x.mul(s);")]
    [InlineData("return x.mul(Half);")]                                          // kept in a static
    [InlineData("return x * x - x.sum(0);")]                                     // no number anywhere, and sub has no alpha
    [InlineData("return x.add(mask, Half).addcdiv(x, mask, Half);")]             // the full forms, with a held Scalar
    [InlineData("return x.Add(mask).Add(Half).Square();")]                       // HeldScalars' sums and square
    [InlineData("return torch.arange(Half, Half, Half, ScalarType.Int64, x.device);")]
    [InlineData("return x.Mul(0.5).MaskedFill(mask, 0.0);")]                     // HeldScalars
    [InlineData("return x.view(2, -1).narrow(0, 1, 1).softmax(-1);")]            // numbers that are not Scalars
    [InlineData("using var s = x.ToScalar(); return s.ToDouble() > 0 ? x : mask;")]
    public void HeldScalarOrNone_IsNotReported(string body) => Assert.Empty(Analyze(body));

    private static ImmutableArray<Diagnostic> Analyze(string body)
    {
        string source = $$"""
            using CommerceMM.Tensors;
            using TorchSharp;
            using static TorchSharp.torch;
            static class Sample
            {
                static readonly Scalar Half = 0.5.ToScalar();
                static Tensor Run(Tensor x, Tensor mask) { {{body}} }
            }
            """;
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create("Sample", [CSharpSyntaxTree.ParseText(source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors)); // the sample itself must compile
        return compilation.WithAnalyzers([new UndisposedScalarAnalyzer()]).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
    }
}

using System.Text.Json;
using CommerceMM.K8s.Tests.Support;

namespace CommerceMM.K8s.Tests;

/// <summary>
/// The TorchBackend build switch (Directory.Build.props and .targets) as MSBuild itself evaluates it,
/// offline. TorchSharp-cuda-linux is not served by this workplace's package source, so the default build
/// must never ask for it; the GPU image asks for it with -p:TorchBackend=cuda where nuget.org is reachable.
/// </summary>
public sealed class TorchBackendSwitchTests
{
    private const string Tensors = "src/CommerceMM.Tensors/CommerceMM.Tensors.csproj";
    private const string Cli = "src/CommerceMM.Cli/CommerceMM.Cli.csproj";

    /// <summary>Backend (null: not given) and the torch packages it must select, no more and no fewer.</summary>
    public static TheoryData<string?, string[]> Backends => new()
    {
        { null, ["TorchSharp", "libtorch-cpu-linux-x64"] },
        { "cpu", ["TorchSharp", "libtorch-cpu-linux-x64"] },
        { "none", ["TorchSharp"] },
        { "cuda", ["TorchSharp-cuda-linux"] },
    };

    private static Dictionary<string, string> Backend(string? value) => value is null ? [] : new() { ["TorchBackend"] = value };

    private static IReadOnlyList<string> TorchPackages(IEnumerable<string> references) =>
        references.Where(r => r.Contains("torch", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();

    [Theory, MemberData(nameof(Backends))]
    public void Backend_SelectsItsTorchPackages_EachWithAPinnedVersion(string? backend, string[] expected)
    {
        var result = MsBuildEvaluation.Run(Tensors, Backend(backend), "PackageReference", "PackageVersion");
        Assert.True(result.ExitCode == 0, $"TorchBackend={backend ?? "(default)"} does not evaluate:\n{result.Output}");
        Assert.Equal(expected.Order(StringComparer.Ordinal), TorchPackages(result["PackageReference"]));
        // Central package management: a reference without a PackageVersion would fail the restore (NU1010).
        Assert.All(result["PackageReference"], p => Assert.Contains(p, result["PackageVersion"]));
    }

    [Fact]
    public void UnknownBackend_FailsTheBuild_NamingTheValue()
    {
        var result = MsBuildEvaluation.Run(Tensors, Backend("gpu"), "PackageReference");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("TorchBackend='gpu' is not known", result.Output);
    }

    [Theory]
    [InlineData("Dockerfile.cpu", "libtorch-cpu-linux-x64")]
    [InlineData("Dockerfile.gpu", "TorchSharp-cuda-linux")]
    public void Images_PublishCmmWithABackendThatSelectsTheirLibtorch(string image, string package)
    {
        string backend = Dockerfiles.PublishProperty(image, "TorchBackend");
        var result = MsBuildEvaluation.Run(Cli, Backend(backend), "PackageReference");
        Assert.True(result.ExitCode == 0, $"{image}'s TorchBackend={backend} does not evaluate for cmm:\n{result.Output}");
        Assert.Contains(package, result["PackageReference"]);
    }

    [Fact]
    public void DefaultBuild_RestoredTheCpuLibtorch_AndNothingForCuda()
    {
        // This project references cmm, so its restore holds the default build's whole package graph:
        // it restored here, where no CUDA package is served, and it must hold none.
        string assets = Path.Combine(Kustomize.RepoRoot, "tests", "CommerceMM.K8s.Tests", "obj", "project.assets.json");
        using var document = JsonDocument.Parse(File.ReadAllText(assets));
        var packages = document.RootElement.GetProperty("libraries").EnumerateObject()
            .Where(l => l.Value.GetProperty("type").GetString() == "package")
            .Select(l => l.Name.Split('/')[0]).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Contains("TorchSharp", packages);
        Assert.Contains("libtorch-cpu-linux-x64", packages);
        Assert.DoesNotContain(packages, p => p.Contains("cuda", StringComparison.OrdinalIgnoreCase));
    }
}

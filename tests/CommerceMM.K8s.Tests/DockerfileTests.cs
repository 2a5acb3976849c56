using System.Text.RegularExpressions;
using CommerceMM.K8s.Tests.Support;

namespace CommerceMM.K8s.Tests;

/// <summary>No Docker engine runs here, so the images are checked as text: the CPU image shares tools/bootstrap's package list.</summary>
public sealed partial class DockerfileTests
{
    private static string Read(string name) => File.ReadAllText(Path.Combine(Kustomize.RepoRoot, "k8s", "images", name));

    /// <summary>Instructions with their continuation lines joined and comments dropped, as Docker reads them.</summary>
    private static IReadOnlyList<string> Instructions(string dockerfile) =>
        Continuation().Replace(string.Join('\n', dockerfile.Split('\n').Where(l => !l.TrimStart().StartsWith('#'))), " ")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    [Fact]
    public void CpuDockerfile_RunsToolsBootstrap_AndInstallsNoPackagesOfItsOwn()
    {
        var instructions = Instructions(Read("Dockerfile.cpu"));
        Assert.Contains(instructions, i => i.StartsWith("COPY tools/", StringComparison.Ordinal));
        Assert.Contains(instructions, i => i.StartsWith("RUN ", StringComparison.Ordinal) && i.Contains("tools/bootstrap", StringComparison.Ordinal));
        Assert.DoesNotContain(instructions, i => PackageInstall().IsMatch(i));
        Assert.Contains(instructions, i => i.StartsWith("FROM debian:12", StringComparison.Ordinal));
        Assert.Contains(instructions, i => i.Contains("dotnet publish src/CommerceMM.Cli", StringComparison.Ordinal));
    }

    [Fact]
    public void Images_StartCmmAsPid1InExecForm()
    {
        // A shell as PID 1 would not pass SIGTERM on, and the worker would lose its preemption checkpoint.
        foreach (string name in new[] { "Dockerfile.cpu", "Dockerfile.gpu" })
            Assert.Contains("ENTRYPOINT [\"cmm\"]", Instructions(Read(name)));
    }

    [Fact]
    public void GpuDockerfile_BuildsTheShimAgainstCudaLibtorchWithTheNcclSwitch()
    {
        var instructions = Instructions(Read("Dockerfile.gpu"));
        Assert.Contains(instructions, i => i.StartsWith("FROM nvidia/cuda:", StringComparison.Ordinal));
        Assert.Contains(instructions, i => i.Contains("-DCMM_WITH_NCCL=ON", StringComparison.Ordinal));
        Assert.Contains(instructions, i => i.Contains("download.pytorch.org/libtorch/cu", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"\\\n")]
    private static partial Regex Continuation();

    [GeneratedRegex(@"\b(apt-get|apt|aptitude)\s+(-\S+\s+)*install\b")]
    private static partial Regex PackageInstall();
}

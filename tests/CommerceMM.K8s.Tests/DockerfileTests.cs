using System.Text.RegularExpressions;
using CommerceMM.K8s.Tests.Support;

namespace CommerceMM.K8s.Tests;

/// <summary>
/// No Docker engine runs here, so the images are checked as text against the repository: the CPU image
/// shares tools/bootstrap's package list, both take libtorch from TorchSharp's packages only, and the one
/// native library they compile with CMake is the real collectives project.
/// </summary>
public sealed partial class DockerfileTests
{
    public static TheoryData<string> Images => new() { "Dockerfile.cpu", "Dockerfile.gpu" };

    private const string CollectivesNative = "src/CommerceMM.Collectives/native";

    [Fact]
    public void CpuDockerfile_RunsToolsBootstrap_AndInstallsNoPackagesOfItsOwn()
    {
        var instructions = Dockerfiles.Instructions("Dockerfile.cpu");
        Assert.Contains(instructions, i => i.StartsWith("COPY tools/", StringComparison.Ordinal));
        Assert.Contains(instructions, i => i.StartsWith("RUN ", StringComparison.Ordinal) && i.Contains("tools/bootstrap", StringComparison.Ordinal));
        Assert.DoesNotContain(instructions, i => PackageInstall().IsMatch(i));
        Assert.Contains(instructions, i => i.StartsWith("FROM debian:12", StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Images))]
    public void Images_PublishCmmForLinuxX64_WithAnExplicitTorchBackend(string image)
    {
        string publish = Dockerfiles.PublishInstruction(image);
        Assert.Matches(@"(-r|--runtime) linux-x64\b", publish);
        string expected = image == "Dockerfile.gpu" ? "cuda" : "cpu";
        Assert.Equal(expected, Dockerfiles.PublishProperty(image, "TorchBackend"));
        // cmm loads libLibTorchSharp.so from its own folder (TorchRuntime.EnsureLoaded): it must be published there.
        Assert.Contains("test -f /opt/commercemm/libLibTorchSharp.so", publish);
    }

    [Theory, MemberData(nameof(Images))]
    public void Images_NeedNoLibtorchOfTheirOwn(string image)
    {
        // libtorch comes only from TorchSharp's NuGet packages: no Debian libtorch-dev, no PyTorch zip, no
        // shim compiled against libtorch headers (the old src/CommerceMM.Torch/native).
        foreach (string instruction in Dockerfiles.Instructions(image))
        {
            Assert.DoesNotContain("libtorch-dev", instruction, StringComparison.Ordinal);
            Assert.DoesNotContain("download.pytorch.org", instruction, StringComparison.Ordinal);
            Assert.DoesNotContain("CommerceMM.Torch/", instruction, StringComparison.Ordinal);
            Assert.DoesNotContain("CMAKE_PREFIX_PATH", instruction, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CpuImage_BootstrapInstallsNoLibtorch()
    {
        // The CPU image installs exactly bootstrap's packages, so bootstrap must not bring libtorch back.
        var code = File.ReadAllLines(Path.Combine(Kustomize.RepoRoot, "tools", "bootstrap"))
            .Select(l => l.Split('#')[0]).Where(l => l.Length > 0);
        Assert.DoesNotContain(code, l => l.Contains("libtorch", StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Images))]
    public void Images_BuildTheCollectivesLibraryWithCMake_AndShipItBesideCmm(string image)
    {
        var instructions = Dockerfiles.Instructions(image);
        string cmakeLists = Path.Combine(Kustomize.RepoRoot, CollectivesNative, "CMakeLists.txt");
        Assert.True(File.Exists(cmakeLists), $"{image} builds {CollectivesNative}, which has no CMakeLists.txt");
        string cmake = File.ReadAllText(cmakeLists);

        // The target the image builds is the library the CMake project defines, and it needs no libtorch.
        string build = Assert.Single(instructions, i => i.Contains($"cmake -S {CollectivesNative} ", StringComparison.Ordinal));
        string target = Regex.Match(build, @"--target (\S+)").Groups[1].Value;
        Assert.Contains($"add_library({target} SHARED", cmake);
        Assert.DoesNotContain("find_package(Torch", cmake);

        // ... it is the library the Collectives project publishes beside cmm (where its P/Invoke looks), and
        // the image checks that it landed there.
        string project = File.ReadAllText(Path.Combine(Kustomize.RepoRoot, "src", "CommerceMM.Collectives", "CommerceMM.Collectives.csproj"));
        Assert.Contains($"Link=\"lib{target}.so\"", project);
        Assert.Contains($"test -f /opt/commercemm/lib{target}.so", Dockerfiles.PublishInstruction(image));
    }

    [Fact]
    public void Images_StartCmmAsPid1InExecForm()
    {
        // A shell as PID 1 would not pass SIGTERM on, and the worker would lose its preemption checkpoint.
        foreach (string name in new[] { "Dockerfile.cpu", "Dockerfile.gpu" })
            Assert.Contains("ENTRYPOINT [\"cmm\"]", Dockerfiles.Instructions(name));
    }

    [Fact]
    public void GpuDockerfile_RunsOnACudaRuntimeBaseWithNccl()
    {
        var instructions = Dockerfiles.Instructions("Dockerfile.gpu");
        var runtime = Assert.Single(instructions, i => i.StartsWith("FROM nvidia/cuda:", StringComparison.Ordinal));
        Assert.Contains("-runtime-", runtime);
        // The collectives library dlopens libnccl.so.2 when a CUDA job starts.
        Assert.Contains(instructions, i => PackageInstall().IsMatch(i) && Regex.IsMatch(i, @"\blibnccl2\b"));
        // The stage that runs is built on that base (the CUDA libtorch needs the CUDA user-space it was built for).
        Assert.Matches(@"^FROM base AS runtime$", instructions.Last(i => i.StartsWith("FROM ", StringComparison.Ordinal)));
        Assert.Contains(instructions, i => i.StartsWith("FROM nvidia/cuda:", StringComparison.Ordinal) && i.EndsWith(" AS base", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"\b(apt-get|apt|aptitude)\s+(-\S+\s+)*install\b")]
    private static partial Regex PackageInstall();
}

using CommerceMM.Tensors;

namespace CommerceMM.Model.Tests.Engine;

/// <summary>
/// The MKL inside libtorch runs its AVX-512 kernels on AMD CPUs with AVX-512 (MklCpuPath): this test
/// project's output holds libcmmmklvendor.so (it references the collectives), so the engine loaded
/// it, exactly on such CPUs.
/// </summary>
public class MklCpuPathTests
{
    [Fact]
    public void VendorCheck_AnsweredExactlyOnAmdCpusWithAvx512()
    {
        TorchRuntime.EnsureLoaded();
        string cpuinfo = File.ReadAllText("/proc/cpuinfo");
        var flags = cpuinfo.Split('\n').First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ');
        bool amdAvx512 = cpuinfo.Contains("AuthenticAMD", StringComparison.Ordinal)
                         && new[] { "avx512f", "avx512bw", "avx512dq", "avx512vl" }.All(flags.Contains);
        bool disabled = Environment.GetEnvironmentVariable(MklCpuPath.Variable) == "0";
        Assert.Equal(amdAvx512 && !disabled, MklCpuPath.Overridden);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, MklCpuPath.LibraryName)), MklCpuPath.Decision);
    }
}

using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace CommerceMM.Tensors;

/// <summary>
/// Which kernels the MKL inside libtorch runs (CONTRIBUTING.md, "Benchmarks"). On AMD CPUs MKL ignores
/// MKL_ENABLE_INSTRUCTIONS and MKL_CBWR and takes a generic AVX2 "zen" path, even where the CPU has
/// AVX-512 (Zen 4 and later). There <see cref="TorchRuntime.EnsureLoaded"/> first loads our
/// libcmmmklvendor.so, which answers MKL's vendor check, and MKL takes its AVX-512 kernels:
/// measured on the 2-core Zen 4 here, the tiny model's GEMMs took 17% less CPU time and the fp32
/// training step 12–19% less. Set <see cref="Variable"/>=0 to keep MKL's own choice.
/// </summary>
public static class MklCpuPath
{
    public const string Variable = "CMM_MKL_AMD_AVX512";
    public const string LibraryName = "libcmmmklvendor.so";

    private const int RtldNow = 2, RtldGlobal = 0x100;

    /// <summary>Why the vendor check was or was not answered, for benchmark headers and logs.</summary>
    public static string Decision { get; private set; } = "engine not loaded yet";

    /// <summary>True once libcmmmklvendor.so is loaded (before libtorch).</summary>
    public static bool Overridden { get; private set; }

    /// <summary>Loads the vendor answer where it applies; before libtorch is loaded, once (TorchRuntime's lock).</summary>
    internal static void Apply()
    {
        string? setting = Environment.GetEnvironmentVariable(Variable);
        if (setting == "0")
        {
            Decision = $"MKL's own choice ({Variable}=0)";
            return;
        }
        if (!IsAmdWithAvx512())
        {
            Decision = "MKL's own choice (not an AMD CPU with AVX-512)";
            return;
        }
        string path = Path.Combine(AppContext.BaseDirectory, LibraryName);
        if (!File.Exists(path))
        {
            Decision = $"MKL's own choice ({LibraryName} is not beside the application)";
            return;
        }
        if (dlopen(path, RtldNow | RtldGlobal) == IntPtr.Zero)
        {
            Decision = $"MKL's own choice ({LibraryName} did not load: {Marshal.PtrToStringUTF8(dlerror())})";
            return;
        }
        Overridden = true;
        Decision = "AVX-512 kernels on AMD (vendor check answered by " + LibraryName + ")";
    }

    private static bool IsAmdWithAvx512()
    {
        if (!X86Base.IsSupported) return false;
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        bool amd = ebx == 0x68747541 && edx == 0x69746E65 && ecx == 0x444D4163;   // "AuthenticAMD"
        return amd && Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported;
    }

    [DllImport("libc.so.6")] private static extern IntPtr dlopen(string file, int mode);
    [DllImport("libc.so.6")] private static extern IntPtr dlerror();
}

namespace CommerceMM.Tensors;

/// <summary>
/// Whether this CPU does bf16 arithmetic natively. Without it libtorch still computes in bf16, by converting to fp32
/// and back around every operation, which is slower than computing in fp32 outright (measured in CONTRIBUTING.md, "bf16
/// on a CPU without it"): model.precision=bf16 is then refused rather than run silently slower.
/// </summary>
public static class CpuBf16
{
    /// <summary>The flags (x86: AVX512-BF16, AMX-BF16; Arm: BF16) that give a CPU native bf16 multiply-adds.</summary>
    public static readonly IReadOnlyList<string> NativeFlags = ["avx512_bf16", "amx_bf16", "bf16"];

    /// <summary>True or false from the "flags" (x86) or "Features" (Arm) lines of <paramref name="cpuinfo"/>; null when it has neither line.</summary>
    public static bool? IsNative(string cpuinfo)
    {
        bool sawFlags = false;
        foreach (string line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string key = line[..colon].Trim();
            if (key is not ("flags" or "Features")) continue;
            sawFlags = true;
            if (line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(NativeFlags.Contains)) return true;
        }
        return sawFlags ? false : null;
    }

    /// <summary>This machine's answer (null where /proc/cpuinfo cannot be read or names no flags).</summary>
    public static bool? IsNativeHere()
    {
        try
        {
            return IsNative(File.ReadAllText("/proc/cpuinfo"));
        }
        catch (IOException)
        {
            return null;
        }
    }
}

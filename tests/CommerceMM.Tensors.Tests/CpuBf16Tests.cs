namespace CommerceMM.Tensors.Tests;

public class CpuBf16Tests
{
    // Abridged /proc/cpuinfo lines of real CPUs.
    private const string Zen4 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse avx2 avx512f avx512_vnni avx512_bf16 clzero\n\nprocessor\t: 1\nflags\t\t: fpu sse avx2 avx512f avx512_vnni avx512_bf16 clzero\n";
    private const string SapphireRapids = "flags\t\t: fpu avx512f avx512_fp16 amx_bf16 amx_tile amx_int8\n";
    private const string Skylake = "vendor_id\t: GenuineIntel\nflags\t\t: fpu sse avx2 avx512f avx512cd avx512bw\n";
    private const string Graviton3 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\nCPU implementer\t: 0x41\n";
    private const string Graviton2 = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes crc32 atomics\n";

    [Theory]
    [InlineData(Zen4, true)]
    [InlineData(SapphireRapids, true)]
    [InlineData(Graviton3, true)]
    [InlineData(Skylake, false)]
    [InlineData(Graviton2, false)]
    [InlineData("processor\t: 0\nmodel name\t: something\n", null)]
    [InlineData("", null)]
    public void IsNative_ReadsTheFlagsLines(string cpuinfo, bool? native) => Assert.Equal(native, CpuBf16.IsNative(cpuinfo));

    [Fact]
    public void IsNative_NeedsTheWholeFlag_NotAPrefix() =>
        Assert.False(CpuBf16.IsNative("flags\t\t: avx512_bf16x avx512f\n"));
}

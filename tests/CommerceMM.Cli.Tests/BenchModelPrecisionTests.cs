using CommerceMM.Cli.Commands;
using CommerceMM.Tensors;

namespace CommerceMM.Cli.Tests;

/// <summary>Which precisions `cmm bench model` times: what was named, or by default what the device runs natively.</summary>
public sealed class BenchModelPrecisionTests
{
    [Fact]
    public void NoneNamed_TimesFp32_AndBf16OnlyWhereTheCpuComputesIt()
    {
        var settings = BenchModelCommand.ResolvePrecisions("cpu", null);
        Precision[] expected = CpuBf16.IsNativeHere() == false ? [Precision.Fp32] : [Precision.Fp32, Precision.Bf16];
        Assert.Equal(expected, settings.Keys);
        Assert.All(settings, s => Assert.Equal(s.Key, s.Value.Precision));
    }

    [Fact]
    public void Bf16Named_IsTimedWhereTheCpuComputesIt_ElseRefusedNamingTheOption()
    {
        if (CpuBf16.IsNativeHere() == false)
        {
            var error = Assert.Throws<ArgumentException>(() => BenchModelCommand.ResolvePrecisions("cpu", [Precision.Bf16]));
            Assert.StartsWith("--precision: 'bf16' on the CPU needs native bf16 arithmetic", error.Message);
            return;
        }
        Assert.Equal([Precision.Bf16], BenchModelCommand.ResolvePrecisions("cpu", [Precision.Bf16]).Keys);
    }
}

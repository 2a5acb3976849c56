using CommerceMM.Tensors;
using TorchSharp;

namespace CommerceMM.Collectives.Tests;

public class MachineDevicesTests
{
    [Fact]
    public void Resolve_CudaOnAMachineWithoutIt_NamesJobDevice()
    {
        if (torch.cuda.is_available()) return;   // this test is about CPU-only machines; the GPU check covers the other side
        var error = Assert.Throws<ArgumentException>(() => MachineDevices.Resolve("cuda:3", "fp32"));
        Assert.Contains("job.device", error.Message);
        Assert.Contains("cuda:3", error.Message);
    }

    [Fact]
    public void Resolve_DeviceFromACommandOption_NamesTheOptionAndItsFix()
    {
        if (torch.cuda.is_available()) return;
        var error = Assert.Throws<ArgumentException>(() => MachineDevices.Resolve("cuda", "fp32", "--device"));
        Assert.StartsWith("--device: 'cuda' asks for CUDA", error.Message);
        Assert.Contains("Use --device cpu,", error.Message);
        Assert.DoesNotContain("job.device", error.Message);
    }

    [Fact]
    public void Resolve_Cpu_ComputesInTheRequestedPrecision()
    {
        if (CpuBf16.IsNativeHere() == false)
        {
            // A CPU that would only emulate bf16 refuses it, naming the key and the fix.
            var error = Assert.Throws<ArgumentException>(() => MachineDevices.Resolve("cpu", "bf16"));
            Assert.StartsWith("model.precision: 'bf16' on the CPU needs native bf16 arithmetic", error.Message);
            Assert.Contains("Use model.precision=fp32", error.Message);
            return;
        }
        var settings = MachineDevices.Resolve("cpu", "bf16");
        Assert.Equal(DeviceType.CPU, settings.Device.type);
        Assert.Equal(torch.ScalarType.BFloat16, settings.ComputeType);
    }

    [Theory]
    [InlineData(7, 5, false)]   // T4
    [InlineData(7, 0, false)]   // V100
    [InlineData(8, 0, true)]    // A100
    [InlineData(8, 9, true)]    // L4
    [InlineData(9, 0, true)]    // H100, H200
    public void Bf16OnAGpu_NeedsComputeCapability8(int major, int minor, bool allowed)
    {
        string? problem = MachineDevices.CudaBf16Problem("cuda:1", (major, minor), "--precision");
        Assert.Equal(allowed, problem is null);
        if (problem is null) return;
        Assert.StartsWith("--precision: 'bf16' needs a GPU of compute capability 8.0 or later", problem);
        Assert.Contains($"cuda:1 is {major}.{minor}", problem);
        Assert.Contains("Use --precision fp32", problem);
    }
}

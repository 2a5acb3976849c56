using TorchSharp;

namespace CommerceMM.Tensors.Tests;

public class DeviceSettingsTests
{
    [Theory]
    [InlineData("cpu", DeviceType.CPU, -1)]
    [InlineData("CUDA", DeviceType.CUDA, 0)]
    [InlineData("cuda:1", DeviceType.CUDA, 1)]
    public void ParseDevice_KnownForms(string text, DeviceType type, int index) =>
        Assert.Equal((type, index), DeviceSettings.ParseDevice(text));

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void ParseDevice_Unknown_NamesTheKeyAndTheForms(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => DeviceSettings.ParseDevice(text));
        Assert.Contains("job.device", error.Message);
        Assert.Contains("cuda:N", error.Message);
    }

    [Fact]
    public void ParsePrecision_UnknownNamesTheKey()
    {
        Assert.Equal(Precision.Bf16, DeviceSettings.ParsePrecision("bf16"));
        var error = Assert.Throws<ArgumentException>(() => DeviceSettings.ParsePrecision("fp8"));
        Assert.Contains("model.precision", error.Message);
    }

    [Fact]
    public void Resolve_CudaOnAMachineWithoutIt_NamesJobDevice()
    {
        if (torch.cuda.is_available()) return;   // this test is about CPU-only machines; the GPU check covers the other side
        var error = Assert.Throws<ArgumentException>(() => DeviceSettings.Resolve("cuda:3", "fp32"));
        Assert.Contains("job.device", error.Message);
        Assert.Contains("cuda:3", error.Message);
    }

    [Fact]
    public void Resolve_DeviceFromACommandOption_NamesTheOptionAndItsFix()
    {
        if (torch.cuda.is_available()) return;
        var error = Assert.Throws<ArgumentException>(() => DeviceSettings.Resolve("cuda", "fp32", "--device"));
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
            var error = Assert.Throws<ArgumentException>(() => DeviceSettings.Resolve("cpu", "bf16"));
            Assert.StartsWith("model.precision: 'bf16' on the CPU needs native bf16 arithmetic", error.Message);
            Assert.Contains("Use model.precision=fp32", error.Message);
            return;
        }
        var settings = DeviceSettings.Resolve("cpu", "bf16");
        Assert.Equal(DeviceType.CPU, settings.Device.type);
        Assert.Equal(torch.ScalarType.BFloat16, settings.ComputeType);
    }
}

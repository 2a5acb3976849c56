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
}

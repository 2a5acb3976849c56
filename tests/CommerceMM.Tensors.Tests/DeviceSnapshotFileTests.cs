using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Tensors.Tests;

public class DeviceSnapshotFileTests
{
    [Fact]
    public void Fill_AfterTheOriginalsChanged_GivesTheFileOfTheValuesAtCapture()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(7);
        var flat = torch.randn([30], generator: g);
        (string, Tensor)[] tensors = [("w", flat.narrow(0, 3, 12).view(3, 4)), ("b", torch.randn([5], generator: g).to(ScalarType.BFloat16))];
        var metadata = new Dictionary<string, string> { ["step"] = "4" };
        byte[] expected = SafeTensors.ToBytes(tensors, metadata);

        using var captured = DeviceSnapshotFile.Capture(tensors, metadata, new HostBufferPool());
        using (torch.no_grad())
        {
            flat.add_(1);                 // training goes on changing the originals
            tensors[1].Item2.zero_();
        }
        int copies = 0;
        captured.Fill(places =>
        {
            foreach (var (source, destination) in places)
            {
                TensorMemory.HostBytes(source).CopyTo(destination.Span);
                copies++;
            }
        });

        Assert.Equal(2, copies);
        Assert.Equal(expected, captured.Bytes);
    }
}

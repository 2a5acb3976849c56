using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Tensors;

/// <summary>
/// A safetensors file taken from device tensors in two halves, so that training waits only for the first:
/// <see cref="Capture"/> (on the training thread) copies each tensor on its device, which takes a GPU milliseconds
/// for gigabytes; <see cref="Fill"/> (on the saver's thread) brings those copies into the file's bytes while training
/// goes on changing the originals.
/// </summary>
public sealed class DeviceSnapshotFile : IDisposable
{
    private readonly IReadOnlyList<(Tensor Copy, Memory<byte> Place)> _places;

    private DeviceSnapshotFile(byte[] bytes, IReadOnlyList<(Tensor, Memory<byte>)> places) => (Bytes, _places) = (bytes, places);

    /// <summary>The file: its header at once, its tensors' bytes after <see cref="Fill"/>.</summary>
    public byte[] Bytes { get; }

    /// <param name="buffers">where the file's array comes from, or null for a new one</param>
    public static DeviceSnapshotFile Capture(IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata, HostBufferPool? buffers)
    {
        var (file, places) = SafeTensors.Allocate(tensors, metadata, buffers);
        using var noGrad = torch.no_grad();
        return new DeviceSnapshotFile(file, places.Select(p => (p.Tensor.detach().contiguous().clone().DetachFromDisposeScope(), p.Place)).ToList());
    }

    /// <summary>Copies the captured tensors into <see cref="Bytes"/> with <paramref name="copy"/> (device memory to the given places), then frees them.</summary>
    public void Fill(Action<IReadOnlyList<(Tensor Source, Memory<byte> Destination)>> copy)
    {
        try
        {
            copy(_places);
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var (tensor, _) in _places) tensor.Dispose();
    }
}

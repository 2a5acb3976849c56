using CommerceMM.Collectives.Interop;

namespace CommerceMM.Collectives;

/// <summary>
/// A CUDA device's memory as its driver counts it, through the collectives library's run-time binding of the driver
/// (TorchSharp exposes no CUDA memory statistics). "In use" is every process's, the caching allocator's reserve
/// included: what decides whether the next allocation fits.
/// </summary>
public static class CudaMemory
{
    /// <summary>Bytes in use and in total on CUDA device <paramref name="device"/>.</summary>
    /// <exception cref="CollectiveException">No usable driver, or no such device.</exception>
    public static (long Used, long Total) Query(int device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        NativeStatus.Check(NativeMethods.cmm_cuda_memory(device, out long used, out long total), $"memory of cuda:{device}");
        return (used, total);
    }
}

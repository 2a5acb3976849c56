using CommerceMM.Collectives.Interop;

namespace CommerceMM.Collectives;

/// <summary>
/// A CUDA device's memory as its driver counts it, through the collectives library's run-time binding of the driver
/// (TorchSharp exposes no CUDA memory statistics). "In use" is every process's, the caching allocator's reserve
/// included: what decides whether the next allocation fits.
/// </summary>
public static unsafe class CudaMemory
{
    /// <summary>
    /// Copies device buffers into host memory on a stream of the library's own, after everything queued so far on the
    /// null stream (libtorch's), without making that stream wait; returns when the bytes are there. Call it off the
    /// training thread, with sources nothing changes meanwhile (copies made on the device for the purpose).
    /// </summary>
    /// <param name="buffers">each source's device address, and where its bytes go (as many as the destination holds)</param>
    /// <exception cref="CollectiveException">No usable driver, no such device, or a copy failed.</exception>
    public static void CopyToHost(int device, IReadOnlyList<(IntPtr Source, Memory<byte> Destination)> buffers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        ArgumentNullException.ThrowIfNull(buffers);
        var pins = new System.Buffers.MemoryHandle[buffers.Count];
        try
        {
            var sources = new ulong[buffers.Count];
            var destinations = new IntPtr[buffers.Count];
            var bytes = new long[buffers.Count];
            for (int i = 0; i < buffers.Count; i++)
            {
                pins[i] = buffers[i].Destination.Pin();
                (sources[i], destinations[i], bytes[i]) = ((ulong)buffers[i].Source, (IntPtr)pins[i].Pointer, buffers[i].Destination.Length);
            }
            fixed (ulong* s = sources)
            fixed (IntPtr* d = destinations)
            fixed (long* b = bytes)
                NativeStatus.Check(NativeMethods.cmm_cuda_copy_to_host(device, s, d, b, buffers.Count), $"copy from cuda:{device} to host memory");
        }
        finally
        {
            foreach (var pin in pins) pin.Dispose();
        }
    }

    /// <summary>Bytes in use and in total on CUDA device <paramref name="device"/>.</summary>
    /// <exception cref="CollectiveException">No usable driver, or no such device.</exception>
    public static (long Used, long Total) Query(int device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        NativeStatus.Check(NativeMethods.cmm_cuda_memory(device, out long used, out long total), $"memory of cuda:{device}");
        return (used, total);
    }
}

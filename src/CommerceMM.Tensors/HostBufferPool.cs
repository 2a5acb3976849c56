using System.Runtime.InteropServices;

namespace CommerceMM.Tensors;

/// <summary>
/// Host arrays kept for reuse by exact length: a model's snapshot files have the same sizes save after save, and a
/// fresh array of tens of megabytes costs more than the copy into it (the kernel faults in and zeroes every page,
/// and large allocations hasten full collections). Measured on the tiny preset: a save's stall fell from 14 to 4 ms.
/// </summary>
/// <remarks>Thread-safe. An array never given back is simply collected; the pool only bounds what it keeps.</remarks>
public sealed class HostBufferPool(int maxKeptPerLength = 4)
{
    private readonly Dictionary<int, Stack<byte[]>> _free = [];

    /// <summary>An array of exactly <paramref name="length"/> bytes, its contents undefined.</summary>
    public byte[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        lock (_free)
        {
            if (_free.TryGetValue(length, out var kept) && kept.TryPop(out var buffer)) return buffer;
        }
        return GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>Gives back the array behind <paramref name="memory"/> (one <see cref="Rent"/> returned) for the next caller; its contents must no longer be read.</summary>
    public void Return(ReadOnlyMemory<byte> memory)
    {
        if (!MemoryMarshal.TryGetArray(memory, out var segment) || segment.Array is not { } array) return;
        lock (_free)
        {
            if (!_free.TryGetValue(array.Length, out var kept)) _free[array.Length] = kept = new Stack<byte[]>();
            if (kept.Count < maxKeptPerLength && !kept.Contains(array)) kept.Push(array);
        }
    }
}

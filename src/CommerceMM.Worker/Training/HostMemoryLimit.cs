using System.Runtime.InteropServices;
using CommerceMM.Observability.Metrics;

namespace CommerceMM.Worker.Training;

/// <summary>
/// Caps the memory a CPU worker may allocate: the kernel's RLIMIT_DATA, its private writable memory, which for a worker is
/// close to its resident size. Linux lets allocations past the machine's memory through (overcommit), so without a cap a
/// batch too big for the machine ends in the out-of-memory killer (exit 137) after minutes of swapping, and again at every
/// restart. With it, libtorch's allocator fails at once, and the worker names data.batch_size and exits 2.
/// </summary>
/// <remarks>Not on a GPU: the CUDA driver maps host memory of its own, and there the GPU's memory runs out first.</remarks>
public static class HostMemoryLimit
{
    /// <summary>How `cmm worker` and `cmm train` name the limit in messages.</summary>
    public const string Option = "--memory-limit-mib";
    public const string Variable = "CMM_WORKER_MEMORY_LIMIT_MIB";

    private const int RlimitData = 2; // RLIMIT_DATA on Linux (x86-64 and arm64)
    private const ulong Unlimited = ulong.MaxValue; // RLIM_INFINITY

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Max;
    }

    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static extern int GetRlimit(int resource, out Rlimit limit);

    [DllImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static extern int SetRlimit(int resource, ref Rlimit limit);

    /// <summary>Lowers this process's limit to <paramref name="bytes"/>; a lower one already set (say, by <c>ulimit -d</c>) stays.</summary>
    /// <returns>the limit now in force</returns>
    /// <exception cref="InvalidOperationException">the kernel refused it</exception>
    public static long Apply(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        if (GetRlimit(RlimitData, out Rlimit limit) != 0)
            throw new InvalidOperationException($"getrlimit(RLIMIT_DATA) failed: errno {Marshal.GetLastPInvokeError()}");
        limit.Current = Math.Min((ulong)bytes, limit.Current);
        if (SetRlimit(RlimitData, ref limit) != 0)
            throw new InvalidOperationException($"setrlimit(RLIMIT_DATA, {limit.Current}) failed: errno {Marshal.GetLastPInvokeError()}");
        return (long)limit.Current;
    }

    /// <summary>
    /// Caps this process at the memory the machine has free (<see cref="ProcessMemory.AvailableBytes"/>): a worker's default,
    /// and a one-off command asked for too much (`cmm bench model --batch`, `cmm eval --limit`) ends in a clear error too.
    /// </summary>
    /// <returns>the limit now in force; null where the memory cannot be read</returns>
    public static long? CapAtAvailable() => ProcessMemory.AvailableBytes() is { } available ? Apply(available) : null;

    /// <summary>This process's limit in bytes; null when there is none.</summary>
    public static long? Current() =>
        GetRlimit(RlimitData, out Rlimit limit) == 0 && limit.Current != Unlimited ? (long)limit.Current : null;
}

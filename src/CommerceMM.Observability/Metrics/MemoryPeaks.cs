using System.Diagnostics.Metrics;

namespace CommerceMM.Observability.Metrics;

/// <summary>
/// The most memory this worker has held: on the host, the kernel's own peak resident set of the process (VmHWM, read
/// at each scrape); on a GPU, the largest in-use figure the worker reported after its steps. Out-of-memory is how
/// a too-large batch ends, so the peak against the limit it counts against (the CPU worker's cap, the GPU's memory) is
/// the figure to watch.
/// </summary>
internal sealed class MemoryPeaks
{
    public const string Host = "host";
    public const string Device = "device";

    private long _device = -1;
    private long _hostLimit = -1;
    private long _deviceTotal = -1;

    /// <summary>Notes device memory in use now; the peak keeps the largest.</summary>
    public void ObserveDevice(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        long seen;
        while (bytes > (seen = Interlocked.Read(ref _device)) && Interlocked.CompareExchange(ref _device, bytes, seen) != seen)
        {
        }
    }

    /// <summary>The most device memory seen in use; null before the first observation.</summary>
    public long? DevicePeak => Interlocked.Read(ref _device) is >= 0 and var peak ? peak : null;

    /// <summary>Notes the cap on this process's host memory (a worker on the CPU sets one).</summary>
    public void SetHostLimit(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        Interlocked.Exchange(ref _hostLimit, bytes);
    }

    /// <summary>Notes its GPU's total memory.</summary>
    public void SetDeviceTotal(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        Interlocked.Exchange(ref _deviceTotal, bytes);
    }

    public IEnumerable<Measurement<long>> ObserveLimits()
    {
        if (Interlocked.Read(ref _hostLimit) is > 0 and var host) yield return new Measurement<long>(host, new KeyValuePair<string, object?>(LabelNames.Memory, Host));
        if (Interlocked.Read(ref _deviceTotal) is > 0 and var device) yield return new Measurement<long>(device, new KeyValuePair<string, object?>(LabelNames.Memory, Device));
    }

    public IEnumerable<Measurement<long>> Observe()
    {
        if (ProcessMemory.PeakResidentBytes() is { } host) yield return new Measurement<long>(host, new KeyValuePair<string, object?>(LabelNames.Memory, Host));
        if (DevicePeak is { } device) yield return new Measurement<long>(device, new KeyValuePair<string, object?>(LabelNames.Memory, Device));
    }
}

using CommerceMM.Collectives;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Worker;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Worker.Training;

/// <summary>
/// Memory around the steps: on a GPU, the memory in use after each step goes to /metrics (its peak is
/// <see cref="MetricNames.PeakMemory"/>); and a step that runs out of memory becomes one error that names the batch
/// size and the peak, instead of libtorch's allocator report.
/// </summary>
public sealed class MemoryWatch(Device device, TrainingMetrics metrics, ILogger log)
{
    private long _deviceTotal = -1;
    private bool _deviceUnreadable;

    /// <summary>Samples the GPU's memory in use (a few driver calls; nothing on the CPU).</summary>
    public void AfterStep()
    {
        if (device.type != DeviceType.CUDA || _deviceUnreadable) return;
        try
        {
            var (used, total) = CudaMemory.Query(Math.Max(0, (int)device.index));
            _deviceTotal = total;
            metrics.RecordDeviceTotal(total);
            metrics.RecordDeviceMemory(used);
        }
        catch (CollectiveException e)
        {
            _deviceUnreadable = true;
            log.LogWarning("GPU memory cannot be read ({Problem}); cmm_peak_memory_bytes{{memory=\"device\"}} stays empty", e.Message);
        }
    }

    /// <summary>libtorch's allocation failures: CUDA's caching allocator, and the CPU allocator.</summary>
    public static bool IsOutOfMemory(Exception e) =>
        e.Message.Contains("CUDA out of memory", StringComparison.Ordinal)
        || e.Message.Contains("CUDA error: out of memory", StringComparison.Ordinal)
        || e.Message.Contains("DefaultCPUAllocator: can't allocate memory", StringComparison.Ordinal)
        || e is OutOfMemoryException;

    /// <summary>The error a step that ran out of memory ends the worker with.</summary>
    public string Describe(Exception e, long step, int batchSize)
    {
        string peak = device.type == DeviceType.CUDA
            ? metrics.DevicePeakBytes is { } devicePeak ? $"GPU memory in use peaked at {Gib(devicePeak)} of {Gib(_deviceTotal)} after earlier steps" : "no step had finished on it yet"
            : ProcessMemory.PeakResidentBytes() is { } host ? $"this process peaked at {Gib(host)} resident{LimitOnTheCpu()}" : "its peak is unknown";
        string cause = e.Message.Split('\n', 2)[0];
        return $"out of {(device.type == DeviceType.CUDA ? "GPU" : "host")} memory on {device} in step {step} with data.batch_size={batchSize} ({peak}): " +
               $"lower data.batch_size, or set model.precision=bf16. Nothing of this step was saved; the last committed checkpoint is intact. libtorch: {cause}";
    }

    /// <summary>
    /// The error a worker that ran out of memory before its first step ends with: the model, its optimizer or the checkpoint
    /// it restores does not fit, whatever the batch.
    /// </summary>
    public static string DescribeSetup(Exception e, Device device)
    {
        string peak = device.type != DeviceType.CUDA && ProcessMemory.PeakResidentBytes() is { } host ? $" (this process peaked at {Gib(host)} resident{LimitOnTheCpu()})" : "";
        return $"out of {(device.type == DeviceType.CUDA ? "GPU" : "host")} memory on {device} before training, building the model and its optimizer or restoring a checkpoint{peak}: " +
               $"the model does not fit; give the worker more memory ({HostMemoryLimit.Option} on the CPU, the pod's limits.memory, a larger GPU) or train a smaller " +
               $"model.preset. The last committed checkpoint is intact. libtorch: {e.Message.Split('\n', 2)[0]}";
    }

    private static string LimitOnTheCpu() =>
        HostMemoryLimit.Current() is { } limit ? $"; it may allocate {Gib(limit)} ({HostMemoryLimit.Option}, by default the memory free as it started; under `cmm train` 1/N of it)" : "";

    private static string Gib(long bytes) => $"{bytes / (double)(1L << 30):F2} GiB";
}

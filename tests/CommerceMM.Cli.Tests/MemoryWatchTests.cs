using CommerceMM.Observability.Worker;
using CommerceMM.Worker.Training;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace CommerceMM.Cli.Tests;

/// <summary>A step that runs out of memory ends in one error naming the batch size and the peak (a real libtorch allocation failure here).</summary>
public class MemoryWatchTests
{
    [Fact]
    public void OutOfHostMemory_IsRecognised_AndDescribedWithTheBatchSizeAndThePeak()
    {
        // 16 TiB: more than any machine here commits to, so libtorch's CPU allocator refuses at once.
        var failure = Assert.ThrowsAny<Exception>(() => torch.empty(1L << 42, torch.ScalarType.Float32));
        Assert.True(MemoryWatch.IsOutOfMemory(failure), failure.Message);

        using var metrics = new TrainingMetrics(meterName: $"cmm.worker.test.{Guid.NewGuid():N}");
        string message = new MemoryWatch(torch.CPU, metrics, NullLogger.Instance).Describe(failure, step: 7, batchSize: 512);

        Assert.StartsWith("out of host memory on cpu in step 7 with data.batch_size=512 (this process peaked at ", message, StringComparison.Ordinal);
        Assert.Contains("lower data.batch_size, or set model.precision=bf16", message, StringComparison.Ordinal);
        Assert.Contains("the last committed checkpoint is intact", message, StringComparison.Ordinal);
        Assert.Contains("DefaultCPUAllocator", message, StringComparison.Ordinal);
    }

    [Fact]
    public void OutOfHostMemoryBeforeTheFirstStep_IsDescribedAsTheModelNotFitting_NotAsTheBatch()
    {
        var failure = Assert.ThrowsAny<Exception>(() => torch.empty(1L << 42, torch.ScalarType.Float32));

        string message = MemoryWatch.DescribeSetup(failure, torch.CPU);

        Assert.StartsWith("out of host memory on cpu before training, building the model and its optimizer or restoring a checkpoint (this process peaked at ", message, StringComparison.Ordinal);
        Assert.Contains("the model does not fit; give the worker more memory (--memory-limit-mib on the CPU", message, StringComparison.Ordinal);
        Assert.DoesNotContain("data.batch_size", message, StringComparison.Ordinal);
        Assert.Contains("DefaultCPUAllocator", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.19 GiB total capacity; 75.02 GiB already allocated)", true)]
    [InlineData("CUDA error: out of memory", true)]
    [InlineData("shape '[4, 3]' is invalid for input of size 10", false)]
    public void IsOutOfMemory_TellsAllocationFailuresFromOtherErrors(string message, bool expected) =>
        Assert.Equal(expected, MemoryWatch.IsOutOfMemory(new System.Runtime.InteropServices.ExternalException(message)));

    [Fact]
    public void OnTheCpu_AfterStep_ReadsNoGpu()
    {
        using var metrics = new TrainingMetrics(meterName: $"cmm.worker.test.{Guid.NewGuid():N}");
        var watch = new MemoryWatch(torch.CPU, metrics, NullLogger.Instance);
        watch.AfterStep();   // no CUDA driver is touched (none is here): nothing to throw
        Assert.Contains("no step", new MemoryWatch(new torch.Device("cuda:0"), metrics, NullLogger.Instance).Describe(new OutOfMemoryException(), 0, 8), StringComparison.Ordinal);
    }
}

using System.Diagnostics.Metrics;
using CommerceMM.Observability.Metrics;

namespace CommerceMM.Observability.Worker;

/// <summary>The worker's instruments, created once under the names in <see cref="MetricNames"/>.</summary>
internal sealed class WorkerInstruments
{
    public WorkerInstruments(Meter meter, CheckpointClock checkpoints, MemoryPeaks memory)
    {
        Step = meter.CreateGauge<long>(MetricNames.Step, unit: null, "Last optimizer step this worker completed.");
        TaskLoss = meter.CreateGauge<double>(MetricNames.TaskLoss, unit: null, "Loss of each task (CommerceMM's 14 or SCALE's 15) at the last step where it ran.");
        ModalityWeight = meter.CreateGauge<double>(MetricNames.ModalityWeight, unit: null, "SCALE: mean self-harmonized weight of each modality at the last step where some row had it.");
        TaskLossWeight = meter.CreateGauge<double>(MetricNames.TaskLossWeight, unit: null, "Weight applied to each task's loss at the last step (0 = disabled).");
        StepDuration = meter.CreateHistogram(MetricNames.StepDuration, "s", "Wall time of one optimizer step, data wait included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets.Step });
        DataWait = meter.CreateHistogram(MetricNames.DataWait, "s", "Time a step waited for the data loader.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets.StepPhase });
        AllReduce = meter.CreateHistogram(MetricNames.AllReduce, "s", "Time a step waited for the gradient all-reduce after its last backward pass (waiting for peers included; what overlap with backward did not hide).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets.StepPhase });
        DataFetched = meter.CreateCounter<long>(MetricNames.DataFetched, "By", "Bytes of a remote data set (data.dir: azure:…) fetched into this worker's cache folder: shards as they are first read, and prefetched; 0 for a local data set.");
        Samples = meter.CreateCounter<long>(MetricNames.Samples, "{sample}", "Samples consumed, by stream (pairs for pass 1, omni for pass 2, products for SCALE).");
        Tokens = meter.CreateCounter<long>(MetricNames.Tokens, "{token}", "Text tokens consumed.");
        SamplesSkipped = meter.CreateCounter<long>(MetricNames.SamplesSkipped, "{sample}", "Bad samples the loader left out (never handed to the model), by stream and reason.");
        GradNorm = meter.CreateGauge<double>(MetricNames.GradNorm, unit: null, "Global gradient norm before clipping at the last step.");
        LearningRate = meter.CreateGauge<double>(MetricNames.LearningRate, unit: null, "Learning rate applied at the last step.");
        SkippedSteps = meter.CreateCounter<long>(MetricNames.SkippedSteps, "{step}", "Steps skipped because a loss or gradient was NaN or infinite.");
        CheckpointSave = meter.CreateHistogram(MetricNames.CheckpointSave, "s", "Time to save this worker's part of a checkpoint (snapshot to upload done).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets.CheckpointSave });
        CheckpointStall = meter.CreateHistogram(MetricNames.CheckpointStall, "s", "Time training waited for a save: the copy into host memory and queueing the upload.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets.StepPhase });
        meter.CreateObservableGauge(MetricNames.PeakMemory, memory.Observe, "By",
            "The most memory this worker has held: memory=host is the process's peak resident set, memory=device the most GPU memory in use after a step.");
        meter.CreateObservableGauge(MetricNames.MemoryLimit, memory.ObserveLimits, "By",
            "What the peak counts against: memory=host is the most this worker may allocate on the CPU (--memory-limit-mib), memory=device its GPU's memory.");
        CheckpointBytes = meter.CreateCounter<long>(MetricNames.CheckpointBytes, "By", "Checkpoint bytes this worker wrote.");
        meter.CreateObservableGauge(MetricNames.CheckpointLastCommittedStep, checkpoints.ObserveLastStep, unit: null,
            "Step of the last checkpoint this process saw committed.");
        meter.CreateObservableGauge(MetricNames.CheckpointAge, () => checkpoints.AgeSeconds, "s",
            "Seconds since the last committed checkpoint (since start if none yet).");
    }

    public Gauge<long> Step { get; }
    public Gauge<double> TaskLoss { get; }
    public Gauge<double> TaskLossWeight { get; }
    public Gauge<double> ModalityWeight { get; }
    public Histogram<double> StepDuration { get; }
    public Histogram<double> DataWait { get; }
    public Histogram<double> AllReduce { get; }
    public Counter<long> DataFetched { get; }
    public Counter<long> Samples { get; }
    public Counter<long> Tokens { get; }
    public Counter<long> SamplesSkipped { get; }
    public Gauge<double> GradNorm { get; }
    public Gauge<double> LearningRate { get; }
    public Counter<long> SkippedSteps { get; }
    public Histogram<double> CheckpointSave { get; }
    public Histogram<double> CheckpointStall { get; }
    public Counter<long> CheckpointBytes { get; }
}

using System.Diagnostics.Metrics;
using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Metrics;

namespace CommerceMM.Observability.Worker;

/// <summary>
/// What a worker records: per-task losses and weights, step timings, throughput, optimizer state,
/// skipped steps and checkpoints, on the meter <see cref="MeterNames.Worker"/>.
/// </summary>
/// <remarks>
/// Recording is a few dictionary look-ups and lock-free OpenTelemetry updates: microseconds against
/// steps of tens of milliseconds or more. Task and stream values outside the fixed sets throw
/// <see cref="ArgumentException"/> so that a typo cannot grow the label set.
/// Thread-safe.
/// </remarks>
public sealed class TrainingMetrics : IDisposable
{
    private readonly Meter meter;
    private readonly WorkerInstruments instruments;
    private readonly CheckpointClock checkpoints;
    private readonly TagCache taskTags = new(LabelNames.Task, TrainingTasks.All);
    private readonly TagCache streamTags = new(LabelNames.Stream, SampleStreams.All);
    private readonly TagCache modalityTags = new(LabelNames.Modality, Modalities.All);
    private readonly TagCache reasonTags = new(LabelNames.Reason, SkipReasons.All);

    /// <param name="timeProvider">Clock for checkpoint age; the system clock by default.</param>
    /// <param name="meterName">Meter name; tests pass a unique one so parallel tests stay apart.</param>
    public TrainingMetrics(TimeProvider? timeProvider = null, string meterName = MeterNames.Worker)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(meterName);
        meter = new Meter(meterName);
        checkpoints = new CheckpointClock(timeProvider ?? TimeProvider.System);
        instruments = new WorkerInstruments(meter, checkpoints);
    }

    /// <summary>The meter's name, for <see cref="Collection.MetricsOptions.MeterNames"/>.</summary>
    public string MeterName => meter.Name;

    /// <summary>Records everything one step reports.</summary>
    /// <exception cref="ArgumentException">A task id, stream or modality outside the fixed sets.</exception>
    public void RecordStep(StepReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentOutOfRangeException.ThrowIfNegative(report.Step);
        // One step's figures reach a scrape together or not at all (StepConsistency).
        lock (StepConsistency.Gate) Record(report);
    }

    private void Record(StepReport report)
    {
        if (report.TaskLosses is { } losses)
        {
            foreach (var (task, loss) in losses) RecordTaskLoss(task, loss);
        }
        if (report.TaskWeights is { } weights)
        {
            foreach (var (task, weight) in weights) RecordTaskWeight(task, weight);
        }
        instruments.StepDuration.Record(report.Duration.TotalSeconds);
        instruments.DataWait.Record(report.DataWait.TotalSeconds);
        instruments.AllReduce.Record(report.AllReduce.TotalSeconds);
        if (report.GradNorm is { } norm) instruments.GradNorm.Record(norm);
        if (report.LearningRate is { } lr) instruments.LearningRate.Record(lr);
        if (report.ModalityWeights is { } modalities)
        {
            foreach (var (modality, weight) in modalities) instruments.ModalityWeight.Record(weight, modalityTags.Get(modality, nameof(modality)));
        }
        if (report.Samples is { } samples)
        {
            foreach (var (stream, count) in samples) if (count > 0) AddSamples(stream, count);
        }
        if (report.SkippedSamples is { } skipped)
        {
            foreach (var ((stream, reason), count) in skipped)
                instruments.SamplesSkipped.Add(count, streamTags.Get(stream, nameof(stream)), reasonTags.Get(reason, nameof(reason)));
        }
        if (report.Tokens > 0) AddTokens(report.Tokens);
        // Last, so a scrape that sees the new step also sees that step's losses.
        instruments.Step.Record(report.Step);
    }

    /// <summary>Records one task's loss (NaN and infinities are recorded as they are: alerts look for them).</summary>
    /// <exception cref="ArgumentException"><paramref name="task"/> is not a known task id.</exception>
    public void RecordTaskLoss(string task, double loss) =>
        instruments.TaskLoss.Record(loss, taskTags.Get(task, nameof(task)));

    /// <summary>Records the weight applied to one task's loss.</summary>
    /// <exception cref="ArgumentException"><paramref name="task"/> is not a known task id.</exception>
    public void RecordTaskWeight(string task, double weight) =>
        instruments.TaskLossWeight.Record(weight, taskTags.Get(task, nameof(task)));

    /// <summary>Adds consumed samples of one stream.</summary>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not in <see cref="SampleStreams"/>.</exception>
    public void AddSamples(string stream, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        instruments.Samples.Add(count, streamTags.Get(stream, nameof(stream)));
    }

    /// <summary>Adds consumed text tokens.</summary>
    public void AddTokens(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        instruments.Tokens.Add(count);
    }

    /// <summary>Counts a step skipped for a NaN or infinite loss or gradient.</summary>
    public void RecordSkippedStep() => instruments.SkippedSteps.Add(1);

    /// <summary>Records this worker's save of its checkpoint share.</summary>
    public void RecordCheckpointSave(TimeSpan duration, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        instruments.CheckpointSave.Record(duration.TotalSeconds);
        instruments.CheckpointBytes.Add(bytes);
    }

    /// <summary>Notes that the checkpoint of <paramref name="step"/> is committed (its age restarts at 0).</summary>
    public void RecordCheckpointCommitted(long step) => checkpoints.Commit(step);

    public void Dispose() => meter.Dispose();
}

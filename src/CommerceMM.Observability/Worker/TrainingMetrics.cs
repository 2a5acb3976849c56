using System.Diagnostics.Metrics;
using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Metrics;

namespace CommerceMM.Observability.Worker;

/// <summary>
/// What a worker records: per-task losses and weights, step timings, throughput, optimizer state,
/// skipped steps and checkpoints, on the meter <see cref="MeterNames.Worker"/>.
/// </summary>
/// <remarks>
/// Recording is a few dictionary look-ups and OpenTelemetry updates: microseconds against steps of tens of
/// milliseconds or more (<c>cmm bench metrics</c> measures it). Task and stream values outside the fixed sets throw
/// <see cref="ArgumentException"/> so that a typo cannot grow the label set.
/// Thread-safe.
/// </remarks>
public sealed class TrainingMetrics : IDisposable
{
    private readonly Meter meter;
    private readonly WorkerInstruments instruments;
    private readonly CheckpointClock checkpoints;
    private readonly MemoryPeaks memory = new();
    private readonly StepConsistency consistency;
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
        instruments = new WorkerInstruments(meter, checkpoints, memory);
        consistency = StepConsistency.For(meterName);
    }

    /// <summary>The meter's name, for <see cref="Collection.MetricsOptions.MeterNames"/>.</summary>
    public string MeterName => meter.Name;

    /// <summary>Records everything one step reports.</summary>
    /// <remarks>
    /// Every label is checked before anything is recorded, so a bad report records nothing. The figures reach a scrape
    /// together or not at all (<see cref="StepConsistency"/>): while a scrape is collecting they are applied right after it.
    /// </remarks>
    /// <exception cref="ArgumentException">A task id, stream, modality or skip reason outside the fixed sets.</exception>
    public void RecordStep(StepReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentOutOfRangeException.ThrowIfNegative(report.Step);
        // Resolved (and copied) now: the recording may run after this returns, when it must not throw.
        var figures = new StepFigures(report, this);
        consistency.Record(figures, static f => f.Apply());
    }

    /// <summary>One step's figures with their tags resolved, ready to record.</summary>
    private sealed class StepFigures
    {
        private readonly WorkerInstruments instruments;
        private readonly (double Value, KeyValuePair<string, object?> Tag)[] losses;
        private readonly (double Value, KeyValuePair<string, object?> Tag)[] weights;
        private readonly (double Value, KeyValuePair<string, object?> Tag)[] modalities;
        private readonly (long Count, KeyValuePair<string, object?> Tag)[] samples;
        private readonly (long Count, KeyValuePair<string, object?> Stream, KeyValuePair<string, object?> Reason)[] skipped;
        private readonly long step;
        private readonly double duration;
        private readonly double dataWait;
        private readonly double allReduce;
        private readonly double? gradNorm;
        private readonly double? learningRate;
        private readonly long tokens;
        private readonly long dataFetched;

        public StepFigures(StepReport report, TrainingMetrics owner)
        {
            instruments = owner.instruments;
            losses = Tagged(report.TaskLosses, owner.taskTags, "task");
            weights = Tagged(report.TaskWeights, owner.taskTags, "task");
            modalities = Tagged(report.ModalityWeights, owner.modalityTags, "modality");
            samples = [];
            if (report.Samples is { Count: > 0 } s)
            {
                samples = new (long, KeyValuePair<string, object?>)[s.Count];
                var n = 0;
                // Zero counts are left out (nothing to add); a negative one too, as before.
                foreach (var (stream, count) in s) if (count > 0) samples[n++] = (count, owner.streamTags.Get(stream, nameof(stream)));
                if (n < samples.Length) Array.Resize(ref samples, n);
            }
            skipped = [];
            if (report.SkippedSamples is { Count: > 0 } k)
            {
                skipped = new (long, KeyValuePair<string, object?>, KeyValuePair<string, object?>)[k.Count];
                var n = 0;
                foreach (var ((stream, reason), count) in k)
                    skipped[n++] = (count, owner.streamTags.Get(stream, nameof(stream)), owner.reasonTags.Get(reason, nameof(reason)));
            }
            (step, duration, dataWait, allReduce) = (report.Step, report.Duration.TotalSeconds, report.DataWait.TotalSeconds, report.AllReduce.TotalSeconds);
            (gradNorm, learningRate, tokens, dataFetched) = (report.GradNorm, report.LearningRate, report.Tokens, report.DataFetchedBytes);
        }

        public void Apply()
        {
            foreach (var (loss, tag) in losses) instruments.TaskLoss.Record(loss, tag);
            foreach (var (weight, tag) in weights) instruments.TaskLossWeight.Record(weight, tag);
            instruments.StepDuration.Record(duration);
            instruments.DataWait.Record(dataWait);
            instruments.AllReduce.Record(allReduce);
            if (gradNorm is { } norm) instruments.GradNorm.Record(norm);
            if (learningRate is { } lr) instruments.LearningRate.Record(lr);
            foreach (var (weight, tag) in modalities) instruments.ModalityWeight.Record(weight, tag);
            foreach (var (count, tag) in samples) instruments.Samples.Add(count, tag);
            foreach (var (count, stream, reason) in skipped) instruments.SamplesSkipped.Add(count, stream, reason);
            if (tokens > 0) instruments.Tokens.Add(tokens);
            instruments.DataFetched.Add(dataFetched);   // 0 too: a local data set's series reads 0, not "no data"
            // Last, so the step shows only with its figures (they are applied together anyway: StepConsistency).
            instruments.Step.Record(step);
        }

        private static (double, KeyValuePair<string, object?>)[] Tagged(IReadOnlyDictionary<string, double>? values, TagCache tags, string paramName)
        {
            if (values is not { Count: > 0 }) return [];
            var tagged = new (double, KeyValuePair<string, object?>)[values.Count];
            var n = 0;
            foreach (var (key, value) in values) tagged[n++] = (value, tags.Get(key, paramName));
            return tagged;
        }
    }

    /// <summary>Records one task's loss (NaN and infinities are recorded as they are: alerts look for them).</summary>
    /// <exception cref="ArgumentException"><paramref name="task"/> is not a known task id.</exception>
    public void RecordTaskLoss(string task, double loss)
    {
        var tag = taskTags.Get(task, nameof(task));
        consistency.Record((instruments.TaskLoss, loss, tag), static r => r.Item1.Record(r.loss, r.tag));
    }

    /// <summary>Records the weight applied to one task's loss.</summary>
    /// <exception cref="ArgumentException"><paramref name="task"/> is not a known task id.</exception>
    public void RecordTaskWeight(string task, double weight)
    {
        var tag = taskTags.Get(task, nameof(task));
        consistency.Record((instruments.TaskLossWeight, weight, tag), static r => r.Item1.Record(r.weight, r.tag));
    }

    /// <summary>Adds consumed samples of one stream.</summary>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not in <see cref="SampleStreams"/>.</exception>
    public void AddSamples(string stream, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var tag = streamTags.Get(stream, nameof(stream));
        consistency.Record((instruments.Samples, count, tag), static r => r.Item1.Add(r.count, r.tag));
    }

    /// <summary>Adds consumed text tokens.</summary>
    public void AddTokens(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        consistency.Record((instruments.Tokens, count), static r => r.Item1.Add(r.count));
    }

    /// <summary>Counts a step skipped for a NaN or infinite loss or gradient.</summary>
    public void RecordSkippedStep() => consistency.Record(instruments.SkippedSteps, static c => c.Add(1));

    /// <summary>Records this worker's save of its checkpoint share.</summary>
    public void RecordCheckpointSave(TimeSpan duration, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        consistency.Record((instruments, duration.TotalSeconds, bytes), static r =>
        {
            r.instruments.CheckpointSave.Record(r.Item2);
            r.instruments.CheckpointBytes.Add(r.bytes);
        });
    }

    /// <summary>Records how long training waited for a save (snapshot into host memory and queueing; not the upload).</summary>
    public void RecordCheckpointStall(TimeSpan duration) =>
        consistency.Record((instruments, duration.TotalSeconds), static r => r.instruments.CheckpointStall.Record(r.Item2));

    /// <summary>Notes the GPU memory in use after a step; <see cref="MetricNames.PeakMemory"/> reports the largest.</summary>
    public void RecordDeviceMemory(long bytes) => memory.ObserveDevice(bytes);

    /// <summary>Notes the cap a worker on the CPU set on its host memory (<see cref="MetricNames.MemoryLimit"/>).</summary>
    public void RecordHostMemoryLimit(long bytes) => memory.SetHostLimit(bytes);

    /// <summary>Notes its GPU's total memory (<see cref="MetricNames.MemoryLimit"/>).</summary>
    public void RecordDeviceTotal(long bytes) => memory.SetDeviceTotal(bytes);

    /// <summary>The most GPU memory <see cref="RecordDeviceMemory"/> has seen in use; null before the first.</summary>
    public long? DevicePeakBytes => memory.DevicePeak;

    /// <summary>Notes that the checkpoint of <paramref name="step"/> is committed (its age restarts at 0).</summary>
    public void RecordCheckpointCommitted(long step) => checkpoints.Commit(step);

    public void Dispose() => meter.Dispose();
}

using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Coordinator;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Worker;

namespace CommerceMM.Observability.Tests.Support;

/// <summary>
/// A worker recorder, a coordinator recorder and a pipeline listening to just those two, on meter
/// names unique to this instance so that tests running in parallel never see each other.
/// </summary>
internal sealed class Recorders : IDisposable
{
    /// <param name="listenToTraining">False leaves the worker meter out of the pipeline, for tests of
    /// names both meters export (checkpoint gauges) where only the coordinator's value should show.</param>
    public Recorders(ManualTimeProvider? time = null, bool listenToTraining = true)
    {
        Time = time ?? new ManualTimeProvider();
        var id = Guid.NewGuid().ToString("N");
        Training = new TrainingMetrics(Time, $"{MeterNames.Worker}.test.{id}");
        Fleet = new FleetMetrics(timeProvider: Time, meterName: $"{MeterNames.Coordinator}.test.{id}");
        var options = new MetricsOptions();
        options.MeterNames.Clear();
        if (listenToTraining) options.MeterNames.Add(Training.MeterName);
        options.MeterNames.Add(Fleet.MeterName);
        Pipeline = MetricsPipeline.Create(options);
    }

    public ManualTimeProvider Time { get; }
    public TrainingMetrics Training { get; }
    public FleetMetrics Fleet { get; }
    public MetricsPipeline Pipeline { get; }

    /// <summary>The loss recorded for each task by <see cref="RecordEverything"/>: distinct, exactly representable values.</summary>
    public static double LossOf(int taskIndex) => 0.5 + 0.25 * taskIndex;

    /// <summary>Touches every instrument so that every metric name appears in a scrape.</summary>
    public void RecordEverything(long step = 42)
    {
        Training.RecordStep(new StepReport
        {
            Step = step,
            Duration = TimeSpan.FromMilliseconds(120),
            DataWait = TimeSpan.FromMilliseconds(3),
            DataFetchedBytes = 64L << 20,
            AllReduce = TimeSpan.FromMilliseconds(20),
            GradNorm = 1.5,
            LearningRate = 0.0003,
            Samples = SampleStreams.All.ToDictionary(stream => stream, _ => 32L),
            Tokens = 768,
            TaskLosses = TrainingTasks.All.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => LossOf(p.i)),
            TaskWeights = TrainingTasks.All.ToDictionary(t => t, _ => 1.0),
            ModalityWeights = Modalities.All.ToDictionary(m => m, _ => 0.2),
            SkippedSamples = new Dictionary<(string, string), long> { [(SampleStreams.Products, SkipReasons.All[^1])] = 1 },
        });
        Training.RecordSkippedStep();
        Training.RecordCheckpointSave(TimeSpan.FromSeconds(2), 1_000_000);
        Training.RecordCheckpointStall(TimeSpan.FromMilliseconds(4));
        Training.RecordDeviceMemory(3L << 30);
        Training.RecordDeviceTotal(80L << 30);
        Training.RecordHostMemoryLimit(12L << 30);
        Training.RecordCheckpointCommitted(step);
        Fleet.SetJobState(JobStates.Running);
        Fleet.SetExpectedWorkers(2);
        Fleet.SetWorkers(WorkerStates.Active, 2);
        Fleet.SetGeneration(1);
        Fleet.RecordRestart();
        for (var i = 0; i < 6; i++)
        {
            Fleet.RecordHeartbeat(0);
            Fleet.RecordHeartbeat(1);
            Fleet.ObserveStepTime(0, TimeSpan.FromMilliseconds(100));
            Fleet.ObserveStepTime(1, TimeSpan.FromMilliseconds(100));
        }
        Fleet.RecordCheckpointCommitted(step);
        Time.Advance(TimeSpan.FromSeconds(5));
    }

    public void Dispose()
    {
        Pipeline.Dispose();
        Training.Dispose();
        Fleet.Dispose();
    }
}

using System.Diagnostics.Metrics;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Stragglers;

namespace CommerceMM.Observability.Coordinator;

/// <summary>The coordinator's instruments, created once under the names in <see cref="MetricNames"/>.</summary>
internal sealed class CoordinatorInstruments
{
    public CoordinatorInstruments(Meter meter, FleetState fleet, StragglerDetector stragglers, CheckpointClock checkpoints)
    {
        meter.CreateObservableGauge(MetricNames.JobState, fleet.ObserveJobState, unit: null,
            "1 for the job's current state (pending, running, completed, failed, stopped), 0 for the others.");
        meter.CreateObservableGauge(MetricNames.Workers, fleet.ObserveWorkers, unit: "{worker}",
            "Workers of this job by state (every state exported, zero included).");
        meter.CreateObservableGauge(MetricNames.WorkersExpected, fleet.ObserveExpectedWorkers, unit: "{worker}",
            "Workers the job is configured to run with.");
        meter.CreateObservableGauge(MetricNames.Generation, fleet.ObserveGeneration, unit: null,
            "Current generation; it increases each time the fleet re-forms.");
        Restarts = meter.CreateCounter<long>(MetricNames.Restarts, "{restart}",
            "Times the fleet re-formed under a new generation after a failure.");
        meter.CreateObservableGauge(MetricNames.HeartbeatAge, fleet.ObserveHeartbeatAges, "s",
            "Seconds since each rank's last heartbeat.");
        meter.CreateObservableGauge(MetricNames.StepTimeRatio, () => ObserveRatios(stragglers), unit: null,
            "Each rank's median step compute time over the median of its peers' (1 = typical).");
        meter.CreateObservableGauge(MetricNames.Straggler, () => ObserveFlags(stragglers), unit: null,
            "1 while a rank is flagged as persistently slower than its peers, else 0.");
        meter.CreateObservableGauge(MetricNames.CheckpointLastCommittedStep, checkpoints.ObserveLastStep, unit: null,
            "Step of the last committed checkpoint.");
        meter.CreateObservableGauge(MetricNames.CheckpointAge, () => checkpoints.AgeSeconds, "s",
            "Seconds since the last committed checkpoint (since start if none yet).");
    }

    public Counter<long> Restarts { get; }

    private static IEnumerable<Measurement<double>> ObserveRatios(StragglerDetector stragglers) =>
        stragglers.Snapshot()
            .Where(s => s.Ratio is not null)
            .Select(s => new Measurement<double>(s.Ratio!.Value, FleetState.RankTag(s.Rank)));

    private static IEnumerable<Measurement<int>> ObserveFlags(StragglerDetector stragglers) =>
        stragglers.Snapshot().Select(s => new Measurement<int>(s.IsStraggler ? 1 : 0, FleetState.RankTag(s.Rank)));
}

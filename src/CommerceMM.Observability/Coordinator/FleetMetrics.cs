using System.Diagnostics.Metrics;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Stragglers;

namespace CommerceMM.Observability.Coordinator;

/// <summary>
/// What the coordinator records: workers by state, generation, restarts, heartbeat age and
/// step-time standing per rank (with the straggler flag), checkpoint commits; on the meter
/// <see cref="MeterNames.Coordinator"/>.
/// </summary>
/// <remarks>
/// Most figures are observable gauges computed at scrape time from the state set here, so a
/// heartbeat age keeps growing while nothing arrives. Thread-safe.
/// </remarks>
public sealed class FleetMetrics : IDisposable
{
    /// <summary>Ranks at or above this are refused: a rank is a label, and labels stay bounded.</summary>
    public const int MaxRanks = 65_536;

    private readonly Meter meter;
    private readonly FleetState fleet;
    private readonly StragglerDetector stragglers;
    private readonly CheckpointClock checkpoints;
    private readonly CoordinatorInstruments instruments;
    private readonly TagCache stateTags = new(LabelNames.State, WorkerStates.All);
    private readonly TagCache jobStateTags = new(LabelNames.State, JobStates.All);

    /// <param name="stragglerOptions">Straggler thresholds; the defaults of <see cref="StragglerOptions"/> if null.</param>
    /// <param name="timeProvider">Clock for heartbeat and checkpoint age; the system clock by default.</param>
    /// <param name="meterName">Meter name; tests pass a unique one so parallel tests stay apart.</param>
    /// <exception cref="ArgumentException">A straggler option is invalid (the message names it).</exception>
    public FleetMetrics(StragglerOptions? stragglerOptions = null, TimeProvider? timeProvider = null, string meterName = MeterNames.Coordinator)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(meterName);
        var time = timeProvider ?? TimeProvider.System;
        stragglers = new StragglerDetector(stragglerOptions);
        fleet = new FleetState(time);
        checkpoints = new CheckpointClock(time);
        meter = new Meter(meterName);
        instruments = new CoordinatorInstruments(meter, fleet, stragglers, checkpoints);
        // Exported as 0 from the start rather than absent until the first restart: increase() and alerts then have a
        // baseline, and the first restart reads as an increase. (Dropped if no listener exists yet.)
        instruments.Restarts.Add(0);
    }

    /// <summary>The meter's name, for <see cref="Collection.MetricsOptions.MeterNames"/>.</summary>
    public string MeterName => meter.Name;

    /// <summary>Sets how many workers are in <paramref name="state"/> (one of <see cref="WorkerStates"/>).</summary>
    /// <exception cref="ArgumentException">Unknown state.</exception>
    public void SetWorkers(string state, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        stateTags.Get(state, nameof(state));
        fleet.SetWorkers(state, count);
    }

    /// <summary>Sets the job's state (one of <see cref="JobStates"/>).</summary>
    /// <exception cref="ArgumentException">Unknown state.</exception>
    public void SetJobState(string state)
    {
        jobStateTags.Get(state, nameof(state));
        fleet.JobState = state;
    }

    /// <summary>Sets the configured world size (the "worker missing" alert compares against it).</summary>
    public void SetExpectedWorkers(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        fleet.ExpectedWorkers = count;
    }

    /// <summary>
    /// Sets the current generation. A new generation reassigns ranks, so heartbeat ages and
    /// step-time history of the old ranks are dropped.
    /// </summary>
    public void SetGeneration(long generation)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(generation);
        if (fleet.SetGeneration(generation)) stragglers.Reset();
    }

    /// <summary>Counts one re-formation of the fleet after a failure.</summary>
    public void RecordRestart() => instruments.Restarts.Add(1);

    /// <summary>Notes a heartbeat from <paramref name="rank"/> now.</summary>
    public void RecordHeartbeat(int rank) => fleet.Heartbeat(CheckRank(rank));

    /// <summary>
    /// Feeds one step's <em>compute</em> time of <paramref name="rank"/> (step time minus all-reduce and
    /// data wait: see <see cref="StragglerDetector"/>) and returns the rank's standing.
    /// </summary>
    public RankStepStatus ObserveStepTime(int rank, TimeSpan computeTime) =>
        stragglers.Observe(CheckRank(rank), computeTime.TotalSeconds);

    /// <summary>Every rank's latest standing, by rank, for the coordinator's status API.</summary>
    public IReadOnlyList<RankStepStatus> RankStatuses => stragglers.Snapshot();

    /// <summary>Time since <paramref name="rank"/>'s last heartbeat, or null if none this generation.</summary>
    public TimeSpan? HeartbeatAge(int rank) => fleet.HeartbeatAge(rank);

    /// <summary>Drops a rank that left, so its series stop being exported.</summary>
    public void ForgetRank(int rank)
    {
        fleet.Forget(rank);
        stragglers.Forget(rank);
    }

    /// <summary>Notes that the checkpoint of <paramref name="step"/> is committed (its age restarts at 0).</summary>
    public void RecordCheckpointCommitted(long step) => checkpoints.Commit(step);

    /// <summary>
    /// Notes that the checkpoint of <paramref name="step"/> was committed at <paramref name="committedAt"/>, for a
    /// caller that reads commits from a record rather than seeing them happen (the age counts from that time).
    /// </summary>
    public void RecordCheckpointCommitted(long step, DateTimeOffset committedAt) => checkpoints.Commit(step, committedAt);

    public void Dispose() => meter.Dispose();

    private static int CheckRank(int rank)
    {
        if (rank is < 0 or >= MaxRanks)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"A rank must be in [0, {MaxRanks}).");
        }
        return rank;
    }
}

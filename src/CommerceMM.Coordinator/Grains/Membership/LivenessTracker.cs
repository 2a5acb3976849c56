using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Hosting;

namespace CommerceMM.Coordinator.Grains.Membership;

/// <summary>
/// What the heartbeats say, kept in memory only: it changes every few seconds per rank, and persisting it would
/// turn every heartbeat into a blob write. After a coordinator restart every rank gets the startup timeout to come back.
/// Owned by the membership entity and touched only inside its turns.
/// </summary>
internal sealed class LivenessTracker
{
    private readonly Dictionary<string, Beat> _beats = new(StringComparer.Ordinal);
    private readonly Queue<double> _stepSeconds = new();
    private readonly LivenessOptions _options;

    public LivenessTracker(LivenessOptions options) => _options = options;

    /// <summary>Recent step times of all ranks, newest last.</summary>
    public IReadOnlyCollection<double> StepSeconds => _stepSeconds;

    /// <summary>Starts a generation: every member is "assigned now" and has the startup timeout until its first heartbeat.</summary>
    public void StartGeneration(IEnumerable<string> workerIds, DateTimeOffset now)
    {
        _beats.Clear();
        MaxStep = 0;
        foreach (string id in workerIds)
        {
            _beats[id] = new Beat(now, Heartbeated: false, null, null, null, null, null);
        }
    }

    public void Record(HeartbeatRequest heartbeat, DateTimeOffset now)
    {
        bool known = _beats.TryGetValue(heartbeat.WorkerId, out Beat last);
        // A heartbeat with no step time (sent while the rank waits on its peers, or for a stop) says the rank is alive: the
        // figures of the step it last finished stand. It can arrive after the next step's own heartbeat, so an older step too.
        if (known && last.Heartbeated && heartbeat.Step <= last.Step && heartbeat.StepSeconds <= 0)
        {
            _beats[heartbeat.WorkerId] = last with { LastSeen = now };
            return;
        }

        // A heartbeat without a metrics URL keeps the one already known this generation.
        string? metricsUrl = heartbeat.MetricsUrl ?? (known ? last.MetricsUrl : null);
        _beats[heartbeat.WorkerId] = new Beat(now, Heartbeated: true, heartbeat.Step, heartbeat.StepSeconds, heartbeat.DataWaitSeconds, heartbeat.Losses, metricsUrl);
        MaxStep = Math.Max(MaxStep, heartbeat.Step);
        if (heartbeat.StepSeconds > 0)
        {
            _stepSeconds.Enqueue(heartbeat.StepSeconds);
            while (_stepSeconds.Count > _options.StepWindow)
            {
                _stepSeconds.Dequeue();
            }
        }
    }

    /// <summary>A worker waiting in the rendezvous polled it (workers poll every <see cref="LivenessOptions.JoinPollInterval"/>).</summary>
    public void RecordPoll(string workerId, DateTimeOffset now) => _beats[workerId] = new Beat(now, Heartbeated: false, null, null, null, null, null);

    /// <summary>
    /// Waiting workers that stopped polling for longer than <see cref="LivenessOptions.TimeoutFloor"/>: their process
    /// is gone. Given a rank, such a worker would hold up its peers' process group until the collective timeout.
    /// </summary>
    public IEnumerable<(string WorkerId, TimeSpan Silent)> StoppedPolling(IEnumerable<string> waitingIds, DateTimeOffset now)
    {
        foreach (string id in waitingIds)
        {
            if (_beats.TryGetValue(id, out Beat beat) && now - beat.LastSeen > _options.TimeoutFloor)
            {
                yield return (id, now - beat.LastSeen);
            }
        }
    }

    /// <summary>Members whose silence exceeds their timeout, with how long they have been silent.</summary>
    /// <remarks>Runs on every call to membership: the steady timeout (a p95 over the step window) is computed once per sweep, not per member.</remarks>
    public IEnumerable<(string WorkerId, TimeSpan Age, TimeSpan Timeout)> Overdue(IEnumerable<string> workerIds, DateTimeOffset now)
    {
        TimeSpan? steady = null;
        foreach (string id in workerIds)
        {
            bool known = _beats.TryGetValue(id, out Beat beat);
            TimeSpan age = now - (known ? beat.LastSeen : now);
            TimeSpan timeout = known && beat.Heartbeated ? steady ??= HeartbeatTimeoutPolicy.Steady(_options, _stepSeconds) : _options.StartupTimeout;
            if (age > timeout)
            {
                yield return (id, age, timeout);
            }
        }
    }

    /// <summary>The furthest step any member reported in this generation.</summary>
    public long MaxStep { get; private set; }

    public MemberView View(string workerId, int rank, DateTimeOffset now)
    {
        if (!_beats.TryGetValue(workerId, out Beat beat))
        {
            return new MemberView(workerId, rank, MemberState.Starting, null, null, null, null, null);
        }

        return new MemberView(
            workerId, rank, beat.Heartbeated ? MemberState.Running : MemberState.Starting, beat.Step,
            Math.Max(0, (now - beat.LastSeen).TotalSeconds), beat.StepSeconds, beat.DataWaitSeconds, beat.Losses, MetricsUrl: beat.MetricsUrl);
    }

    private readonly record struct Beat(
        DateTimeOffset LastSeen, bool Heartbeated, long? Step, double? StepSeconds, double? DataWaitSeconds, IReadOnlyDictionary<string, double>? Losses, string? MetricsUrl);
}

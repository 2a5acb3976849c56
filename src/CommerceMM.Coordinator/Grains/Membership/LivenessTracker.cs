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
        foreach (string id in workerIds)
        {
            _beats[id] = new Beat(now, Heartbeated: false, null, null, null, null, null);
        }
    }

    public void Record(HeartbeatRequest heartbeat, DateTimeOffset now)
    {
        // A heartbeat without a metrics URL (say, while waiting for a stop) keeps the one already known this generation.
        string? metricsUrl = heartbeat.MetricsUrl ?? (_beats.TryGetValue(heartbeat.WorkerId, out Beat last) ? last.MetricsUrl : null);
        _beats[heartbeat.WorkerId] = new Beat(now, Heartbeated: true, heartbeat.Step, heartbeat.StepSeconds, heartbeat.DataWaitSeconds, heartbeat.Losses, metricsUrl);
        if (heartbeat.StepSeconds > 0)
        {
            _stepSeconds.Enqueue(heartbeat.StepSeconds);
            while (_stepSeconds.Count > _options.StepWindow)
            {
                _stepSeconds.Dequeue();
            }
        }
    }

    public TimeSpan TimeoutFor(string workerId) =>
        _beats.TryGetValue(workerId, out Beat beat) && beat.Heartbeated ? HeartbeatTimeoutPolicy.Steady(_options, _stepSeconds) : _options.StartupTimeout;

    /// <summary>Members whose silence exceeds their timeout, with how long they have been silent.</summary>
    public IEnumerable<(string WorkerId, TimeSpan Age, TimeSpan Timeout)> Overdue(IEnumerable<string> workerIds, DateTimeOffset now)
    {
        foreach (string id in workerIds)
        {
            TimeSpan age = now - (_beats.TryGetValue(id, out Beat beat) ? beat.LastSeen : now);
            TimeSpan timeout = TimeoutFor(id);
            if (age > timeout)
            {
                yield return (id, age, timeout);
            }
        }
    }

    public long MaxStep => _beats.Count == 0 ? 0 : _beats.Values.Max(b => b.Step ?? 0);

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

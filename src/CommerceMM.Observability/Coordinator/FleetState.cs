using System.Diagnostics.Metrics;
using CommerceMM.Observability.Metrics;

namespace CommerceMM.Observability.Coordinator;

/// <summary>
/// The coordinator's last known fleet figures, read by observable gauges at scrape time.
/// One lock: updates are rare (per heartbeat), reads happen once per scrape.
/// </summary>
internal sealed class FleetState(TimeProvider time)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> workers = WorkerStates.All.ToDictionary(s => s, _ => 0, StringComparer.Ordinal);
    private readonly SortedDictionary<int, DateTimeOffset> lastHeartbeat = [];
    private int expectedWorkers;
    private long generation;
    private string? jobState;

    public void SetWorkers(string state, int count)
    {
        lock (gate) workers[state] = count;
    }

    public int ExpectedWorkers
    {
        set { lock (gate) expectedWorkers = value; }
    }

    public string JobState
    {
        set { lock (gate) jobState = value; }
    }

    /// <summary>Sets the generation; true when it changed (ranks are reassigned then).</summary>
    public bool SetGeneration(long value)
    {
        lock (gate)
        {
            if (value == generation) return false;
            generation = value;
            lastHeartbeat.Clear();
            return true;
        }
    }

    public void Heartbeat(int rank)
    {
        var now = time.GetUtcNow();
        lock (gate) lastHeartbeat[rank] = now;
    }

    public void Forget(int rank)
    {
        lock (gate) lastHeartbeat.Remove(rank);
    }

    public TimeSpan? HeartbeatAge(int rank)
    {
        var now = time.GetUtcNow();
        lock (gate) return lastHeartbeat.TryGetValue(rank, out var at) ? now - at : null;
    }

    public IEnumerable<Measurement<int>> ObserveWorkers()
    {
        lock (gate) return [.. workers.Select(w => new Measurement<int>(w.Value, new KeyValuePair<string, object?>(LabelNames.State, w.Key)))];
    }

    /// <summary>Nothing until the job's state is known; then every state, 1 for the current one.</summary>
    public IEnumerable<Measurement<int>> ObserveJobState()
    {
        lock (gate)
        {
            if (jobState is null) return [];
            string current = jobState;
            return [.. JobStates.All.Select(s => new Measurement<int>(s == current ? 1 : 0, new KeyValuePair<string, object?>(LabelNames.State, s)))];
        }
    }

    public int ObserveExpectedWorkers()
    {
        lock (gate) return expectedWorkers;
    }

    public long ObserveGeneration()
    {
        lock (gate) return generation;
    }

    public IEnumerable<Measurement<double>> ObserveHeartbeatAges()
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            return [.. lastHeartbeat.Select(h => new Measurement<double>(
                Math.Max(0, (now - h.Value).TotalSeconds), RankTag(h.Key)))];
        }
    }

    public static KeyValuePair<string, object?> RankTag(int rank) =>
        new(LabelNames.Rank, rank.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

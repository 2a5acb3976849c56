using System.Collections.Concurrent;

namespace CommerceMM.Observability.Collection;

/// <summary>
/// Keeps one step's figures together in a scrape: a scrape showing <c>cmm_step</c> = S shows step S's losses, never a mix
/// of S and S+1. The SDK reads instruments one at a time while the step goes on, and the OpenTelemetry Prometheus exporter
/// collects on a thread-pool thread of its own, so no lock can span the collection. Instead a scrape marks its meters busy
/// from the moment it arrives until its response starts (<see cref="MetricsPipeline"/>), and recordings made meanwhile are
/// queued and applied, in order, when the last scrape in flight is done with them.
/// </summary>
/// <remarks>
/// <para>
/// One gate per meter name, shared by the recorder (<see cref="Worker.TrainingMetrics"/>) and every pipeline listening to that
/// meter: they are separate objects that know nothing of each other, and tests keep apart by unique meter names.
/// </para>
/// <para>
/// The training thread does not wait on a scrape: recording takes the gate's lock for the few microseconds it records (or
/// queues), and a scrape takes it only to count itself in and out. Only a recorder that has queued <see cref="MaxQueued"/>
/// recordings behind one scrape waits for it (a tight loop, never a real step). A scrape sees everything recorded before it
/// arrived, unless another scrape of the same meters was still in flight then (the queue is applied once both are done).
/// </para>
/// <para>
/// Collections made outside a scrape (the OTLP exporter's periodic push) are not held back: their figures may mix steps.
/// </para>
/// </remarks>
internal sealed class StepConsistency
{
    /// <summary>
    /// Recordings queued behind scrapes before the recorder waits for them to end: bounds memory. A real step takes
    /// milliseconds and a scrape a millisecond or two, so only a tight loop of recordings ever gets here.
    /// </summary>
    internal const int MaxQueued = 4096;

    /// <summary>Longest a recorder waits at <see cref="MaxQueued"/> before it records anyway (a scrape that never ends).</summary>
    internal static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(10);

    private static readonly ConcurrentDictionary<string, StepConsistency> ByMeter = new(StringComparer.Ordinal);

    // A monitor rather than System.Threading.Lock: a full queue waits on it.
    private readonly object gate = new();
    private readonly Queue<Action> queued = new();
    private int scrapesInFlight;

    /// <summary>The gate of <paramref name="meterName"/> (created on first use).</summary>
    public static StepConsistency For(string meterName) => ByMeter.GetOrAdd(meterName, static _ => new StepConsistency());

    /// <summary>Recordings waiting for a scrape to finish (for tests).</summary>
    internal int QueuedCount
    {
        get { lock (gate) return queued.Count; }
    }

    /// <summary>
    /// Applies <paramref name="record"/> to <paramref name="state"/> now, or after the scrapes in flight (a closure is
    /// allocated only then). It must not throw: validate arguments before.
    /// </summary>
    public void Record<TState>(TState state, Action<TState> record)
    {
        lock (gate)
        {
            if (scrapesInFlight == 0 && queued.Count == 0)
            {
                record(state);
                return;
            }
        }
        Record(() => record(state));
    }

    /// <summary>
    /// Applies <paramref name="record"/> now, or after the scrapes in flight. It must not throw: validate arguments before.
    /// </summary>
    public void Record(Action record)
    {
        lock (gate)
        {
            if (queued.Count >= MaxQueued)
            {
                // Wait for the scrapes to end (they apply the queue); past MaxWait, apply it here and give up on keeping
                // that scrape's figures together rather than on memory.
                var deadline = DateTime.UtcNow + MaxWait;
                while (scrapesInFlight > 0 && queued.Count > 0)
                {
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) break;
                    Monitor.Wait(gate, left);
                }
                ApplyQueued();
            }
            if (scrapesInFlight == 0) record();
            else queued.Enqueue(record);
        }
    }

    /// <summary>Counts a scrape in: recordings are queued until <see cref="EndScrape"/>.</summary>
    public void BeginScrape()
    {
        lock (gate) scrapesInFlight++;
    }

    /// <summary>Counts a scrape out; the last one out applies what was queued meanwhile.</summary>
    public void EndScrape()
    {
        lock (gate)
        {
            if (scrapesInFlight == 0) throw new InvalidOperationException("EndScrape without BeginScrape.");
            if (--scrapesInFlight > 0) return;
            ApplyQueued();
            Monitor.PulseAll(gate);
        }
    }

    private void ApplyQueued()
    {
        while (queued.TryDequeue(out var record)) record();
    }
}

namespace CommerceMM.Observability.Metrics;

/// <summary>
/// The last committed checkpoint and its age. Before any commit the age counts from when the clock
/// was created, so a job that never manages to checkpoint still trips the "checkpoint too old" alert.
/// </summary>
internal sealed class CheckpointClock(TimeProvider time)
{
    private readonly Lock gate = new();
    private DateTimeOffset since = time.GetUtcNow();
    private long? lastStep;

    public void Commit(long step) => Commit(step, time.GetUtcNow());

    /// <summary>Notes a commit that happened at <paramref name="at"/> (the coordinator learns of commits after the fact).</summary>
    public void Commit(long step, DateTimeOffset at)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        lock (gate)
        {
            // A late commit of an older step (async uploads finish out of order) must not move it back.
            if (lastStep is { } last && step < last) return;
            (lastStep, since) = (step, at);
        }
    }

    public long? LastStep
    {
        get { lock (gate) return lastStep; }
    }

    public double AgeSeconds
    {
        get { lock (gate) return Math.Max(0, (time.GetUtcNow() - since).TotalSeconds); }
    }

    /// <summary>For observable gauges: the last step, or nothing before the first commit.</summary>
    public IEnumerable<System.Diagnostics.Metrics.Measurement<long>> ObserveLastStep()
    {
        if (LastStep is { } step) yield return new(step);
    }
}

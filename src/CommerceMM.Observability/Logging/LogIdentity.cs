namespace CommerceMM.Observability.Logging;

/// <summary>
/// Who is logging: job, rank and generation, stamped on every line by <see cref="CmmConsoleFormatter"/>.
/// Mutable because rank and generation change when the fleet re-forms; a rejoining worker calls
/// <see cref="Set"/> and every later line carries the new values.
/// </summary>
public sealed class LogIdentity
{
    /// <summary>Replaced as a whole, so a reader never sees a rank from one generation with another's number.</summary>
    private volatile Snapshot current;

    public LogIdentity(string job, int? rank = null, long? generation = null)
    {
        current = new Snapshot(Check(job), rank, generation);
    }

    /// <summary>The values at this moment.</summary>
    public Snapshot Current => current;

    /// <summary>Sets rank and generation together (after a join or rejoin).</summary>
    public void Set(int? rank, long? generation) => current = current with { Rank = rank, Generation = generation };

    /// <summary>Immutable view of the identity.</summary>
    public sealed record Snapshot(string Job, int? Rank, long? Generation);

    private static string Check(string job)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(job);
        return job;
    }
}

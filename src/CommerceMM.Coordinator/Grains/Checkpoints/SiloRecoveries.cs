using System.Collections.Concurrent;

namespace CommerceMM.Coordinator.Grains.Checkpoints;

/// <summary>
/// The jobs whose torn commits this silo has already resolved. Recovery runs on a job's first checkpoint activation in a
/// silo only: a later activation there follows a lost ETag race (another writer), whose commit in flight would look torn.
/// </summary>
internal sealed class SiloRecoveries
{
    private readonly ConcurrentDictionary<string, byte> _done = new(StringComparer.Ordinal);

    /// <summary>True the first time it is asked for <paramref name="job"/> in this silo.</summary>
    public bool TryStart(string job) => _done.TryAdd(job, 0);
}

using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Entities.Abstractions;

/// <summary>
/// The key/value store ranks of one job (keyed by job name) meet through to form their collectives, scoped to the
/// current generation: a write or read naming another generation is refused as stale, and a new generation starts
/// with no keys, so a late write from an earlier generation can never satisfy a new rendezvous. Membership opens
/// each generation.
/// </summary>
public interface IRendezvousEntity
{
    string Key { get; }

    /// <summary>The generation whose keys are held; 0 until membership has activated.</summary>
    long Generation { get; }

    /// <summary>Moves to <paramref name="generation"/> (never back): the older generation's keys are dropped and its waiting reads refused as stale.</summary>
    void OpenGeneration(long generation);

    /// <summary>Sets (or replaces) a key of <paramref name="generation"/> and wakes its readers.</summary>
    EntityResult<bool> Set(long generation, string key, byte[] value);

    /// <summary>The key's value, waiting up to <paramref name="wait"/> for it to be set; Found false when it was not.</summary>
    Task<EntityResult<RendezvousValue>> GetAsync(long generation, string key, TimeSpan wait, CancellationToken cancellationToken = default);
}

using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Grains;

/// <summary>
/// The key/value store ranks of one job (keyed by job name) meet through to form their collectives, scoped to the
/// current generation: a write or read naming another generation is refused as stale, and a new generation starts
/// with no keys, so a late write from an earlier generation can never satisfy a new rendezvous. Membership opens
/// each generation; a fresh activation (after a silo failure) starts at the job's generation.
/// </summary>
[Alias("cmm.rendezvous")]
public interface IRendezvousGrain : IGrainWithStringKey
{
    /// <summary>The generation whose keys are held.</summary>
    Task<long> GetGenerationAsync();

    /// <summary>Keys set or waited for in the current generation (a bump drops them all).</summary>
    Task<int> CountKeysAsync();

    /// <summary>Moves to <paramref name="generation"/> (never back): the older generation's keys are dropped and its waiting reads refused as stale.</summary>
    Task OpenGenerationAsync(long generation);

    /// <summary>Sets (or replaces) a key of <paramref name="generation"/> and wakes its readers.</summary>
    Task<GrainResult<bool>> SetAsync(long generation, string key, byte[] value);

    /// <summary>The key's value, waiting up to <paramref name="wait"/> for it to be set; Found false when it was not.</summary>
    Task<GrainResult<RendezvousValue>> GetAsync(long generation, string key, TimeSpan wait, CancellationToken cancellationToken = default);
}

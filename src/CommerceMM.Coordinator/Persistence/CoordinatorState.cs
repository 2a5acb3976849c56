using CommerceMM.Storage.Blobs;

namespace CommerceMM.Coordinator.Persistence;

/// <summary>The job's coordinator state as a whole: the four grain state blobs under <c>JOB/coordinator/</c>.</summary>
public static class CoordinatorState
{
    /// <summary>
    /// Moves the job's grain state aside, for a state blob that cannot be read: the coordinator then begins the job's
    /// control plane afresh (generation 1, no members) and takes what is committed from the checkpoints, whose
    /// <c>latest</c> is the truth for it anyway; the workers resume from the newest verified checkpoint. Only the
    /// restart count and the last failure's reason are lost. Run it with no silo of the job up.
    /// </summary>
    /// <returns>Each blob moved, with where it went; empty when the job had no state.</returns>
    public static async Task<IReadOnlyList<(string From, string To)>> SetAsideAsync(IBlobStore store, string job, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var moved = new List<(string, string)>();
        foreach (string name in GrainStateKeys.All)
        {
            string key = GrainStateKeys.For(job, name), aside = GrainStateKeys.SetAsideFor(job, name, now);
            if (await BlobGrainStorage.ReadAsync(store, key, cancellationToken).ConfigureAwait(false) is not { } read) continue;
            await store.PutAsync(aside, new MemoryStream(read.Bytes), cancellationToken: cancellationToken).ConfigureAwait(false);
            await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            moved.Add((key, aside));
        }

        return moved;
    }
}

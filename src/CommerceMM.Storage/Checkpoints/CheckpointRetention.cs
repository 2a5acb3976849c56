using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>Which committed checkpoints to keep: the last <see cref="KeepLast"/>, plus every step divisible by <see cref="KeepEvery"/>.</summary>
public sealed record CheckpointRetentionPolicy
{
    public CheckpointRetentionPolicy(int keepLast, long keepEvery = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keepLast, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(keepEvery);
        KeepLast = keepLast;
        KeepEvery = keepEvery;
    }

    /// <summary>Newest committed checkpoints kept (at least 1).</summary>
    public int KeepLast { get; }

    /// <summary>Also keep steps that are multiples of this (0: off), e.g. for evaluation later.</summary>
    public long KeepEvery { get; }
}

/// <summary>Deletes old checkpoints. It never deletes the newest verified checkpoint, the one <c>latest</c> names, or anything newer than <c>latest</c> (a save may be in flight).</summary>
public static class CheckpointRetention
{
    /// <summary>The steps to delete, ascending. Pure: a function of the folders, <c>latest</c>, the newest verified step and the policy.</summary>
    /// <remarks>
    /// Folders without a manifest below <c>latest</c> are leftovers of interrupted saves and are deleted. With no
    /// <c>latest</c> nothing is known to be committed, so nothing is deleted.
    /// </remarks>
    public static IReadOnlyList<long> Plan(IReadOnlyList<CheckpointFolder> folders, long? latestStep, long? newestVerifiedStep, CheckpointRetentionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (latestStep is not { } latest)
        {
            return [];
        }

        List<long> committed = folders.Where(f => f.HasManifest && f.Step <= latest).Select(f => f.Step).Order().ToList();
        var keep = new HashSet<long>(committed.TakeLast(policy.KeepLast)) { latest };
        if (newestVerifiedStep is { } verified)
        {
            keep.Add(verified);
        }

        if (policy.KeepEvery > 0)
        {
            keep.UnionWith(committed.Where(s => s % policy.KeepEvery == 0));
        }

        IEnumerable<long> abandoned = folders.Where(f => !f.HasManifest && f.Step < latest).Select(f => f.Step);
        return committed.Where(s => !keep.Contains(s)).Concat(abandoned).Order().ToList();
    }

    /// <summary>
    /// Applies <paramref name="policy"/> to <paramref name="job"/>. Pass <paramref name="newestVerifiedStep"/> when known
    /// (the committer just verified it); otherwise it is found by verifying from the newest down, which reads files.
    /// </summary>
    /// <returns>The steps deleted.</returns>
    public static async Task<IReadOnlyList<long>> ApplyAsync(
        IBlobStore store, string job, CheckpointRetentionPolicy policy, long? newestVerifiedStep = null, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<CheckpointFolder> folders = await CheckpointCatalog.ListAsync(store, job, cancellationToken).ConfigureAwait(false);
        long? latest = await CheckpointCatalog.ReadLatestStepAsync(store, job, cancellationToken).ConfigureAwait(false);
        newestVerifiedStep ??= (await CheckpointCatalog.FindNewestVerifiedAsync(store, job, cancellationToken: cancellationToken).ConfigureAwait(false)).Checkpoint?.Step;
        IReadOnlyList<long> doomed = Plan(folders, latest, newestVerifiedStep, policy);
        foreach (long step in doomed)
        {
            await DeleteStepAsync(store, job, step, cancellationToken).ConfigureAwait(false);
        }

        return doomed;
    }

    /// <summary>
    /// Deletes the parts of saves that failed: the folders of <paramref name="failedSteps"/> that have no manifest and lie
    /// above <paramref name="lastCommittedStep"/> (but not a set-aside one, kept to be inspected). Retention reaches them
    /// only below a newer commit, and while saves keep failing, say on a full disk, there is none: the parts they leave
    /// would take the room the next save needs. Only for the caller that saw those saves fail and knows no save is under
    /// way, as the checkpoint grain before it orders the next one.
    /// </summary>
    /// <returns>The steps deleted.</returns>
    public static async Task<IReadOnlyList<long>> DeleteFailedSavesAsync(
        IBlobStore store, string job, IReadOnlyCollection<long> failedSteps, long? lastCommittedStep, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<CheckpointFolder> folders = await CheckpointCatalog.ListAsync(store, job, cancellationToken).ConfigureAwait(false);
        var failed = folders.Where(f => failedSteps.Contains(f.Step) && !f.HasManifest && !f.SetAside && f.Step > (lastCommittedStep ?? -1)).Select(f => f.Step).ToList();
        foreach (long step in failed)
        {
            await DeleteStepAsync(store, job, step, cancellationToken).ConfigureAwait(false);
        }

        return failed;
    }

    /// <summary>Deletes the manifest first: if deletion stops halfway, what is left reads as uncommitted, never as corrupt.</summary>
    internal static async Task DeleteStepAsync(IBlobStore store, string job, long step, CancellationToken cancellationToken)
    {
        await store.DeleteAsync(CheckpointLayout.ManifestKey(job, step), cancellationToken).ConfigureAwait(false);
        await DeletePrefixAsync(store, CheckpointLayout.StepFolder(job, step), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every blob under <paramref name="prefix"/>, listed first: deleting while the listing pages on could skip keys on some stores.</summary>
    internal static async Task DeletePrefixAsync(IBlobStore store, string prefix, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (BlobProperties blob in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            keys.Add(blob.Key);
        }

        foreach (string key in keys)
        {
            await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }
}

using System.Text;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>
/// Resolves commits that a crash left half done, so that <c>latest</c> names exactly what restore picks. The committer
/// (<see cref="CheckpointCommitter"/>) creates the manifest, verifies every file, then moves <c>latest</c>; a kill -9
/// between the first and the last leaves a manifest newer than <c>latest</c>. Whoever commits for the job runs this
/// once on start-up, before any commit of its own and before any worker restores, so coordinator, workers and
/// storage agree from then on.
/// </summary>
/// <remarks>
/// The rule follows <see cref="CheckpointCatalog.FindNewestVerifiedAsync"/>, which restore uses:
/// <list type="bullet">
/// <item>With a <c>latest</c>, a manifest above it was never committed (restore already ignores it): the commit is
/// <b>aborted</b> by deleting that manifest. Left in place it would make a later save of the same step fail
/// ("already committed") and a later commit of it lose the race to stale checksums.</item>
/// <item>With no <c>latest</c> (the job's first commit was torn), restore takes the newest manifest whose files
/// verify: that commit is <b>finished</b> by moving <c>latest</c> to it under its ETag (If-None-Match: * here), and
/// newer manifests that fail verification are aborted.</item>
/// </list>
/// Files of an aborted step stay (restore ignores a folder without a manifest; retention deletes it once
/// <c>latest</c> passes it; a new save of that step overwrites them). Manifests at or below <c>latest</c> are
/// committed checkpoints: only <see cref="RollBackAsync"/> touches them, and only once they fail verification here.
/// </remarks>
public static class CheckpointRecovery
{
    /// <exception cref="CheckpointException"><c>latest</c> exists but cannot be read: nothing is changed, and the message names the key.</exception>
    public static async Task<CheckpointRecoveryResult> RecoverAsync(IBlobStore store, string job, CancellationToken cancellationToken = default)
    {
        LatestPointer? latest = await ReadLatestOrThrowAsync(store, job, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<CheckpointFolder> folders = await CheckpointCatalog.ListAsync(store, job, cancellationToken).ConfigureAwait(false);
        var actions = new List<RecoveredCommit>();
        foreach (CheckpointFolder folder in folders.Where(f => f.HasManifest).Reverse())
        {
            if (latest is { } l)
            {
                if (folder.Step <= l.Step)
                {
                    break; // committed checkpoints: not ours to judge
                }

                await AbortAsync(store, job, folder.Step, cancellationToken).ConfigureAwait(false);
                actions.Add(RecoveredCommit.WasAborted(folder.Step, $"its manifest was written but latest still names step {l.Step}: the commit stopped before its last stage"));
                continue;
            }

            (CheckpointManifest? manifest, string? problem) = await ReadAndVerifyAsync(store, job, folder.Step, cancellationToken).ConfigureAwait(false);
            if (manifest is null)
            {
                await AbortAsync(store, job, folder.Step, cancellationToken).ConfigureAwait(false);
                actions.Add(RecoveredCommit.WasAborted(folder.Step, $"no latest exists and {problem}"));
                continue;
            }

            bool moved = await CheckpointCommitter.MoveLatestForwardAsync(store, manifest, cancellationToken).ConfigureAwait(false);
            latest = await ReadLatestOrThrowAsync(store, job, cancellationToken).ConfigureAwait(false);
            actions.Add(RecoveredCommit.WasFinished(folder.Step, moved
                ? "no latest existed; its manifest and every file verified, so latest now names it"
                : $"its manifest and every file verified, and latest meanwhile names step {latest?.Step} (another committer)"));
        }

        return new CheckpointRecoveryResult(latest, actions);
    }

    /// <summary>
    /// The workers restored <paramref name="restoredStep"/> (null: nothing) because every committed checkpoint above it
    /// failed verification for them. Each is verified again here; when all fail, <c>latest</c> is pointed back at
    /// <paramref name="restoredStep"/> (deleted when null) and their commits are aborted, so that <c>latest</c> names
    /// what restore picks again: the steps between train and commit anew, and a save of an aborted step is a new commit.
    /// </summary>
    /// <remarks>
    /// Until then the committer refused every checkpoint not after the corrupt <c>latest</c> (a preemption's included),
    /// and a save of a corrupt step would have found its old manifest and "lost the race" to its stale checksums.
    /// Each step gets a <see cref="CheckpointLayout.SetAsideName"/> saying why (<c>cmm checkpoints list</c> shows it).
    /// <c>latest</c> moves next, under its ETag: a crash before the manifests are deleted leaves them above
    /// <c>latest</c>, where restore ignores them and <see cref="RecoverAsync"/> aborts them. The files of an aborted
    /// step stay until a new save overwrites them or retention deletes the folder.
    /// </remarks>
    /// <returns><c>latest</c> afterwards, and each checkpoint set aside, newest first (empty when <c>latest</c> was not above <paramref name="restoredStep"/>).</returns>
    /// <exception cref="CheckpointException">
    /// A checkpoint above <paramref name="restoredStep"/> verifies here, <paramref name="restoredStep"/> has no manifest,
    /// or <c>latest</c> changed meanwhile: nothing was changed, and the message says which.
    /// </exception>
    public static async Task<CheckpointRecoveryResult> RollBackAsync(IBlobStore store, string job, long? restoredStep, CancellationToken cancellationToken = default)
    {
        (LatestPointer Pointer, string ETag)? latest = await ReadLatestWithETagOrThrowAsync(store, job, cancellationToken).ConfigureAwait(false);
        if (latest is not { } current || current.Pointer.Step <= (restoredStep ?? -1))
        {
            return new CheckpointRecoveryResult(latest?.Pointer, []);
        }

        IReadOnlyList<CheckpointFolder> folders = await CheckpointCatalog.ListAsync(store, job, cancellationToken).ConfigureAwait(false);
        var actions = new List<RecoveredCommit>();
        foreach (CheckpointFolder folder in folders.Where(f => f.HasManifest && f.Step > (restoredStep ?? -1) && f.Step <= current.Pointer.Step).Reverse())
        {
            (CheckpointManifest? verified, string? problem) = await ReadAndVerifyAsync(store, job, folder.Step, cancellationToken).ConfigureAwait(false);
            if (verified is not null)
            {
                throw new CheckpointException(
                    $"step {folder.Step} verifies on the coordinator, yet the workers restored {Describe(restoredStep)}: nothing was set aside. Check the workers' access to the checkpoint store");
            }

            actions.Add(RecoveredCommit.WasAborted(folder.Step, $"{problem}; the workers restored {Describe(restoredStep)}"));
        }

        foreach (RecoveredCommit aborted in actions)
        {
            string why = $"set aside {DateTimeOffset.UtcNow:u}: {aborted.Reason}\n";
            await store.PutAsync(CheckpointLayout.SetAsideKey(job, aborted.Step), new MemoryStream(Encoding.UTF8.GetBytes(why)), cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        LatestPointer? pointer = null;
        if (restoredStep is { } step)
        {
            CheckpointManifest restored = await CheckpointCatalog.ReadManifestAsync(store, job, step, cancellationToken).ConfigureAwait(false)
                ?? throw new CheckpointException($"the workers restored step {step}, but it has no {CheckpointLayout.ManifestName}: nothing was set aside");
            pointer = new LatestPointer(CheckpointManifest.CurrentFormatVersion, job, restored.Step, restored.Generation);
            if (!await CheckpointCommitter.SetLatestAsync(store, restored, current.ETag, skipSteps: 0, cancellationToken).ConfigureAwait(false))
            {
                throw new CheckpointException($"'{CheckpointLayout.LatestKey(job)}' changed while setting aside the checkpoints above step {step}: nothing was set aside");
            }
        }
        else
        {
            await store.DeleteAsync(CheckpointLayout.LatestKey(job), cancellationToken).ConfigureAwait(false);
        }

        foreach (RecoveredCommit aborted in actions)
        {
            await AbortAsync(store, job, aborted.Step, cancellationToken).ConfigureAwait(false);
        }

        return new CheckpointRecoveryResult(pointer, actions);
    }

    private static string Describe(long? restoredStep) => restoredStep is { } step ? $"step {step}" : "no checkpoint (they started from the seed)";

    private static async Task<LatestPointer?> ReadLatestOrThrowAsync(IBlobStore store, string job, CancellationToken cancellationToken) =>
        (await ReadLatestWithETagOrThrowAsync(store, job, cancellationToken).ConfigureAwait(false))?.Pointer;

    internal static async Task<(LatestPointer Pointer, string ETag)?> ReadLatestWithETagOrThrowAsync(IBlobStore store, string job, CancellationToken cancellationToken)
    {
        try
        {
            return await CheckpointCommitter.ReadLatestAsync(store, job, cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointException e)
        {
            // Guessing what an unreadable pointer meant could move it backwards or onto a torn step: stop and say where.
            throw new CheckpointException($"'{CheckpointLayout.LatestKey(job)}' cannot be read ({e.Message}); repair or delete it, then start again.", e);
        }
    }

    /// <summary>The manifest when it parses, belongs here and every file matches; otherwise null and why.</summary>
    private static async Task<(CheckpointManifest? Manifest, string? Problem)> ReadAndVerifyAsync(IBlobStore store, string job, long step, CancellationToken cancellationToken)
    {
        CheckpointManifest? manifest;
        try
        {
            manifest = await CheckpointCatalog.ReadManifestAsync(store, job, step, cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointException e)
        {
            return (null, $"its manifest is unreadable: {e.Message}");
        }

        if (manifest is null)
        {
            return (null, "its manifest vanished while recovering");
        }

        if (manifest.Job != job || manifest.Step != step)
        {
            return (null, $"its manifest names job '{manifest.Job}' step {manifest.Step}");
        }

        string? problem = await CheckpointVerifier.VerifyAsync(store, manifest, cancellationToken).ConfigureAwait(false);
        return problem is null ? (manifest, null) : (null, $"it failed verification: {problem}");
    }

    /// <summary>Deleting the manifest is the whole abort: without it the folder reads as an interrupted save.</summary>
    private static Task<bool> AbortAsync(IBlobStore store, string job, long step, CancellationToken cancellationToken) =>
        store.DeleteAsync(CheckpointLayout.ManifestKey(job, step), cancellationToken);
}

/// <summary>What <see cref="CheckpointRecovery.RecoverAsync"/> found and did.</summary>
/// <param name="Latest"><c>latest</c> after recovery (null: the job has no committed checkpoint).</param>
/// <param name="Actions">Each torn commit resolved, newest first; empty when storage was consistent.</param>
public sealed record CheckpointRecoveryResult(LatestPointer? Latest, IReadOnlyList<RecoveredCommit> Actions);

/// <summary>One torn commit and how it was resolved.</summary>
/// <param name="Step">The step whose manifest was above <c>latest</c> (or, with no <c>latest</c>, any manifest).</param>
/// <param name="Finished">True: <c>latest</c> names it now; false: its manifest was deleted and it never counts.</param>
/// <param name="Reason">Why, for logs and <c>cmm status</c>.</param>
public sealed record RecoveredCommit(long Step, bool Finished, string Reason)
{
    internal static RecoveredCommit WasFinished(long step, string reason) => new(step, true, reason);

    internal static RecoveredCommit WasAborted(long step, string reason) => new(step, false, reason);

    public override string ToString() => $"step {Step} {(Finished ? "finished" : "aborted")}: {Reason}";
}

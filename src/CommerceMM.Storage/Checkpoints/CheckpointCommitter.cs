using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>
/// The commit protocol. A checkpoint is committed when, in this order: its manifest has been <b>created</b>
/// (If-None-Match: *, so exactly one committer per step wins), every file it lists has been read back and matched
/// its size and SHA-256, and <c>latest</c> has been moved to it by an If-Match write on the ETag just read.
/// </summary>
/// <remarks>
/// A crash before the manifest leaves an uncommitted folder that restore ignores; a crash after it but before
/// <c>latest</c> moves leaves <c>latest</c> on the previous checkpoint and a torn manifest above it, which
/// <see cref="CheckpointRecovery.RecoverAsync"/> resolves on the committer's next start. <c>latest</c> only ever
/// moves forward. Each stage boundary is a <see cref="CrashPoint"/>, so the crash tests can stop a real process there.
/// </remarks>
public static class CheckpointCommitter
{
    /// <summary>Attempts at moving <c>latest</c> before giving up; each conflict means another commit moved it meanwhile.</summary>
    private const int MaxPointerAttempts = 16;

    public static async Task<CheckpointCommitResult> CommitAsync(IBlobStore store, CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        manifest.Validate();
        string manifestKey = CheckpointLayout.ManifestKey(manifest.Job, manifest.Step);
        BlobWriteResult created = await store.PutAsync(manifestKey, new MemoryStream(manifest.ToJsonBytes()), BlobCondition.IfNoneMatchAny, cancellationToken).ConfigureAwait(false);
        if (!created.Succeeded)
        {
            return CheckpointCommitResult.LostRace(manifest.Step, $"step {manifest.Step} of job '{manifest.Job}' already has a manifest: another committer got there first");
        }

        CrashPoint.Reached(CrashPoint.ManifestWritten, manifest.Step);

        string? problem = await CheckpointVerifier.VerifyAsync(store, manifest, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            // The manifest is ours (we just created it), and it describes files that are not there: remove it so the
            // step reads as never committed, rather than leave a checkpoint every restore must reject.
            await store.DeleteAsync(manifestKey, cancellationToken).ConfigureAwait(false);
            return CheckpointCommitResult.Invalid(manifest.Step, $"step {manifest.Step} of job '{manifest.Job}' failed verification: {problem}");
        }

        CrashPoint.Reached(CrashPoint.Verified, manifest.Step);
        // A step the coordinator once set aside, saved again: its note described the old files, not these.
        await store.DeleteAsync(CheckpointLayout.SetAsideKey(manifest.Job, manifest.Step), cancellationToken).ConfigureAwait(false);
        bool moved = await MoveLatestForwardAsync(store, manifest, cancellationToken).ConfigureAwait(false);
        CrashPoint.Reached(CrashPoint.LatestMoved, manifest.Step);
        return CheckpointCommitResult.Committed(manifest.Step, created.ETag!, moved);
    }

    /// <summary>Reads <c>latest</c>; null when there is none yet.</summary>
    public static async Task<(LatestPointer Pointer, string ETag)?> ReadLatestAsync(IBlobStore store, string job, CancellationToken cancellationToken = default)
    {
        await using BlobDownload? download = await store.OpenReadAsync(CheckpointLayout.LatestKey(job), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (download is null)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        await download.Content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return (LatestPointer.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)), download.Properties.ETag);
    }

    /// <summary>Compare-and-swap loop: point <c>latest</c> at this step unless it already points at the same or a newer one.</summary>
    internal static async Task<bool> MoveLatestForwardAsync(IBlobStore store, CheckpointManifest manifest, CancellationToken cancellationToken)
    {
        string key = CheckpointLayout.LatestKey(manifest.Job);
        byte[] content = new LatestPointer(CheckpointManifest.CurrentFormatVersion, manifest.Job, manifest.Step, manifest.Generation).ToJsonBytes();
        for (int attempt = 0; attempt < MaxPointerAttempts; attempt++)
        {
            (LatestPointer Pointer, string ETag)? current = await ReadLatestAsync(store, manifest.Job, cancellationToken).ConfigureAwait(false);
            if (current is { } c && c.Pointer.Step >= manifest.Step)
            {
                return false; // a newer (or this) checkpoint is already the latest: never move backwards
            }

            BlobCondition condition = current is { } known ? BlobCondition.IfMatch(known.ETag) : BlobCondition.IfNoneMatchAny;
            BlobWriteResult written = await store.PutAsync(key, new MemoryStream(content), condition, cancellationToken).ConfigureAwait(false);
            if (written.Succeeded)
            {
                return true;
            }
        }

        throw new CheckpointException(
            $"Could not move '{key}' to step {manifest.Step} after {MaxPointerAttempts} attempts: it kept changing under concurrent commits. The checkpoint itself is committed and verified.");
    }

    /// <summary>
    /// Points <c>latest</c> at a committed step, back or forward, only while it still carries <paramref name="etag"/> (what
    /// the caller read before deciding): false when a commit or another writer moved it meanwhile. Only the set-aside of
    /// corrupt checkpoints and an operator's rollback (or its undo) do this; commits move it with their own loop.
    /// </summary>
    internal static async Task<bool> SetLatestAsync(IBlobStore store, CheckpointManifest manifest, string etag, long skipSteps, CancellationToken cancellationToken)
    {
        byte[] content = new LatestPointer(CheckpointManifest.CurrentFormatVersion, manifest.Job, manifest.Step, manifest.Generation, skipSteps).ToJsonBytes();
        BlobWriteResult written = await store.PutAsync(CheckpointLayout.LatestKey(manifest.Job), new MemoryStream(content), BlobCondition.IfMatch(etag), cancellationToken).ConfigureAwait(false);
        return written.Succeeded;
    }
}

/// <summary>What <see cref="CheckpointCommitter.CommitAsync"/> did.</summary>
public sealed record CheckpointCommitResult(CheckpointCommitStatus Status, long Step, string Message, string? ManifestETag, bool LatestMoved)
{
    public bool Succeeded => Status == CheckpointCommitStatus.Committed;

    internal static CheckpointCommitResult Committed(long step, string etag, bool latestMoved) =>
        new(CheckpointCommitStatus.Committed, step, latestMoved ? $"step {step} committed; latest now points at it" : $"step {step} committed; latest already pointed at a step at least as new", etag, latestMoved);

    internal static CheckpointCommitResult LostRace(long step, string message) => new(CheckpointCommitStatus.LostRace, step, message, null, false);

    internal static CheckpointCommitResult Invalid(long step, string message) => new(CheckpointCommitStatus.Invalid, step, message, null, false);
}

public enum CheckpointCommitStatus
{
    /// <summary>Manifest created, files verified; <see cref="CheckpointCommitResult.LatestMoved"/> says whether <c>latest</c> moved.</summary>
    Committed,

    /// <summary>Another committer created this step's manifest first; nothing was changed.</summary>
    LostRace,

    /// <summary>A file was missing or did not match; the manifest was withdrawn and <c>latest</c> not touched.</summary>
    Invalid,
}

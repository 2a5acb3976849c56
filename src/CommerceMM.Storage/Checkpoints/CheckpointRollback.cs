using System.Globalization;
using System.Text;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>
/// An operator's rollback of a job to an earlier committed checkpoint (its loss diverged, a bad batch went in): <c>latest</c>
/// moves back to that step, so every restore picks it, and the checkpoints above it leave the checkpoints folder for
/// <c>JOB/rolled-back/STAMP/</c>, kept as they were. They must leave it: the training that resumes saves those steps
/// again, into the same folders.
/// </summary>
/// <remarks>
/// Crash-safe in this order. The copies come first (a crash leaves <c>latest</c> as it was, and a copy without its note).
/// Then <c>latest</c> moves, only under the ETag read when planning: a commit in between makes the rollback fail having
/// changed nothing that counts. Then the originals go, manifest first: a crash there leaves manifests above
/// <c>latest</c>, which restore ignores and the coordinator's start-up recovery aborts (<see cref="CheckpointRecovery"/>).
/// The caller holds the job's owner claim, so no coordinator commits meanwhile.
/// </remarks>
public static class CheckpointRollback
{
    /// <summary>Beside the copies: when, from which step to which, and why. A folder without it is an interrupted rollback's copy.</summary>
    public const string NoteName = "rolled-back.txt";

    /// <summary>What a rollback of <paramref name="job"/> to <paramref name="step"/> would do; nothing is changed.</summary>
    /// <exception cref="CheckpointException">Nothing is committed, <paramref name="step"/> is not before <c>latest</c>, or has no manifest of this job.</exception>
    public static async Task<CheckpointRollbackPlan> PlanAsync(IBlobStore store, string job, long step, CancellationToken cancellationToken = default)
    {
        var latest = await CheckpointRecovery.ReadLatestWithETagOrThrowAsync(store, job, cancellationToken).ConfigureAwait(false)
            ?? throw new CheckpointException($"job '{job}' has no committed checkpoint: there is nothing to roll back");
        long from = latest.Pointer.Step;
        IReadOnlyList<CheckpointFolder> folders = await CheckpointCatalog.ListAsync(store, job, cancellationToken).ConfigureAwait(false);
        string committed = string.Join(", ", folders.Where(f => f.HasManifest && f.Step <= from).Select(f => f.Step));
        if (step >= from)
        {
            throw new CheckpointException(step == from
                ? $"latest already names step {step}: there is nothing above it to roll back (committed steps: {committed})"
                : $"step {step} is after latest (step {from}): a rollback goes back to an earlier committed checkpoint (committed steps: {committed})");
        }

        CheckpointManifest target = await CheckpointCatalog.ReadManifestAsync(store, job, step, cancellationToken).ConfigureAwait(false)
            ?? throw new CheckpointException($"job '{job}' has no committed checkpoint at step {step} (committed steps: {committed})");
        if (target.Job != job || target.Step != step)
        {
            throw new CheckpointException($"step-{step} of job '{job}' holds the manifest of job '{target.Job}' step {target.Step}: it cannot be rolled back to");
        }

        return new CheckpointRollbackPlan(job, from, latest.ETag, target, [.. folders.Where(f => f.Step > step && f.Step <= from)]);
    }

    /// <summary>
    /// Verifies the target's every file, copies the checkpoints above it to <c>JOB/rolled-back/STAMP/</c> (calling
    /// <paramref name="bytesCopied"/> with each data file's size), points <c>latest</c> at the target (training resumed there
    /// first skips the data of <paramref name="skipSteps"/> steps) and deletes the originals.
    /// </summary>
    /// <exception cref="CheckpointException">The target does not verify, or <c>latest</c> changed since the plan: <c>latest</c> and the checkpoints are as they were.</exception>
    public static async Task<CheckpointRollbackResult> RunAsync(
        IBlobStore store, CheckpointRollbackPlan plan, string reason, long skipSteps, TimeProvider time, Action<long>? bytesCopied = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skipSteps);
        string? problem = await CheckpointVerifier.VerifyAsync(store, plan.Target, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            throw new CheckpointException($"step {plan.Target.Step} does not verify ({problem}): nothing was changed. Roll back to a step that verifies (`cmm checkpoints list`)");
        }

        DateTimeOffset now = time.GetUtcNow();
        string folder = await FreeFolderAsync(store, plan.Job, now, cancellationToken).ConfigureAwait(false);
        string checkpoints = CheckpointLayout.CheckpointsPrefix(plan.Job);
        foreach (CheckpointFolder moving in plan.Moving)
        {
            await foreach (BlobProperties blob in store.ListAsync(CheckpointLayout.StepFolder(plan.Job, moving.Step), cancellationToken).ConfigureAwait(false))
            {
                await using BlobDownload download = await store.OpenReadAsync(blob.Key, cancellationToken: cancellationToken).ConfigureAwait(false)
                    ?? throw new CheckpointException($"'{blob.Key}' vanished while rolling back: is the job running? Nothing was changed; the copies under {folder} can be deleted");
                await store.PutAsync(folder + blob.Key[checkpoints.Length..], download.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (CheckpointLayout.TryParse(plan.Job, blob.Key, out _, out string path) && path is not (CheckpointLayout.ManifestName or CheckpointLayout.SetAsideName))
                {
                    bytesCopied?.Invoke(blob.Size); // the bytes CheckpointFolder counts
                }
            }
        }

        string note = string.Create(CultureInfo.InvariantCulture,
            $"rolled back {now:yyyy-MM-dd HH:mm:ss} UTC from step {plan.FromStep} to step {plan.Target.Step}{(skipSteps > 0 ? $", skipping the data of {skipSteps} step{(skipSteps == 1 ? "" : "s")}" : "")}: {reason}\n" +
            $"steps kept here: {string.Join(", ", plan.Moving.Select(m => m.Step))}\n");
        await store.PutAsync(folder + NoteName, new MemoryStream(Encoding.UTF8.GetBytes(note)), cancellationToken: cancellationToken).ConfigureAwait(false);

        if (!await CheckpointCommitter.MoveLatestBackAsync(store, plan.Target, plan.LatestETag, skipSteps, cancellationToken).ConfigureAwait(false))
        {
            await DeleteAllAsync(store, folder, cancellationToken).ConfigureAwait(false); // copies of what stays where it was
            throw new CheckpointException(
                $"'{CheckpointLayout.LatestKey(plan.Job)}' changed while rolling back (a checkpoint committed: is the job running?): nothing was rolled back");
        }

        foreach (CheckpointFolder moving in plan.Moving)
        {
            await store.DeleteAsync(CheckpointLayout.ManifestKey(plan.Job, moving.Step), cancellationToken).ConfigureAwait(false);
            await DeleteAllAsync(store, CheckpointLayout.StepFolder(plan.Job, moving.Step), cancellationToken).ConfigureAwait(false);
        }

        return new CheckpointRollbackResult(plan.Target.Step, folder, plan.Moving.Select(m => m.Step).ToList());
    }

    private static async Task DeleteAllAsync(IBlobStore store, string prefix, CancellationToken cancellationToken)
    {
        // Listed first: deleting while the listing pages on could skip keys on some stores.
        var keys = new List<string>();
        await foreach (BlobProperties blob in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false)) keys.Add(blob.Key);
        foreach (string key in keys) await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every earlier rollback's kept checkpoints, oldest first.</summary>
    public static async Task<IReadOnlyList<RolledBackCheckpoints>> ListAsync(IBlobStore store, string job, CancellationToken cancellationToken = default)
    {
        string prefix = CheckpointLayout.RolledBackPrefix(job);
        var folders = new Dictionary<string, (SortedSet<long> Steps, long Bytes, bool Noted)>(StringComparer.Ordinal);
        await foreach (BlobProperties blob in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            int slash = blob.Key.IndexOf('/', prefix.Length);
            if (slash < 0) continue;
            string folder = blob.Key[..(slash + 1)], rest = blob.Key[(slash + 1)..];
            if (!folders.TryGetValue(folder, out var f)) folders[folder] = f = ([], 0, false);
            if (rest == NoteName)
            {
                folders[folder] = f with { Noted = true };
            }
            else if (CheckpointLayout.TryParse(job, CheckpointLayout.CheckpointsPrefix(job) + rest, out long step, out _))
            {
                f.Steps.Add(step);
                folders[folder] = f with { Bytes = f.Bytes + blob.Size };
            }
        }

        var listed = new List<RolledBackCheckpoints>();
        // By stamp: a second rollback within the same second ("STAMP-2/") sorts before "STAMP/" as keys.
        foreach ((string folder, var f) in folders.OrderBy(f => f.Key.TrimEnd('/'), StringComparer.Ordinal))
        {
            string? note = null;
            if (f.Noted)
            {
                await using BlobDownload? download = await store.OpenReadAsync(folder + NoteName, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (download is not null)
                {
                    using var reader = new StreamReader(download.Content);
                    note = (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false))?.Trim();
                }
            }

            listed.Add(new RolledBackCheckpoints(folder, [.. f.Steps], f.Bytes, note));
        }

        return listed;
    }

    /// <summary><c>JOB/rolled-back/STAMP/</c> with nothing in it yet (a second rollback within the same second gets a suffix).</summary>
    private static async Task<string> FreeFolderAsync(IBlobStore store, string job, DateTimeOffset now, CancellationToken cancellationToken)
    {
        string stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        for (int n = 1; ; n++)
        {
            string folder = $"{CheckpointLayout.RolledBackPrefix(job)}{stamp}{(n == 1 ? "" : $"-{n}")}/";
            await using IAsyncEnumerator<BlobProperties> any = store.ListAsync(folder, cancellationToken).GetAsyncEnumerator(cancellationToken);
            if (!await any.MoveNextAsync().ConfigureAwait(false)) return folder;
        }
    }
}

/// <summary>
/// What a rollback would do: move <c>latest</c> from <paramref name="FromStep"/> back to <paramref name="Target"/>, and the
/// <paramref name="Moving"/> folders above it up to <c>latest</c> aside (committed checkpoints, and any interrupted save
/// among them); only while <c>latest</c> still carries <paramref name="LatestETag"/>, read when planning.
/// </summary>
public sealed record CheckpointRollbackPlan(string Job, long FromStep, string LatestETag, CheckpointManifest Target, IReadOnlyList<CheckpointFolder> Moving);

/// <summary>A rollback done: <c>latest</c> names <paramref name="Step"/>; <paramref name="Kept"/> are under <paramref name="Folder"/>.</summary>
public sealed record CheckpointRollbackResult(long Step, string Folder, IReadOnlyList<long> Kept);

/// <summary>
/// One rollback's kept checkpoints in <paramref name="Folder"/> (<c>JOB/rolled-back/STAMP/</c>), and its
/// <paramref name="Note"/>'s first line (when, from and to which step, why); no note: an interrupted rollback's copy.
/// </summary>
public sealed record RolledBackCheckpoints(string Folder, IReadOnlyList<long> Steps, long Bytes, string? Note);

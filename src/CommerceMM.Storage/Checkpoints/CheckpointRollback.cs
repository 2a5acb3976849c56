using System.Globalization;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>
/// An operator's rollback of a job to an earlier committed checkpoint (its loss diverged, a bad batch went in): <c>latest</c>
/// moves back to that step, so every restore picks it, and the checkpoints above it leave the checkpoints folder for
/// <c>JOB/rolled-back/STAMP/</c>, kept as they were. They must leave it: the training that resumes saves those steps
/// again, into the same folders.
/// </summary>
/// <remarks>
/// Crash-safe in this order. The copies come first (a crash leaves <c>latest</c> as it was, and a copy without its record).
/// Then <c>latest</c> moves, only under the ETag read when planning: a commit in between makes the rollback fail having
/// changed nothing that counts. Then the originals go, manifest first: a crash there leaves manifests above
/// <c>latest</c>, which restore ignores and the coordinator's start-up recovery aborts (<see cref="CheckpointRecovery"/>).
/// The caller holds the job's owner claim, so no coordinator commits meanwhile.
/// </remarks>
public static class CheckpointRollback
{
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
    /// Verifies the target's every file, copies the checkpoints above it to <c>JOB/rolled-back/STAMP/</c>, points
    /// <c>latest</c> at the target (training resumed there first skips the data of <paramref name="skipSteps"/> steps) and
    /// deletes the originals. <paramref name="progress"/> hears of the bytes verified ("verify") and copied ("copy").
    /// </summary>
    /// <exception cref="CheckpointException">The target does not verify, or <c>latest</c> changed since the plan: <c>latest</c> and the checkpoints are as they were.</exception>
    public static async Task<CheckpointRollbackResult> RunAsync(
        IBlobStore store, CheckpointRollbackPlan plan, string reason, long skipSteps, TimeProvider time, IProgress<(string Stage, long Bytes, long Total)>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skipSteps);
        string? problem = await VerifyAsync(store, plan.Target, progress, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            throw new CheckpointException($"step {plan.Target.Step} does not verify ({problem}): nothing was changed. Roll back to a step that verifies (`cmm checkpoints list`)");
        }

        DateTimeOffset now = time.GetUtcNow();
        string folder = await FreeFolderAsync(store, plan.Job, now, cancellationToken).ConfigureAwait(false);
        string checkpoints = CheckpointLayout.CheckpointsPrefix(plan.Job);
        Action<long> copied = Counter(progress, "copy", plan.Moving.Sum(m => m.Bytes));
        foreach (CheckpointFolder moving in plan.Moving)
        {
            await CopyAsync(store, plan.Job, CheckpointLayout.StepFolder(plan.Job, moving.Step), checkpoints, folder, copied, cancellationToken).ConfigureAwait(false);
        }

        var record = new RollbackRecord(now, plan.FromStep, plan.Target.Step, skipSteps, reason, [.. plan.Moving.Select(m => m.Step)]);
        await store.PutAsync(folder + RollbackRecord.FileName, new MemoryStream(record.ToJsonBytes()), cancellationToken: cancellationToken).ConfigureAwait(false);

        if (!await CheckpointCommitter.SetLatestAsync(store, plan.Target, plan.LatestETag, skipSteps, cancellationToken).ConfigureAwait(false))
        {
            await CheckpointRetention.DeletePrefixAsync(store, folder, cancellationToken).ConfigureAwait(false); // copies of what stays where it was
            throw new CheckpointException(
                $"'{CheckpointLayout.LatestKey(plan.Job)}' changed while rolling back (a checkpoint committed: is the job running?): nothing was rolled back");
        }

        foreach (CheckpointFolder moving in plan.Moving)
        {
            await CheckpointRetention.DeleteStepAsync(store, plan.Job, moving.Step, cancellationToken).ConfigureAwait(false);
        }

        return new CheckpointRollbackResult(plan.Target.Step, folder, record.Steps);
    }

    /// <summary>
    /// Undoes the newest rollback while nothing has been committed since (<c>latest</c> still names the step it went back
    /// to): its kept checkpoints return to the checkpoints folder, <c>latest</c> names the step it named before (without a
    /// skip of data), and the kept folder goes.
    /// </summary>
    /// <exception cref="CheckpointException">
    /// No rollback is kept, a checkpoint was committed since, or the step it undoes to does not verify: <c>latest</c> and the
    /// kept checkpoints are as they were.
    /// </exception>
    public static async Task<(RollbackRecord Record, string Folder)> UndoAsync(
        IBlobStore store, string job, IProgress<(string Stage, long Bytes, long Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        var latest = await CheckpointRecovery.ReadLatestWithETagOrThrowAsync(store, job, cancellationToken).ConfigureAwait(false);
        RolledBackCheckpoints kept = (await ListAsync(store, job, cancellationToken).ConfigureAwait(false)).LastOrDefault(k => k.Record is not null)
            ?? throw new CheckpointException($"job '{job}' has no rollback to undo");
        RollbackRecord record = kept.Record!;
        if (latest is not { } current || current.Pointer.Step != record.ToStep)
        {
            throw new CheckpointException(
                $"the newest rollback ({record}) cannot be undone: latest names {(latest is { } l ? $"step {l.Pointer.Step}" : "nothing")}, not step {record.ToStep}, " +
                $"so checkpoints were committed since. Its checkpoints stay under {kept.Folder}");
        }

        // Nothing was committed since the rollback, so whatever lies above its step is an uncommitted leftover of training
        // after it (an interrupted save): the kept checkpoints replace it whole.
        string checkpoints = CheckpointLayout.CheckpointsPrefix(job);
        Action<long> copied = Counter(progress, "copy", kept.Bytes);
        foreach (long step in record.Steps)
        {
            await CheckpointRetention.DeleteStepAsync(store, job, step, cancellationToken).ConfigureAwait(false);
            await CopyAsync(store, job, $"{kept.Folder}{CheckpointLayout.StepFolder(job, step)[checkpoints.Length..]}", kept.Folder, checkpoints, copied, cancellationToken).ConfigureAwait(false);
        }

        CheckpointManifest back = await CheckpointCatalog.ReadManifestAsync(store, job, record.FromStep, cancellationToken).ConfigureAwait(false)
            ?? throw new CheckpointException($"the kept checkpoint at step {record.FromStep} has no {CheckpointLayout.ManifestName} under {kept.Folder}: nothing was undone");
        if (await VerifyAsync(store, back, progress, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            throw new CheckpointException($"the kept checkpoint at step {record.FromStep} does not verify ({problem}): nothing was undone; latest still names step {record.ToStep}");
        }

        if (!await CheckpointCommitter.SetLatestAsync(store, back, current.ETag, skipSteps: 0, cancellationToken).ConfigureAwait(false))
        {
            throw new CheckpointException($"'{CheckpointLayout.LatestKey(job)}' changed while undoing the rollback (a checkpoint committed: is the job running?): nothing was undone");
        }

        await CheckpointRetention.DeletePrefixAsync(store, kept.Folder, cancellationToken).ConfigureAwait(false);
        return (record, kept.Folder);
    }

    private static async Task<string?> VerifyAsync(IBlobStore store, CheckpointManifest manifest, IProgress<(string, long, long)>? progress, CancellationToken cancellationToken) =>
        (await CheckpointVerifier.VerifyAndKeepAsync(store, manifest, _ => false, Counter(progress, "verify", manifest.TotalBytes), cancellationToken).ConfigureAwait(false)).Problem;

    /// <summary>Adds up the bytes handed to it (from any thread) and reports the sum under <paramref name="stage"/>.</summary>
    private static Action<long> Counter(IProgress<(string, long, long)>? progress, string stage, long total)
    {
        long done = 0;
        progress?.Report((stage, 0, total));
        return bytes => progress?.Report((stage, Interlocked.Add(ref done, bytes), total));
    }

    /// <summary>Copies every blob under <paramref name="prefix"/> from below <paramref name="from"/> to below <paramref name="to"/>.</summary>
    private static async Task CopyAsync(IBlobStore store, string job, string prefix, string from, string to, Action<long> bytesCopied, CancellationToken cancellationToken)
    {
        string checkpoints = CheckpointLayout.CheckpointsPrefix(job);
        await foreach (BlobProperties blob in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            await using BlobDownload download = await store.OpenReadAsync(blob.Key, cancellationToken: cancellationToken).ConfigureAwait(false)
                ?? throw new CheckpointException($"'{blob.Key}' vanished while copying it: is the job running? latest was not changed");
            string relative = blob.Key[from.Length..];
            await store.PutAsync(to + relative, download.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (CheckpointLayout.TryParse(job, checkpoints + relative, out _, out string path) && path is not (CheckpointLayout.ManifestName or CheckpointLayout.SetAsideName))
            {
                bytesCopied(blob.Size); // the bytes CheckpointFolder counts
            }
        }
    }

    /// <summary>Every earlier rollback's kept checkpoints, oldest first.</summary>
    public static async Task<IReadOnlyList<RolledBackCheckpoints>> ListAsync(IBlobStore store, string job, CancellationToken cancellationToken = default)
    {
        string prefix = CheckpointLayout.RolledBackPrefix(job);
        var folders = new Dictionary<string, (SortedSet<long> Steps, long Bytes, bool Recorded)>(StringComparer.Ordinal);
        await foreach (BlobProperties blob in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            int slash = blob.Key.IndexOf('/', prefix.Length);
            if (slash < 0) continue;
            string folder = blob.Key[..(slash + 1)], rest = blob.Key[(slash + 1)..];
            if (!folders.TryGetValue(folder, out var f)) folders[folder] = f = ([], 0, false);
            if (rest == RollbackRecord.FileName)
            {
                folders[folder] = f with { Recorded = true };
            }
            else if (CheckpointLayout.TryParse(job, CheckpointLayout.CheckpointsPrefix(job) + rest, out long step, out string path))
            {
                f.Steps.Add(step);
                if (path is not (CheckpointLayout.ManifestName or CheckpointLayout.SetAsideName)) folders[folder] = f with { Bytes = f.Bytes + blob.Size };
            }
        }

        var listed = new List<RolledBackCheckpoints>();
        // By stamp: a second rollback within the same second ("STAMP-2/") sorts before "STAMP/" as keys.
        foreach ((string folder, var f) in folders.OrderBy(f => f.Key.TrimEnd('/'), StringComparer.Ordinal))
        {
            RollbackRecord? record = null;
            if (f.Recorded)
            {
                await using BlobDownload? download = await store.OpenReadAsync(folder + RollbackRecord.FileName, cancellationToken: cancellationToken).ConfigureAwait(false);
                using var bytes = new MemoryStream();
                if (download is not null) await download.Content.CopyToAsync(bytes, cancellationToken).ConfigureAwait(false);
                record = RollbackRecord.TryParse(bytes.ToArray());
            }

            listed.Add(new RolledBackCheckpoints(folder, [.. f.Steps], f.Bytes, record));
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
/// One rollback's kept checkpoints in <paramref name="Folder"/> (<c>JOB/rolled-back/STAMP/</c>), with its
/// <paramref name="Record"/>; none (or unreadable): an interrupted rollback's copy.
/// </summary>
public sealed record RolledBackCheckpoints(string Folder, IReadOnlyList<long> Steps, long Bytes, RollbackRecord? Record);

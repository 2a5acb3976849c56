using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Cli.Inspection;

internal enum CheckpointState
{
    /// <summary>A manifest that reads and belongs here, at or below latest; files not checked.</summary>
    Committed,

    /// <summary>Committed, and every file matches its size and SHA-256.</summary>
    Verified,

    /// <summary>Restore would pass it over; <see cref="CheckpointStatus.Reason"/> says why.</summary>
    Broken,
}

/// <summary>One step folder of a job and what restore would make of it.</summary>
internal sealed record CheckpointStatus(CheckpointFolder Folder, CheckpointManifest? Manifest, CheckpointState State, string? Reason, bool IsLatest,
                                        IReadOnlyList<CheckpointFileCheck>? Files = null)
{
    public long Step => Folder.Step;

    public string Describe() => (State switch
    {
        CheckpointState.Verified => "verified",
        CheckpointState.Committed => "committed (files not checked)",
        _ => $"broken: {Reason}",
    }) + (IsLatest ? " [latest]" : "");
}

/// <summary>Every step folder of a job, oldest first, with the step <c>latest</c> names (and the steps of data a rollback skips after it).</summary>
internal sealed record JobCheckpoints(string Job, long? LatestStep, string? LatestProblem, IReadOnlyList<CheckpointStatus> Checkpoints, long LatestSkipSteps = 0)
{
    /// <summary>What a restore picks (CheckpointCatalog's rule): the newest verified checkpoint at or below latest.</summary>
    public CheckpointStatus? RestorePick => Checkpoints.Where(c => c.State == CheckpointState.Verified && (LatestStep is null || c.Step <= LatestStep)).MaxBy(c => c.Step);
}

/// <summary>
/// Classifies a job's checkpoints the way restore does (CheckpointCatalog.FindNewestVerifiedAsync), but for all of them
/// and with every reason kept: no manifest (an interrupted save), an unreadable or foreign manifest, a newer format, a
/// folder beyond <c>latest</c> (its commit never completed), and with <c>verify</c> every file's size and SHA-256.
/// </summary>
internal static class CheckpointStates
{
    public static async Task<JobCheckpoints> ReadAsync(IBlobStore store, string job, bool verify, IProgress<(string Stage, long Done, long Total)>? progress,
                                                      CancellationToken cancellationToken)
    {
        var folders = await CheckpointCatalog.ListAsync(store, job, cancellationToken).ConfigureAwait(false);
        LatestPointer? pointer = null;
        string? latestProblem = null;
        try
        {
            pointer = (await CheckpointCommitter.ReadLatestAsync(store, job, cancellationToken).ConfigureAwait(false))?.Pointer;
        }
        catch (CheckpointException e)
        {
            // Restore then treats every committed folder as a candidate; say so rather than fail the listing.
            latestProblem = e.Message;
        }

        long? latest = pointer?.Step;
        var statuses = new List<CheckpointStatus>();
        JobCheckpoints Result() => new(job, latest, latestProblem, statuses, pointer?.SkipSteps ?? 0);
        foreach (var folder in folders)
            statuses.Add(await ClassifyAsync(store, job, folder, latest, cancellationToken).ConfigureAwait(false));
        if (!verify) return Result();

        var toCheck = statuses.Where(s => s.State == CheckpointState.Committed).ToList();
        long total = toCheck.Sum(s => s.Manifest!.TotalBytes), done = 0;
        if (toCheck.Count == 0) return Result();
        progress?.Report(("verify", 0, total >> 10));
        for (int i = 0; i < statuses.Count; i++)
        {
            if (statuses[i].State != CheckpointState.Committed) continue;
            var files = await CheckpointFileChecks.RunAsync(store, statuses[i].Manifest!,
                bytes => progress?.Report(("verify", Interlocked.Add(ref done, bytes) >> 10, total >> 10)), cancellationToken).ConfigureAwait(false);
            statuses[i] = WithChecks(statuses[i], files);
        }
        return Result();
    }

    /// <summary>The status once its files are checked: verified, or broken naming the first broken file (and how many more there are).</summary>
    public static CheckpointStatus WithChecks(CheckpointStatus status, IReadOnlyList<CheckpointFileCheck> files)
    {
        var broken = files.Where(f => f.Problem is not null).ToList();
        return broken.Count == 0
            ? status with { State = CheckpointState.Verified, Files = files }
            : status with { State = CheckpointState.Broken, Reason = broken[0].Problem + (broken.Count > 1 ? $" (and {broken.Count - 1} more broken files)" : ""), Files = files };
    }

    private static async Task<CheckpointStatus> ClassifyAsync(IBlobStore store, string job, CheckpointFolder folder, long? latest, CancellationToken cancellationToken)
    {
        bool isLatest = folder.Step == latest;
        CheckpointStatus Broken(string reason, CheckpointManifest? manifest = null) => new(folder, manifest, CheckpointState.Broken, reason, isLatest);

        if (!folder.HasManifest)
            return Broken(folder.SetAside
                ? await CheckpointCatalog.ReadSetAsideAsync(store, job, folder.Step, cancellationToken).ConfigureAwait(false) ?? $"no {CheckpointLayout.ManifestName}: set aside by the coordinator"
                : $"no {CheckpointLayout.ManifestName}: an interrupted save, never committed");
        CheckpointManifest? manifest;
        try
        {
            manifest = await CheckpointCatalog.ReadManifestAsync(store, job, folder.Step, cancellationToken).ConfigureAwait(false);
            manifest?.Validate();
        }
        catch (Exception e) when (e is CheckpointException or ArgumentException)
        {
            return Broken(e.Message);
        }
        if (manifest is null) return Broken($"{CheckpointLayout.ManifestName} disappeared while listing");
        if (manifest.FormatVersion > CheckpointManifest.CurrentFormatVersion)
            return Broken($"format version {manifest.FormatVersion}; this build reads up to {CheckpointManifest.CurrentFormatVersion}", manifest);
        if (manifest.Job != job || manifest.Step != folder.Step)
            return Broken($"holds the manifest of job '{manifest.Job}' step {manifest.Step}", manifest);
        if (latest is { } l && folder.Step > l)
            return Broken($"newer than latest (step {l}): its commit never completed", manifest);
        return new CheckpointStatus(folder, manifest, CheckpointState.Committed, null, isLatest);
    }
}

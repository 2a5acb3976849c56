using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>Reads what checkpoints a job has, and picks the one to restore.</summary>
public static class CheckpointCatalog
{
    /// <summary>Every step folder of <paramref name="job"/>, ascending by step, whether committed or not.</summary>
    public static async Task<IReadOnlyList<CheckpointFolder>> ListAsync(IBlobStore store, string job, CancellationToken cancellationToken = default)
    {
        var folders = new SortedDictionary<long, (bool Manifest, bool SetAside, int Files, long Bytes)>();
        await foreach (BlobProperties blob in store.ListAsync(CheckpointLayout.CheckpointsPrefix(job), cancellationToken).ConfigureAwait(false))
        {
            if (!CheckpointLayout.TryParse(job, blob.Key, out long step, out string path))
            {
                continue; // 'latest', or something that is not ours
            }

            folders.TryGetValue(step, out var f);
            folders[step] = path switch
            {
                CheckpointLayout.ManifestName => f with { Manifest = true },
                CheckpointLayout.SetAsideName => f with { SetAside = true },
                _ => f with { Files = f.Files + 1, Bytes = f.Bytes + blob.Size },
            };
        }

        return folders.Select(kv => new CheckpointFolder(kv.Key, kv.Value.Manifest, kv.Value.Files, kv.Value.Bytes, kv.Value.SetAside)).ToList();
    }

    /// <summary>The manifest of one step; null when the step has none (never committed).</summary>
    /// <exception cref="CheckpointException">The manifest exists but is not readable JSON.</exception>
    /// <remarks>A manifest that fails the store's own integrity check (Azure: MD5) is a <see cref="CheckpointException"/> too.</remarks>
    public static async Task<CheckpointManifest?> ReadManifestAsync(IBlobStore store, string job, long step, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        try
        {
            await using BlobDownload? download = await store.OpenReadAsync(CheckpointLayout.ManifestKey(job, step), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (download is null)
            {
                return null;
            }

            await download.Content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStoreException e) when (e.IsCorruptContent)
        {
            throw new CheckpointException($"{CheckpointLayout.ManifestName} is corrupt: {e.Message}", e);
        }

        return CheckpointManifest.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>Why the coordinator set <paramref name="step"/> aside (<see cref="CheckpointLayout.SetAsideName"/>); null when it did not.</summary>
    public static async Task<string?> ReadSetAsideAsync(IBlobStore store, string job, long step, CancellationToken cancellationToken = default)
    {
        await using BlobDownload? download = await store.OpenReadAsync(CheckpointLayout.SetAsideKey(job, step), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (download is null) return null;
        using var reader = new StreamReader(download.Content);
        return (await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false)).Trim();
    }

    /// <summary>One file of a committed checkpoint, read whole and checked against the manifest's size and SHA-256.</summary>
    /// <exception cref="CheckpointException">The manifest lists no such file, or it is missing, or its bytes are not the ones listed.</exception>
    public static async Task<byte[]> ReadFileAsync(IBlobStore store, CheckpointManifest manifest, string path, CancellationToken cancellationToken = default)
    {
        CheckpointFileEntry entry = manifest.Files.FirstOrDefault(f => f.Path == path)
            ?? throw new CheckpointException($"checkpoint step-{manifest.Step} lists no file '{path}' (it lists: {string.Join(", ", manifest.Files.Select(f => f.Path))})");
        (string? problem, byte[]? bytes) = await CheckpointVerifier.ReadFileAsync(store, manifest, entry, keep: true, cancellationToken).ConfigureAwait(false);
        return bytes ?? throw new CheckpointException($"checkpoint step-{manifest.Step} {problem}");
    }

    /// <summary>
    /// The newest checkpoint that is committed (at or below <c>latest</c>) and whose every file verifies; older ones are
    /// tried in turn, and each one passed over is reported with the reason (missing manifest; file, expected and actual).
    /// </summary>
    /// <param name="store">Where the job's checkpoints are.</param>
    /// <param name="job">The job.</param>
    /// <param name="configHash">This run's config hash; null to accept any.</param>
    /// <param name="keep">
    /// Which files of the chosen checkpoint to hand back in <see cref="RestoreSelection.Files"/>, given its manifest and
    /// a file's path: they are kept as they are verified, so a restore reads each file once. Null: none.
    /// </param>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <exception cref="CheckpointException">
    /// A manifest belongs to another job, was written by a newer format, or (with <paramref name="configHash"/>) by an
    /// incompatible configuration: restoring something else silently would be worse than stopping.
    /// </exception>
    public static async Task<RestoreSelection> FindNewestVerifiedAsync(
        IBlobStore store, string job, string? configHash = null, Func<CheckpointManifest, string, bool>? keep = null, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<CheckpointFolder> folders = await ListAsync(store, job, cancellationToken).ConfigureAwait(false);
        LatestPointer? pointer = await ReadLatestAsync(store, job, cancellationToken).ConfigureAwait(false);
        long? latest = pointer?.Step;
        var skipped = new List<SkippedCheckpoint>();
        foreach (CheckpointFolder folder in folders.Reverse())
        {
            long step = folder.Step;
            if (folder.SetAside && !folder.HasManifest)
            {
                skipped.Add(new(step, $"step-{step} was set aside: it failed verification after its commit ({CheckpointLayout.SetAsideName} says why)"));
                continue;
            }

            if (latest is { } l && step > l)
            {
                skipped.Add(new(step, $"step-{step} is newer than latest (step {l}): its commit never completed"));
                continue;
            }

            CheckpointManifest? manifest;
            try
            {
                manifest = await ReadManifestAsync(store, job, step, cancellationToken).ConfigureAwait(false);
            }
            catch (CheckpointException e)
            {
                skipped.Add(new(step, $"step-{step}: {e.Message}"));
                continue;
            }

            if (manifest is null)
            {
                skipped.Add(new(step, $"step-{step} has no {CheckpointLayout.ManifestName}: an interrupted save, never committed"));
                continue;
            }

            CheckCompatible(manifest, job, step, configHash);
            CheckpointVerification verification = await CheckpointVerifier.VerifyAndKeepAsync(
                store, manifest, path => keep?.Invoke(manifest, path) ?? false, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (verification.Problem is not null)
            {
                skipped.Add(new(step, $"step-{step} is corrupt: {verification.Problem}"));
                continue;
            }

            return new RestoreSelection(manifest, skipped, verification.Files, step == latest ? pointer!.SkipSteps : 0);
        }

        return new RestoreSelection(null, skipped, new Dictionary<string, byte[]>());
    }

    /// <summary>The step <c>latest</c> names; null when absent or unreadable (then every committed folder is a candidate).</summary>
    internal static async Task<long?> ReadLatestStepAsync(IBlobStore store, string job, CancellationToken cancellationToken) =>
        (await ReadLatestAsync(store, job, cancellationToken).ConfigureAwait(false))?.Step;

    private static async Task<LatestPointer?> ReadLatestAsync(IBlobStore store, string job, CancellationToken cancellationToken)
    {
        try
        {
            return (await CheckpointCommitter.ReadLatestAsync(store, job, cancellationToken).ConfigureAwait(false))?.Pointer;
        }
        catch (CheckpointException)
        {
            return null;
        }
    }

    private static void CheckCompatible(CheckpointManifest manifest, string job, long step, string? configHash)
    {
        if (manifest.FormatVersion > CheckpointManifest.CurrentFormatVersion)
        {
            throw new CheckpointException($"Checkpoint step-{step} of job '{job}' has format version {manifest.FormatVersion}; this build reads up to {CheckpointManifest.CurrentFormatVersion}.");
        }

        if (manifest.Job != job || manifest.Step != step)
        {
            throw new CheckpointException($"Checkpoint folder step-{step} of job '{job}' holds the manifest of job '{manifest.Job}' step {manifest.Step}: refusing to restore it.");
        }

        if (configHash is not null && manifest.ConfigHash != configHash)
        {
            throw new CheckpointException($"Checkpoint step-{step} of job '{job}' was written with config hash {manifest.ConfigHash}, but this run's config hash is {configHash}: the configuration is incompatible.");
        }
    }
}

/// <summary>One step folder as listed: whether it has a manifest, its other files and their bytes.</summary>
/// <param name="Step">The step of <c>step-N/</c>.</param>
/// <param name="HasManifest">A manifest exists (committed, unless above <c>latest</c>).</param>
/// <param name="FileCount">Files besides the manifest and the set-aside note.</param>
/// <param name="Bytes">Their bytes.</param>
/// <param name="SetAside">The folder holds <see cref="CheckpointLayout.SetAsideName"/>: the coordinator once set this step aside.</param>
public sealed record CheckpointFolder(long Step, bool HasManifest, int FileCount, long Bytes, bool SetAside = false);

/// <summary>
/// The checkpoint to restore (null: none usable, start fresh), every newer one passed over, with why, the verified
/// bytes of the files the caller asked to keep, by path, and the steps of data to skip after it
/// (<see cref="LatestPointer.SkipSteps"/>, when it is the checkpoint <c>latest</c> names).
/// </summary>
public sealed record RestoreSelection(CheckpointManifest? Checkpoint, IReadOnlyList<SkippedCheckpoint> Skipped, IReadOnlyDictionary<string, byte[]> Files, long SkipSteps = 0)
{
    /// <summary>The verified bytes of a kept file of the chosen checkpoint.</summary>
    /// <exception cref="CheckpointException">The checkpoint lists no such file (a checkpoint of another kind, or a hand-edited one).</exception>
    public byte[] File(string path) => CheckpointVerification.Kept(Files, Checkpoint ?? throw new InvalidOperationException("No checkpoint was chosen."), path);
}

public sealed record SkippedCheckpoint(long Step, string Reason);

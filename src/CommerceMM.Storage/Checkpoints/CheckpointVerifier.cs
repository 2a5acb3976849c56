using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>Checks that every file a manifest lists is present with the recorded size and SHA-256.</summary>
public static class CheckpointVerifier
{
    /// <summary>Files checked at once: reading is I/O-bound, hashing one file is one core.</summary>
    private const int Parallelism = 4;

    /// <summary>
    /// Reads every file once. Returns null when all match; otherwise the problem with the earliest file in manifest
    /// order, e.g. <c>file 'model.safetensors': SHA-256 expected 3f… but found 9a…</c>.
    /// </summary>
    public static async Task<string?> VerifyAsync(IBlobStore store, CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        var problems = new string?[manifest.Files.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, manifest.Files.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (i, ct) => problems[i] = await VerifyFileAsync(store, manifest, manifest.Files[i], ct).ConfigureAwait(false)).ConfigureAwait(false);
        return problems.FirstOrDefault(p => p is not null);
    }

    private static async Task<string?> VerifyFileAsync(IBlobStore store, CheckpointManifest manifest, CheckpointFileEntry file, CancellationToken cancellationToken)
    {
        try
        {
            return await VerifyFileContentAsync(store, manifest, file, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStoreException e) when (e.IsCorruptContent)
        {
            // The SHA-256 (checked by the store as the bytes stream) or the store's own check failed: the bytes are never used.
            return $"file '{file.Path}': {e.Message}";
        }
    }

    private static async Task<string?> VerifyFileContentAsync(IBlobStore store, CheckpointManifest manifest, CheckpointFileEntry file, CancellationToken cancellationToken)
    {
        string key = CheckpointLayout.FileKey(manifest.Job, manifest.Step, file.Path);
        await using BlobDownload? download = await store.OpenReadAsync(key, expectedSha256: file.Sha256, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (download is null)
        {
            return $"file '{file.Path}' is missing (expected {file.Size} bytes)";
        }

        if (download.Properties.Size != file.Size)
        {
            return $"file '{file.Path}': size expected {file.Size} bytes but found {download.Properties.Size}";
        }

        await download.Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        return null;
    }
}

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
    public static async Task<string?> VerifyAsync(IBlobStore store, CheckpointManifest manifest, CancellationToken cancellationToken = default) =>
        (await VerifyAndKeepAsync(store, manifest, _ => false, cancellationToken: cancellationToken).ConfigureAwait(false)).Problem;

    /// <summary>
    /// <see cref="VerifyAsync"/>, keeping the bytes of the files <paramref name="keep"/> selects by path: a restore reads
    /// each file once, and the bytes it loads are the bytes that were verified. <paramref name="verified"/>, if given, is
    /// called with each file's size once it is checked (from several threads).
    /// </summary>
    public static async Task<CheckpointVerification> VerifyAndKeepAsync(
        IBlobStore store, CheckpointManifest manifest, Func<string, bool> keep, Action<long>? verified = null, CancellationToken cancellationToken = default)
    {
        var results = new (string? Problem, byte[]? Bytes)[manifest.Files.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, manifest.Files.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                results[i] = await ReadFileAsync(store, manifest, manifest.Files[i], keep(manifest.Files[i].Path), ct).ConfigureAwait(false);
                verified?.Invoke(manifest.Files[i].Size);
            }).ConfigureAwait(false);
        string? problem = results.Select(r => r.Problem).FirstOrDefault(p => p is not null);
        var kept = problem is not null
            ? new Dictionary<string, byte[]>()
            : manifest.Files.Zip(results).Where(f => f.Second.Bytes is not null).ToDictionary(f => f.First.Path, f => f.Second.Bytes!, StringComparer.Ordinal);
        return new CheckpointVerification(problem, kept);
    }

    /// <summary>
    /// One file, read whole and checked against its entry's size and SHA-256 (the store checks the digest as the bytes
    /// stream). Returns the problem, or the bytes when <paramref name="keep"/> is set.
    /// </summary>
    internal static async Task<(string? Problem, byte[]? Bytes)> ReadFileAsync(
        IBlobStore store, CheckpointManifest manifest, CheckpointFileEntry file, bool keep, CancellationToken cancellationToken)
    {
        string key = CheckpointLayout.FileKey(manifest.Job, manifest.Step, file.Path);
        try
        {
            await using BlobDownload? download = await store.OpenReadAsync(key, expectedSha256: file.Sha256, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (download is null)
            {
                return ($"file '{file.Path}' is missing (expected {file.Size} bytes)", null);
            }

            if (download.Properties.Size != file.Size)
            {
                return ($"file '{file.Path}': size expected {file.Size} bytes but found {download.Properties.Size}", null);
            }

            byte[]? bytes = keep ? new byte[file.Size] : null;
            if (bytes is not null)
            {
                await download.Content.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            }

            await download.Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false); // to the end, where the digest is checked
            return (null, bytes);
        }
        catch (BlobStoreException e) when (e.IsCorruptContent)
        {
            // The SHA-256 or the store's own check failed: the read ended with this error instead of a clean end, and its bytes are dropped.
            return ($"file '{file.Path}': {e.Message}", null);
        }
    }
}

/// <summary>What <see cref="CheckpointVerifier.VerifyAndKeepAsync"/> found: the first problem (null: every file matches), and the kept files' bytes by path (none when there is a problem).</summary>
public sealed record CheckpointVerification(string? Problem, IReadOnlyDictionary<string, byte[]> Files)
{
    /// <summary>The verified bytes of a kept file of <paramref name="manifest"/>.</summary>
    /// <exception cref="CheckpointException">The manifest lists no such file (a checkpoint of another kind, or a hand-edited one).</exception>
    public byte[] File(CheckpointManifest manifest, string path) => Kept(Files, manifest, path);

    internal static byte[] Kept(IReadOnlyDictionary<string, byte[]> files, CheckpointManifest manifest, string path) =>
        files.TryGetValue(path, out byte[]? bytes) ? bytes
        : manifest.Files.Any(f => f.Path == path) ? throw new InvalidOperationException($"'{path}' was verified but not kept: ask for it with keep.")
        : throw new CheckpointException($"checkpoint step-{manifest.Step} lists no file '{path}' (it lists: {string.Join(", ", manifest.Files.Select(f => f.Path))})");
}

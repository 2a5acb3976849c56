using System.Security.Cryptography;
using CommerceMM.Data.Format;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Cli.DataSets;

/// <summary>What a push or pull did.</summary>
/// <param name="UpToDate">the destination already held this data set: nothing was copied</param>
/// <param name="Removed">files of the data set a push replaced that the new one does not have, deleted</param>
/// <param name="Reused">files a pull cut short had already fetched whole, not fetched again</param>
internal sealed record TransferResult(DatasetManifest Manifest, bool UpToDate, int Files, long Bytes, TimeSpan Elapsed, int Removed = 0, int Reused = 0);

/// <summary>
/// Copies a finished data set between a local folder and a blob store (`cmm data push`, `cmm data pull`), so that pods
/// that share no disk can each fetch the one built once. Both ways dataset.json goes last, as a builder writes it: a
/// copy cut short is never taken for a data set. Every file is checked against the SHA-256 dataset.json gives it, on the
/// way out (a corrupt data set is not spread to every worker) and on the way in. Copying a data set that is already
/// there is a no-op, so an init container can pull on every start.
/// </summary>
internal static class DataSetTransfer
{
    public static async Task<TransferResult> PushAsync(string directory, IBlobStore store, string prefix, IProgress<(string Stage, long Done, long Total)>? progress,
                                                       CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var manifest = DatasetManifest.Read(directory);
        byte[] manifestBytes = await File.ReadAllBytesAsync(Path.Combine(directory, DatasetManifest.FileName), cancellationToken).ConfigureAwait(false);
        var files = manifest.Files().ToList();
        long total = files.Sum(f => f.Bytes);

        var remote = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var blob in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false)) remote[blob.Key[prefix.Length..]] = blob.Size;
        byte[]? previous = remote.ContainsKey(DatasetManifest.FileName)
            ? await ReadAsync(store, prefix + DatasetManifest.FileName, cancellationToken).ConfigureAwait(false) : null;
        if (previous is not null && previous.AsSpan().SequenceEqual(manifestBytes) && HasAll(files, remote.GetValueOrDefault))
            return new TransferResult(manifest, UpToDate: true, files.Count, total, clock.Elapsed);

        long done = 0;
        foreach (var file in files)
        {
            await VerifyAsync(directory, file, cancellationToken).ConfigureAwait(false);
            progress?.Report(("verify", done += file.Bytes, total));
        }
        // From here until the new dataset.json lands, the destination is no data set: a pull refuses it rather than mixing two.
        await store.DeleteAsync(prefix + DatasetManifest.FileName, cancellationToken).ConfigureAwait(false);
        done = 0;
        foreach (var file in files)
        {
            await using (var content = File.OpenRead(Path.Combine(directory, file.File)))
                Check(await store.PutAsync(prefix + file.File, content, cancellationToken: cancellationToken).ConfigureAwait(false), file.File);
            progress?.Report(("upload", done += file.Bytes, total));
        }
        Check(await store.PutAsync(prefix + DatasetManifest.FileName, new MemoryStream(manifestBytes), cancellationToken: cancellationToken).ConfigureAwait(false), DatasetManifest.FileName);

        // The files of the data set this one replaced that it does not reuse (more shards, other names); nothing else under
        // the path is touched.
        var kept = files.Select(f => f.File).ToHashSet(StringComparer.Ordinal);
        var replaced = previous is null ? [] : ParseOrNull(previous)?.Files().Select(f => f.File) ?? [];
        int removed = 0;
        foreach (string stale in replaced.Where(f => !kept.Contains(f)).Distinct(StringComparer.Ordinal))
            if (await store.DeleteAsync(prefix + stale, cancellationToken).ConfigureAwait(false)) removed++;
        return new TransferResult(manifest, UpToDate: false, files.Count, total, clock.Elapsed, removed);
    }

    /// <param name="source">azure:CONTAINER/PATH as the user wrote it, for messages</param>
    public static async Task<TransferResult> PullAsync(IBlobStore store, string prefix, string source, string directory,
                                                       IProgress<(string Stage, long Done, long Total)>? progress, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        byte[] manifestBytes = await ReadAsync(store, prefix + DatasetManifest.FileName, cancellationToken).ConfigureAwait(false)
            ?? throw new DatasetException($"{source} holds no {DatasetManifest.FileName}: no data set was pushed there, or its push did not finish (cmm data push DIR {source})");
        var manifest = DatasetManifest.Parse(manifestBytes, $"{source}/{DatasetManifest.FileName}");
        var files = manifest.Files().ToList();
        long total = files.Sum(f => f.Bytes);
        string local = Path.Combine(directory, DatasetManifest.FileName);
        if (File.Exists(local) && (await File.ReadAllBytesAsync(local, cancellationToken).ConfigureAwait(false)).AsSpan().SequenceEqual(manifestBytes)
            && HasAll(files, f => File.Exists(Path.Combine(directory, f)) ? new FileInfo(Path.Combine(directory, f)).Length : -1))
            return new TransferResult(manifest, UpToDate: true, files.Count, total, clock.Elapsed);

        Directory.CreateDirectory(directory);
        File.Delete(local);   // the folder is "unfinished" until the new one is written
        long done = 0;
        int reused = 0;
        foreach (var file in files)
        {
            string path = Path.Combine(directory, file.File), part = path + ".part";
            // A pull cut short goes on where it stopped: a file already here whole and intact is not fetched again.
            if (File.Exists(path) && new FileInfo(path).Length == file.Bytes && await Sha256Async(path, cancellationToken).ConfigureAwait(false) == file.Sha256.ToLowerInvariant())
            {
                reused++;
                progress?.Report(("download", done += file.Bytes, total));
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            try
            {
                await using var download = await store.OpenReadAsync(prefix + file.File, expectedSha256: file.Sha256, cancellationToken: cancellationToken).ConfigureAwait(false)
                    ?? throw new DatasetException($"'{file.File}' is missing from {source}, though its {DatasetManifest.FileName} lists it: push the data set again");
                await using var output = File.Create(part);
                await download.Content.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                File.Delete(part);   // what failed its check (or was cut off) is not kept
                throw;
            }
            long bytes = new FileInfo(part).Length;
            if (bytes != file.Bytes)
            {
                File.Delete(part);
                throw new ShardCorruptException($"'{file.File}' in {source} has {bytes:N0} bytes; {DatasetManifest.FileName} says {file.Bytes:N0}: push the data set again");
            }
            File.Move(part, path, overwrite: true);
            progress?.Report(("download", done += file.Bytes, total));
        }
        await File.WriteAllBytesAsync(local + ".tmp", manifestBytes, cancellationToken).ConfigureAwait(false);
        File.Move(local + ".tmp", local, overwrite: true);
        return new TransferResult(manifest, UpToDate: false, files.Count, total, clock.Elapsed, Reused: reused);
    }

    /// <summary>A dataset.json already at the destination, or null when it is not one this build reads (then nothing of it is deleted).</summary>
    private static DatasetManifest? ParseOrNull(byte[] json)
    {
        try { return DatasetManifest.Parse(json, DatasetManifest.FileName); }
        catch (DatasetException) { return null; }
    }

    private static bool HasAll(IEnumerable<FileRef> files, Func<string, long> size) => files.All(f => size(f.File) == f.Bytes);

    private static async Task<byte[]?> ReadAsync(IBlobStore store, string key, CancellationToken cancellationToken)
    {
        await using var download = await store.OpenReadAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (download is null) return null;
        using var buffer = new MemoryStream();
        await download.Content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <exception cref="ShardCorruptException">The file is missing, or its size or SHA-256 is not what dataset.json says.</exception>
    private static async Task VerifyAsync(string directory, FileRef file, CancellationToken cancellationToken)
    {
        string path = Path.Combine(directory, file.File);
        string fix = $"rebuild the data set, or see `cmm data inspect {directory}`";
        if (!File.Exists(path)) throw new ShardCorruptException($"'{file.File}' is missing from {directory}: {fix}");
        long bytes = new FileInfo(path).Length;
        if (bytes != file.Bytes) throw new ShardCorruptException($"'{file.File}' in {directory} has {bytes:N0} bytes; {DatasetManifest.FileName} says {file.Bytes:N0}: {fix}");
        if (await Sha256Async(path, cancellationToken).ConfigureAwait(false) != file.Sha256.ToLowerInvariant())
            throw new ShardCorruptException($"'{file.File}' in {directory} failed its SHA-256 check: {fix}");
    }

    private static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var content = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken).ConfigureAwait(false));
    }

    private static void Check(BlobWriteResult result, string file)
    {
        if (!result.Succeeded) throw new BlobStoreException($"uploading '{file}' did not succeed ({result.Status})");
    }
}

using System.Collections.Concurrent;
using CommerceMM.Data.Format;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Worker.DataSets;

/// <summary>
/// A data set in blob storage, read through a local cache folder as MosaicML Streaming reads remote shards. Opening it
/// brings dataset.json and the tokenizer up to date; each shard and index is fetched when a loader first needs it, or
/// ahead of that in the order the loader reads (<see cref="Prefetch"/>), checked on its way in against the SHA-256 that
/// dataset.json lists, and kept, so a worker started again fetches only what it lacks.
/// </summary>
/// <remarks>
/// Workers on one machine share the folder: one process at a time fetches a file (a lock per file under
/// <see cref="LocksFolder"/>), the others then find it there. A file is written under a name of its own and renamed once
/// whole and checked, so a fetch cut short leaves nothing that passes for a shard. dataset.json goes last, as a builder writes it.
/// </remarks>
public sealed class RemoteDataSet : IRemoteFiles, IDisposable
{
    /// <summary>Where the locks that let one process of a machine at a time fetch a file live, in the cache folder.</summary>
    public const string LocksFolder = ".fetching";

    private static readonly TimeSpan LockPoll = TimeSpan.FromMilliseconds(100);

    private readonly IBlobStore _store;
    private readonly string _prefix;
    private readonly ConcurrentDictionary<string, Lazy<Task>> _fetches = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _prefetches = [];

    private RemoteDataSet(IBlobStore store, string prefix, string source, string folder)
    {
        _store = store;
        _prefix = prefix;
        Source = source;
        Folder = folder;
    }

    /// <summary>azure:CONTAINER/PATH, for messages.</summary>
    public string Source { get; }

    /// <summary>The local cache folder that readers open as the data set.</summary>
    public string Folder { get; }

    /// <summary>Files fetched from the store by this process (not those the cache already held).</summary>
    public int Fetched => Volatile.Read(ref _fetched);
    private int _fetched;

    /// <summary>Bytes that every remote data set of this process has fetched (the worker's cmm_data_fetched_bytes_total).</summary>
    public static long ProcessFetchedBytes => Interlocked.Read(ref _processFetchedBytes);
    private static long _processFetchedBytes;

    /// <summary>Reads dataset.json and the tokenizer into <paramref name="folder"/>, and registers it (<see cref="RemoteFolders"/>).</summary>
    /// <param name="prefix">the key prefix of the data set's files ("PATH/")</param>
    /// <param name="source">azure:CONTAINER/PATH as the user wrote it</param>
    /// <exception cref="DatasetException">No data set was pushed there, its tokenizer is not what its dataset.json lists, or the store refused (a setting to fix: the container, the credential).</exception>
    /// <exception cref="DataSourceException">The store could not be reached, or failed in a way another try may pass.</exception>
    public static async Task<RemoteDataSet> OpenAsync(IBlobStore store, string prefix, string source, string folder, CancellationToken cancellationToken)
    {
        byte[] manifestBytes = await ReadManifestAsync(store, prefix, source, cancellationToken).ConfigureAwait(false)
            ?? throw new DatasetException($"{source} holds no {DatasetManifest.FileName}: no data set was pushed there, or its push did not finish (cmm data push DIR {source})");
        var manifest = DatasetManifest.Parse(manifestBytes, $"{source}/{DatasetManifest.FileName}");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, RemoteFolders.SourceFile), source, cancellationToken).ConfigureAwait(false);
        var remote = new RemoteDataSet(store, prefix, source, folder);
        var tokenizer = manifest.Tokenizer;
        await remote.FetchAsync(new FileRef(tokenizer.File, tokenizer.Bytes, tokenizer.Sha256)).ConfigureAwait(false);
        string local = Path.Combine(folder, DatasetManifest.FileName);
        if (!File.Exists(local) || !File.ReadAllBytes(local).AsSpan().SequenceEqual(manifestBytes))
        {
            string part = PartName(local);
            await File.WriteAllBytesAsync(part, manifestBytes, cancellationToken).ConfigureAwait(false);
            File.Move(part, local, overwrite: true);
        }
        RemoteFolders.Register(folder, remote);
        return remote;
    }

    public void Fetch(FileRef file) => FetchAsync(file).GetAwaiter().GetResult();

    public void Prefetch(IReadOnlyList<FileRef> files)
    {
        lock (_prefetches)
        {
            _prefetches.RemoveAll(t => t.IsCompleted);
            if (!_stop.IsCancellationRequested) _prefetches.Add(Task.Run(() => PrefetchAsync(files)));
        }
    }

    private async Task PrefetchAsync(IReadOnlyList<FileRef> files)
    {
        foreach (var file in files)
        {
            if (_stop.IsCancellationRequested) return;
            // A failure is not this loop's to report: the reader that needs the file fetches it again and fails with it.
            try { await FetchAsync(file).ConfigureAwait(false); }
            catch (Exception) { return; }
        }
    }

    /// <summary>Unregisters the folder and stops prefetching, waiting for a fetch under way to be cut off and cleaned up.</summary>
    public void Dispose()
    {
        RemoteFolders.Unregister(Folder, this);
        Task[] running;
        lock (_prefetches)
        {
            _stop.Cancel();
            running = [.. _prefetches];
        }
        Task.WaitAll(running);   // each ends by itself, never faulted
    }

    /// <summary>One fetch per file at a time, shared by every reader that needs it; a failed one is tried again by the next.</summary>
    private async Task FetchAsync(FileRef file)
    {
        var fetch = _fetches.GetOrAdd(file.File, _ => new Lazy<Task>(() => FetchOnceAsync(file)));
        try
        {
            await fetch.Value.ConfigureAwait(false);
        }
        catch
        {
            _fetches.TryRemove(KeyValuePair.Create(file.File, fetch));
            throw;
        }
    }

    private async Task FetchOnceAsync(FileRef file)
    {
        string path = Path.Combine(Folder, file.File);
        if (IsWhole(path, file)) return;   // kept from an earlier start
        // The other workers of this machine share the folder: one fetches a file while the rest wait for it.
        using var fetching = await FileLock.TakeAsync(Path.Combine(Folder, LocksFolder, file.File + ".lock"), LockPoll, waiting: null, _stop.Token).ConfigureAwait(false);
        if (IsWhole(path, file)) return;   // fetched by another process while this one waited
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string part = PartName(path);
        try
        {
            await using (var download = await _store.OpenReadAsync(_prefix + file.File, expectedSha256: file.Sha256, cancellationToken: _stop.Token).ConfigureAwait(false)
                ?? throw new DatasetException($"'{file.File}' is missing from {Source}, though its {DatasetManifest.FileName} lists it: push the data set again (cmm data push DIR {Source})"))
            await using (var output = File.Create(part))
                await download.Content.CopyToAsync(output, _stop.Token).ConfigureAwait(false);
            long bytes = new FileInfo(part).Length;
            if (bytes != file.Bytes)
                throw new ShardCorruptException($"'{file.File}' in {Source} has {bytes:N0} bytes; its {DatasetManifest.FileName} says {file.Bytes:N0}: push the data set again (cmm data push DIR {Source})");
            File.Move(part, path, overwrite: true);
            Interlocked.Increment(ref _fetched);
            Interlocked.Add(ref _processFetchedBytes, bytes);
        }
        catch (BlobStoreException e) when (e.IsCorruptContent)
        {
            throw new ShardCorruptException($"'{file.File}' in {Source} is not what its {DatasetManifest.FileName} lists ({e.Message}): push the data set again (cmm data push DIR {Source})");
        }
        catch (BlobStoreException e)
        {
            throw Unreadable(Source, $"fetching '{file.File}': {e.Message}", e);
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            throw new DatasetException($"the disk of the cache folder {Folder} is full: fetching '{file.File}' ({file.Bytes:N0} bytes) from {Source} failed ({e.Message}); " +
                                       "set data.cache_dir to a disk with room for the streams training reads, or free space on this one");
        }
        finally
        {
            File.Delete(part);
        }
    }

    /// <summary>ENOSPC as .NET reports it on Linux (the errno), or ERROR_DISK_FULL on Windows.</summary>
    private static bool IsDiskFull(IOException e) => e.HResult is 28 or unchecked((int)0x80070070);

    private static bool IsWhole(string path, FileRef file) =>
        File.Exists(path) && new FileInfo(path).Length == file.Bytes && string.Equals(Sha256File.Of(path), file.Sha256, StringComparison.OrdinalIgnoreCase);

    private static async Task<byte[]?> ReadManifestAsync(IBlobStore store, string prefix, string source, CancellationToken cancellationToken)
    {
        try
        {
            await using var download = await store.OpenReadAsync(prefix + DatasetManifest.FileName, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (download is null) return null;
            using var buffer = new MemoryStream();
            await download.Content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
        catch (BlobStoreException e)
        {
            throw Unreadable(source, e.Message, e);
        }
    }

    /// <summary>A store's failure: worth another start when it may pass (network, throttling); a setting to fix when not (a missing container, a refused credential).</summary>
    private static Exception Unreadable(string source, string problem, BlobStoreException e) =>
        e.IsTransient ? new DataSourceException($"{source}: {problem}", e) : new DatasetException($"{source}: {problem}");

    private static string PartName(string path) => $"{path}.{Environment.ProcessId}-{Guid.NewGuid():N}.part";
}

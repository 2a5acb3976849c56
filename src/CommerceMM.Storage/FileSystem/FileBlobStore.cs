using System.Runtime.CompilerServices;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.FileSystem;

/// <summary>
/// The embedded blob store: blob <c>a/b/c</c> is the plain file <c>ROOT/a/b/c</c>, so tensor files stay readable by
/// other tools; ETags, locks and temp files live under <c>ROOT/.cmm-store/</c>.
/// </summary>
/// <remarks>
/// A write streams into a temp file on the same file system, fsyncs it, and only then (holding the key's lock, checking
/// the condition) renames it over the key and fsyncs the directory: a reader or a crash sees the old version or the new
/// one, never a torn file. Files are never modified in place, so a reader streams an opened version without holding
/// any lock. Safe for many threads and many processes on one root (Linux <c>flock</c>); not for network file systems
/// whose <c>flock</c> is not shared between hosts.
/// </remarks>
public sealed class FileBlobStore : IBlobStore
{
    private const int CopyBufferSize = 1 << 20;

    /// <summary>Absolute root folder; every key resolves strictly inside it.</summary>
    private readonly string _root;

    /// <summary>Sidecar ETag files, mirroring the key tree.</summary>
    private readonly string _etagRoot;

    /// <summary>Temp files for writes in progress (same file system as the data, so rename is atomic).</summary>
    private readonly string _tempRoot;

    private readonly StripedFileLock _locks;

    public FileBlobStore(string root, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("FileBlobStore needs Linux flock and directory fsync.");
        }

        _root = Path.GetFullPath(root);
        string internals = Path.Combine(_root, BlobKey.ReservedSegment);
        _etagRoot = Path.Combine(internals, "etags");
        _tempRoot = Path.Combine(internals, "tmp");
        Directory.CreateDirectory(_etagRoot);
        Directory.CreateDirectory(_tempRoot);
        _locks = new StripedFileLock(Path.Combine(internals, "locks"), timeProvider ?? TimeProvider.System);
    }

    /// <summary>The absolute root folder.</summary>
    public string Root => _root;

    public override string ToString() => $"file://{_root}";

    public async Task<BlobWriteResult> PutAsync(string key, Stream content, BlobCondition condition = default, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        ArgumentNullException.ThrowIfNull(content);
        string temp = NewTempPath();
        try
        {
            // Stream and fsync outside the lock: a large upload must not block other writers of the stripe.
            long size;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, CopyBufferSize, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
                size = file.Length;
            }

            using (await _locks.AcquireAsync(key, cancellationToken).ConfigureAwait(false))
            {
                string dataPath = DataPath(key);
                string? current = CurrentETag(key, dataPath);
                bool allowed = condition.Kind switch
                {
                    BlobConditionKind.IfNoneMatchAny => current is null,
                    BlobConditionKind.IfMatch => current is not null && string.Equals(current, condition.ETag, StringComparison.Ordinal),
                    _ => true,
                };
                if (!allowed)
                {
                    return BlobWriteResult.ConditionNotMet;
                }

                string etag = ETagSidecar.NewETag();
                MoveCreatingDirectory(temp, dataPath);
                long ticks = File.GetLastWriteTimeUtc(dataPath).Ticks;
                ETagSidecar.Write(SidecarPath(key), NewTempPath(), etag, size, ticks);
                Posix.FsyncDirectory(Path.GetDirectoryName(dataPath)!);
                Posix.FsyncDirectory(Path.GetDirectoryName(SidecarPath(key))!);
                return BlobWriteResult.Written(etag);
            }
        }
        finally
        {
            // After a successful rename the temp name no longer exists; otherwise this removes the abandoned copy.
            TryDeleteFile(temp);
        }
    }

    public async Task<BlobDownload?> OpenReadAsync(string key, BlobRange? range = null, string? expectedSha256 = null, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        ContentDigest? expected = ContentDigest.Sha256(expectedSha256, range);
        FileStream? stream = null;
        BlobProperties properties;
        using (await _locks.AcquireAsync(key, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                // Delete is shared so a concurrent delete or rename never fails because we are reading.
                stream = new FileStream(DataPath(key), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, CopyBufferSize, FileOptions.Asynchronous);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }

            DateTime modified = File.GetLastWriteTimeUtc(stream.SafeFileHandle);
            long size = stream.Length;
            properties = new BlobProperties(key, size, ETagSidecar.Resolve(SidecarPath(key), size, modified.Ticks), new DateTimeOffset(modified));
        }

        if (range is null)
        {
            return new BlobDownload(
                expected is null ? stream : new CheckedReadStream(stream, "The file store", properties.Size, expected, map: null, (actual, _) => ValueTask.FromResult<Exception>(OtherBytes(key, expected, actual))),
                properties);
        }

        (long start, long count) = range.Value.Clip(properties.Size);
        stream.Seek(start, SeekOrigin.Begin);
        return new BlobDownload(new BoundedReadStream(stream, count), properties);
    }

    public async Task<BlobProperties?> GetPropertiesAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        using (await _locks.AcquireAsync(key, cancellationToken).ConfigureAwait(false))
        {
            return ReadProperties(key);
        }
    }

    public async IAsyncEnumerable<BlobProperties> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BlobKey.ValidatePrefix(prefix);
        int slash = prefix.LastIndexOf('/');
        string folder = slash < 0 ? _root : Path.Combine(_root, prefix[..slash]);
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        var keys = new List<string>();
        foreach (string file in EnumerateDataFiles(folder))
        {
            string key = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal) && BlobKey.IsValid(key))
            {
                keys.Add(key);
            }
        }

        keys.Sort(StringComparer.Ordinal);
        foreach (string key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            BlobProperties? properties = await GetPropertiesAsync(key, cancellationToken).ConfigureAwait(false);
            if (properties is not null)
            {
                yield return properties; // a blob deleted since the directory scan is simply not listed
            }
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        using (await _locks.AcquireAsync(key, cancellationToken).ConfigureAwait(false))
        {
            string dataPath = DataPath(key);
            if (!File.Exists(dataPath))
            {
                return false;
            }

            File.Delete(dataPath);
            TryDeleteFile(SidecarPath(key));
            Posix.FsyncDirectory(Path.GetDirectoryName(dataPath)!);
            PruneEmptyFolders(Path.GetDirectoryName(dataPath)!, _root);
            PruneEmptyFolders(Path.GetDirectoryName(SidecarPath(key))!, _etagRoot);
            return true;
        }
    }

    /// <summary>Renames <paramref name="source"/> over <paramref name="target"/>, creating the target's folder (again, if a concurrent delete pruned it).</summary>
    internal static void MoveCreatingDirectory(string source, string target)
    {
        for (int attempt = 0; ; attempt++)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            try
            {
                File.Move(source, target, overwrite: true);
                return;
            }
            catch (DirectoryNotFoundException) when (attempt < 10)
            {
                // A delete of the folder's last blob pruned it between CreateDirectory and Move: create it again.
            }
        }
    }

    /// <summary>Every file under <paramref name="folder"/>, not descending into the store's own folder at the root.</summary>
    private IEnumerable<string> EnumerateDataFiles(string folder)
    {
        if (folder != _root)
        {
            return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories);
        }

        string internals = Path.Combine(_root, BlobKey.ReservedSegment);
        return Directory.EnumerateFiles(_root).Concat(
            Directory.EnumerateDirectories(_root)
                .Where(d => d != internals)
                .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories)));
    }

    private BlobProperties? ReadProperties(string key)
    {
        var info = new FileInfo(DataPath(key));
        if (!info.Exists)
        {
            return null;
        }

        DateTime modified = info.LastWriteTimeUtc;
        return new BlobProperties(key, info.Length, ETagSidecar.Resolve(SidecarPath(key), info.Length, modified.Ticks), new DateTimeOffset(modified));
    }

    private string? CurrentETag(string key, string dataPath)
    {
        var info = new FileInfo(dataPath);
        return info.Exists ? ETagSidecar.Resolve(SidecarPath(key), info.Length, info.LastWriteTimeUtc.Ticks) : null;
    }

    // BlobKey.Validate has already ruled out '..', absolute paths and odd characters, so these stay under the root.
    private string DataPath(string key) => Path.Combine(_root, key);

    private BlobStoreException OtherBytes(string key, ContentDigest expected, byte[] actual) => new(
        $"{expected.Name} expected {expected.Hex} but found {Convert.ToHexStringLower(actual)}: blob '{key}' in {this} holds other bytes than the reader expects. They were not used.",
        errorCode: BlobStoreException.CorruptContentErrorCode);

    private string SidecarPath(string key) => Path.Combine(_etagRoot, key);

    private string NewTempPath() => Path.Combine(_tempRoot, Guid.NewGuid().ToString("N"));

    /// <summary>Removes now-empty folders from <paramref name="folder"/> up to (not including) <paramref name="stop"/>; best effort.</summary>
    private static void PruneEmptyFolders(string folder, string stop)
    {
        while (folder.Length > stop.Length && folder.StartsWith(stop, StringComparison.Ordinal))
        {
            try
            {
                Directory.Delete(folder, recursive: false); // fails (and stops) when the folder is not empty
            }
            catch (IOException)
            {
                return;
            }

            folder = Path.GetDirectoryName(folder)!;
        }
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}

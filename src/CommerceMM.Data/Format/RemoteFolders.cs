using System.Collections.Concurrent;

namespace CommerceMM.Data.Format;

/// <summary>
/// Where the files of a data set folder come from when they are not there yet. A data set in blob storage is read
/// through a local cache folder holding its dataset.json and tokenizer, which fills with shards as readers first need
/// them: training starts without copying the data set first.
/// </summary>
public interface IRemoteFiles
{
    /// <summary>Makes <paramref name="file"/> present in the cache folder, whole and matching its SHA-256; waits for it.</summary>
    /// <exception cref="DatasetException">The source lacks it, or (<see cref="ShardCorruptException"/>) holds other bytes.</exception>
    void Fetch(FileRef file);

    /// <summary>Starts fetching <paramref name="files"/> in the background, in this order: what a loader reads next.</summary>
    void Prefetch(IReadOnlyList<FileRef> files);
}

/// <summary>The cache folders of this process's remote data sets, by full path: a shard missing from one is fetched through it.</summary>
public static class RemoteFolders
{
    /// <summary>In a cache folder: the remote data set it is the cache of (azure:CONTAINER/PATH), for messages about it.</summary>
    public const string SourceFile = ".remote-source";

    private static readonly ConcurrentDictionary<string, IRemoteFiles> ByFolder = new(StringComparer.Ordinal);

    /// <summary>The remote data set whose cache <paramref name="folder"/> is (<see cref="SourceFile"/>), or null.</summary>
    public static string? SourceOf(string folder)
    {
        string path = Path.Combine(folder, SourceFile);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    public static void Register(string folder, IRemoteFiles files) => ByFolder[Path.GetFullPath(folder)] = files;

    /// <summary>Forgets <paramref name="folder"/>, if <paramref name="files"/> is still what it is registered with.</summary>
    public static void Unregister(string folder, IRemoteFiles files) => ByFolder.TryRemove(KeyValuePair.Create(Path.GetFullPath(folder), files));

    /// <summary>The remote files behind <paramref name="folder"/>, or null for an ordinary data set folder.</summary>
    public static IRemoteFiles? For(string folder) => ByFolder.GetValueOrDefault(Path.GetFullPath(folder));
}

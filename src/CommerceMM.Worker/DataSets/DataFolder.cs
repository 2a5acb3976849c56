using System.Collections.Concurrent;
using CommerceMM.Storage.Azure;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Worker.DataSets;

/// <summary>
/// The local folder that data.dir's data set is read from: the folder itself, or for azure:CONTAINER/PATH the cache
/// folder (data.cache_dir) of a <see cref="RemoteDataSet"/>, opened once per process and shared by its readers.
/// </summary>
public static class DataFolder
{
    private static readonly ConcurrentDictionary<(string Dir, string Cache), Lazy<RemoteDataSet>> Opened = new();

    public static bool IsRemote(DataSection data) => AzureFolder.IsAzure(data.Dir);

    /// <summary>The folder to read; for a remote data set, once its dataset.json and tokenizer are current there.</summary>
    /// <exception cref="SpecException">data.dir is not azure:CONTAINER/PATH, the Azure settings are incomplete, or data.cache_dir cannot be written.</exception>
    /// <exception cref="Data.Format.DatasetException">No data set was pushed there.</exception>
    /// <exception cref="Data.Format.DataSourceException">The store could not be read.</exception>
    public static string Of(DataSection data) => IsRemote(data) ? Remote(data).Folder : data.Dir;

    /// <summary>The remote data set of data.dir, opened on first use in this process.</summary>
    public static RemoteDataSet Remote(DataSection data)
    {
        var key = (data.Dir, Path.GetFullPath(CacheOf(data)));
        var opened = Opened.GetOrAdd(key, k => new Lazy<RemoteDataSet>(() => Open(k.Dir, k.Cache)));
        try
        {
            return opened.Value;
        }
        catch
        {
            Opened.TryRemove(KeyValuePair.Create(key, opened));   // the next use tries again
            throw;
        }
    }

    /// <summary>data.cache_dir, or by default a folder per data set under the system's temporary folder.</summary>
    public static string CacheOf(DataSection data)
    {
        if (data.CacheDir is { Length: > 0 } chosen) return chosen;
        var parts = data.Dir[AzureFolder.Scheme.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p is not ("." or ".."));
        return Path.Combine([Path.GetTempPath(), "cmm-data", .. parts]);
    }

    private static RemoteDataSet Open(string dir, string cache)
    {
        (AzureBlobStore Store, string Prefix) location;
        try
        {
            location = AzureFolder.Open(dir);
        }
        catch (ArgumentException e)
        {
            throw new SpecException("data.dir", e.Message, e);
        }
        try
        {
            // Checked here, where the setting can be named: a folder that cannot take files would fail each first read of a shard.
            Directory.CreateDirectory(cache);
            string probe = Path.Combine(cache, $".write-check-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpecException("data.cache_dir", $"'{cache}' cannot hold the files of {dir}: {e.Message}; name a folder this process may write", e);
        }
        return RemoteDataSet.OpenAsync(location.Store, location.Prefix, dir, cache, CancellationToken.None).GetAwaiter().GetResult();
    }
}

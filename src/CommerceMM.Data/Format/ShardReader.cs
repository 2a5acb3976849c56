using System.Formats.Tar;
using Microsoft.Win32.SafeHandles;

namespace CommerceMM.Data.Format;

/// <summary>
/// Random access to one shard through its index. Reads are positional (no shared file cursor), so
/// one reader serves several threads at once.
/// </summary>
public sealed class ShardReader : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly ShardIndex _index;

    private ShardReader(string name, SafeFileHandle file, ShardIndex index)
    {
        Name = name;
        _file = file;
        _index = index;
    }

    /// <summary>The shard's path relative to the data set (what errors name).</summary>
    public string Name { get; }

    public int Count => _index.Count;

    /// <summary>Opens a shard, first checking sizes and SHA-256 of the shard and its index against the manifest.</summary>
    /// <exception cref="ShardCorruptException">A size or checksum differs; the message names the file, expected and actual.</exception>
    public static ShardReader Open(string root, ShardInfo info, bool verify = true)
    {
        string tarPath = Path.Combine(root, info.File);
        string indexPath = Path.Combine(root, info.Index.File);
        if (!File.Exists(tarPath)) throw new DatasetException($"shard '{info.File}' is missing from '{root}'; {MissingRemedy(root)}");
        if (!File.Exists(indexPath)) throw new DatasetException($"index '{info.Index.File}' is missing from '{root}'; {MissingRemedy(root)}");
        if (verify)
        {
            Verify(root, info.File, info.Bytes, info.Sha256);
            Verify(root, info.Index.File, info.Index.Bytes, info.Index.Sha256);
        }
        var index = ShardIndex.Read(indexPath, info.Bytes);
        if (index.Count != info.Samples)
            throw new ShardCorruptException($"shard '{info.File}': index holds {index.Count} samples, manifest says {info.Samples}");
        return new ShardReader(info.File, File.OpenHandle(tarPath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess), index);
    }

    /// <exception cref="BadRecordException">The sample's tar entries cannot be parsed.</exception>
    public ShardSample Read(int sample)
    {
        if ((uint)sample >= (uint)_index.Count)
            throw new ArgumentOutOfRangeException(nameof(sample), sample, $"shard '{Name}' holds {_index.Count} samples");
        var (offset, length) = _index[sample];
        var bytes = new byte[length];
        int read = RandomAccess.Read(_file, bytes, offset);
        if (read != length) throw new BadRecordException($"shard '{Name}': sample {sample} is truncated ({read} of {length} bytes)");
        return Parse(bytes, sample);
    }

    public void Dispose() => _file.Dispose();

    private ShardSample Parse(byte[] bytes, int sample)
    {
        string? key = null;
        var parts = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var tar = new TarReader(new MemoryStream(bytes, writable: false));
            while (tar.GetNextEntry(copyData: false) is { } entry)
            {
                int dot = entry.Name.IndexOf('.');
                if (dot <= 0) throw new BadRecordException($"shard '{Name}': entry '{entry.Name}' has no '.part' suffix");
                string entryKey = entry.Name[..dot];
                if (key is null) key = entryKey;
                else if (key != entryKey) throw new BadRecordException($"shard '{Name}': sample {sample} mixes keys '{key}' and '{entryKey}'");
                var data = new byte[entry.Length];
                entry.DataStream?.ReadExactly(data);
                parts[entry.Name[(dot + 1)..]] = data;
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException && e is not DatasetException)
        {
            throw new BadRecordException($"shard '{Name}': sample {sample} is not a valid tar record: {e.Message}");
        }
        if (key is null) throw new BadRecordException($"shard '{Name}': sample {sample} holds no entries");
        return new ShardSample(key, parts);
    }

    /// <summary>
    /// Every shard and index of <paramref name="manifest"/> is in <paramref name="root"/> with its recorded size: the
    /// cheap part of the checks <see cref="Open"/> makes, for a whole data set before a job starts on it.
    /// </summary>
    /// <exception cref="DatasetException">A file is missing, or (<see cref="ShardCorruptException"/>) has another size.</exception>
    public static void CheckSizes(string root, DatasetManifest manifest)
    {
        foreach (var shard in manifest.Streams.Values.SelectMany(s => s.Shards))
            foreach (var (file, bytes) in new[] { (shard.File, shard.Bytes), (shard.Index.File, shard.Index.Bytes) })
            {
                string path = Path.Combine(root, file);
                if (!File.Exists(path)) throw new DatasetException($"'{file}' is missing from '{root}'; {MissingRemedy(root)}");
                CheckSize(root, file, bytes);
            }
    }

    /// <summary>What to do about a damaged data set, for every message that finds one.</summary>
    internal const string Remedy = "rebuild it (cmm data build … --out DIR --overwrite) or restore the folder from a copy";

    /// <summary>What to do about a missing file: a remote data set's cache folder fills as it is read, it was never whole.</summary>
    private static string MissingRemedy(string root) =>
        RemoteFolders.SourceOf(root) is { } source
            ? $"the folder is the cache of {source}, which fills as it is read: train on data.dir={source}, or fetch the rest with `cmm data pull {source} --out {root}`"
            : Remedy;

    private static void CheckSize(string root, string name, long expectedBytes)
    {
        long actualBytes = new FileInfo(Path.Combine(root, name)).Length;
        if (actualBytes != expectedBytes)
            throw new ShardCorruptException($"'{name}' failed its size check: expected {expectedBytes} bytes, actual {actualBytes}; data set '{root}': {Remedy}");
    }

    private static void Verify(string root, string name, long expectedBytes, string expectedSha)
    {
        CheckSize(root, name, expectedBytes);
        string actualSha = Sha256File.Of(Path.Combine(root, name));
        if (!string.Equals(actualSha, expectedSha, StringComparison.OrdinalIgnoreCase))
            throw new ShardCorruptException($"'{name}' failed its SHA-256 check: expected {expectedSha}, actual {actualSha}; data set '{root}': {Remedy}");
    }
}

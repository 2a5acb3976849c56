using CommerceMM.Data.Format;

namespace CommerceMM.Data.Loading;

/// <summary>
/// A stream's shards behind one global sample numbering (shard base + index). Shards are opened,
/// and checksummed, on first use, so a corrupt shard fails at the first read that needs it. In the cache folder of a
/// remote data set (<see cref="RemoteFolders"/>) a shard is fetched then, checked on its way in.
/// </summary>
internal sealed class ShardSet : IDisposable
{
    private readonly string _root;
    private readonly IReadOnlyList<ShardInfo> _shards;
    private readonly bool _verify;
    private readonly int[] _bases;
    private readonly Lazy<ShardReader>[] _readers;
    private readonly IRemoteFiles? _remote;

    public ShardSet(string root, StreamInfo stream, bool verify)
    {
        _root = root;
        _shards = stream.Shards;
        _verify = verify;
        _bases = new int[_shards.Count];
        int total = 0;
        for (int i = 0; i < _shards.Count; i++)
        {
            _bases[i] = total;
            total = checked(total + (int)_shards[i].Samples);
        }
        if (total != stream.Samples) throw new DatasetException($"stream lists {stream.Samples} samples but its shards hold {total}");
        Count = total;
        _remote = RemoteFolders.For(root);
        _readers = _shards.Select(s => new Lazy<ShardReader>(() => Open(s), LazyThreadSafetyMode.ExecutionAndPublication)).ToArray();
    }

    private ShardReader Open(ShardInfo shard)
    {
        if (_remote is null) return ShardReader.Open(_root, shard, _verify);
        _remote.Fetch(shard.Index);
        _remote.Fetch(shard.Tar);
        return ShardReader.Open(_root, shard, verify: false);   // the fetch checked both files' SHA-256
    }

    /// <summary>
    /// For a remote data set, starts fetching the shards that hold <paramref name="globalIds"/>, in the order those samples
    /// come: the loader reads them next. Nothing for a local one.
    /// </summary>
    public void Prefetch(IEnumerable<int> globalIds)
    {
        if (_remote is null) return;
        var files = new List<FileRef>();
        var seen = new HashSet<int>();
        foreach (int id in globalIds)
        {
            int shard = ShardOf(id);
            if (!seen.Add(shard) || _readers[shard].IsValueCreated) continue;
            var info = _shards[shard];
            files.Add(info.Index);
            files.Add(info.Tar);
        }
        if (files.Count > 0) _remote.Prefetch(files);
    }

    public int Count { get; }

    public IReadOnlyList<int> ShardSamples => _shards.Select(s => (int)s.Samples).ToArray();

    public ShardSample Read(int globalId)
    {
        int shard = ShardOf(globalId);
        return _readers[shard].Value.Read(globalId - _bases[shard]);
    }

    private int ShardOf(int globalId)
    {
        int shard = Array.BinarySearch(_bases, globalId);
        if (shard < 0) shard = ~shard - 1;
        return shard;
    }

    public void Dispose()
    {
        foreach (var reader in _readers)
            if (reader.IsValueCreated) reader.Value.Dispose();
    }
}

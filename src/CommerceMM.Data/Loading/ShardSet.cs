using CommerceMM.Data.Format;

namespace CommerceMM.Data.Loading;

/// <summary>
/// A stream's shards behind one global sample numbering (shard base + index). Shards are opened,
/// and checksummed, on first use, so a corrupt shard fails at the first read that needs it.
/// </summary>
internal sealed class ShardSet : IDisposable
{
    private readonly string _root;
    private readonly IReadOnlyList<ShardInfo> _shards;
    private readonly bool _verify;
    private readonly int[] _bases;
    private readonly Lazy<ShardReader>[] _readers;

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
        _readers = _shards.Select(s => new Lazy<ShardReader>(() => ShardReader.Open(_root, s, _verify), LazyThreadSafetyMode.ExecutionAndPublication)).ToArray();
    }

    public int Count { get; }

    public IReadOnlyList<int> ShardSamples => _shards.Select(s => (int)s.Samples).ToArray();

    public ShardSample Read(int globalId)
    {
        int shard = Array.BinarySearch(_bases, globalId);
        if (shard < 0) shard = ~shard - 1;
        return _readers[shard].Value.Read(globalId - _bases[shard]);
    }

    public void Dispose()
    {
        foreach (var reader in _readers)
            if (reader.IsValueCreated) reader.Value.Dispose();
    }
}

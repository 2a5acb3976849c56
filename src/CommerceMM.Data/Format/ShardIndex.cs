using System.Buffers.Binary;

namespace CommerceMM.Data.Format;

/// <summary>
/// Random-access index of one shard: for sample i, the byte range of its tar entries.
/// File layout (little-endian): magic "CMMIDX01", int64 count, then count × (int64 offset, int64 length).
/// </summary>
public sealed class ShardIndex
{
    private static ReadOnlySpan<byte> Magic => "CMMIDX01"u8;
    private const int HeaderBytes = 16;
    private const int EntryBytes = 16;

    private readonly long[] _offsets;
    private readonly long[] _lengths;

    internal ShardIndex(long[] offsets, long[] lengths)
    {
        _offsets = offsets;
        _lengths = lengths;
    }

    public int Count => _offsets.Length;

    public (long Offset, long Length) this[int sample] => (_offsets[sample], _lengths[sample]);

    public void Write(string path)
    {
        var bytes = new byte[HeaderBytes + EntryBytes * Count];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), Count);
        for (int i = 0; i < Count; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(HeaderBytes + EntryBytes * i), _offsets[i]);
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(HeaderBytes + EntryBytes * i + 8), _lengths[i]);
        }
        File.WriteAllBytes(path, bytes);
    }

    /// <exception cref="DatasetException">The file is not an index or its ranges do not fit the shard.</exception>
    public static ShardIndex Read(string path, long shardBytes)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderBytes || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
            throw new DatasetException($"index '{path}' does not start with the CMMIDX01 header");
        long count = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8));
        if (count < 0 || bytes.Length != HeaderBytes + EntryBytes * count)
            throw new DatasetException($"index '{path}' claims {count} samples but holds {bytes.Length} bytes");
        var offsets = new long[count];
        var lengths = new long[count];
        for (int i = 0; i < count; i++)
        {
            offsets[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(HeaderBytes + EntryBytes * i));
            lengths[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(HeaderBytes + EntryBytes * i + 8));
            if (offsets[i] < 0 || lengths[i] <= 0 || offsets[i] + lengths[i] > shardBytes)
                throw new DatasetException($"index '{path}' entry {i} ({offsets[i]}+{lengths[i]}) lies outside the {shardBytes}-byte shard");
        }
        return new ShardIndex(offsets, lengths);
    }
}

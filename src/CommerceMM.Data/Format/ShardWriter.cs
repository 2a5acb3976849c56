using System.Formats.Tar;
using System.Globalization;

namespace CommerceMM.Data.Format;

/// <summary>
/// Writes one stream as numbered tar shards (<c>{stream}/shard-NNNNNN.tar</c>) plus an index per
/// shard, rolling to a new shard every <c>samplesPerShard</c> samples. Duplicate keys are refused.
/// </summary>
public sealed class ShardWriter : IDisposable
{
    private readonly string _root;
    private readonly string _stream;
    private readonly SampleSchema _schema;
    private readonly int _samplesPerShard;
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<ShardInfo> _shards = [];
    private readonly List<long> _offsets = [];
    private readonly List<long> _lengths = [];
    private FileStream? _file;
    private TarWriter? _tar;
    private bool _finished;

    /// <param name="root">The data set folder.</param>
    /// <param name="stream">The stream name; also the sub-folder holding its shards.</param>
    public ShardWriter(string root, string stream, SampleSchema schema, int samplesPerShard)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samplesPerShard);
        _root = root;
        _stream = stream;
        _schema = schema;
        _samplesPerShard = samplesPerShard;
        Directory.CreateDirectory(Path.Combine(root, stream));
    }

    public long Samples { get; private set; }

    /// <summary>Appends the sample; returns where each part's bytes now lie, for a builder that reads them back later.</summary>
    public IReadOnlyList<StoredPart> Add(ShardSample sample)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (!_keys.Add(sample.Key)) throw new DatasetException($"duplicate sample key '{sample.Key}' in stream '{_stream}'");
        if (_tar is null) Open();
        long start = _file!.Position;
        string shard = RelativeName(_shards.Count, "tar");
        var stored = new List<StoredPart>(sample.Parts.Count);
        // Sorted part names: the same sample always produces the same bytes.
        foreach (var (part, bytes) in sample.Parts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var entry = new UstarTarEntry(TarEntryType.RegularFile, $"{sample.Key}.{part}")
            {
                DataStream = new MemoryStream(bytes, writable: false),
                // Fixed metadata keeps shards byte-identical across builds (and so their SHA-256).
                ModificationTime = DateTimeOffset.UnixEpoch,
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            };
            _tar!.WriteEntry(entry);
            // An entry ends with its data padded to a whole block, whatever headers came before it.
            long dataStart = _file.Position - (bytes.Length + TarBlock - 1) / TarBlock * TarBlock;
            stored.Add(new StoredPart(part, bytes, shard, dataStart));
        }
        _offsets.Add(start);
        _lengths.Add(_file.Position - start);
        Samples++;
        if (_offsets.Count == _samplesPerShard) Close();
        return stored;
    }

    private const int TarBlock = 512;

    /// <summary>Closes the last shard and describes the stream (sizes and SHA-256 of every file).</summary>
    public StreamInfo Finish()
    {
        if (!_finished)
        {
            Close();
            _finished = true;
        }
        return new StreamInfo(_schema, Samples, _shards.ToArray());
    }

    public void Dispose()
    {
        _tar?.Dispose();
        _file?.Dispose();
        _finished = true;
    }

    private string RelativeName(int shard, string extension) =>
        $"{_stream}/shard-{shard.ToString("D6", CultureInfo.InvariantCulture)}.{extension}";

    private void Open()
    {
        string path = Path.Combine(_root, RelativeName(_shards.Count, "tar"));
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        _tar = new TarWriter(_file, TarEntryFormat.Ustar, leaveOpen: true);
    }

    private void Close()
    {
        if (_tar is null) return;
        _tar.Dispose(); // writes the two zero end-of-archive blocks
        _file!.Dispose();
        _tar = null;
        _file = null;
        int number = _shards.Count;
        string tarName = RelativeName(number, "tar");
        string indexName = RelativeName(number, "idx");
        new ShardIndex(_offsets.ToArray(), _lengths.ToArray()).Write(Path.Combine(_root, indexName));
        FileRef tar = Sha256File.Describe(_root, tarName);
        _shards.Add(new ShardInfo(tarName, _offsets.Count, tar.Bytes, tar.Sha256, Sha256File.Describe(_root, indexName)));
        _offsets.Clear();
        _lengths.Clear();
    }
}

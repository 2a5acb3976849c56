using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Data.Text;

namespace CommerceMM.Data.Scale;

/// <summary>
/// Reads consecutive samples of a SCALE stream, in stored order, into <see cref="ScaleBatch"/>es: for
/// evaluation, tests and smoke runs. Training reads through <see cref="DataLoader.Products"/>, which
/// shards, shuffles and resumes; both decode and collate alike (<see cref="ProductBatchFormat"/>).
/// </summary>
public sealed class ScaleBatchReader : IDisposable
{
    private readonly ShardSet _shards;
    private readonly SentencePieceTokenizer _tokenizer;
    private readonly ProductBatchFormat _format;
    private readonly string _stream;

    /// <param name="modalities">the modalities the consumer uses (null = all); products with none of them are skipped</param>
    /// <exception cref="DatasetException">Not a SCALE data set, or no such stream.</exception>
    public ScaleBatchReader(string directory, string stream, int textLength, int tableLength, IReadOnlyList<string>? modalities = null)
    {
        var options = new LoaderOptions { DatasetDirectory = directory, Stream = stream, TextLength = textLength, TableLength = tableLength, Modalities = modalities };
        options.Validate();
        Manifest = DatasetManifest.Read(directory);
        var info = Manifest.Stream(stream);
        if (info.Schema != SampleSchema.Product) throw new DatasetException($"stream '{stream}' holds {info.Schema} samples, not SCALE products");
        _stream = stream;
        _shards = new ShardSet(directory, info, verify: true);
        _tokenizer = SentencePieceTokenizer.Load(Path.Combine(directory, Manifest.Tokenizer.File));
        _format = new ProductBatchFormat(Manifest, _tokenizer, options);
    }

    public DatasetManifest Manifest { get; }
    public SentencePieceTokenizer Tokenizer => _tokenizer;
    public int Samples => _shards.Count;
    public int VideoFrames => ScaleShapes.VideoFrames(Manifest);
    public int Mels => ScaleShapes.Mels(Manifest);
    public int MaxAudioFrames => ScaleShapes.MaxAudioFrames(Manifest);

    /// <summary>Samples start .. start + count (wrapping around the stream); bad ones are left out and listed in <see cref="Batch.SkippedReasons"/>.</summary>
    public ScaleBatch Read(int start, int count)
    {
        var samples = new List<ShardSample>(count);
        var skipped = new List<SkipReason>();
        for (int i = 0; i < count; i++)
        {
            try { samples.Add(_shards.Read((start + i) % _shards.Count)); }
            catch (BadRecordException) { skipped.Add(SkipReason.UnreadableRecord); }
        }
        var after = new LoaderPosition
        {
            Stream = _stream, Seed = 0, CanonicalPartitions = 1, Samples = _shards.Count,
            Epoch = 0, Cursor = (start + count) % _shards.Count, Offset = 0, WorldSize = 1,
        };
        var batch = _format.Build(samples, skipped, epoch: 0, step: 0, after);
        batch.SkippedReasons = skipped;
        return batch;
    }

    public void Dispose()
    {
        _shards.Dispose();
        _tokenizer.Dispose();
    }
}

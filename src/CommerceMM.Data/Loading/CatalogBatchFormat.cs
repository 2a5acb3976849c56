using CommerceMM.Data.Format;
using CommerceMM.Data.Text;

namespace CommerceMM.Data.Loading;

/// <summary>CommerceMM's two streams: image-text pairs (pass 1) and omni source/target pairs (pass 2).</summary>
internal sealed class CatalogBatchFormat<TBatch> : IBatchFormat<TBatch> where TBatch : Batch
{
    private readonly SampleDecoder _decoder;
    private readonly Collator _collator;
    private readonly SampleSchema _schema;

    public CatalogBatchFormat(SampleSchema schema, DatasetManifest manifest, SentencePieceTokenizer tokenizer, LoaderOptions options)
    {
        _schema = schema;
        _decoder = new SampleDecoder(manifest.Image, tokenizer, options.TextLength, options.MaxTextBytes);
        _collator = new Collator(manifest.Image, options.TextLength, tokenizer.PadId);
    }

    public TBatch Build(IReadOnlyList<ShardSample> samples, List<SkipReason> skipped, long epoch, long step, LoaderPosition position)
    {
        var rows = new List<DecodedSample>(samples.Count);
        foreach (var sample in samples)
        {
            if (_decoder.Decode(sample, _schema, out var reason) is { } decoded) rows.Add(decoded);
            else skipped.Add(reason);
        }
        Batch batch = _schema == SampleSchema.Pair ? _collator.Pairs(rows, epoch, step, position) : _collator.Omni(rows, epoch, step, position);
        return (TBatch)batch;
    }
}

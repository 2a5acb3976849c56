using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Data.Text;

namespace CommerceMM.Data.Scale;

/// <summary>SCALE's product streams ("products", "eval_products") for the sharded loader and the in-order reader.</summary>
internal sealed class ProductBatchFormat(DatasetManifest manifest, SentencePieceTokenizer tokenizer, LoaderOptions options) : IBatchFormat<ScaleBatch>
{
    private readonly ProductDecoder _decoder = new(manifest, tokenizer, options);
    private readonly ProductCollator _collator = new(manifest, options.TextLength, options.TableLength, tokenizer.PadId);

    public ScaleBatch Build(IReadOnlyList<ShardSample> samples, List<SkipReason> skipped, long epoch, long step, LoaderPosition position)
    {
        var rows = new List<ProductRow>(samples.Count);
        foreach (var sample in samples)
        {
            if (_decoder.Decode(sample, out var reason) is { } row) rows.Add(row);
            else skipped.Add(reason);
        }
        return _collator.Collate(rows, epoch, step, position);
    }
}

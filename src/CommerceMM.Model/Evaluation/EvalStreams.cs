using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Evaluation;

/// <summary>
/// Reads a commerce data set's held-out streams into an <see cref="EvalSet"/>: the gallery from
/// "eval_pairs", queries and photos from "eval_omni" (listings are not a §7 task; a user's catalog may
/// have no queries or no photos, and then that retrieval is not evaluated), and probe training items
/// from the training stream "pairs".
/// </summary>
public static class EvalStreams
{
    /// <exception cref="DatasetException">A stream is missing, the gallery or probe stream is empty, or an eval source names no gallery product.</exception>
    public static async Task<EvalSet> ReadAsync(EvalStreamOptions options, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var gallery = await ReadProductsAsync(options, StreamNames.EvalPairs, int.MaxValue, cancellationToken).ConfigureAwait(false);
        var probe = await ReadProductsAsync(options, StreamNames.Pairs, options.ProbeTrainItems, cancellationToken).ConfigureAwait(false);
        try
        {
            // The first N by key, not the first N read, so --limit picks the same products whatever the seed.
            var order = Enumerable.Range(0, gallery.Keys.Length).OrderBy(i => gallery.Keys[i], StringComparer.Ordinal)
                                  .Take(options.GalleryLimit ?? int.MaxValue).ToArray();
            var galleryRows = Select(gallery.Rows, order);
            var rowOf = order.Select((source, row) => (gallery.Keys[source], row)).ToDictionary(x => x.Item1, x => x.row, StringComparer.Ordinal);
            var (queries, photos) = await ReadSourcesAsync(options, rowOf, complete: options.GalleryLimit is null, cancellationToken).ConfigureAwait(false);
            return new EvalSet(galleryRows, queries, photos, probe.Rows);
        }
        finally
        {
            Dispose(gallery.Rows);
        }
    }

    /// <summary>
    /// The product an omni sample refers to. The builder names omni samples after their product plus
    /// one kind suffix ("{product}-q", "-p", "-l"); the target is that same product.
    /// </summary>
    public static string ProductKey(string omniKey)
    {
        int dash = omniKey.LastIndexOf('-');
        return dash > 0 ? omniKey[..dash] : throw new DatasetException($"omni sample key '{omniKey}' has no '-kind' suffix naming its product");
    }

    private static async Task<(string[] Keys, ProductRows Rows)> ReadProductsAsync(EvalStreamOptions o, string stream, int max, CancellationToken ct)
    {
        await using var loader = DataLoader.Pairs(LoaderOptions(o, stream));
        var keys = new List<string>();
        var batches = new List<PairBatch>();
        try
        {
            while (keys.Count < max)
            {
                var batch = await loader.NextAsync(ct).ConfigureAwait(false);
                batches.Add(batch);
                keys.AddRange(batch.Keys);
                if (batch.EndOfEpoch) break;
            }
            int n = Math.Min(max, keys.Count);
            if (n == 0) throw new DatasetException($"stream '{stream}' of '{o.DatasetDirectory}' yielded no readable sample");
            var rows = new ProductRows(
                CatRows(batches.Select(b => b.TokenIds), n), CatRows(batches.Select(b => b.PaddingMask), n), CatRows(batches.Select(b => b.Images), n),
                batches.SelectMany(b => Scalars.ToArray<long>(b.Categories)).Take(n).Select(c => (int)c).ToArray());
            return (keys.Take(n).ToArray(), rows);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    private static async Task<(QueryRows, PhotoRows)> ReadSourcesAsync(EvalStreamOptions o, IReadOnlyDictionary<string, int> rowOf, bool complete, CancellationToken ct)
    {
        var manifest = DatasetManifest.Read(o.DatasetDirectory);
        if (manifest.Stream(StreamNames.EvalOmni).Samples == 0)
        {
            // No held-out product has a query, photo or listing (a user's catalog): only the gallery's own tasks are evaluated.
            var image = manifest.Image;
            return (new QueryRows(torch.zeros([0, o.TextLength], ScalarType.Int64), torch.zeros([0, o.TextLength], ScalarType.Bool), []),
                    new PhotoRows(torch.zeros([0, image.Channels, image.Height, image.Width]), []));
        }
        await using var loader = DataLoader.Omni(LoaderOptions(o, StreamNames.EvalOmni));
        var queryIds = new List<Tensor>();
        var queryPadding = new List<Tensor>();
        var photoImages = new List<Tensor>();
        var queryProducts = new List<int>();
        var photoProducts = new List<int>();
        try
        {
            while (true)
            {
                using var batch = await loader.NextAsync(ct).ConfigureAwait(false);
                long[] kinds = Scalars.ToArray<long>(batch.Kinds);
                var queries = new List<long>();
                var photos = new List<long>();
                for (int i = 0; i < batch.Count; i++)
                {
                    string product = ProductKey(batch.Keys[i]);
                    if (!rowOf.TryGetValue(product, out int row))
                    {
                        if (complete) throw new DatasetException($"eval source '{batch.Keys[i]}' refers to product '{product}', which is not in '{StreamNames.EvalPairs}'");
                        continue;   // its product was cut by the gallery limit
                    }
                    if (kinds[i] == (long)PairKind.Query) { queries.Add(i); queryProducts.Add(row); }
                    else if (kinds[i] == (long)PairKind.Photo) { photos.Add(i); photoProducts.Add(row); }
                }
                using (var index = torch.tensor(queries.ToArray(), device: batch.SourceTokenIds.device))
                {
                    queryIds.Add(batch.SourceTokenIds.index_select(0, index).DetachFromDisposeScope());
                    queryPadding.Add(batch.SourcePaddingMask.index_select(0, index).DetachFromDisposeScope());
                }
                using (var index = torch.tensor(photos.ToArray(), device: batch.SourceImages.device))
                    photoImages.Add(batch.SourceImages.index_select(0, index).DetachFromDisposeScope());
                if (batch.EndOfEpoch) break;
            }
            return (new QueryRows(torch.cat(queryIds), torch.cat(queryPadding), queryProducts.ToArray()),
                    new PhotoRows(torch.cat(photoImages), photoProducts.ToArray()));
        }
        finally
        {
            foreach (var t in queryIds.Concat(queryPadding).Concat(photoImages)) t.Dispose();
        }
    }

    private static LoaderOptions LoaderOptions(EvalStreamOptions o, string stream) => new()
    {
        DatasetDirectory = o.DatasetDirectory, Stream = stream, BatchSize = o.BatchSize, TextLength = o.TextLength,
        Seed = o.Seed, Prefetch = 2, Workers = 1,
    };

    /// <summary>The first <paramref name="rows"/> rows of the concatenated batches.</summary>
    private static Tensor CatRows(IEnumerable<Tensor> parts, int rows)
    {
        using var all = torch.cat(parts.ToList());
        using var head = all.narrow(0, 0, rows);
        return head.clone();   // a copy, so the rest of the concatenation is freed
    }

    private static ProductRows Select(ProductRows rows, int[] order)
    {
        using var index = torch.tensor(order.Select(i => (long)i).ToArray(), device: rows.TokenIds.device);
        return new ProductRows(rows.TokenIds.index_select(0, index), rows.Padding.index_select(0, index), rows.Images.index_select(0, index),
                               order.Select(i => rows.Categories[i]).ToArray());
    }

    private static void Dispose(ProductRows rows)
    {
        rows.TokenIds.Dispose();
        rows.Padding.Dispose();
        rows.Images.Dispose();
    }
}

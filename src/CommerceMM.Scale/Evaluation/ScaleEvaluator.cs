using System.Diagnostics;
using CommerceMM.Data.Format;
using CommerceMM.Data.Scale;
using CommerceMM.Model.Evaluation;
using CommerceMM.Scale.Config;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Evaluation;

/// <summary>
/// SCALE's downstream evaluation (MODEL.md §8), zero-shot from embeddings. A product's embedding is the
/// L2-normalised sum of its pooled modality embeddings over the modalities it has among those the row
/// evaluates (<see cref="ModalityEmbeddings.Combine"/>). Then:
/// <list type="bullet">
/// <item>retrieval over the held-out stream (<c>eval_products</c>): products at even stream positions are
/// the queries, those at odd positions the gallery (deterministic, and the same split for every row and
/// model); relevant = same category (M5Product's category-level retrieval); ranked by dot product; mAP
/// and Precision@K (<see cref="CategoryRetrieval"/>), beside a random ranking's expectation and seeded
/// random embeddings;</item>
/// <item>categorisation: CommerceMM's linear probe, on embeddings standardised by its training items, trained on training products' embeddings
/// (<c>products</c>), accuracy on every held-out product, beside the majority class.</item>
/// </list>
/// Products with none of a row's modalities have no embedding and are left out of that row (counted).
/// Deterministic given the options.
/// </summary>
public static class ScaleEvaluator
{
    /// <summary>Reads the data set, embeds each product once, then scores every row of <paramref name="options"/>.</summary>
    /// <param name="dataDirectory">the SCALE data set the model was trained on (<c>cmm data build fashion --modalities …</c>)</param>
    /// <param name="progress">called with each row as it is finished</param>
    /// <exception cref="ArgumentException">A bad option, a row using a modality the model does not enable, or data the model was not built for (named).</exception>
    /// <exception cref="DatasetException">Not a SCALE data set, or a stream is missing.</exception>
    public static ScaleEvalReport Run(ScaleModel model, string dataDirectory, ScaleEvalOptions options, Action<ScaleEvalResult>? progress = null)
    {
        options.Validate();
        var config = model.Config;
        var rows = (options.Rows ?? [ModalitySet.Of(config.Modalities)]).Select(r => r.CheckEnabledIn(config)).ToList();
        using var held = Embed(model, dataDirectory, StreamNames.EvalProducts, options.EvalLimit, options.BatchSize);
        using var train = Embed(model, dataDirectory, StreamNames.Products, options.ProbeTrainLimit, options.BatchSize);
        var results = new List<ScaleEvalResult>();
        foreach (var row in rows)
        {
            var result = Evaluate(held, train, row, options);
            progress?.Invoke(result);
            results.Add(result);
        }
        return new ScaleEvalReport(options.Ks, results);
    }

    /// <summary>One row from embeddings already computed: <paramref name="held"/> from the held-out stream, <paramref name="train"/> for the probe.</summary>
    public static ScaleEvalResult Evaluate(ModalityEmbeddings held, ModalityEmbeddings train, ModalitySet row, ScaleEvalOptions options)
    {
        var clock = Stopwatch.StartNew();
        using var products = held.Combine(row.Modalities);
        using var probeTrain = train.Combine(row.Modalities);
        if (products.Count < 2) throw new ArgumentException($"row '{row.Label}': only {products.Count} held-out products have any of its modalities; retrieval needs a query and a gallery item");
        if (probeTrain.Count < 1) throw new ArgumentException($"row '{row.Label}': no training product has any of its modalities, so the probe cannot learn");

        using var scope = NewDisposeScope();
        var (queries, gallery) = Split(products);
        var retrieval = Score(products.Vectors, products, queries, gallery, options.Ks);
        using var generator = new Generator(options.RandomSeed);
        // Drawn on the CPU, as every draw: the baseline is the same on any device.
        var drawn = randn(products.Vectors.shape, dtype: ScalarType.Float32, device: CPU, generator: generator).to(products.Vectors.device);
        var random = nn.functional.normalize(drawn, dim: -1);
        var randomRetrieval = Score(random, products, queries, gallery, options.Ks);

        var known = products.Categories.Where(c => c >= 0).ToList();
        var (probeX, testX) = Standardise(probeTrain.Vectors, products.Vectors);
        var probe = new ProbeRow(
            row.Label, probeTrain.Categories.Count(c => c >= 0), known.Count,
            LinearProbe.Accuracy(probeX, probeTrain.Categories, testX, products.Categories, options.Probe),
            RandomBaseline.MajorityAccuracy(known));
        return new ScaleEvalResult(row.Label, row.Modalities.Select(m => m.Name()).ToList(), held.Count, held.Count - products.Count,
                                   retrieval, randomRetrieval, probe, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Both feature sets shifted and scaled per dimension by the probe's training items' mean and
    /// standard deviation (as a standard scaler would). Contrastive embeddings tend to fill a narrow cone,
    /// where class differences are tiny next to the shared direction; CommerceMM's zero-initialised probe
    /// at a fixed learning rate would then report how far it converged rather than what the embedding holds.
    /// </summary>
    private static (Tensor Train, Tensor Test) Standardise(Tensor train, Tensor test)
    {
        var mean = train.mean([0], keepdim: true);
        var std = (train - mean).Square().mean([0], keepdim: true).sqrt().ClampMin(1e-6);
        return ((train - mean) / std, (test - mean) / std);
    }

    /// <summary>Queries: products at even positions of the held-out stream; gallery: odd positions.</summary>
    internal static (long[] Queries, long[] Gallery) Split(ProductEmbeddings products)
    {
        var queries = new List<long>();
        var gallery = new List<long>();
        for (int i = 0; i < products.Count; i++) (products.Rows[i] % 2 == 0 ? queries : gallery).Add(i);
        if (queries.Count == 0 || gallery.Count == 0)
            throw new ArgumentException($"the held-out products split into {queries.Count} queries and {gallery.Count} gallery items; both must be non-empty");
        return (queries.ToArray(), gallery.ToArray());
    }

    private static RetrievalScores Score(Tensor vectors, ProductEmbeddings products, long[] queries, long[] gallery, IReadOnlyList<int> ks)
    {
        using var scope = NewDisposeScope();
        var q = vectors.index_select(0, tensor(queries, device: vectors.device));
        var g = vectors.index_select(0, tensor(gallery, device: vectors.device));
        return CategoryRetrieval.Evaluate(q, g, queries.Select(i => products.Categories[i]).ToArray(), gallery.Select(i => products.Categories[i]).ToArray(), ks);
    }

    private static ModalityEmbeddings Embed(ScaleModel model, string dataDirectory, string stream, int? limit, int batchSize)
    {
        var config = model.Config;
        using var reader = new ScaleBatchReader(dataDirectory, stream, config.Text.MaxLength, config.Table.MaxLength);
        return ModalityEmbeddings.Compute(model, reader, limit, batchSize);
    }
}

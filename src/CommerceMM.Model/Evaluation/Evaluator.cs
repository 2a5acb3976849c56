using System.Diagnostics;
using CommerceMM.Model.Config;

namespace CommerceMM.Model.Evaluation;

/// <summary>
/// MODEL.md §7, zero-shot from embeddings: Recall@K for query→product (s_t·e_m), photo→product
/// (s_v·e_m), image→text and text→image (e_v·e_t) over the held-out gallery; linear-probe
/// categorisation on e_m and e_v; and per-item cost. One table per allocation, full depth first:
/// one trained model, several budgets. Deterministic given the probe seed (latency aside).
/// </summary>
public static class Evaluator
{
    public static EvalReport Evaluate(CommerceMMModel model, EvalSet set, EvaluationOptions options, Action<AllocationResult>? progress = null)
    {
        options.Validate();
        var allocations = options.Allocations ?? AllocationNames.Ordered(model.Config);
        bool wasTraining = model.training;
        model.eval();   // dropout off: embeddings must not depend on the dropout generator's state
        try
        {
            var results = new List<AllocationResult>();
            foreach (var a in allocations)
            {
                var result = EvaluateOne(model, set, a, options);
                progress?.Invoke(result);
                results.Add(result);
            }
            return new EvalReport(options.Ks, set.Gallery.Count, set.Queries.Count, set.Photos.Count, set.ProbeTrain.Count, results);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static AllocationResult EvaluateOne(CommerceMMModel model, EvalSet set, Allocation a, EvaluationOptions o)
    {
        var clock = Stopwatch.StartNew();
        var config = model.Config;
        int galleryCount = set.Gallery.Count;
        int[] self = Enumerable.Range(0, galleryCount).ToArray();
        using var e = Embeddings.Compute(model, set, a, o.EmbedBatchSize);
        RecallRow Row(string task, string scores, TorchSharp.torch.Tensor queries, TorchSharp.torch.Tensor gallery, int[] targets) =>
            new(task, scores, targets.Length, galleryCount, Recall.AtK(queries, gallery, targets, o.Ks), o.Ks.Select(k => RandomBaseline.Recall(k, galleryCount)).ToList());
        var retrieval = new List<RecallRow>();
        if (set.Queries.Count > 0) retrieval.Add(Row("query_to_product", "s_t·e_m", e.QueryText, e.GalleryMultimodal, set.Queries.Products));
        if (set.Photos.Count > 0) retrieval.Add(Row("photo_to_product", "s_v·e_m", e.PhotoImage, e.GalleryMultimodal, set.Photos.Products));
        retrieval.Add(Row("image_to_text", "e_v·e_t", e.GalleryImage, e.GalleryText, self));
        retrieval.Add(Row("text_to_image", "e_t·e_v", e.GalleryText, e.GalleryImage, self));

        ProbeRow Probe(string name, TorchSharp.torch.Tensor train, TorchSharp.torch.Tensor test) => new(
            name, set.ProbeTrain.Categories.Count(c => c >= 0), set.Gallery.Categories.Count(c => c >= 0),
            LinearProbe.Accuracy(train, set.ProbeTrain.Categories, test, set.Gallery.Categories, o.Probe),
            RandomBaseline.MajorityAccuracy(set.Gallery.Categories.Where(c => c >= 0).ToList()));
        var probes = new List<ProbeRow> { Probe("e_m", e.ProbeMultimodal, e.GalleryMultimodal), Probe("e_v", e.ProbeImage, e.GalleryImage) };

        int b = o.LatencyBatchSize, r = o.LatencyRepeats;
        // Without queries (photos) the text (image) branch is timed on the gallery's texts (images): the same encoder.
        var texts = set.Queries.Count > 0 ? set.Queries : new QueryRows(set.Gallery.TokenIds, set.Gallery.Padding, self);
        var images = set.Photos.Count > 0 ? set.Photos : new PhotoRows(set.Gallery.Images, self);
        var cost = new List<CostRow>
        {
            new("text (s_t)", EncoderFlops.TextItem(config, a), 1000 * Latency.TextSeconds(model, texts, a, b, r), Math.Min(b, texts.Count), r),
            new("image (s_v)", EncoderFlops.ImageItem(config, a), 1000 * Latency.ImageSeconds(model, images, a, b, r), Math.Min(b, images.Count), r),
            new("product (e_t,e_v,e_m)", EncoderFlops.ProductItem(config, a), 1000 * Latency.ProductSeconds(model, set.Gallery, a, b, r), Math.Min(b, galleryCount), r),
        };
        return new AllocationResult(a.ToString(), a.Text, a.Image, a.Fusion, a.Text == config.Text.Layers && a.Image == config.Image.Layers && a.Fusion == config.FusionLayers,
                                    retrieval, probes, cost, clock.Elapsed.TotalSeconds);
    }
}

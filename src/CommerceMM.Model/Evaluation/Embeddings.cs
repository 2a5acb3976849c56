using CommerceMM.Model.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Evaluation;

/// <summary>Every embedding one allocation gives an <see cref="EvalSet"/>; each (N, E), L2-normalised, on the model's device. Owns its tensors.</summary>
public sealed class Embeddings : IDisposable
{
    private Embeddings(Tensor[] all) =>
        (GalleryText, GalleryImage, GalleryMultimodal, QueryText, PhotoImage, ProbeImage, ProbeMultimodal) = (all[0], all[1], all[2], all[3], all[4], all[5], all[6]);

    /// <summary>e_t of every gallery product (from the product's own image + text pass).</summary>
    public Tensor GalleryText { get; }
    /// <summary>e_v of every gallery product.</summary>
    public Tensor GalleryImage { get; }
    /// <summary>e_m of every gallery product.</summary>
    public Tensor GalleryMultimodal { get; }
    /// <summary>s_t of every query: text branch only.</summary>
    public Tensor QueryText { get; }
    /// <summary>s_v of every photo: image branch only.</summary>
    public Tensor PhotoImage { get; }
    public Tensor ProbeImage { get; }
    public Tensor ProbeMultimodal { get; }

    /// <summary>Embeds everything in chunks of <paramref name="batchSize"/> rows without building a graph.</summary>
    public static Embeddings Compute(CommerceMMModel model, EvalSet set, Allocation allocation, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using var noGrad = torch.no_grad();
        var (gt, gv, gm) = Products(model, set.Gallery, allocation, batchSize);
        var (pt, pv, pm) = Products(model, set.ProbeTrain, allocation, batchSize);
        pt.Dispose();   // the probe reads e_m and e_v only
        // A catalog without queries or photos has none to embed: (0, E), and that retrieval is not evaluated.
        var none = torch.empty([0, gm.shape[1]], gm.dtype, gm.device);
        var queries = set.Queries.Count == 0 ? none.clone() : Chunked(set.Queries.Count, batchSize, (s, e) =>
        {
            using var ids = Rows(set.Queries.TokenIds, s, e, model.Device);
            using var padding = Rows(set.Queries.Padding, s, e, model.Device);
            return [model.EmbedText(ids, padding, allocation)];
        })[0];
        var photos = set.Photos.Count == 0 ? none.clone() : Chunked(set.Photos.Count, batchSize, (s, e) =>
        {
            using var images = Rows(set.Photos.Images, s, e, model.Device);
            return [model.EmbedImage(images, allocation)];
        })[0];
        none.Dispose();
        return new Embeddings([gt, gv, gm, queries, photos, pv, pm]);
    }

    private static (Tensor Text, Tensor Image, Tensor Multimodal) Products(CommerceMMModel model, ProductRows rows, Allocation allocation, int batchSize)
    {
        var parts = Chunked(rows.Count, batchSize, (s, e) =>
        {
            using var ids = Rows(rows.TokenIds, s, e, model.Device);
            using var padding = Rows(rows.Padding, s, e, model.Device);
            using var images = Rows(rows.Images, s, e, model.Device);
            var (t, v, m) = model.EmbedProduct(ids, padding, images, allocation);
            return [t, v, m];
        });
        return (parts[0], parts[1], parts[2]);
    }

    /// <summary>Runs <paramref name="embed"/> on row ranges [s, e) and concatenates each of its outputs over the ranges.</summary>
    private static Tensor[] Chunked(int rows, int batchSize, Func<long, long, Tensor[]> embed)
    {
        var chunks = new List<Tensor[]>();
        try
        {
            for (int s = 0; s < rows; s += batchSize) chunks.Add(embed(s, Math.Min(rows, s + batchSize)));
            if (chunks.Count == 0) throw new ArgumentException("nothing to embed: a row set is empty");
            return Enumerable.Range(0, chunks[0].Length).Select(k => torch.cat(chunks.Select(c => c[k]).ToList())).ToArray();
        }
        finally
        {
            foreach (var t in chunks.SelectMany(c => c)) t.Dispose();
        }
    }

    /// <summary>Rows [s, e) of an eval tensor (kept on the host), on the model's device.</summary>
    private static Tensor Rows(Tensor all, long s, long e, Device device)
    {
        using var slice = all.narrow(0, s, e - s);
        return slice.to(device);
    }

    public void Dispose()
    {
        foreach (var t in new[] { GalleryText, GalleryImage, GalleryMultimodal, QueryText, PhotoImage, ProbeImage, ProbeMultimodal }) t.Dispose();
    }
}

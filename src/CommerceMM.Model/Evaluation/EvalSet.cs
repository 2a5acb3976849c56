using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Evaluation;

/// <summary>Products with image and text: the gallery, or the probe's training items.</summary>
/// <param name="TokenIds">(N, L) int64, [CLS] first</param>
/// <param name="Padding">(N, L) bool, true at padding</param>
/// <param name="Images">(N, C, H, W) float32, normalised as in training</param>
/// <param name="Categories">N category labels; -1 where unknown</param>
public sealed record ProductRows(Tensor TokenIds, Tensor Padding, Tensor Images, int[] Categories)
{
    public int Count => Categories.Length;
}

/// <summary>Text-only sources (search queries), each pointing at one gallery row.</summary>
public sealed record QueryRows(Tensor TokenIds, Tensor Padding, int[] Products)
{
    public int Count => Products.Length;
}

/// <summary>Image-only sources (user photos), each pointing at one gallery row.</summary>
public sealed record PhotoRows(Tensor Images, int[] Products)
{
    public int Count => Products.Length;
}

/// <summary>
/// Everything §7 evaluates on: the held-out gallery, the queries and photos that refer to it, and
/// labelled products for training the linear probe (from the training split, so the probe never
/// sees a gallery item). Owns its tensors.
/// </summary>
public sealed class EvalSet : IDisposable
{
    public EvalSet(ProductRows gallery, QueryRows queries, PhotoRows photos, ProductRows probeTrain)
    {
        Check(queries.Products, gallery.Count, "query");
        Check(photos.Products, gallery.Count, "photo");
        Gallery = gallery;
        Queries = queries;
        Photos = photos;
        ProbeTrain = probeTrain;
    }

    public ProductRows Gallery { get; }
    public QueryRows Queries { get; }
    public PhotoRows Photos { get; }
    public ProductRows ProbeTrain { get; }

    public void Dispose()
    {
        foreach (var t in new[] { Gallery.TokenIds, Gallery.Padding, Gallery.Images, Queries.TokenIds, Queries.Padding, Photos.Images,
                                  ProbeTrain.TokenIds, ProbeTrain.Padding, ProbeTrain.Images })
            t.Dispose();
    }

    private static void Check(int[] products, int gallery, string what)
    {
        foreach (int p in products)
            if (p < 0 || p >= gallery) throw new ArgumentException($"a {what} points at gallery row {p}, but the gallery has {gallery} rows");
    }
}

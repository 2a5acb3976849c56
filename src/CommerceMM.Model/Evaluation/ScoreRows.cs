using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Evaluation;

/// <summary>Receives one query's dot-product scores against the whole gallery.</summary>
public delegate void ScoreRowVisitor(int query, ReadOnlySpan<float> scores);

/// <summary>
/// Query × gallery dot products, a chunk of query rows at a time so the score matrix never has to fit in
/// memory whole (10,000 × 10,000 floats would be 400 MB). Shared by CommerceMM's recall and SCALE's retrieval.
/// </summary>
public static class ScoreRows
{
    private const int RowsPerChunk = 1024;

    /// <param name="queries">(Q, E)</param>
    /// <param name="gallery">(G, E)</param>
    public static void ForEach(Tensor queries, Tensor gallery, ScoreRowVisitor visit)
    {
        int q = (int)queries.size(0), g = (int)gallery.size(0);
        using var noGrad = torch.no_grad();
        using var galleryT = gallery.t();
        for (int start = 0; start < q; start += RowsPerChunk)
        {
            int end = Math.Min(q, start + RowsPerChunk);
            float[] scores;
            using (var rows = queries.narrow(0, start, end - start))
            using (var product = rows.matmul(galleryT))
                scores = Scalars.ToArray<float>(product);
            for (int r = 0; r < end - start; r++) visit(start + r, scores.AsSpan(r * g, g));
        }
    }
}

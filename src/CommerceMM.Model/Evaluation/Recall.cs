using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Evaluation;

/// <summary>
/// Recall@K of cross-modal retrieval: each query has exactly one relevant gallery item, and scores are
/// dot products of L2-normalised embeddings (cosine similarity).
/// </summary>
/// <remarks>
/// Ties are broken at random, in expectation: with g items scoring strictly above the relevant one and
/// t others tied with it, the relevant item's rank is uniform on g+1 … g+t+1, so it is in the top K
/// with probability clamp((K − g) / (t + 1), 0, 1). A model that scores everything alike thus gets the
/// random baseline K / gallery size, not 0 or 1, and the figure needs no random draw to be reproducible.
/// </remarks>
public static class Recall
{
    /// <param name="queries">(Q, E) query embeddings</param>
    /// <param name="gallery">(G, E) gallery embeddings</param>
    /// <param name="targets">for each query, its relevant gallery row</param>
    /// <param name="ks">cut-offs, e.g. 1, 5, 10</param>
    /// <returns>Recall@K for each of <paramref name="ks"/>, in order.</returns>
    public static double[] AtK(Tensor queries, Tensor gallery, IReadOnlyList<int> targets, IReadOnlyList<int> ks)
    {
        long q = queries.size(0), g = gallery.size(0);
        if (targets.Count != q) throw new ArgumentException($"{targets.Count} targets for {q} queries", nameof(targets));
        if (q == 0) throw new ArgumentException("no queries to score", nameof(queries));
        foreach (int k in ks) ArgumentOutOfRangeException.ThrowIfLessThan(k, 1, nameof(ks));
        var sums = new double[ks.Count];
        ScoreRows.ForEach(queries, gallery, (query, scores) =>
        {
            var (above, tied) = Rank(scores, targets[query]);
            for (int i = 0; i < ks.Count; i++) sums[i] += Math.Clamp((ks[i] - above) / (double)(tied + 1), 0, 1);
        });
        return sums.Select(s => s / q).ToArray();
    }

    /// <summary>How many items score strictly above the target, and how many others score exactly the same.</summary>
    internal static (int Above, int Tied) Rank(ReadOnlySpan<float> scores, int target)
    {
        if ((uint)target >= (uint)scores.Length) throw new ArgumentOutOfRangeException(nameof(target), target, $"gallery has {scores.Length} items");
        float t = scores[target];
        if (float.IsNaN(t)) return (scores.Length - 1, 0);   // a NaN score is never a hit
        int above = 0, tied = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (scores[i] > t) above++;
            else if (scores[i] == t && i != target) tied++;
        }
        return (above, tied);
    }
}

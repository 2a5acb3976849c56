namespace CommerceMM.Scale.Evaluation;

/// <summary>Average precision and Precision@K of one query's ranking of the whole gallery.</summary>
/// <param name="AveragePrecision">mean, over the relevant items, of the precision at each one's rank</param>
/// <param name="Precision">Precision@K for each cut-off asked for, in order</param>
public sealed record QueryScore(double AveragePrecision, IReadOnlyList<double> Precision);

/// <summary>
/// Per-query ranking metrics of M5Product's retrieval (MODEL.md §8): the gallery is ranked by score,
/// highest first, and an item either is relevant to the query or is not.
/// </summary>
/// <remarks>
/// <para>Ties are broken at random, in expectation (as <c>CommerceMM.Model.Evaluation.Recall</c> does;
/// the closed form is McSherry and Najork's, ECIR 2008): a group of n items with equal scores, r of them
/// relevant, after b items of which a are relevant, fills ranks b+1 … b+n in a uniformly random order. So
/// the item at rank b+j is relevant with probability r/n and, if it is, is preceded inside the group by
/// (j−1)(r−1)/(n−1) relevant items on average. A model that scores everything alike thus gets exactly
/// <see cref="RetrievalChance"/>'s figures, and no figure needs a random draw to be reproducible.</para>
/// <para>A NaN score ranks below every number (a diverged model is scored, not crashed on); NaNs tie.</para>
/// <para>A query without any relevant item has no average precision: <see cref="Score"/> returns null,
/// and the caller leaves the query out of every average (mAP and Precision@K alike, so that both
/// average over the same queries) and counts it.</para>
/// </remarks>
public static class RankingMetrics
{
    /// <param name="scores">the query's score for each gallery item</param>
    /// <param name="relevant">whether each gallery item is relevant to the query</param>
    /// <param name="ks">cut-offs, each in 1 … gallery size</param>
    /// <returns>The query's AP and Precision@K; null when no gallery item is relevant.</returns>
    /// <exception cref="ArgumentException">Lengths differ, or a cut-off is outside 1 … gallery size.</exception>
    public static QueryScore? Score(ReadOnlySpan<float> scores, ReadOnlySpan<bool> relevant, IReadOnlyList<int> ks)
    {
        int g = scores.Length;
        if (relevant.Length != g) throw new ArgumentException($"{relevant.Length} relevance flags for {g} scores", nameof(relevant));
        CheckCutOffs(ks, g);
        int totalRelevant = 0;
        foreach (bool r in relevant) if (r) totalRelevant++;
        if (totalRelevant == 0) return null;

        int[] order = Order(scores);
        double precisionSum = 0;                 // Σ over relevant items of the precision at their rank (expected)
        var hits = new double[ks.Count];         // expected relevant items within each cut-off
        int before = 0, relevantBefore = 0;
        while (before < g)
        {
            float groupScore = Key(scores[order[before]]);
            int end = before + 1;
            while (end < g && Key(scores[order[end]]) == groupScore) end++;
            int n = end - before, r = 0;
            for (int i = before; i < end; i++) if (relevant[order[i]]) r++;
            if (r > 0)
            {
                double share = (double)r / n, othersPerSlot = n == 1 ? 0 : (r - 1.0) / (n - 1);
                for (int j = 1; j <= n; j++) precisionSum += share * (relevantBefore + 1 + (j - 1) * othersPerSlot) / (before + j);
            }
            for (int i = 0; i < ks.Count; i++)
                hits[i] += r * Math.Clamp(ks[i] - before, 0, n) / (double)n;
            (before, relevantBefore) = (end, relevantBefore + r);
        }
        return new QueryScore(precisionSum / totalRelevant, hits.Select((h, i) => h / ks[i]).ToArray());
    }

    /// <exception cref="ArgumentException">No cut-off, or one outside 1 … <paramref name="gallerySize"/>.</exception>
    internal static void CheckCutOffs(IReadOnlyList<int> ks, int gallerySize)
    {
        if (ks.Count == 0) throw new ArgumentException("no Precision@K cut-off given", nameof(ks));
        foreach (int k in ks)
            if (k < 1 || k > gallerySize)
                throw new ArgumentException($"Precision@{k} needs a cut-off in 1..{gallerySize} (the gallery has {gallerySize} items)", nameof(ks));
    }

    /// <summary>NaN sorts below every number and ties with other NaNs.</summary>
    private static float Key(float score) => float.IsNaN(score) ? float.NegativeInfinity : score;

    /// <summary>Gallery indices by descending score: equal scores end up contiguous (their order inside the group does not matter).</summary>
    private static int[] Order(ReadOnlySpan<float> scores)
    {
        var keys = new float[scores.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = -Key(scores[i]);
        int[] order = Enumerable.Range(0, keys.Length).ToArray();
        Array.Sort(keys, order);
        return order;
    }
}

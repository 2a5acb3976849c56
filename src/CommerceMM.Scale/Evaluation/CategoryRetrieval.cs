using CommerceMM.Model.Evaluation;
using CommerceMM.Tensors;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Evaluation;

/// <summary>Retrieval figures over one query set and gallery, beside what a random ranking scores.</summary>
/// <param name="Queries">queries given</param>
/// <param name="Gallery">gallery items</param>
/// <param name="QueriesWithoutRelevant">queries left out of every average: no gallery item shares their category</param>
/// <param name="MeanAveragePrecision">mean AP over the other queries</param>
/// <param name="Precision">mean Precision@K over the same queries, one per cut-off</param>
/// <param name="ChanceAveragePrecision">mean over the same queries of a random ranking's expected AP</param>
/// <param name="ChancePrecision">the same for Precision@K: R/N, alike for every cut-off</param>
public sealed record RetrievalScores(
    int Queries, int Gallery, int QueriesWithoutRelevant,
    double MeanAveragePrecision, IReadOnlyList<double> Precision,
    double ChanceAveragePrecision, double ChancePrecision)
{
    public int ScoredQueries => Queries - QueriesWithoutRelevant;
}

/// <summary>
/// Category-level product retrieval, as M5Product evaluates it: every query product ranks the whole
/// gallery by the dot product of the two products' embeddings, and a gallery product is relevant when
/// it has the query's category. mAP averages each query's AP over its whole ranking (not a cut-off).
/// Ties, NaNs and queries without a relevant item follow <see cref="RankingMetrics"/>.
/// </summary>
public static class CategoryRetrieval
{
    /// <param name="queries">(Q, E) query embeddings</param>
    /// <param name="gallery">(G, E) gallery embeddings</param>
    /// <param name="queryCategories">Q labels; a negative (unknown) label has nothing relevant</param>
    /// <param name="galleryCategories">G labels; a negative label is relevant to no query</param>
    /// <param name="ks">Precision@K cut-offs, each in 1 … G</param>
    /// <exception cref="ArgumentException">Shapes and label counts disagree, or a cut-off exceeds the gallery (named).</exception>
    public static RetrievalScores Evaluate(Tensor queries, Tensor gallery, IReadOnlyList<int> queryCategories, IReadOnlyList<int> galleryCategories, IReadOnlyList<int> ks)
    {
        if (queries.dim() != 2 || gallery.dim() != 2 || queries.size(1) != gallery.size(1))
            throw new ArgumentException($"queries and gallery must be (rows, E) with one E; got {TensorMemory.FormatShape(queries.shape)} and {TensorMemory.FormatShape(gallery.shape)}");
        int q = (int)queries.size(0), g = (int)gallery.size(0);
        if (queryCategories.Count != q) throw new ArgumentException($"{queryCategories.Count} query categories for {q} queries", nameof(queryCategories));
        if (galleryCategories.Count != g) throw new ArgumentException($"{galleryCategories.Count} gallery categories for {g} gallery items", nameof(galleryCategories));
        if (q == 0) throw new ArgumentException("no queries to score", nameof(queries));
        RankingMetrics.CheckCutOffs(ks, g);

        var perCategory = galleryCategories.Where(c => c >= 0).GroupBy(c => c).ToDictionary(x => x.Key, x => x.Count());
        var chanceAp = perCategory.ToDictionary(x => x.Key, x => RetrievalChance.AveragePrecision(x.Value, g));   // O(G) each: once per category
        var relevant = new bool[g];
        double apSum = 0, chanceApSum = 0, chancePrecisionSum = 0;
        var precisionSums = new double[ks.Count];
        int without = 0;
        ScoreRows.ForEach(queries, gallery, (query, scores) =>
        {
            int category = queryCategories[query];
            for (int i = 0; i < g; i++) relevant[i] = category >= 0 && galleryCategories[i] == category;
            var score = RankingMetrics.Score(scores, relevant, ks);
            if (score is null)
            {
                without++;
                return;
            }
            apSum += score.AveragePrecision;
            for (int i = 0; i < ks.Count; i++) precisionSums[i] += score.Precision[i];
            chanceApSum += chanceAp[category];
            chancePrecisionSum += RetrievalChance.Precision(perCategory[category], g);
        });
        int scored = q - without;
        double Mean(double sum) => scored == 0 ? double.NaN : sum / scored;
        return new RetrievalScores(q, g, without, Mean(apSum), precisionSums.Select(Mean).ToArray(), Mean(chanceApSum), Mean(chancePrecisionSum));
    }
}

using CommerceMM.Scale.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Tests;

/// <summary>mAP and Precision@K checked by hand on tiny rankings, ties included.</summary>
public class ScaleRetrievalTests
{
    private const double Tol = 1e-9;

    [Fact]
    public void Score_DistinctScores_MatchesHandComputed()
    {
        // ranking: R N R N → AP = (1/1 + 2/3) / 2
        var s = RankingMetrics.Score([0.9f, 0.8f, 0.7f, 0.6f], [true, false, true, false], [1, 2, 3, 4])!;
        Assert.Equal(5.0 / 6, s.AveragePrecision, Tol);
        Assert.Equal([1.0, 0.5, 2.0 / 3, 0.5], s.Precision.ToArray(), new Near(Tol));
    }

    [Fact]
    public void Score_UnsortedInput_RanksByScore()
    {
        // the only relevant item scores lowest: rank 3 of 3
        var s = RankingMetrics.Score([0.1f, 0.9f, 0.5f], [true, false, false], [1, 3])!;
        Assert.Equal(1.0 / 3, s.AveragePrecision, Tol);
        Assert.Equal([0.0, 1.0 / 3], s.Precision.ToArray(), new Near(Tol));
    }

    [Fact]
    public void Score_TiedPair_AveragesBothOrders()
    {
        // R N → AP 1, N R → AP 1/2; P@1 is 1 or 0
        var s = RankingMetrics.Score([0.5f, 0.5f], [true, false], [1, 2])!;
        Assert.Equal(0.75, s.AveragePrecision, Tol);
        Assert.Equal([0.5, 0.5], s.Precision.ToArray(), new Near(Tol));
    }

    [Fact]
    public void Score_TieGroupInTheMiddle_EqualsMeanOverEveryOrderOfTheGroup()
    {
        float[] scores = [1f, 0.5f, 0.5f, 0.5f, 0.5f, 0.2f];
        bool[] relevant = [false, true, true, false, false, true];
        int[] ks = [1, 2, 3, 4, 5, 6];
        int[] tied = [1, 2, 3, 4];
        var orders = Permutations(tied).Select(p => new[] { 0 }.Concat(p).Append(5).ToArray()).ToList();
        Assert.Equal(24, orders.Count);
        double expectedAp = orders.Average(o => ExplicitAveragePrecision(o, relevant));
        var expectedPrecision = ks.Select(k => orders.Average(o => o.Take(k).Count(i => relevant[i]) / (double)k)).ToArray();

        var s = RankingMetrics.Score(scores, relevant, ks)!;
        Assert.Equal(expectedAp, s.AveragePrecision, Tol);
        Assert.Equal(expectedPrecision, s.Precision.ToArray(), new Near(Tol));
    }

    [Fact]
    public void Score_NoRelevantItem_ReturnsNull() =>
        Assert.Null(RankingMetrics.Score([0.3f, 0.2f], [false, false], [1]));

    [Fact]
    public void Score_NaN_RanksLast()
    {
        var s = RankingMetrics.Score([float.NaN, 0.1f], [true, false], [1])!;
        Assert.Equal(0.5, s.AveragePrecision, Tol);
        Assert.Equal(0.0, s.Precision[0], Tol);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Score_CutOffOutsideGallery_ThrowsNamingIt(int k)
    {
        var e = Assert.Throws<ArgumentException>(() => RankingMetrics.Score([0.3f, 0.2f], [true, false], [k]));
        Assert.Contains($"Precision@{k}", e.Message);
    }

    [Theory]
    [InlineData(1, 1, 1.0)]
    [InlineData(1, 2, 0.75)]
    [InlineData(2, 3, (1.0 + 5.0 / 6 + 7.0 / 12) / 3)]   // the spare item at rank 3, 2 or 1
    [InlineData(4, 4, 1.0)]
    public void ChanceAveragePrecision_SmallGalleries_MatchesEnumeration(int relevant, int gallery, double expected) =>
        Assert.Equal(expected, RetrievalChance.AveragePrecision(relevant, gallery), Tol);

    [Theory]
    [InlineData(1, 10)]
    [InlineData(3, 10)]
    [InlineData(7, 50)]
    [InlineData(50, 50)]
    public void Score_EverythingTied_EqualsChance(int relevant, int gallery)
    {
        var scores = Enumerable.Repeat(0.25f, gallery).ToArray();
        var flags = Enumerable.Range(0, gallery).Select(i => i < relevant).ToArray();
        var s = RankingMetrics.Score(scores, flags, [1, 5, 10])!;
        Assert.Equal(RetrievalChance.AveragePrecision(relevant, gallery), s.AveragePrecision, 1e-12);
        Assert.All(s.Precision, p => Assert.Equal(RetrievalChance.Precision(relevant, gallery), p, 1e-12));
    }

    [Fact]
    public void Evaluate_TinyEmbeddings_MatchesHandComputedAndSkipsQueryWithoutRelevant()
    {
        // gallery: g0 (1,0) A, g1 (0.8,0.6) B, g2 (0,1) B, g3 (-1,0) A
        using var gallery = tensor(new[] { 1f, 0f, 0.8f, 0.6f, 0f, 1f, -1f, 0f }, [4, 2], device: CPU);
        // q0 (1,0) A: g0 1, g1 .8, g2 0, g3 -1 → relevant at ranks 1 and 4: AP (1 + 2/4)/2 = .75, P@1 1, P@2 .5
        // q1 (0,1) B: g2 1, g1 .6, then g0 and g3 tied at 0 → relevant at ranks 1 and 2: AP 1, P@1 1, P@2 1
        // q2 (1,0) C: no gallery item in C → left out and counted
        using var queries = tensor(new[] { 1f, 0f, 0f, 1f, 1f, 0f }, [3, 2], device: CPU);
        var r = CategoryRetrieval.Evaluate(queries, gallery, [0, 1, 2], [0, 1, 1, 0], [1, 2]);
        Assert.Equal((3, 4, 1, 2), (r.Queries, r.Gallery, r.QueriesWithoutRelevant, r.ScoredQueries));
        Assert.Equal(0.875, r.MeanAveragePrecision, 1e-6);
        Assert.Equal([1.0, 0.75], r.Precision.ToArray(), new Near(1e-6));
        // both scored queries have 2 relevant among 4: E[AP] = 1/3 + H_4·2/12, E[P@k] = 1/2
        Assert.Equal(1.0 / 3 + (1 + 1 / 2.0 + 1 / 3.0 + 1 / 4.0) * 2 / 12, r.ChanceAveragePrecision, 1e-12);
        Assert.Equal(0.5, r.ChancePrecision, 1e-12);
    }

    [Fact]
    public void Evaluate_EveryQueryWithoutRelevant_ReportsNaNNotZero()
    {
        using var gallery = tensor(new[] { 1f, 0f }, [1, 2], device: CPU);
        using var queries = tensor(new[] { 1f, 0f }, [1, 2], device: CPU);
        var r = CategoryRetrieval.Evaluate(queries, gallery, [-1], [-1], [1]);
        Assert.Equal(1, r.QueriesWithoutRelevant);
        Assert.True(double.IsNaN(r.MeanAveragePrecision) && double.IsNaN(r.Precision[0]));
    }

    /// <summary>AP of one explicit ranking (gallery indices, best first), the textbook way.</summary>
    private static double ExplicitAveragePrecision(int[] ranking, bool[] relevant)
    {
        double sum = 0;
        int hits = 0;
        for (int i = 0; i < ranking.Length; i++)
            if (relevant[ranking[i]]) sum += ++hits / (double)(i + 1);
        return sum / hits;
    }

    private static IEnumerable<int[]> Permutations(int[] items) => items.Length <= 1
        ? [items]
        : items.SelectMany((x, i) => Permutations(items.Where((_, j) => j != i).ToArray()).Select(rest => new[] { x }.Concat(rest).ToArray()));

    private sealed class Near(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(double v) => 0;
    }
}

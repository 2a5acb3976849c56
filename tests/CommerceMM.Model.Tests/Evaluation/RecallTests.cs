using CommerceMM.Model.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.Evaluation;

public class RecallTests
{
    private static readonly int[] Ks = [1, 2, 5];

    private static Tensor Rows(float[,] values)
    {
        int n = values.GetLength(0), e = values.GetLength(1);
        var flat = new float[n * e];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < e; j++) flat[i * e + j] = values[i, j];
        return torch.tensor(flat, [n, e]);
    }

    private static Tensor Identity(int n)
    {
        var v = new float[n, n];
        for (int i = 0; i < n; i++) v[i, i] = 1;
        return Rows(v);
    }

    [Fact]
    public void AtK_EachQueryMatchesOnlyItsTarget_IsOneAtEveryK()
    {
        using var gallery = Identity(5);
        using var queries = Identity(5);
        var recall = Recall.AtK(queries, gallery, [0, 1, 2, 3, 4], Ks);
        Assert.Equal([1.0, 1.0, 1.0], recall);
    }

    [Fact]
    public void AtK_TargetScoresLowest_IsZeroBelowGallerySizeAndOneAtIt()
    {
        // Gallery item i scores i with the query; the target is item 0, the worst of 5.
        using var gallery = Rows(new float[,] { { 0 }, { 1 }, { 2 }, { 3 }, { 4 } });
        using var queries = Rows(new float[,] { { 1 } });
        var recall = Recall.AtK(queries, gallery, [0], [1, 4, 5, 10]);
        Assert.Equal([0.0, 0.0, 1.0, 1.0], recall);
    }

    [Fact]
    public void AtK_ReversedOrder_CountsRankAsPositionFromTheTop()
    {
        // Target is item 3 of scores 4,3,2,1,0 (item i scores 4 − i): rank 4.
        using var gallery = Rows(new float[,] { { 4 }, { 3 }, { 2 }, { 1 }, { 0 } });
        using var queries = Rows(new float[,] { { 1 } });
        var recall = Recall.AtK(queries, gallery, [3], [3, 4]);
        Assert.Equal([0.0, 1.0], recall);
    }

    [Fact]
    public void AtK_AllScoresTied_EqualsTheRandomBaseline()
    {
        using var gallery = Rows(new float[,] { { 1, 0 }, { 1, 0 }, { 1, 0 }, { 1, 0 }, { 1, 0 }, { 1, 0 }, { 1, 0 }, { 1, 0 } });
        using var queries = Rows(new float[,] { { 1, 0 }, { 0.5f, 0 } });
        var recall = Recall.AtK(queries, gallery, [2, 7], [1, 5, 10]);
        Assert.Equal([1 / 8.0, 5 / 8.0, 1.0], recall);
        Assert.Equal(recall, new[] { 1, 5, 10 }.Select(k => RandomBaseline.Recall(k, 8)));
    }

    [Fact]
    public void AtK_PartialTie_IsTheChanceRandomTieBreakingPutsTheTargetInTopK()
    {
        // Scores 3, 2, 2, 2, 1 with the target among the three 2s: one above, two tied, so rank 2, 3 or 4.
        using var gallery = Rows(new float[,] { { 3 }, { 2 }, { 2 }, { 2 }, { 1 } });
        using var queries = Rows(new float[,] { { 1 } });
        var recall = Recall.AtK(queries, gallery, [2], [1, 2, 3, 4]);
        Assert.Equal(0.0, recall[0]);
        Assert.Equal(1 / 3.0, recall[1], 12);
        Assert.Equal(2 / 3.0, recall[2], 12);
        Assert.Equal(1.0, recall[3]);
    }

    [Fact]
    public void AtK_AveragesOverQueries()
    {
        using var gallery = Identity(4);
        using var queries = Identity(4);
        // Two queries point at their own item (hits), two at another item (scores 0 against 1: misses at K=1).
        var recall = Recall.AtK(queries, gallery, [0, 1, 3, 2], [1]);
        Assert.Equal(0.5, recall[0]);
    }

    [Fact]
    public void AtK_TargetCountDiffersFromQueries_Throws()
    {
        using var gallery = Identity(3);
        using var queries = Identity(3);
        Assert.Throws<ArgumentException>(() => Recall.AtK(queries, gallery, [0, 1], [1]));
    }

    [Fact]
    public void Rank_NaNTarget_IsNeverAHit()
    {
        var (above, tied) = Recall.Rank([1f, float.NaN, 0f], 1);
        Assert.Equal((2, 0), (above, tied));
    }
}

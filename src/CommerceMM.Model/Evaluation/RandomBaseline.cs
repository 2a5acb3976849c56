namespace CommerceMM.Model.Evaluation;

/// <summary>What chance scores: the yardsticks printed beside every figure.</summary>
public static class RandomBaseline
{
    /// <summary>Recall@K of a uniformly random ranking with one relevant item among <paramref name="gallerySize"/>: K / gallery size (at most 1).</summary>
    public static double Recall(int k, int gallerySize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(gallerySize, 1);
        return Math.Min(1.0, (double)k / gallerySize);
    }

    /// <summary>Accuracy of always answering the most frequent test label (the probe's floor).</summary>
    public static double MajorityAccuracy(IReadOnlyList<int> labels)
    {
        if (labels.Count == 0) return 0;
        return labels.GroupBy(l => l).Max(g => g.Count()) / (double)labels.Count;
    }
}

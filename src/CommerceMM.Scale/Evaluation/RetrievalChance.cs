namespace CommerceMM.Scale.Evaluation;

/// <summary>
/// What a uniformly random ranking scores in expectation, the yardstick printed beside every retrieval
/// figure. With R relevant items among N, the item at rank k is relevant with probability R/N and, if
/// so, is preceded by (k−1)(R−1)/(N−1) relevant items on average, which gives the closed forms below.
/// </summary>
public static class RetrievalChance
{
    /// <summary>
    /// E[AP] = (1/N) Σ_k [1 + (k−1)(R−1)/(N−1)] / k = (R−1)/(N−1) + H_N (N−R) / (N(N−1)), H_N the N-th
    /// harmonic number; 1/N·H_N for one relevant item, 1 when every item is relevant.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not 1 ≤ relevant ≤ gallery.</exception>
    public static double AveragePrecision(int relevant, int gallery)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(relevant, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(relevant, gallery);
        if (gallery == 1) return 1;
        double harmonic = 0;
        for (int k = 1; k <= gallery; k++) harmonic += 1.0 / k;
        double n = gallery, r = relevant;
        return (r - 1) / (n - 1) + harmonic * (n - r) / (n * (n - 1));
    }

    /// <summary>E[Precision@K] = R/N for every cut-off K ≤ N.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not 0 ≤ relevant ≤ gallery, or an empty gallery.</exception>
    public static double Precision(int relevant, int gallery)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gallery, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(relevant);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(relevant, gallery);
        return (double)relevant / gallery;
    }
}

using CommerceMM.Torch;

namespace CommerceMM.Model.Tasks;

/// <summary>The InfoNCE form shared by itc and the nine omni tasks.</summary>
internal static class Contrastive
{
    /// <summary>
    /// One direction of InfoNCE for this rank's rows against all gathered columns:
    /// Σ CE(scale · q·kᵀ, label) · world / globalRows. Averaging gradients over ranks then gives the
    /// gradient of the global mean over all rows, as a single process would compute it.
    /// </summary>
    /// <param name="queries">(n, E) normalised</param>
    /// <param name="keys">(G, E) normalised, gathered over ranks</param>
    /// <param name="labels">(n) int64: each query's positive column in keys</param>
    public static Tensor LocalRowsLoss(Tensor queries, Tensor keys, Tensor labels, Tensor scale, int world, long globalRows)
    {
        using var scope = DisposeScope.Open();
        var logits = queries.MatMul(keys.T) * scale;                                 // (n, G)
        var sum = Losses.CrossEntropy(logits, labels, Reduction.Sum);
        return scope.MoveToOuter(sum * ((double)world / globalRows));
    }
}

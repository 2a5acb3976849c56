using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tasks;

/// <summary>The InfoNCE form shared by itc and the nine omni tasks.</summary>
internal static class Contrastive
{
    /// <summary>
    /// One direction of InfoNCE for this rank's rows against all gathered columns:
    /// Σ CE(scale · q·kᵀ, label) · world / globalRows. Averaging gradients over ranks then gives the
    /// gradient of the global mean over all rows, as a single process would compute it. fp32 in every
    /// precision: the embeddings are small and the loss reduction must not lose bits.
    /// </summary>
    /// <param name="queries">(n, E) normalised</param>
    /// <param name="keys">(G, E) normalised, gathered over ranks</param>
    /// <param name="labels">(n) int64: each query's positive column in keys</param>
    public static Tensor LocalRowsLoss(Tensor queries, Tensor keys, Tensor labels, Tensor scale, int world, long globalRows)
    {
        using var scope = torch.NewDisposeScope();
        var logits = queries.matmul(keys.t()) * scale;                              // (n, G)
        var sum = torch.nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum);
        return sum.Mul((double)world / globalRows).MoveToOuterDisposeScope();
    }
}

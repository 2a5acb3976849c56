using CommerceMM.Torch;

namespace CommerceMM.Scale.Losses;

/// <summary>
/// SCALE's self-harmonized weights (MODEL.md §8), per sample: G = P·Pᵀ, the 5×5 cosine matrix of the
/// L2-normalised pooled modality embeddings; H = G ⊙ softmax_row(G); W = H with each row L2-normalised.
/// W[m, m] weights modality m's masked loss and W[a, b] the a→b contrastive logits. Missing modalities
/// are left out of every softmax (their columns get −∞ before it and 0 after) and their rows are 0.
/// Differentiable: gradients reach the embeddings through the weights too.
/// </summary>
public static class HarmonizedWeights
{
    /// <param name="pooled">(B, 5, E) normalised embeddings; rows of missing modalities may hold anything finite</param>
    /// <param name="present">(B, 5) bool; every sample has at least one modality</param>
    /// <returns>(B, 5, 5)</returns>
    public static Tensor Compute(Tensor pooled, Tensor present)
    {
        using var scope = DisposeScope.Open();
        var rows = present.Unsqueeze(2);                                                  // (B, 5, 1)
        var cols = present.Unsqueeze(1);                                                  // (B, 1, 5)
        var both = rows.LogicalAnd(cols);                                                 // (B, 5, 5)
        var p = Torch.Torch.Where(rows, pooled, Torch.Torch.Zeros([1], pooled.DType));    // missing rows → 0
        var g = p.MatMul(p.Transpose(1, 2));                                              // (B, 5, 5) cosines
        var softmax = g.MaskedFill(cols.LogicalNot().Expand(g.Shape), double.NegativeInfinity).Softmax(-1);
        var h = Torch.Torch.Where(both, g * softmax, Torch.Torch.Zeros([1], pooled.DType));
        return scope.MoveToOuter(h.Normalize(-1));
    }
}

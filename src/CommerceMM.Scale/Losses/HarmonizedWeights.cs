using CommerceMM.Tensors;
using static TorchSharp.torch;

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
    /// <param name="present">(B, 5) bool on the same device; every sample has at least one modality</param>
    /// <returns>(B, 5, 5)</returns>
    public static Tensor Compute(Tensor pooled, Tensor present)
    {
        using var scope = NewDisposeScope();
        var rows = present.unsqueeze(2);                                                   // (B, 5, 1)
        var cols = present.unsqueeze(1);                                                   // (B, 1, 5)
        var both = rows.logical_and(cols);                                                 // (B, 5, 5)
        // masked_fill, not a product with the mask: the slot is replaced (and gets no gradient) whatever it holds.
        var p = pooled.MaskedFill(rows.logical_not(), 0.0);                               // missing rows → 0
        var g = p.matmul(p.transpose(1, 2));                                               // (B, 5, 5) cosines
        var softmax = g.MaskedFill(cols.logical_not(), double.NegativeInfinity).softmax(-1);
        var h = (g * softmax).MaskedFill(both.logical_not(), 0.0);
        return nn.functional.normalize(h, p: 2, dim: -1).MoveToOuterDisposeScope();
    }
}

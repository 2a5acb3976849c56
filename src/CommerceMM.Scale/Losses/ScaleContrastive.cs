using CommerceMM.Tensors;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Losses;

/// <summary>SCALE's weighted InfoNCE: one direction, summed over the given query rows.</summary>
public static class ScaleContrastive
{
    /// <summary>
    /// Σ_i CE(w_i · (q_i·Kᵀ) / τ, label_i): each query row's logits are multiplied by its own pair
    /// weight (MODEL.md §8), so a sample whose two modalities agree more sharpens its own softmax.
    /// </summary>
    /// <param name="queries">(n, E) normalised</param>
    /// <param name="keys">(G, E) normalised</param>
    /// <param name="labels">(n) int64: each query's positive column</param>
    /// <param name="pairWeight">(n) per-query weight (differentiable)</param>
    public static Tensor Sum(Tensor queries, Tensor keys, Tensor labels, Tensor pairWeight, double temperature)
    {
        using var scope = NewDisposeScope();
        var logits = queries.matmul(keys.t()).Div(temperature) * pairWeight.unsqueeze(1);     // (n, G)
        return nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).MoveToOuterDisposeScope();
    }
}

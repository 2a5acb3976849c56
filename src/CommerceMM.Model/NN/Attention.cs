using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>Scaled dot-product attention over (B, heads, L, d) tensors.</summary>
public static class Attention
{
    /// <summary>
    /// softmax(q·kᵀ/√d)·v. blocked (broadcastable to B, heads, Lq, Lk) is true where a query may not
    /// attend, e.g. padding keys. Without dropout this is TorchSharp's fused kernel; with dropout in
    /// training the weights are formed explicitly so the mask can come from the generator.
    /// </summary>
    public static Tensor ScaledDotProduct(Tensor q, Tensor k, Tensor v, Tensor? blocked, double dropoutP = 0, bool training = false, Generator? generator = null)
    {
        using var scope = torch.NewDisposeScope();
        if (!training || dropoutP == 0)
        {
            // The fused kernel's boolean mask is true where attention IS allowed.
            var allowed = blocked?.logical_not();
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, allowed).MoveToOuterDisposeScope();
        }
        // Scale q before the product, dividing as PyTorch does.
        var scores = q.Div(Math.Sqrt(q.size(-1))).matmul(k.transpose(-2, -1));
        if (blocked is not null) scores = scores.MaskedFill(blocked, double.NegativeInfinity);
        // Softmax at least in fp32 (bf16 scores lose the small weights), then back to v's dtype.
        var probabilities = scores.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? scores.softmax(-1, ScalarType.Float32).to(v.dtype) : scores.softmax(-1);
        var weights = GeneratorDropout.Apply(probabilities, dropoutP, training: true, generator);
        return weights.matmul(v).MoveToOuterDisposeScope();
    }
}

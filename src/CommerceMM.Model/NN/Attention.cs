using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>Scaled dot-product attention over (B, heads, L, d) tensors.</summary>
public static class Attention
{
    /// <summary>
    /// softmax(q·kᵀ/√d)·v. blocked (broadcastable to B, heads, Lq, Lk) is true where a query may not
    /// attend, e.g. padding keys. TorchSharp's fused kernel where it is fastest; the weights are formed
    /// explicitly with dropout in training (so the mask can come from the generator) and in bf16 on the CPU.
    /// </summary>
    public static Tensor ScaledDotProduct(Tensor q, Tensor k, Tensor v, Tensor? blocked, double dropoutP = 0, bool training = false, Generator? generator = null)
    {
        using var scope = torch.NewDisposeScope();
        bool dropout = training && dropoutP > 0;
        // bf16 on the CPU: libtorch 2.10's fused CPU kernel has a slow bf16 backward, and in fp32 between casts it still
        // ran at a fifth of the GEMM rate at our short lengths; the explicit form runs its two products as bf16 GEMMs and
        // cut the small preset's bf16 step by 5 % (CONTRIBUTING, "bf16 attention on the CPU").
        if (!dropout && (q.dtype != ScalarType.BFloat16 || q.device_type != DeviceType.CPU))
        {
            // The fused kernel's boolean mask is true where attention IS allowed.
            var allowed = blocked?.logical_not();
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, allowed).MoveToOuterDisposeScope();
        }
        // Scale q before the product, dividing as PyTorch does.
        var scores = q.Div(Math.Sqrt(q.size(-1))).matmul(k.transpose(-2, -1));
        // Added rather than filled in: an addition passes the gradient through untouched, a fill needs a masking op in
        // backward. The result is the same, as x + 0 = x and x - ∞ = -∞.
        if (blocked is not null) scores = scores.Add(torch.zeros(blocked.shape, scores.dtype, scores.device).MaskedFill(blocked, double.NegativeInfinity));
        // softmax computes in fp32 for bf16 scores and rounds its result once.
        var weights = GeneratorDropout.Apply(scores.softmax(-1), dropoutP, training, generator);
        return weights.matmul(v).MoveToOuterDisposeScope();
    }
}

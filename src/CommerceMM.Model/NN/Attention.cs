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
            if (q.dtype != ScalarType.BFloat16 || q.device_type != DeviceType.CPU)
                return torch.nn.functional.scaled_dot_product_attention(q, k, v, allowed).MoveToOuterDisposeScope();
            // bf16 on the CPU attends in fp32 and rounds the result: libtorch 2.10's CPU flash-attention backward in bf16
            // was slow enough to make the bf16 training step slower than fp32's at the tiny preset (CONTRIBUTING, "bf16
            // attention on the CPU"). Attention is a few percent of a layer's FLOPs, so fp32 costs little here.
            var attended = torch.nn.functional.scaled_dot_product_attention(
                q.to(ScalarType.Float32), k.to(ScalarType.Float32), v.to(ScalarType.Float32), allowed);
            return attended.to(ScalarType.BFloat16).MoveToOuterDisposeScope();
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

using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>
/// bf16 compute with fp32 master weights (model.precision: bf16). TorchSharp has no autocast, so the
/// casts sit at the matmul boundaries: a linear layer or attention takes bf16 inputs and bf16 copies
/// of the fp32 weights (autograd sends the gradient back through the cast into the fp32 weights; attention's
/// softmax computes in fp32 inside its kernel, <see cref="Attention"/>); layer norms, the residual stream (which adds
/// the bf16 branches by type promotion), softmax-based losses and reductions stay fp32. The setting is
/// per thread for the duration of a forward pass (<see cref="Enter"/>), like PyTorch's autocast region.
/// </summary>
/// <remarks>
/// CommerceMM runs only its transformer layers' matmuls through here (nearly all of its FLOPs). The
/// edges stay fp32 with plain linears: the patch embedding, the three embedding projections, the ITM,
/// MLM and MIM heads. They cost under 1% of a step, and in bf16 they put a rounding straight into the
/// normalised embeddings whose scaled cosines the contrastive losses compare. Measured on the dump
/// tools/gpu/device-checks.sh compares (8 rows, 2 warm-up steps, itm off; same weights): worst task
/// 1.3e-2 of fp32 with bf16 edges, 9.5e-3 with fp32 edges at 2 threads (1.4e-2, omni_t2t, at the
/// tests' 1 thread); `cmm debug dump-step`'s defaults: 5.2e-3 (Bf16ParityTests prints each task).
/// </remarks>
public static class MixedPrecision
{
    [ThreadStatic] private static bool t_bf16;

    /// <summary>True inside a bf16 region on this thread.</summary>
    public static bool Active => t_bf16;

    /// <summary>The dtype matmuls run in on this thread.</summary>
    public static ScalarType ComputeType => t_bf16 ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>Computes in <paramref name="precision"/> on this thread until the returned region is disposed (regions nest).</summary>
    public static Region Enter(Precision precision) => new(precision == Precision.Bf16);

    /// <summary>x·Wᵀ + b in the compute dtype (bf16 inside a bf16 region; otherwise exactly functional.linear).</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        if (!t_bf16) return torch.nn.functional.linear(x, weight, bias);
        using var scope = torch.NewDisposeScope();
        var result = torch.nn.functional.linear(ToCompute(x), ToCompute(weight), bias is null ? null : ToCompute(bias));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>A Linear module's forward in the compute dtype.</summary>
    public static Tensor Linear(Linear layer, Tensor x) => Linear(x, layer.weight, layer.bias);

    /// <summary>a @ b in the compute dtype.</summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        if (!t_bf16) return a.matmul(b);
        using var scope = torch.NewDisposeScope();
        return ToCompute(a).matmul(ToCompute(b)).MoveToOuterDisposeScope();
    }

    /// <summary>x in fp32 (a new handle, so callers may dispose it independently of x).</summary>
    public static Tensor Float(Tensor x) => x.dtype == ScalarType.Float32 ? x.alias() : x.to(ScalarType.Float32);

    /// <summary>x in the compute dtype; integer and bool tensors pass unchanged.</summary>
    public static Tensor ToCompute(Tensor x) =>
        t_bf16 && x.dtype == ScalarType.Float32 ? x.to(ScalarType.BFloat16) : x.alias();

    /// <summary>Restores the thread's previous setting when disposed.</summary>
    public readonly struct Region : IDisposable
    {
        private readonly bool _previous;

        internal Region(bool bf16)
        {
            _previous = t_bf16;
            t_bf16 = bf16;
        }

        public void Dispose() => t_bf16 = _previous;
    }
}

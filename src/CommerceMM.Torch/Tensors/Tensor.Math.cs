using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch;

// Element-wise arithmetic (broadcasting), linear algebra, functions and reductions.
public sealed partial class Tensor
{
    public Tensor Add(Tensor other) => Wrap(NativeMethods.cmm_tensor_add(Handle, other.Handle));
    public Tensor Sub(Tensor other) => Wrap(NativeMethods.cmm_tensor_sub(Handle, other.Handle));
    public Tensor Mul(Tensor other) => Wrap(NativeMethods.cmm_tensor_mul(Handle, other.Handle));
    public Tensor Div(Tensor other) => Wrap(NativeMethods.cmm_tensor_div(Handle, other.Handle));
    public Tensor Pow(Tensor exponent) => Wrap(NativeMethods.cmm_tensor_pow(Handle, exponent.Handle));
    public Tensor Maximum(Tensor other) => Wrap(NativeMethods.cmm_tensor_maximum(Handle, other.Handle));
    public Tensor Minimum(Tensor other) => Wrap(NativeMethods.cmm_tensor_minimum(Handle, other.Handle));

    public Tensor Add(double s) => Wrap(NativeMethods.cmm_tensor_add_scalar(Handle, s));
    public Tensor Sub(double s) => Wrap(NativeMethods.cmm_tensor_sub_scalar(Handle, s));
    public Tensor Mul(double s) => Wrap(NativeMethods.cmm_tensor_mul_scalar(Handle, s));
    public Tensor Div(double s) => Wrap(NativeMethods.cmm_tensor_div_scalar(Handle, s));
    public Tensor Pow(double exponent) => Wrap(NativeMethods.cmm_tensor_pow_scalar(Handle, exponent));

    public Tensor Eq(Tensor other) => Wrap(NativeMethods.cmm_tensor_eq(Handle, other.Handle));
    public Tensor Ne(Tensor other) => Wrap(NativeMethods.cmm_tensor_ne(Handle, other.Handle));
    public Tensor Lt(Tensor other) => Wrap(NativeMethods.cmm_tensor_lt(Handle, other.Handle));
    public Tensor Le(Tensor other) => Wrap(NativeMethods.cmm_tensor_le(Handle, other.Handle));
    public Tensor Gt(Tensor other) => Wrap(NativeMethods.cmm_tensor_gt(Handle, other.Handle));
    public Tensor Ge(Tensor other) => Wrap(NativeMethods.cmm_tensor_ge(Handle, other.Handle));
    public Tensor Eq(double s) => Wrap(NativeMethods.cmm_tensor_eq_scalar(Handle, s));
    public Tensor Ne(double s) => Wrap(NativeMethods.cmm_tensor_ne_scalar(Handle, s));
    public Tensor Lt(double s) => Wrap(NativeMethods.cmm_tensor_lt_scalar(Handle, s));
    public Tensor Le(double s) => Wrap(NativeMethods.cmm_tensor_le_scalar(Handle, s));
    public Tensor Gt(double s) => Wrap(NativeMethods.cmm_tensor_gt_scalar(Handle, s));
    public Tensor Ge(double s) => Wrap(NativeMethods.cmm_tensor_ge_scalar(Handle, s));
    public Tensor LogicalAnd(Tensor other) => Wrap(NativeMethods.cmm_tensor_logical_and(Handle, other.Handle));
    public Tensor LogicalOr(Tensor other) => Wrap(NativeMethods.cmm_tensor_logical_or(Handle, other.Handle));
    public Tensor LogicalNot() => Wrap(NativeMethods.cmm_tensor_logical_not(Handle));
    public Tensor IsFinite() => Wrap(NativeMethods.cmm_tensor_isfinite(Handle));

    public Tensor MatMul(Tensor other) => Wrap(NativeMethods.cmm_tensor_matmul(Handle, other.Handle));
    public Tensor Bmm(Tensor other) => Wrap(NativeMethods.cmm_tensor_bmm(Handle, other.Handle));
    public Tensor Mm(Tensor other) => Wrap(NativeMethods.cmm_tensor_mm(Handle, other.Handle));

    public Tensor Neg() => Wrap(NativeMethods.cmm_tensor_neg(Handle));
    public Tensor Abs() => Wrap(NativeMethods.cmm_tensor_abs(Handle));
    public Tensor Exp() => Wrap(NativeMethods.cmm_tensor_exp(Handle));
    public Tensor Log() => Wrap(NativeMethods.cmm_tensor_log(Handle));
    public Tensor Sqrt() => Wrap(NativeMethods.cmm_tensor_sqrt(Handle));
    public Tensor Rsqrt() => Wrap(NativeMethods.cmm_tensor_rsqrt(Handle));
    public Tensor Tanh() => Wrap(NativeMethods.cmm_tensor_tanh(Handle));
    public Tensor Sin() => Wrap(NativeMethods.cmm_tensor_sin(Handle));
    public Tensor Cos() => Wrap(NativeMethods.cmm_tensor_cos(Handle));
    public Tensor Sigmoid() => Wrap(NativeMethods.cmm_tensor_sigmoid(Handle));
    public Tensor Relu() => Wrap(NativeMethods.cmm_tensor_relu(Handle));

    /// <summary>The exact (erf) GELU, PyTorch's default.</summary>
    public Tensor Gelu() => Wrap(NativeMethods.cmm_tensor_gelu(Handle));

    public Tensor Softmax(long dim) => Wrap(NativeMethods.cmm_tensor_softmax(Handle, dim));
    public Tensor LogSoftmax(long dim) => Wrap(NativeMethods.cmm_tensor_log_softmax(Handle, dim));

    /// <summary>Clamps to [min, max]; a null bound leaves that side open.</summary>
    public Tensor Clamp(double? min = null, double? max = null) =>
        Wrap(NativeMethods.cmm_tensor_clamp(Handle, min.HasValue, min ?? 0, max.HasValue, max ?? 0));

    public Tensor MaskedFill(Tensor mask, double value) => Wrap(NativeMethods.cmm_tensor_masked_fill(Handle, mask.Handle, value));

    /// <summary>L2-normalises along dim: x / max(‖x‖, eps).</summary>
    public Tensor Normalize(long dim = -1, double eps = 1e-12) => Wrap(NativeMethods.cmm_tensor_normalize(Handle, dim, eps));

    // ---- reductions ----

    public Tensor Sum() => Wrap(NativeMethods.cmm_tensor_sum_all(Handle));
    public Tensor Mean() => Wrap(NativeMethods.cmm_tensor_mean_all(Handle));
    public Tensor Max() => Wrap(NativeMethods.cmm_tensor_max_all(Handle));

    public unsafe Tensor Sum(long[] dims, bool keepDim = false)
    {
        fixed (long* d = dims) return Wrap(NativeMethods.cmm_tensor_sum(Handle, d, dims.Length, keepDim));
    }

    public Tensor Sum(long dim, bool keepDim = false) => Sum([dim], keepDim);

    public unsafe Tensor Mean(long[] dims, bool keepDim = false)
    {
        fixed (long* d = dims) return Wrap(NativeMethods.cmm_tensor_mean(Handle, d, dims.Length, keepDim));
    }

    public Tensor Mean(long dim, bool keepDim = false) => Mean([dim], keepDim);

    public Tensor LogSumExp(long dim, bool keepDim = false) => Wrap(NativeMethods.cmm_tensor_logsumexp(Handle, dim, keepDim));

    public (Tensor Values, Tensor Indices) Max(long dim, bool keepDim = false)
    {
        var values = Wrap(NativeMethods.cmm_tensor_max_dim(Handle, dim, keepDim, out IntPtr indices));
        return (values, Wrap(indices));
    }

    public Tensor ArgMax(long dim, bool keepDim = false) => Wrap(NativeMethods.cmm_tensor_argmax(Handle, dim, keepDim));

    public (Tensor Values, Tensor Indices) TopK(long k, long dim = -1, bool largest = true)
    {
        var values = Wrap(NativeMethods.cmm_tensor_topk(Handle, k, dim, largest, out IntPtr indices));
        return (values, Wrap(indices));
    }

    /// <summary>The p-norm over all elements.</summary>
    public unsafe Tensor Norm(double p = 2) => Wrap(NativeMethods.cmm_tensor_norm(Handle, p, null, 0, false));

    public unsafe Tensor Norm(double p, long[] dims, bool keepDim = false)
    {
        if (dims.Length == 0) throw new ArgumentException("give at least one dimension, or use Norm(p) for all", nameof(dims));
        fixed (long* d = dims) return Wrap(NativeMethods.cmm_tensor_norm(Handle, p, d, dims.Length, keepDim));
    }

    // ---- in place (used by optimizers and EMA teachers, under no-grad) ----

    /// <summary>this += alpha * other.</summary>
    public void AddInPlace(Tensor other, double alpha = 1) => NativeError.Check(NativeMethods.cmm_tensor_add_(Handle, other.Handle, alpha));

    public void MulInPlace(double s) => NativeError.Check(NativeMethods.cmm_tensor_mul_scalar_(Handle, s));

    /// <summary>this += weight * (other - this): an exponential moving average step.</summary>
    public void LerpInPlace(Tensor other, double weight) => NativeError.Check(NativeMethods.cmm_tensor_lerp_(Handle, other.Handle, weight));
}

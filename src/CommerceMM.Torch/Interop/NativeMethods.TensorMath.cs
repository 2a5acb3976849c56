using System.Runtime.InteropServices;

namespace CommerceMM.Torch.Interop;

// Mirrors native/cmm_tensor_math.cpp.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_add(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_sub(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_mul(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_div(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_pow(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_maximum(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_minimum(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_eq(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_ne(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_lt(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_le(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_gt(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_ge(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_logical_and(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_logical_or(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_matmul(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_bmm(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_mm(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_add_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_sub_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_rsub_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_mul_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_div_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_pow_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_eq_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_ne_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_lt_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_le_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_gt_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_ge_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_neg(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_abs(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_exp(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_log(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_sqrt(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_rsqrt(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_tanh(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_sin(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_cos(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_sigmoid(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_relu(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_logical_not(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_isfinite(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_gelu(TensorHandle a);

    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_linear(TensorHandle input, TensorHandle weight, TensorHandle bias);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_clamp(TensorHandle t, [MarshalAs(UnmanagedType.U1)] bool hasMin, double min, [MarshalAs(UnmanagedType.U1)] bool hasMax, double max);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_where(TensorHandle condition, TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_masked_fill(TensorHandle t, TensorHandle mask, double value);
    [LibraryImport(Library)] internal static partial int cmm_tensor_add_(TensorHandle t, TensorHandle other, double alpha);
    [LibraryImport(Library)] internal static partial int cmm_tensor_mul_scalar_(TensorHandle t, double s);
    [LibraryImport(Library)] internal static partial int cmm_tensor_lerp_(TensorHandle t, TensorHandle other, double weight);

    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_sum_all(TensorHandle t);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_mean_all(TensorHandle t);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_max_all(TensorHandle t);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_sum(TensorHandle t, long* dims, long ndim, [MarshalAs(UnmanagedType.U1)] bool keepdim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_mean(TensorHandle t, long* dims, long ndim, [MarshalAs(UnmanagedType.U1)] bool keepdim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_logsumexp(TensorHandle t, long dim, [MarshalAs(UnmanagedType.U1)] bool keepdim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_max_dim(TensorHandle t, long dim, [MarshalAs(UnmanagedType.U1)] bool keepdim, out IntPtr indices);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_argmax(TensorHandle t, long dim, [MarshalAs(UnmanagedType.U1)] bool keepdim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_topk(TensorHandle t, long k, long dim, [MarshalAs(UnmanagedType.U1)] bool largest, out IntPtr indices);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_norm(TensorHandle t, double p, long* dims, long ndim, [MarshalAs(UnmanagedType.U1)] bool keepdim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_normalize(TensorHandle t, long dim, double eps);
}

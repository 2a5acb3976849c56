using System.Runtime.InteropServices;

namespace CommerceMM.Torch.Interop;

// Mirrors native/cmm_tensor_create.cpp.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_from_buffer(void* data, long nbytes, long* dims, long ndim, int dtype, [MarshalAs(UnmanagedType.U1)] bool requiresGrad);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_empty(long* dims, long ndim, int dtype, [MarshalAs(UnmanagedType.U1)] bool requiresGrad);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_zeros(long* dims, long ndim, int dtype, [MarshalAs(UnmanagedType.U1)] bool requiresGrad);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_ones(long* dims, long ndim, int dtype, [MarshalAs(UnmanagedType.U1)] bool requiresGrad);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_full(long* dims, long ndim, double value, int dtype, [MarshalAs(UnmanagedType.U1)] bool requiresGrad);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_arange(double start, double end, double step, int dtype);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_randn(long* dims, long ndim, int dtype, GeneratorHandle gen);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_rand(long* dims, long ndim, int dtype, GeneratorHandle gen);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_randint(long low, long high, long* dims, long ndim, GeneratorHandle gen);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_randperm(long n, GeneratorHandle gen);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_multinomial(TensorHandle probs, long samples, [MarshalAs(UnmanagedType.U1)] bool replacement, GeneratorHandle gen);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_bernoulli(TensorHandle probs, GeneratorHandle gen);

    [LibraryImport(Library)] internal static partial long cmm_tensor_ndim(TensorHandle t);
    [LibraryImport(Library)] internal static partial long cmm_tensor_shape(TensorHandle t, long* dims, long capacity);
    [LibraryImport(Library)] internal static partial int cmm_tensor_dtype(TensorHandle t);
    [LibraryImport(Library)] internal static partial long cmm_tensor_numel(TensorHandle t);
    [LibraryImport(Library)] internal static partial int cmm_tensor_is_contiguous(TensorHandle t);
    [LibraryImport(Library)] internal static partial void* cmm_tensor_data_ptr(TensorHandle t);
    [LibraryImport(Library)] internal static partial int cmm_tensor_copy_to_buffer(TensorHandle t, void* data, long nbytes);
    [LibraryImport(Library)] internal static partial double cmm_tensor_item(TensorHandle t);
}

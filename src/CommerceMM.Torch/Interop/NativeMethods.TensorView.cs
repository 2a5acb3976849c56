using System.Runtime.InteropServices;

namespace CommerceMM.Torch.Interop;

// Mirrors native/cmm_tensor_view.cpp.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_reshape(TensorHandle t, long* dims, long ndim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_view(TensorHandle t, long* dims, long ndim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_transpose(TensorHandle t, long dim0, long dim1);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_permute(TensorHandle t, long* dims, long ndim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_slice(TensorHandle t, long dim, long start, long end, long step);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_select(TensorHandle t, long dim, long index);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_index_select(TensorHandle t, long dim, TensorHandle index);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_gather(TensorHandle t, long dim, TensorHandle index);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_masked_select_rows(TensorHandle t, TensorHandle mask);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_cat(IntPtr* tensors, long count, long dim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_stack(IntPtr* tensors, long count, long dim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_expand(TensorHandle t, long* dims, long ndim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_repeat(TensorHandle t, long* dims, long ndim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_contiguous(TensorHandle t);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_clone(TensorHandle t);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_unsqueeze(TensorHandle t, long dim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_squeeze(TensorHandle t, long dim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_flatten(TensorHandle t, long startDim, long endDim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_to_dtype(TensorHandle t, int dtype);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_tril(TensorHandle t, long diagonal);
    [LibraryImport(Library)] internal static partial int cmm_tensor_copy_(TensorHandle dst, TensorHandle src);
    [LibraryImport(Library)] internal static partial int cmm_tensor_fill_(TensorHandle t, double value);
    [LibraryImport(Library)] internal static partial int cmm_tensor_zero_(TensorHandle t);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_index_put(TensorHandle t, TensorHandle mask, TensorHandle values);
}

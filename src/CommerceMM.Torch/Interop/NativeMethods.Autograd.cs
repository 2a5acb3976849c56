using System.Runtime.InteropServices;

namespace CommerceMM.Torch.Interop;

// Mirrors native/cmm_autograd.cpp.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Library)] internal static partial int cmm_autograd_backward(TensorHandle output, TensorHandle grad, [MarshalAs(UnmanagedType.U1)] bool retainGraph, [MarshalAs(UnmanagedType.U1)] bool createGraph);
    [LibraryImport(Library)] internal static partial int cmm_autograd_grad(IntPtr* outputs, long nOutputs, IntPtr* inputs, long nInputs, IntPtr* gradOutputs, long nGradOutputs, [MarshalAs(UnmanagedType.U1)] bool retainGraph, [MarshalAs(UnmanagedType.U1)] bool createGraph, [MarshalAs(UnmanagedType.U1)] bool allowUnused, IntPtr* results);
    [LibraryImport(Library)] internal static partial int cmm_tensor_requires_grad(TensorHandle t);
    [LibraryImport(Library)] internal static partial int cmm_tensor_set_requires_grad(TensorHandle t, [MarshalAs(UnmanagedType.U1)] bool requiresGrad);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_grad(TensorHandle t);
    [LibraryImport(Library)] internal static partial int cmm_tensor_set_grad(TensorHandle t, TensorHandle grad);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_detach(TensorHandle t);
    [LibraryImport(Library)] internal static partial int cmm_tensor_is_leaf(TensorHandle t);
    [LibraryImport(Library)] internal static partial int cmm_set_grad_enabled([MarshalAs(UnmanagedType.U1)] bool enabled);
    [LibraryImport(Library)] internal static partial int cmm_is_grad_enabled();
}

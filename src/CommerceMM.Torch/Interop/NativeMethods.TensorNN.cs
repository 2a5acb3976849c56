using System.Runtime.InteropServices;

namespace CommerceMM.Torch.Interop;

// Mirrors native/cmm_tensor_nn.cpp.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_softmax(TensorHandle t, long dim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_log_softmax(TensorHandle t, long dim);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_layer_norm(TensorHandle input, long* normalizedShape, long ndim, TensorHandle weight, TensorHandle bias, double eps);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_dropout(TensorHandle input, double p, [MarshalAs(UnmanagedType.U1)] bool training, GeneratorHandle gen);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_embedding(TensorHandle weight, TensorHandle indices, long paddingIdx);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_attention(TensorHandle q, TensorHandle k, TensorHandle v, TensorHandle blocked, double dropoutP, [MarshalAs(UnmanagedType.U1)] bool training, GeneratorHandle gen);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_cross_entropy(TensorHandle logits, TensorHandle target, TensorHandle classWeight, int reduction, long ignoreIndex, double labelSmoothing);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_kl_div(TensorHandle input, TensorHandle target, int reduction, [MarshalAs(UnmanagedType.U1)] bool logTarget);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_mse_loss(TensorHandle input, TensorHandle target, int reduction);
    [LibraryImport(Library)] internal static partial IntPtr cmm_tensor_bce_with_logits(TensorHandle input, TensorHandle target, TensorHandle weight, TensorHandle posWeight, int reduction);
}

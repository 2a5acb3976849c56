using System.Runtime.InteropServices;

namespace CommerceMM.Torch.Interop;

// Mirrors native/cmm_optim.cpp.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Library)] internal static partial int cmm_adamw_step(IntPtr* parameters, IntPtr* expAvgs, IntPtr* expAvgSqs, double* weightDecays, long count, long step, double lr, double beta1, double beta2, double eps);
    [LibraryImport(Library)] internal static partial double cmm_grad_global_norm(IntPtr* parameters, long count);
    [LibraryImport(Library)] internal static partial double cmm_clip_grad_norm(IntPtr* parameters, long count, double maxNorm);
}

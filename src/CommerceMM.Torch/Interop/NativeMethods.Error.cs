using System.Runtime.InteropServices;

namespace CommerceMM.Torch.Interop;

// Mirrors native/cmm_error.cpp. Ownership rules are stated at the top of native/cmm_common.h.
internal static partial class NativeMethods
{
    internal const string Library = "cmmtorch";

    [LibraryImport(Library)] internal static partial IntPtr cmm_last_error();
    [LibraryImport(Library)] internal static partial void cmm_free_string(IntPtr text);
    [LibraryImport(Library)] internal static partial void cmm_tensor_free(IntPtr handle);
    [LibraryImport(Library)] internal static partial int cmm_set_num_threads(int threads);
    [LibraryImport(Library)] internal static partial int cmm_get_openmp_threads();
    [LibraryImport(Library)] internal static partial int cmm_get_num_threads();
    [LibraryImport(Library)] internal static partial void cmm_manual_seed(ulong seed);
}

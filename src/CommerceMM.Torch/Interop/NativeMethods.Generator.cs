using System.Runtime.InteropServices;

namespace CommerceMM.Torch.Interop;

// Mirrors native/cmm_generator.cpp.
internal static partial class NativeMethods
{
    [LibraryImport(Library)] internal static partial IntPtr cmm_generator_new(ulong seed);
    [LibraryImport(Library)] internal static partial void cmm_generator_free(IntPtr g);
    [LibraryImport(Library)] internal static partial int cmm_generator_manual_seed(GeneratorHandle g, ulong seed);
    [LibraryImport(Library)] internal static partial IntPtr cmm_generator_get_state(GeneratorHandle g);
    [LibraryImport(Library)] internal static partial int cmm_generator_set_state(GeneratorHandle g, TensorHandle state);
}

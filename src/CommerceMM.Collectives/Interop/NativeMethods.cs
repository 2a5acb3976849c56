using System.Runtime.InteropServices;

namespace CommerceMM.Collectives.Interop;

// Mirrors native/cmm_collectives.h. Every function returns a status (0 or a CollectiveError value);
// the message is in cmm_last_error on the same thread. Group and work handles are owned by the C#
// wrapper that created them (ProcessGroup, PendingCollective).
internal static unsafe partial class NativeMethods
{
    private const string Library = "cmmcollectives";

    [LibraryImport(Library)] internal static partial IntPtr cmm_last_error();
    [LibraryImport(Library)] internal static partial void cmm_store_reply_value(IntPtr reply, byte* value, long length);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial void cmm_store_reply_error(IntPtr reply, string message);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int cmm_group_create(int backend, int rank, int size, string interfaceHost, int cudaDevice, long timeoutMs,
        delegate* unmanaged<IntPtr, byte*, byte*, long, IntPtr, int> set,
        delegate* unmanaged<IntPtr, byte*, long, IntPtr, int> get,
        IntPtr storeState, out IntPtr group);

    [LibraryImport(Library)] internal static partial void cmm_group_free(IntPtr group);

    [LibraryImport(Library)] internal static partial int cmm_allreduce_async(IntPtr group, IntPtr* buffers, long* elements, int* dtypes, int count, int op, long timeoutMs, out IntPtr work);
    [LibraryImport(Library)] internal static partial int cmm_work_wait(IntPtr work, long timeoutMs);
    [LibraryImport(Library)] internal static partial void cmm_work_free(IntPtr work);

    [LibraryImport(Library)] internal static partial int cmm_broadcast(IntPtr group, IntPtr buffer, long elements, int dtype, int root, long timeoutMs);
    [LibraryImport(Library)] internal static partial int cmm_allgather(IntPtr group, IntPtr input, long elements, int dtype, IntPtr output, long timeoutMs);
    [LibraryImport(Library)] internal static partial int cmm_allgatherv(IntPtr group, IntPtr input, long* counts, int dtype, IntPtr output, long timeoutMs);
    [LibraryImport(Library)] internal static partial int cmm_barrier(IntPtr group, long timeoutMs);

    [LibraryImport(Library)] internal static partial int cmm_cuda_memory(int device, out long used, out long total);
    [LibraryImport(Library)] internal static partial int cmm_cuda_compute_capability(int device, out int major, out int minor);
    [LibraryImport(Library)] internal static partial int cmm_cuda_copy_to_host(int device, ulong* sources, IntPtr* destinations, long* bytes, int count);
}

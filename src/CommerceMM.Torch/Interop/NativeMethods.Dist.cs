using System.Runtime.InteropServices;

namespace CommerceMM.Torch.Interop;

// Mirrors native/cmm_dist.cpp and native/cmm_dist_autograd.cpp. Store, group and work handles are
// raw pointers owned by the C# wrapper that created them (TcpStore, ProcessGroup, PendingCollective).
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr cmm_store_tcp_new(string host, int port, [MarshalAs(UnmanagedType.U1)] bool isServer, long timeoutMs);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr cmm_store_prefix(IntPtr inner, string prefix);
    [LibraryImport(Library)] internal static partial void cmm_store_free(IntPtr store);
    [LibraryImport(Library)] internal static partial int cmm_store_port(IntPtr store);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int cmm_store_set(IntPtr store, string key, byte* value, long length);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr cmm_store_get(IntPtr store, string key);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial long cmm_store_add(IntPtr store, string key, long delta);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int cmm_store_check(IntPtr store, string key);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int cmm_store_delete(IntPtr store, string key);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr cmm_pg_gloo_new(IntPtr store, int rank, int size, string interfaceHost, long timeoutMs);
    [LibraryImport(Library)] internal static partial void cmm_pg_free(IntPtr pg);
    [LibraryImport(Library)] internal static partial int cmm_pg_rank(IntPtr pg);
    [LibraryImport(Library)] internal static partial int cmm_pg_size(IntPtr pg);
    [LibraryImport(Library)] internal static partial IntPtr cmm_pg_allreduce_async(IntPtr pg, IntPtr* tensors, long count, int op);
    [LibraryImport(Library)] internal static partial int cmm_work_wait(IntPtr work, long timeoutMs);
    [LibraryImport(Library)] internal static partial void cmm_work_free(IntPtr work);
    [LibraryImport(Library)] internal static partial int cmm_pg_broadcast(IntPtr pg, TensorHandle tensor, int root, long timeoutMs);
    [LibraryImport(Library)] internal static partial IntPtr cmm_pg_allgather(IntPtr pg, TensorHandle tensor, long timeoutMs);
    [LibraryImport(Library)] internal static partial IntPtr cmm_pg_allgather_with_grad(IntPtr pg, TensorHandle tensor, long timeoutMs);
    [LibraryImport(Library)] internal static partial int cmm_pg_barrier(IntPtr pg, long timeoutMs);
}

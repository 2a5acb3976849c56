using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CommerceMM.Collectives.Interop;

/// <summary>
/// Lets the native rendezvous (Gloo's address exchange, NCCL's unique id) use an <see cref="IRendezvousStore"/>.
/// Keys get a per-group prefix, so several groups (or a Gloo and an NCCL group) can meet through one store.
/// Callbacks run on the thread that called <c>cmm_group_create</c>, and only during that call.
/// </summary>
internal sealed unsafe class StoreBridge : IDisposable
{
    private const int TimeoutStatus = (int)CollectiveError.Timeout;
    private const int StoreStatus = (int)CollectiveError.StoreFailure;

    // Ranks create their groups in the same order, so the n-th group made on a store has the same
    // number in every process (as torch.distributed numbers new_group calls).
    private static readonly ConditionalWeakTable<IRendezvousStore, StrongBox<int>> s_groupsPerStore = new();

    private readonly IRendezvousStore _store;
    private GCHandle _self;

    internal StoreBridge(IRendezvousStore store, string backend)
    {
        _store = store;
        var counter = s_groupsPerStore.GetValue(store, _ => new StrongBox<int>(0));
        int number = Interlocked.Increment(ref counter.Value) - 1;
        Prefix = $"cmm-collectives/{backend}/{number}/";
        _self = GCHandle.Alloc(this);
    }

    internal string Prefix { get; }

    internal IntPtr State => GCHandle.ToIntPtr(_self);

    internal static delegate* unmanaged<IntPtr, byte*, byte*, long, IntPtr, int> SetFunction => &Set;
    internal static delegate* unmanaged<IntPtr, byte*, long, IntPtr, int> GetFunction => &Get;

    [UnmanagedCallersOnly]
    private static int Set(IntPtr state, byte* key, byte* value, long length, IntPtr reply)
    {
        string name = "?";
        try
        {
            var bridge = (StoreBridge)GCHandle.FromIntPtr(state).Target!;
            name = bridge.Prefix + Marshal.PtrToStringUTF8((IntPtr)key);
            bridge._store.Set(name, new ReadOnlySpan<byte>(value, checked((int)length)).ToArray());
            return 0;
        }
        catch (Exception e)
        {
            return Fail(reply, e, $"setting '{name}'");
        }
    }

    [UnmanagedCallersOnly]
    private static int Get(IntPtr state, byte* key, long timeoutMs, IntPtr reply)
    {
        string name = "?";
        try
        {
            var bridge = (StoreBridge)GCHandle.FromIntPtr(state).Target!;
            name = bridge.Prefix + Marshal.PtrToStringUTF8((IntPtr)key);
            byte[] value = bridge._store.Get(name, TimeSpan.FromMilliseconds(timeoutMs));
            fixed (byte* p = value) NativeMethods.cmm_store_reply_value(reply, p, value.Length);
            return 0;
        }
        catch (Exception e)
        {
            return Fail(reply, e, $"waiting for '{name}'");
        }
    }

    // Exceptions must not unwind into native frames: report them as a status and a message instead.
    private static int Fail(IntPtr reply, Exception e, string action)
    {
        try
        {
            NativeMethods.cmm_store_reply_error(reply, $"{action}: {e.GetType().Name}: {e.Message}");
        }
        catch
        {
            // Nothing more can be said; the status alone still fails the rendezvous.
        }
        return e is TimeoutException ? TimeoutStatus : StoreStatus;
    }

    public void Dispose()
    {
        if (_self.IsAllocated) _self.Free();
    }
}

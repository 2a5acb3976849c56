using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch.Distributed;

/// <summary>
/// A c10d Gloo process group: the ranks of one generation of a job. Every collective takes a
/// timeout (default <see cref="Timeout"/>) and turns a dead peer or an elapsed timeout into a
/// <see cref="TorchException"/>; nothing waits forever.
/// </summary>
public sealed class ProcessGroup : IDisposable
{
    private IntPtr _handle;
    private readonly TcpStore _store; // the group's rendezvous keys live here; keep it alive

    private ProcessGroup(IntPtr handle, TcpStore store, TimeSpan timeout)
    {
        _handle = handle;
        _store = store;
        Timeout = timeout;
        Rank = NativeMethods.cmm_pg_rank(handle);
        Size = NativeMethods.cmm_pg_size(handle);
    }

    /// <summary>
    /// Joins a Gloo group. Blocks until all size ranks have joined through store, or timeout.
    /// </summary>
    /// <param name="interfaceHost">an address of this machine that peers can reach (127.0.0.1 locally, the pod IP on Kubernetes)</param>
    public static ProcessGroup CreateGloo(TcpStore store, int rank, int size, TimeSpan timeout, string interfaceHost = "127.0.0.1")
    {
        ArgumentNullException.ThrowIfNull(store);
        var handle = NativeError.CheckHandle(NativeMethods.cmm_pg_gloo_new(store.Handle, rank, size, interfaceHost, TcpStore.Millis(timeout)),
            $"joining Gloo group as rank {rank} of {size}");
        return new ProcessGroup(handle, store, timeout);
    }

    public int Rank { get; }
    public int Size { get; }

    /// <summary>Default timeout for collectives.</summary>
    public TimeSpan Timeout { get; }

    internal IntPtr Handle => _handle == IntPtr.Zero ? throw new ObjectDisposedException(nameof(ProcessGroup)) : _handle;

    /// <summary>Starts an in-place all-reduce of contiguous tensors and returns at once.</summary>
    public unsafe PendingCollective AllReduceAsync(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum)
    {
        IntPtr* handles = stackalloc IntPtr[tensors.Count];
        Torch.Fill(tensors, handles);
        var work = NativeError.CheckHandle(NativeMethods.cmm_pg_allreduce_async(Handle, handles, tensors.Count, (int)op), "all_reduce");
        return new PendingCollective(work, tensors);
    }

    public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum, TimeSpan? timeout = null)
    {
        using var pending = AllReduceAsync(tensors, op);
        pending.Wait(timeout ?? Timeout);
    }

    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum, TimeSpan? timeout = null) => AllReduce([tensor], op, timeout);

    /// <summary>Overwrites tensor on every rank with root's value.</summary>
    public void Broadcast(Tensor tensor, int root = 0, TimeSpan? timeout = null)
    {
        NativeError.Check(NativeMethods.cmm_pg_broadcast(Handle, tensor.Handle, root, TcpStore.Millis(timeout ?? Timeout)), "broadcast");
        GC.KeepAlive(this);
    }

    /// <summary>Every rank's rows (row counts may differ, row shapes may not), concatenated in rank order. No gradient.</summary>
    public Tensor AllGather(Tensor tensor, TimeSpan? timeout = null)
    {
        var result = Tensor.Wrap(NativeMethods.cmm_pg_allgather(Handle, tensor.Handle, TcpStore.Millis(timeout ?? Timeout)));
        GC.KeepAlive(this);
        return result;
    }

    /// <summary>
    /// All-gather that autograd differentiates: the backward pass sums the incoming gradient across
    /// ranks and returns this rank's slice. Score local rows against the gathered columns and the
    /// averaged parameter gradients of N ranks equal the single-process gradient (MODEL.md §5).
    /// This group must stay alive until the backward pass has run.
    /// </summary>
    public Tensor AllGatherWithGrad(Tensor tensor, TimeSpan? timeout = null)
    {
        var result = Tensor.Wrap(NativeMethods.cmm_pg_allgather_with_grad(Handle, tensor.Handle, TcpStore.Millis(timeout ?? Timeout)));
        GC.KeepAlive(this);
        return result;
    }

    public void Barrier(TimeSpan? timeout = null)
    {
        NativeError.Check(NativeMethods.cmm_pg_barrier(Handle, TcpStore.Millis(timeout ?? Timeout)), "barrier");
        GC.KeepAlive(this);
    }

    public void Dispose()
    {
        if (_handle == IntPtr.Zero) return;
        NativeMethods.cmm_pg_free(_handle);
        _handle = IntPtr.Zero;
        GC.KeepAlive(_store);
    }
}

using System.Runtime.CompilerServices;
using CommerceMM.Collectives.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Collectives;

/// <summary>
/// The ranks of one generation of a job: Gloo for CPU tensors, NCCL for CUDA tensors. Every
/// collective takes a timeout (default <see cref="Timeout"/>) and turns a dead peer or an elapsed
/// timeout into a <see cref="CollectiveException"/>; nothing waits forever. Collectives run in the
/// order they are called, which must be the same order on every rank.
/// </summary>
public sealed partial class ProcessGroup : IDisposable
{
    private IntPtr _handle;
    private readonly CollectiveBackend _backend;
    private readonly IRendezvousStore _store;
    private readonly string _interfaceHost;
    private Exception? _backwardFailure; // set when an all-gather's backward pass could not all-reduce
    private readonly StrongBox<TimeSpan> _timeout; // shared with the groups NewGroup makes
    private readonly PeerWaits _waits;             // shared likewise

    private ProcessGroup(IntPtr handle, CollectiveBackend backend, IRendezvousStore store, string interfaceHost, int rank, int size, Device device,
                         StrongBox<TimeSpan> timeout, PeerWaits waits)
    {
        _handle = handle;
        _backend = backend;
        _store = store;
        _interfaceHost = interfaceHost;
        Rank = rank;
        Size = size;
        Device = device;
        _timeout = timeout;
        _waits = waits;
    }

    /// <summary>
    /// Joins a group: Gloo when device is the CPU, NCCL when it is a CUDA device. Blocks until all
    /// size ranks have joined through store, or timeout.
    /// </summary>
    /// <param name="store">where ranks meet; scoped by the caller to one job generation</param>
    /// <param name="interfaceHost">an address of this machine that peers can reach (127.0.0.1 locally, the pod IP on Kubernetes); Gloo only</param>
    public static ProcessGroup Create(IRendezvousStore store, int rank, int size, Device device, TimeSpan timeout, string interfaceHost = "127.0.0.1")
    {
        ArgumentNullException.ThrowIfNull(device);
        var backend = device.type switch
        {
            DeviceType.CPU => CollectiveBackend.Gloo,
            DeviceType.CUDA => CollectiveBackend.Nccl,
            _ => throw new ArgumentException($"collectives run on cpu (Gloo) or cuda (NCCL) tensors, not on {device}", nameof(device)),
        };
        return Create(store, rank, size, device, timeout, interfaceHost, backend);
    }

    /// <summary>Joins with an explicit backend: the tests run NCCL over a stub library on host memory.</summary>
    internal static ProcessGroup Create(IRendezvousStore store, int rank, int size, Device device, TimeSpan timeout, string interfaceHost, CollectiveBackend backend) =>
        Create(store, rank, size, device, new StrongBox<TimeSpan>(timeout), new PeerWaits(), interfaceHost, backend);

    private static unsafe ProcessGroup Create(IRendezvousStore store, int rank, int size, Device device, StrongBox<TimeSpan> timeout, PeerWaits waits,
                                              string interfaceHost, CollectiveBackend backend)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(interfaceHost);
        using var bridge = new StoreBridge(store, backend.ToString().ToLowerInvariant());
        int status = NativeMethods.cmm_group_create((int)backend, rank, size, interfaceHost, Math.Max(device.index, 0), NativeStatus.Millis(timeout.Value),
            StoreBridge.SetFunction, StoreBridge.GetFunction, bridge.State, out IntPtr handle);
        NativeStatus.Check(status, $"creating a {backend} process group (rank {rank} of {size}, store keys '{bridge.Prefix}*')");
        return new ProcessGroup(handle, backend, store, interfaceHost, rank, size, device, timeout, waits);
    }

    /// <summary>
    /// Another group of the same ranks, through the same store, with its own connections and its own queue,
    /// as torch.distributed's new_group. Collectives on different groups are not ordered against each other,
    /// so work whose order differs between ranks (gradient buckets sent as backward finishes each layer)
    /// gets a group of its own. Collective: every rank calls it, in the same order as its other group creations.
    /// The new group shares this one's <see cref="Timeout"/> (setting either sets both) and <see cref="WaitingOnPeersFor"/>.
    /// </summary>
    public ProcessGroup NewGroup() => Create(_store, Rank, Size, Device, _timeout, _waits, _interfaceHost, _backend);

    internal CollectiveBackend Backend => _backend;

    public int Rank { get; }
    public int Size { get; }

    /// <summary>The device whose tensors this group's collectives take.</summary>
    public Device Device { get; }

    /// <summary>
    /// Default timeout for collectives. A worker sets it from its job as it runs (the coordinator's heartbeat timeout):
    /// a collective that waits longer waits for a rank the coordinator has given up on.
    /// </summary>
    public TimeSpan Timeout
    {
        get => _timeout.Value;
        set => _timeout.Value = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a collective timeout must be positive");
    }

    /// <summary>
    /// How long this group's calls (and those of the groups made from it) have been blocked on peers without a break;
    /// null when none is. Any thread may read it.
    /// </summary>
    public TimeSpan? WaitingOnPeersFor => _waits.Longest;

    private IntPtr Handle
    {
        get
        {
            if (_handle == IntPtr.Zero) throw new ObjectDisposedException(nameof(ProcessGroup));
            if (_backwardFailure is { } failure)
                throw new CollectiveException(CollectiveError.GroupBroken, $"an all-gather's backward pass failed earlier: {failure.Message}", failure);
            return _handle;
        }
    }

    /// <summary>Starts an in-place all-reduce of contiguous tensors (each reduced on its own) and returns at once.</summary>
    public PendingCollective AllReduceAsync(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum) => AllReduceAsync(tensors, op, Timeout);

    private unsafe PendingCollective AllReduceAsync(IReadOnlyList<Tensor> tensors, ReduceOp op, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        int n = tensors.Count;
        var buffers = new IntPtr[n];
        var elements = new long[n];
        var types = new int[n];
        for (int i = 0; i < n; i++)
            (buffers[i], elements[i], types[i]) = TensorBuffers.InPlace(tensors[i], Device, $"all_reduce tensor {i}");
        IntPtr work;
        fixed (IntPtr* b = buffers)
        fixed (long* e = elements)
        fixed (int* t = types)
            NativeStatus.Check(NativeMethods.cmm_allreduce_async(Handle, b, e, t, n, (int)op, NativeStatus.Millis(timeout), out work), $"all_reduce ({op})");
        return new PendingCollective(work, tensors.ToArray(), _waits);
    }

    public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum, TimeSpan? timeout = null)
    {
        using var pending = AllReduceAsync(tensors, op, timeout ?? Timeout);
        pending.Wait(timeout ?? Timeout);
    }

    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum, TimeSpan? timeout = null) => AllReduce([tensor], op, timeout);

    /// <summary>Overwrites tensor on every rank with root's value.</summary>
    public void Broadcast(Tensor tensor, int root = 0, TimeSpan? timeout = null)
    {
        var (data, elements, type) = TensorBuffers.InPlace(tensor, Device, "broadcast");
        using var blocked = _waits.Enter();
        NativeStatus.Check(NativeMethods.cmm_broadcast(Handle, data, elements, type, root, NativeStatus.Millis(timeout ?? Timeout)), $"broadcast from rank {root}");
        GC.KeepAlive(tensor);
    }

    /// <summary>Returns once every rank has called it, or throws after timeout.</summary>
    public void Barrier(TimeSpan? timeout = null)
    {
        if (_backend == CollectiveBackend.Gloo)
        {
            using var blocked = _waits.Enter();
            NativeStatus.Check(NativeMethods.cmm_barrier(Handle, NativeStatus.Millis(timeout ?? Timeout)), "barrier");
            return;
        }
        // NCCL has no barrier: a one-element all-reduce on the device completes only when every rank joined it.
        using var token = torch.zeros(1, ScalarType.Float32, device: Device);
        AllReduce(token, ReduceOp.Sum, timeout);
    }

    /// <summary>Called by the all-gather's backward pass, which must not throw into libtorch's engine.</summary>
    internal void RecordBackwardFailure(Exception e) => Interlocked.CompareExchange(ref _backwardFailure, e, null);

    /// <summary>Waits for the collective in progress (bounded by its timeout), cancels queued ones and leaves the group.</summary>
    public void Dispose()
    {
        if (_handle == IntPtr.Zero) return;
        NativeMethods.cmm_group_free(_handle);
        _handle = IntPtr.Zero;
    }
}

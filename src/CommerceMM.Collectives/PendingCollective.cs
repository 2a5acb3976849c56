using CommerceMM.Collectives.Interop;
using static TorchSharp.torch;

namespace CommerceMM.Collectives;

/// <summary>An in-flight all-reduce. Wait for it before reading its tensors; dispose it afterwards.</summary>
public sealed class PendingCollective : IDisposable
{
    private IntPtr _work;
    private readonly Tensor[] _tensors; // kept alive: the collective writes into them
    private readonly PeerWaits _waits;

    internal PendingCollective(IntPtr work, Tensor[] tensors, PeerWaits waits)
    {
        _work = work;
        _tensors = tensors;
        _waits = waits;
    }

    /// <summary>Blocks until done; a failed peer or an elapsed timeout throws <see cref="CollectiveException"/>.</summary>
    public void Wait(TimeSpan timeout)
    {
        if (_work == IntPtr.Zero) throw new ObjectDisposedException(nameof(PendingCollective));
        using var blocked = _waits.Enter();
        NativeStatus.Check(NativeMethods.cmm_work_wait(_work, NativeStatus.Millis(timeout)), null); // the native message names the collective, rank and size
        GC.KeepAlive(_tensors);
    }

    /// <summary>Cancels it if it has not started; if it is running, blocks until it no longer touches the tensors.</summary>
    public void Dispose()
    {
        if (_work == IntPtr.Zero) return;
        NativeMethods.cmm_work_free(_work);
        _work = IntPtr.Zero;
        GC.KeepAlive(_tensors);
    }
}

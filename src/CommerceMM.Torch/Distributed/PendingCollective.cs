using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch.Distributed;

/// <summary>An in-flight all-reduce. Wait for it before reading its tensors; dispose it afterwards.</summary>
public sealed class PendingCollective : IDisposable
{
    private IntPtr _work;
    private readonly IReadOnlyList<Tensor> _tensors; // kept alive: the collective writes into them

    internal PendingCollective(IntPtr work, IReadOnlyList<Tensor> tensors)
    {
        _work = work;
        _tensors = tensors;
    }

    /// <summary>Blocks until done; a failed peer or an elapsed timeout throws <see cref="TorchException"/>.</summary>
    public void Wait(TimeSpan timeout)
    {
        if (_work == IntPtr.Zero) throw new ObjectDisposedException(nameof(PendingCollective));
        NativeError.Check(NativeMethods.cmm_work_wait(_work, TcpStore.Millis(timeout)));
        GC.KeepAlive(_tensors);
    }

    public void Dispose()
    {
        if (_work == IntPtr.Zero) return;
        NativeMethods.cmm_work_free(_work);
        _work = IntPtr.Zero;
    }
}

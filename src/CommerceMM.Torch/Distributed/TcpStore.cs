using System.Text;
using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch.Distributed;

/// <summary>
/// A c10d key-value store for rendezvous. One process (the coordinator) runs the server; workers
/// connect as clients. <see cref="WithPrefix"/> gives each generation its own key space, so a late
/// message from an old generation can never satisfy a new rendezvous.
/// </summary>
public sealed class TcpStore : IDisposable
{
    private IntPtr _handle;
    private readonly TcpStore? _inner; // keeps the underlying store alive while a prefix view exists

    private TcpStore(IntPtr handle, TcpStore? inner)
    {
        _handle = handle;
        _inner = inner;
    }

    /// <summary>Starts a server on host:port (port 0 picks a free one; see <see cref="Port"/>).</summary>
    public static TcpStore StartServer(string host, int port, TimeSpan timeout) =>
        new(NativeError.CheckHandle(NativeMethods.cmm_store_tcp_new(host, port, isServer: true, Millis(timeout))), null);

    /// <summary>Connects to a server, retrying until timeout; then an error naming the address.</summary>
    public static TcpStore Connect(string host, int port, TimeSpan timeout) =>
        new(NativeError.CheckHandle(NativeMethods.cmm_store_tcp_new(host, port, isServer: false, Millis(timeout))), null);

    /// <summary>A view whose keys are all prefixed with prefix + "/".</summary>
    public TcpStore WithPrefix(string prefix) => new(NativeError.CheckHandle(NativeMethods.cmm_store_prefix(Handle, prefix)), this);

    /// <summary>The bound port (for servers and direct clients; 0 for prefix views).</summary>
    public int Port => NativeMethods.cmm_store_port(Handle);

    internal IntPtr Handle => _handle == IntPtr.Zero ? throw new ObjectDisposedException(nameof(TcpStore)) : _handle;

    public unsafe void Set(string key, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value) NativeError.Check(NativeMethods.cmm_store_set(Handle, key, p, value.Length), $"store set '{key}'");
        GC.KeepAlive(this);
    }

    public void Set(string key, string value) => Set(key, Encoding.UTF8.GetBytes(value));

    /// <summary>Waits (up to the store timeout) for key to exist and returns its value.</summary>
    public byte[] Get(string key)
    {
        using var value = Tensor.Wrap(NativeMethods.cmm_store_get(Handle, key));
        GC.KeepAlive(this);
        return value.ToArray<byte>();
    }

    public string GetString(string key) => Encoding.UTF8.GetString(Get(key));

    /// <summary>Atomically adds delta to the integer at key (created as 0) and returns the new value.</summary>
    public long Add(string key, long delta)
    {
        long value = NativeMethods.cmm_store_add(Handle, key, delta);
        if (value == long.MinValue) throw NativeError.Take($"store add '{key}'");
        GC.KeepAlive(this);
        return value;
    }

    public bool Contains(string key)
    {
        int result = NativeMethods.cmm_store_check(Handle, key);
        GC.KeepAlive(this);
        return result < 0 ? throw NativeError.Take($"store check '{key}'") : result == 1;
    }

    public void Dispose()
    {
        if (_handle == IntPtr.Zero) return;
        NativeMethods.cmm_store_free(_handle);
        _handle = IntPtr.Zero;
        GC.KeepAlive(_inner);
    }

    internal static long Millis(TimeSpan timeout) =>
        timeout > TimeSpan.Zero ? (long)Math.Ceiling(timeout.TotalMilliseconds) : throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "timeout must be positive");
}

using System.Runtime.InteropServices;
using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch;

/// <summary>
/// A libtorch tensor. Disposing frees the native memory at once; an undisposed tensor is freed by the
/// garbage collector eventually, which for large tensors is too late: use <c>using</c> or a
/// <see cref="DisposeScope"/>. Any use after <see cref="Dispose"/> throws <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private readonly TensorHandle _handle;
    private long[]? _shape;

    internal Tensor(IntPtr handle)
    {
        _handle = new TensorHandle(handle, ownsHandle: true);
        DisposeScope.Track(this);
    }

    /// <summary>Wraps a native result, turning a null handle into the thread's native error.</summary>
    internal static Tensor Wrap(IntPtr handle) => new(NativeError.CheckHandle(handle));

    /// <summary>Like <see cref="Wrap"/>, but a null handle means "undefined" (no error).</summary>
    internal static Tensor? WrapOptional(IntPtr handle) => handle == IntPtr.Zero ? null : new Tensor(handle);

    /// <summary>The validated native handle: every native call goes through here.</summary>
    internal TensorHandle Handle => _handle.IsClosed ? throw new ObjectDisposedException(nameof(Tensor), "this tensor was disposed") : _handle;

    /// <summary>Native tensors currently alive in this process (for leak tests).</summary>
    public static long LiveCount => TensorHandle.Live;

    public bool IsDisposed => _handle.IsClosed;

    public void Dispose()
    {
        _handle.Dispose();
        DisposeScope.Forget(this);
    }

    public unsafe long[] Shape
    {
        get
        {
            if (_shape is not null && !_handle.IsClosed) return _shape;
            Span<long> dims = stackalloc long[16];
            long ndim;
            fixed (long* d = dims) ndim = NativeMethods.cmm_tensor_shape(Handle, d, dims.Length);
            if (ndim < 0) throw NativeError.Take();
            if (ndim > dims.Length) throw new TorchException($"tensor has {ndim} dimensions; at most {dims.Length} are supported");
            return _shape = dims[..(int)ndim].ToArray();
        }
    }

    public int Dim => Shape.Length;

    /// <summary>Size of one dimension; negative indices count from the end.</summary>
    public long Size(int dim)
    {
        long[] shape = Shape;
        int d = dim < 0 ? dim + shape.Length : dim;
        if (d < 0 || d >= shape.Length) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"tensor of shape {FormatShape(shape)} has {shape.Length} dimensions");
        return shape[d];
    }

    public long NumEl
    {
        get
        {
            long n = NativeMethods.cmm_tensor_numel(Handle);
            return n < 0 ? throw NativeError.Take() : n;
        }
    }

    public DType DType
    {
        get
        {
            int code = NativeMethods.cmm_tensor_dtype(Handle);
            return code < 0 ? throw new TorchException("tensor has a dtype this API does not support") : (DType)code;
        }
    }

    public bool IsContiguous => NativeMethods.cmm_tensor_is_contiguous(Handle) switch
    {
        < 0 => throw NativeError.Take(),
        var v => v == 1,
    };

    public long ByteSize => NumEl * DType.ElementSize();

    /// <summary>The single element as a double (float, integer or bool tensors).</summary>
    public double Item() => NativeError.CheckDouble(NativeMethods.cmm_tensor_item(Handle));

    public float ItemFloat() => (float)Item();

    public long ItemLong() => (long)Item();

    /// <summary>Copies the elements out (any layout) into a new array of the tensor's element type.</summary>
    public unsafe T[] ToArray<T>() where T : unmanaged
    {
        DType expected = DTypeExtensions.ForElement<T>();
        if (DType != expected) throw new InvalidOperationException($"tensor is {DType}; ToArray<{typeof(T).Name}> needs {expected} (convert with To({expected}))");
        var result = new T[NumEl];
        fixed (T* p = result) NativeError.Check(NativeMethods.cmm_tensor_copy_to_buffer(Handle, p, (long)result.Length * sizeof(T)));
        return result;
    }

    /// <summary>
    /// The raw bytes of a contiguous tensor, valid only while this tensor lives and is not resized.
    /// Used to stream tensors to files without a managed copy.
    /// </summary>
    internal unsafe Span<byte> UnsafeBytes()
    {
        long bytes = ByteSize;
        if (bytes > int.MaxValue) throw new NotSupportedException($"tensors over 2 GiB cannot be viewed as one span ({bytes} bytes)");
        if (bytes == 0) return Span<byte>.Empty;
        void* p = NativeMethods.cmm_tensor_data_ptr(Handle);
        if (p == null) throw NativeError.Take();
        return new Span<byte>(p, (int)bytes);
    }

    public override string ToString() => IsDisposed ? "Tensor(disposed)" : $"Tensor({FormatShape(Shape)}, {DType})";

    public static string FormatShape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}

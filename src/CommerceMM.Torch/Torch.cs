using System.Runtime.InteropServices;
using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch;

/// <summary>Process settings, tensor factories and multi-tensor functions.</summary>
public static partial class Torch
{
    private static int s_numThreads;

    /// <summary>
    /// Intra-op threads. libtorch defaults to 1 here; use the core count, and start the process with
    /// OMP_WAIT_POLICY=PASSIVE or two threads on two cores run slower than one (PLATFORM.md).
    /// </summary>
    /// <remarks>
    /// libtorch keeps the count process-wide, but OpenMP (and so OpenBLAS) keeps it per OS thread: the
    /// setter reaches only the calling thread's BLAS. Work that may run on another thread (after an
    /// <c>await</c>) calls <see cref="UseConfiguredThreads"/> first.
    /// </remarks>
    public static int NumThreads
    {
        get => NativeMethods.cmm_get_num_threads();
        set
        {
            NativeError.Check(NativeMethods.cmm_set_num_threads(value), "setting thread count");
            s_numThreads = value;
        }
    }

    /// <summary>The OpenMP thread count BLAS calls on this OS thread would use.</summary>
    public static int OpenMpThreadsOnThisThread => NativeMethods.cmm_get_openmp_threads();

    /// <summary>
    /// Gives the calling thread the last <see cref="NumThreads"/> set. Without it, two one-thread workers
    /// on two cores ran their BLAS calls with two threads each wherever a step resumed on a thread-pool
    /// thread: oversubscribed, and with results that varied from run to run.
    /// </summary>
    public static void UseConfiguredThreads()
    {
        int wanted = s_numThreads;
        if (wanted > 0 && OpenMpThreadsOnThisThread != wanted) NumThreads = wanted;
    }

    /// <summary>Seeds libtorch's default generator (draws that were given no explicit generator).</summary>
    public static void ManualSeed(ulong seed) => NativeMethods.cmm_manual_seed(seed);

    /// <summary>Disables gradient recording on this thread until the returned scope is disposed.</summary>
    public static GradModeScope NoGrad() => new(enabled: false);

    /// <summary>Re-enables gradient recording on this thread until the returned scope is disposed.</summary>
    public static GradModeScope EnableGrad() => new(enabled: true);

    public static bool IsGradEnabled => NativeMethods.cmm_is_grad_enabled() == 1;

    // ---- factories ----

    public static unsafe Tensor FromArray<T>(ReadOnlySpan<T> data, params long[] shape) where T : unmanaged
    {
        long expected = 1;
        foreach (long d in shape) expected *= d;
        if (expected != data.Length)
            throw new ArgumentException($"shape {Tensor.FormatShape(shape)} needs {expected} elements but {data.Length} were given", nameof(shape));
        fixed (T* p = data)
        fixed (long* d = shape)
            return Tensor.Wrap(NativeMethods.cmm_tensor_from_buffer(p, (long)data.Length * sizeof(T), d, shape.Length, (int)DTypeExtensions.ForElement<T>(), false));
    }

    public static Tensor FromArray<T>(T[] data, params long[] shape) where T : unmanaged => FromArray((ReadOnlySpan<T>)data, shape);

    /// <summary>A 1-D tensor holding data.</summary>
    public static Tensor FromArray<T>(T[] data) where T : unmanaged => FromArray((ReadOnlySpan<T>)data, data.Length);

    /// <summary>A tensor from raw little-endian bytes (e.g. bfloat16 read from a file).</summary>
    public static unsafe Tensor FromBytes(ReadOnlySpan<byte> bytes, DType dtype, params long[] shape)
    {
        fixed (byte* p = bytes)
        fixed (long* d = shape)
            return Tensor.Wrap(NativeMethods.cmm_tensor_from_buffer(p, bytes.Length, d, shape.Length, (int)dtype, false));
    }

    public static Tensor Scalar(double value, DType dtype = DType.Float32) => Full([], value, dtype);

    public static unsafe Tensor Empty(long[] shape, DType dtype = DType.Float32, bool requiresGrad = false)
    {
        fixed (long* d = shape) return Tensor.Wrap(NativeMethods.cmm_tensor_empty(d, shape.Length, (int)dtype, requiresGrad));
    }

    public static unsafe Tensor Zeros(long[] shape, DType dtype = DType.Float32, bool requiresGrad = false)
    {
        fixed (long* d = shape) return Tensor.Wrap(NativeMethods.cmm_tensor_zeros(d, shape.Length, (int)dtype, requiresGrad));
    }

    public static unsafe Tensor Ones(long[] shape, DType dtype = DType.Float32, bool requiresGrad = false)
    {
        fixed (long* d = shape) return Tensor.Wrap(NativeMethods.cmm_tensor_ones(d, shape.Length, (int)dtype, requiresGrad));
    }

    public static unsafe Tensor Full(long[] shape, double value, DType dtype = DType.Float32, bool requiresGrad = false)
    {
        fixed (long* d = shape) return Tensor.Wrap(NativeMethods.cmm_tensor_full(d, shape.Length, value, (int)dtype, requiresGrad));
    }

    public static Tensor ZerosLike(Tensor t) => Zeros(t.Shape, t.DType);

    public static Tensor Arange(double end, DType dtype = DType.Int64) => Arange(0, end, 1, dtype);

    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Int64) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_arange(start, end, step, (int)dtype));

    /// <summary>Standard normal samples drawn from generator (the default generator when null).</summary>
    public static unsafe Tensor Randn(long[] shape, Generator? generator, DType dtype = DType.Float32)
    {
        fixed (long* d = shape) return Tensor.Wrap(NativeMethods.cmm_tensor_randn(d, shape.Length, (int)dtype, Generator.HandleOf(generator)));
    }

    /// <summary>Uniform [0, 1) samples drawn from generator (the default generator when null).</summary>
    public static unsafe Tensor Rand(long[] shape, Generator? generator, DType dtype = DType.Float32)
    {
        fixed (long* d = shape) return Tensor.Wrap(NativeMethods.cmm_tensor_rand(d, shape.Length, (int)dtype, Generator.HandleOf(generator)));
    }

    /// <summary>Uniform integers in [low, high) as int64.</summary>
    public static unsafe Tensor RandInt(long low, long high, long[] shape, Generator? generator)
    {
        fixed (long* d = shape) return Tensor.Wrap(NativeMethods.cmm_tensor_randint(low, high, d, shape.Length, Generator.HandleOf(generator)));
    }

    public static Tensor RandPerm(long n, Generator? generator) => Tensor.Wrap(NativeMethods.cmm_tensor_randperm(n, Generator.HandleOf(generator)));

    /// <summary>Samples indices from each row of probs (rows need not sum to 1).</summary>
    public static Tensor Multinomial(Tensor probs, long samples, bool replacement, Generator? generator) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_multinomial(probs.Handle, samples, replacement, Generator.HandleOf(generator)));

    public static Tensor Bernoulli(Tensor probs, Generator? generator) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_bernoulli(probs.Handle, Generator.HandleOf(generator)));

    // ---- multi-tensor functions ----

    public static unsafe Tensor Cat(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        IntPtr* handles = stackalloc IntPtr[tensors.Count];
        Fill(tensors, handles);
        var result = Tensor.Wrap(NativeMethods.cmm_tensor_cat(handles, tensors.Count, dim));
        GC.KeepAlive(tensors);
        return result;
    }

    public static unsafe Tensor Stack(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        IntPtr* handles = stackalloc IntPtr[tensors.Count];
        Fill(tensors, handles);
        var result = Tensor.Wrap(NativeMethods.cmm_tensor_stack(handles, tensors.Count, dim));
        GC.KeepAlive(tensors);
        return result;
    }

    /// <summary>Element-wise condition ? a : b.</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_where(condition.Handle, a.Handle, b.Handle));

    /// <summary>
    /// Raw handles of tensors that the caller keeps referenced for the duration of the native call.
    /// The validating accessor runs first, so a disposed tensor throws here, not in native code.
    /// </summary>
    internal static unsafe void Fill(IReadOnlyList<Tensor> tensors, IntPtr* handles)
    {
        for (int i = 0; i < tensors.Count; i++) handles[i] = tensors[i].Handle.DangerousGetHandle();
    }
}

/// <summary>Restores the thread's previous grad mode when disposed.</summary>
public readonly struct GradModeScope : IDisposable
{
    private readonly bool _previous;

    internal GradModeScope(bool enabled) => _previous = NativeMethods.cmm_set_grad_enabled(enabled) == 1;

    public void Dispose() => NativeMethods.cmm_set_grad_enabled(_previous);
}

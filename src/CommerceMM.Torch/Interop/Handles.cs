using System.Runtime.InteropServices;

namespace CommerceMM.Torch.Interop;

/// <summary>Owns one native at::Tensor. The count of live handles lets tests prove nothing leaks.</summary>
internal sealed class TensorHandle : SafeHandle
{
    private static long s_live;

    /// <summary>Stands for "no tensor" (an absent bias, an undefined gradient) in native calls.</summary>
    internal static readonly TensorHandle Null = new(IntPtr.Zero, ownsHandle: false);

    public TensorHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    internal TensorHandle(IntPtr handle, bool ownsHandle) : base(IntPtr.Zero, ownsHandle)
    {
        SetHandle(handle);
        if (ownsHandle && handle != IntPtr.Zero) Interlocked.Increment(ref s_live);
    }

    internal static long Live => Interlocked.Read(ref s_live);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.cmm_tensor_free(handle);
        Interlocked.Decrement(ref s_live);
        return true;
    }
}

/// <summary>Owns one native at::Generator. The null handle selects libtorch's default generator.</summary>
internal sealed class GeneratorHandle : SafeHandle
{
    internal static readonly GeneratorHandle Null = new(IntPtr.Zero, ownsHandle: false);

    public GeneratorHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    internal GeneratorHandle(IntPtr handle, bool ownsHandle) : base(IntPtr.Zero, ownsHandle) => SetHandle(handle);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.cmm_generator_free(handle);
        return true;
    }
}

using System.Runtime.InteropServices;

namespace CommerceMM.Torch.Interop;

/// <summary>The one place native failures become managed exceptions.</summary>
internal static class NativeError
{
    /// <summary>Reads and clears this thread's native error text, freeing the native copy.</summary>
    internal static TorchException Take(string? context = null)
    {
        IntPtr text = NativeMethods.cmm_last_error();
        string message;
        if (text == IntPtr.Zero)
        {
            message = "libtorch reported a failure without a message";
        }
        else
        {
            message = Marshal.PtrToStringUTF8(text) ?? "";
            NativeMethods.cmm_free_string(text);
        }
        return new TorchException(context is null ? message : $"{context}: {message}");
    }

    internal static void Check(int status, string? context = null)
    {
        if (status < 0) throw Take(context);
    }

    internal static IntPtr CheckHandle(IntPtr handle, string? context = null) =>
        handle == IntPtr.Zero ? throw Take(context) : handle;

    /// <summary>Throws if this thread has pending native error text; for calls whose null/NaN result can be legitimate.</summary>
    internal static void ThrowIfAny()
    {
        IntPtr text = NativeMethods.cmm_last_error();
        if (text == IntPtr.Zero) return;
        string message = Marshal.PtrToStringUTF8(text) ?? "";
        NativeMethods.cmm_free_string(text);
        throw new TorchException(message);
    }

    internal static double CheckDouble(double value)
    {
        if (double.IsNaN(value)) ThrowIfAny();
        return value;
    }
}

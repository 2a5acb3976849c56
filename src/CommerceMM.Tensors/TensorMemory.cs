using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Tensors;

/// <summary>Raw memory of contiguous tensors, for file I/O and for the collectives library.</summary>
public static class TensorMemory
{
    /// <summary>
    /// The address of a contiguous tensor's first element on its device (host or GPU memory): the
    /// storage pointer plus the storage offset, as libtorch's data_ptr. Valid while the tensor lives.
    /// </summary>
    public static IntPtr DataPointer(Tensor tensor)
    {
        if (!tensor.is_contiguous()) throw new ArgumentException($"tensor of shape {FormatShape(tensor.shape)} is not contiguous; call contiguous() first", nameof(tensor));
        if (tensor.NumberOfElements == 0) return IntPtr.Zero;
        IntPtr p = THSTensor_data(tensor.Handle);
        if (p == IntPtr.Zero) throw new InvalidOperationException($"libtorch returned no data pointer for a tensor of shape {FormatShape(tensor.shape)} on {tensor.device}");
        return p;
    }

    /// <summary>The bytes of a contiguous CPU tensor, valid only while it lives and is not resized.</summary>
    public static unsafe Span<byte> HostBytes(Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CPU) throw new ArgumentException($"tensor is on {tensor.device}; copy it to the host with cpu() first", nameof(tensor));
        long bytes = tensor.NumberOfElements * tensor.ElementSize;
        if (bytes > int.MaxValue) throw new NotSupportedException($"tensors over 2 GiB cannot be viewed as one span ({bytes} bytes)");
        return bytes == 0 ? Span<byte>.Empty : new Span<byte>((void*)DataPointer(tensor), (int)bytes);
    }

    public static string FormatShape(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    // TorchSharp's own export (at::Tensor::data_ptr); TorchSharp keeps its binding internal.
    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);
}

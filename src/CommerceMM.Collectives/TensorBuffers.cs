using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Collectives;

/// <summary>Checks that a tensor can be handed to the native library and gives its raw buffer.</summary>
internal static class TensorBuffers
{
    /// <summary>The native element type code (cmm_dtype), or an error naming the type.</summary>
    internal static int ElementType(Tensor tensor, string what) => tensor.dtype switch
    {
        ScalarType.Float32 => 0,
        ScalarType.Float64 => 1,
        ScalarType.Int64 => 2,
        ScalarType.Int32 => 3,
        ScalarType.BFloat16 => 4,
        _ => throw new ArgumentException($"{what}: tensors of type {tensor.dtype} cannot be reduced or gathered; use float32, float64, bfloat16, int64 or int32"),
    };

    /// <summary>
    /// The buffer of a tensor that a collective reads and writes in place: on the group's device and
    /// contiguous (a copy would silently receive the result instead of the tensor).
    /// </summary>
    internal static (IntPtr Data, long Elements, int Type) InPlace(Tensor tensor, Device groupDevice, string what)
    {
        CheckDevice(tensor, groupDevice, what);
        if (!tensor.is_contiguous())
            throw new ArgumentException($"{what}: the tensor of shape {TensorMemory.FormatShape(tensor.shape)} is not contiguous; the result is written in place, so pass a contiguous tensor");
        return (TensorMemory.DataPointer(tensor), tensor.numel(), ElementType(tensor, what));
    }

    internal static void CheckDevice(Tensor tensor, Device groupDevice, string what)
    {
        var device = tensor.device;
        bool same = device.type == groupDevice.type && (device.type != DeviceType.CUDA || Math.Max(device.index, 0) == Math.Max(groupDevice.index, 0));
        if (!same) throw new ArgumentException($"{what}: the tensor is on {device} but this process group works on {groupDevice} tensors");
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>Values out of tensors on any device, without leaving handles behind.</summary>
public static class Scalars
{
    /// <summary>The single element as a double (any dtype, any device).</summary>
    public static double ToDouble(Tensor t)
    {
        using var s = t.ToScalar();
        return s.ToDouble();
    }

    /// <summary>The single element as a long (integer or bool tensors).</summary>
    public static long ToLong(Tensor t)
    {
        using var s = t.ToScalar();
        return s.ToInt64();
    }

    /// <summary>Copies the elements out, in row-major order, from any device.</summary>
    public static T[] ToArray<T>(Tensor t) where T : unmanaged
    {
        if (t.numel() == 0) return [];   // TorchSharp's accessor throws on an empty tensor (a rank whose share was all skipped)
        using var host = t.cpu();
        using var dense = host.contiguous();
        return dense.data<T>().ToArray();
    }
}

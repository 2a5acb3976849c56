namespace CommerceMM.Torch;

/// <summary>Element types. The numeric values are the native ABI's codes (native/cmm_common.h).</summary>
public enum DType
{
    Float32 = 0,
    BFloat16 = 1,
    Int64 = 2,
    Bool = 3,
    Float64 = 4,
    Int32 = 5,
    UInt8 = 6,
    Float16 = 7,
}

public static class DTypeExtensions
{
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.BFloat16 or DType.Float16 => 2,
        DType.Int64 or DType.Float64 => 8,
        DType.Bool or DType.UInt8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static bool IsFloatingPoint(this DType dtype) =>
        dtype is DType.Float32 or DType.Float64 or DType.BFloat16 or DType.Float16;

    internal static DType ForElement<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DType.Float32
        : typeof(T) == typeof(double) ? DType.Float64
        : typeof(T) == typeof(long) ? DType.Int64
        : typeof(T) == typeof(int) ? DType.Int32
        : typeof(T) == typeof(bool) ? DType.Bool
        : typeof(T) == typeof(byte) ? DType.UInt8
        : typeof(T) == typeof(Half) ? DType.Float16
        : throw new NotSupportedException($"no tensor dtype for element type {typeof(T).Name}");
}
